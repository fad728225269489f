"""The Python lock files (requirements/*.txt, written by scripts/lock.sh) agree with pyproject.toml: they were
made from the same inputs (fingerprint), every declared requirement is locked at a version its specifier admits,
every locked line is pinned with hashes, and the runtime lock is a subset of the dev lock at the same versions."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"dev": ROOT / "requirements/dev.txt", "runtime": ROOT / "requirements/runtime.txt"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def _fingerprint_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("lock_fingerprint", ROOT / "scripts/lock_fingerprint.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("lock_fingerprint", module)
    spec.loader.exec_module(module)
    return module


def _entries(path: Path) -> list[str]:
    """Logical lines (continuations joined), comments dropped."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in _entries(path):
        m = _PIN.match(line)
        assert m, f"{path.name}: not an exact pin: {line[:80]}"
        assert "--hash=sha256:" in line, f"{path.name}: {m.group(1)} has no hash"
        pins[canonicalize_name(m.group(1))] = m.group(3)
    return pins


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_lock_was_made_from_the_current_inputs(name: str) -> None:
    header = [line for line in LOCKS[name].read_text().splitlines()[:5] if line.startswith("# inputs-sha256: ")]
    assert header, f"{LOCKS[name]} has no inputs fingerprint: regenerate with scripts/lock.sh"
    assert header[0].split(": ", 1)[1] == _fingerprint_module().fingerprint(ROOT), (
        "pyproject.toml or requirements/build.in changed since the lock was made: run scripts/lock.sh")


def test_every_declared_requirement_is_locked_at_an_admitted_version() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = [*pyproject["project"]["dependencies"], *pyproject["build-system"]["requires"]]
    for extra in pyproject["project"].get("optional-dependencies", {}).values():
        declared += extra
    pins = _pins(LOCKS["dev"])
    for text in declared:
        req = Requirement(text)
        version = pins.get(canonicalize_name(req.name))
        assert version is not None, f"{req.name} is declared in pyproject.toml but not locked"
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} violates {req.specifier}"


def test_runtime_lock_is_the_dev_lock_without_the_tools() -> None:
    dev, runtime = _pins(LOCKS["dev"]), _pins(LOCKS["runtime"])
    assert set(runtime) <= set(dev)
    assert {k: dev[k] for k in runtime} == runtime
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for text in pyproject["project"]["dependencies"]:
        assert canonicalize_name(Requirement(text).name) in runtime


def test_a_changed_input_changes_the_fingerprint(tmp_path: Path) -> None:
    module = _fingerprint_module()
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements/build.in").write_text((ROOT / "requirements/build.in").read_text())
    text = (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(text)
    same = module.fingerprint(tmp_path)
    (tmp_path / "pyproject.toml").write_text(text.replace('"pyyaml>=6",', '"pyyaml>=6",\n    "six",'))
    assert module.fingerprint(tmp_path) != same == module.fingerprint(ROOT)
