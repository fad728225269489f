"""Fixtures of the firmware-update flows: one SQLite database per test, copied from the migrated template."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture()
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "lora_city.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"
