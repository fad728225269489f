"""Helpers shared by the codec tests: where the project's codecs live and how examples are compared."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CODECS = ROOT / "codecs"
FIXTURES = ROOT / "tests" / "fixtures"
JS_DIR = Path(__file__).resolve().parent / "js"


def codec_folders() -> list[Path]:
    return sorted(p for p in CODECS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def read_examples(folder: Path) -> list[dict[str, Any]]:
    path = folder / "examples.json"
    if not path.is_file():
        return []
    examples = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(examples, list), f"{path}: examples.json must be a list"
    return examples


def same(actual: Any, expected: Any, where: str = "data") -> None:
    """Deep equality with floats compared to 1e-9 (JSON round-trips and x * 0.1 differ in the last bit).
    A bool never equals a number here, unlike in plain Python."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), (
            f"{where}: keys differ: missing {sorted(set(expected) - set(actual))}, "
            f"unexpected {sorted(set(actual) - set(expected))}"
        )
        for key, value in expected.items():
            same(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list | tuple), f"{where}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), f"{where}: length {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            same(a, e, f"{where}[{i}]")
    elif isinstance(expected, bool) or expected is None or isinstance(expected, str):
        assert actual == expected and type(actual) is type(expected), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), (
            f"{where}: {actual!r} not a number"
        )
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9), (
            f"{where}: {actual!r} != {expected!r}"
        )
    else:
        raise AssertionError(f"{where}: unsupported expected value {expected!r}")
