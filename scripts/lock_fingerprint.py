"""Fingerprint of every input of the Python lock files: pyproject.toml's build requirements, runtime
dependencies and optional extras, and requirements/build.in. scripts/lock.sh writes it into the lock files;
tests/unit/test_lock.py recomputes it, so a change to any input without a new lock fails the suite."""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "# inputs-sha256: "


def lock_inputs(root: Path = ROOT) -> dict[str, list[str]]:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    build_in = [line.split("#", 1)[0].strip() for line in (root / "requirements/build.in").read_text().splitlines()]
    return {
        "build-system": sorted(pyproject["build-system"]["requires"]),
        "dependencies": sorted(pyproject["project"]["dependencies"]),
        **{f"extra:{k}": sorted(v) for k, v in pyproject["project"].get("optional-dependencies", {}).items()},
        "build.in": sorted(x for x in build_in if x),
    }


def fingerprint(root: Path = ROOT) -> str:
    canonical = json.dumps(lock_inputs(root), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


if __name__ == "__main__":
    sys.stdout.write(fingerprint() + "\n")
