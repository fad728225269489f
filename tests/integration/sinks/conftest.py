"""Fixtures for sink tests: a migrated database and reading points back from victoria-metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lora_city.storage.db import SessionFactory, make_engine, make_session_factory
from lora_city.storage.migrate import upgrade


def migrated(database_url: str) -> SessionFactory:
    upgrade(database_url)
    return make_session_factory(make_engine(database_url))


@pytest.fixture()
def sqlite_factory(tmp_path: Path) -> Iterator[SessionFactory]:
    factory = migrated(f"sqlite:///{tmp_path / 'sinks.db'}")
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture()
def db_factory(database_url: str) -> Iterator[SessionFactory]:
    factory = migrated(database_url)
    yield factory
    factory.kw["bind"].dispose()


def export(vm_url: str, match: str) -> list[dict[str, Any]]:
    """Every raw sample of the matching series (duplicates included), one dict per series."""
    # Freshly ingested samples become searchable after an in-memory buffer is flushed (about a second).
    httpx.get(f"{vm_url}/internal/force_flush", timeout=10).raise_for_status()
    r = httpx.get(f"{vm_url}/api/v1/export", params={"match[]": match}, timeout=10)
    r.raise_for_status()
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]
