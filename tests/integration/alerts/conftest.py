from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory, transaction
from lora_city.storage.migrate import upgrade
from tests.support.schema import all_migration_locations
from tests.unit.alerts.factories import T0


class FakeClock:
    """An injected clock the test moves by hand (escalation timing)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture()
def sessions(database_url: str) -> Iterator[SessionFactory]:
    upgrade(database_url, all_migration_locations())
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    yield factory
    engine.dispose()


@pytest.fixture()
def city_id(sessions: SessionFactory) -> str:
    with transaction(sessions) as s:
        return ensure_city_tenant(s).id


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()
