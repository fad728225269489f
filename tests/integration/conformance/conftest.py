"""Fixtures of the conformance suite: most cases need one database engine only (the protocol does not depend on
it), so they take ``sqlite_url``; the cases that exercise storage rules take the two-engine ``database_url``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture()
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "lora_city.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"
