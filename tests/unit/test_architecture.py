"""Who may import whom (GUIDE.md): the core never imports tenants/ or billing/; lorawan/ is pure (no I/O, no
database, nothing else of the core); codecs/ is never a package that could shadow the standard library."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts or p.name == "env.py")


# The composition roots wire tenants/ and billing/ in; every other core module must not know them.
COMPOSITION_ROOTS = {"lora_city/main.py", "lora_city/cli/main.py"}


def _core_modules() -> list[Path]:
    return [p for p in _modules("lora_city") if p.relative_to(ROOT).as_posix() not in COMPOSITION_ROOTS]


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_tenants_or_billing(path: Path) -> None:
    bad = {m for m in _imports(path) if m.split(".")[0] in {"tenants", "billing"}}
    assert not bad, f"{path} imports {bad}"


IO_MODULES = {"socket", "asyncio", "sqlalchemy", "httpx", "paho", "subprocess", "fastapi", "requests"}


@pytest.mark.parametrize("path", sorted((ROOT / "lora_city" / "lorawan").rglob("*.py")), ids=lambda p: p.name)
def test_lorawan_layer_is_pure(path: Path) -> None:
    for module in _imports(path):
        top = module.split(".")[0]
        assert top not in IO_MODULES, f"{path.name} imports {module}: lorawan/ must have no I/O"
        if top == "lora_city":
            assert module.startswith("lora_city.lorawan"), f"{path.name} imports {module}"


def test_codecs_folder_is_not_a_package() -> None:
    assert not (ROOT / "codecs" / "__init__.py").exists()
    # the standard library's codecs module is the one Python finds, even with the repository on sys.path
    spec = importlib.util.find_spec("codecs")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).parent != ROOT / "codecs"
    import codecs

    assert hasattr(codecs, "lookup")


def test_composition_roots_exist_and_do_wire_the_plugins() -> None:
    # if these stopped importing tenants/billing, the exemption above would be hiding nothing; keep it honest.
    # The CLI's root names its commands' modules as strings (imported when a command runs, for start-up time).
    from lora_city.cli.main import COMMANDS

    named = {module for module, _, _ in COMMANDS.values()}
    for root in COMPOSITION_ROOTS:
        modules = set(_imports(ROOT / root)) | (named if root == "lora_city/cli/main.py" else set())
        assert any(m.split(".")[0] in {"tenants", "billing"} for m in modules), root


def test_rules_are_checked_on_something() -> None:
    # the walkers above would pass vacuously on an empty tree
    assert len(_modules("lora_city")) > 20
