"""Shared fixtures: real services on free loopback ports. Missing service: skip locally, fail in CI."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import services as svc

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests marked slow first (a stable sort: each group keeps its order). With xdist's work stealing
    (scripts/test.sh) the two workers then share the long tests from the start, and the run ends on short ones
    instead of one worker alone on a two-minute campaign while the other waits."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _start(starter: Callable[[], svc.Service]) -> svc.Service:
    try:
        return starter()
    except svc.ServiceUnavailable as exc:
        if IN_CI:
            pytest.fail(f"required service unavailable in CI: {exc}")
        pytest.skip(f"service unavailable: {exc}")


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[svc.Service]:
    s = _start(svc.start_mosquitto)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[svc.Service]:
    s = _start(svc.start_postgres)
    yield s
    s.stop()


@pytest.fixture()
def postgres_url(postgres_server: svc.Service) -> str:
    """A fresh empty database for one test."""
    return svc.create_pg_database(postgres_server)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[svc.Service]:
    s = _start(svc.start_redis)
    yield s
    s.stop()


@pytest.fixture()
def victoria_metrics() -> Iterator[svc.Service]:
    """Function-scoped: outage tests kill and restart it."""
    s = _start(svc.start_victoria_metrics)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        return svc.chromium_path()
    except svc.ServiceUnavailable as exc:
        if IN_CI:
            pytest.fail(f"chromium unavailable in CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def _migrate(url: str) -> None:
    from lora_city.storage.migrate import upgrade
    from tests.support.schema import all_migration_locations

    upgrade(url, all_migration_locations())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per run (every branch); tests get a copy, not a re-run of the migrations."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: svc.Service) -> str:
    """A PostgreSQL database migrated once per run, used as the TEMPLATE of each test's database."""
    url = svc.create_pg_database(postgres_server)
    _migrate(url)
    from sqlalchemy import create_engine

    create_engine(url).dispose()  # no connection may stay open on a template database
    return url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test on both supported databases, each a fresh database already at the newest schema (every
    migration branch). Tests of the migrations themselves use ``empty_database_url``."""
    if request.param == "sqlite":
        import shutil

        target = tmp_path / "lora_city.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    server: svc.Service = request.getfixturevalue("postgres_server")
    return svc.create_pg_database(server, template=request.getfixturevalue("postgres_template"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database (no tables) on each supported engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return svc.create_pg_database(request.getfixturevalue("postgres_server"))


if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
