"""The billing meter on a real database: batches (one commit per flush, not per uplink), Paris days, downlinks
from successful TX acks only, counts kept across a failed flush."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import event, select

from billing.meter import UsageMeter
from billing.models import UsageDaily
from lora_city.metrics import Metrics
from lora_city.sinks.events import DeviceInfo, TxAckEvent
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.migrate import upgrade
from tests.integration.billing.conftest import Db, uplink
from tests.support.schema import all_migration_locations


def txack(dev_eui: str, iso: str, status: str) -> TxAckEvent:
    return TxAckEvent(time=datetime.fromisoformat(iso).astimezone(UTC),
                      device=DeviceInfo(dev_eui=dev_eui, tenant_id="t1"), downlink_id=1, gateway_id="aa",
                      status=status, f_cnt_down=0, queue_item_id=None, airtime_ms=41.216, phy_size=13)


def rows(db_factory: object) -> dict[tuple[str, date], tuple[int, ...]]:
    with db_factory() as s:  # type: ignore[operator]
        return {(u.dev_eui, u.day): (u.uplinks, u.copies, u.downlinks, u.airtime_up_us, u.airtime_down_us,
                                     u.bytes_up, u.bytes_down) for u in s.scalars(select(UsageDaily))}


def test_one_commit_per_flush_and_exact_sums(db: Db) -> None:
    commits = []
    event.listen(db.factory, "after_commit", lambda _s: commits.append(1))
    meter = UsageMeter(db.factory, Metrics())
    for i in range(1000):  # 21:59:xx UTC on 3 Nov is 22:59 Paris: all the same day
        meter.submit(uplink("t1", "00000000000000d1", f"2026-11-03T21:{i % 60:02d}:00+00:00", 61.696, copies=2))
    meter.submit(uplink("t1", "00000000000000d1", "2026-11-03T23:00:00+00:00", 61.696))  # 4 Nov in Paris
    for status in ("OK", "OK", "TX_FREQ", "COLLISION_PACKET"):
        meter.submit(txack("00000000000000d1", "2026-11-03T12:00:00+00:00", status))
    assert meter.flush() == 2
    assert len(commits) == 1
    assert rows(db.factory) == {
        ("00000000000000d1", date(2026, 11, 3)): (1000, 2000, 2, 61_696_000, 82_432, 20_000, 26),
        ("00000000000000d1", date(2026, 11, 4)): (1, 1, 0, 61_696, 0, 20, 0),
    }
    meter.submit(uplink("t1", "00000000000000d1", "2026-11-03T10:00:00+00:00", 100.0))
    meter.flush()  # adds to the existing row
    assert rows(db.factory)[("00000000000000d1", date(2026, 11, 3))][0] == 1001
    assert meter.flush() == 0 and len(commits) == 2  # nothing pending: no transaction at all


def test_a_failed_flush_keeps_its_counts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'late.db'}"
    engine = make_engine(url)
    factory = make_session_factory(engine)
    metrics = Metrics()
    meter = UsageMeter(factory, metrics)
    meter.submit(uplink("t1", "00000000000000d1", "2026-11-03T10:00:00+00:00", 10.0))
    assert meter.flush() == 0  # no tables yet: the database "is away"
    assert metrics.registry.get_sample_value("lora_city_sink_errors_total", {"sink": "billing"}) == 1
    meter.submit(uplink("t1", "00000000000000d1", "2026-11-03T11:00:00+00:00", 10.0))
    upgrade(url, all_migration_locations())
    assert meter.flush() == 1
    assert rows(factory)[("00000000000000d1", date(2026, 11, 3))][:2] == (2, 2)
    engine.dispose()


def test_stop_flushes_what_is_pending(db: Db) -> None:
    async def run() -> None:
        meter = UsageMeter(db.factory, Metrics(), flush_interval_s=3600)
        await meter.start()
        meter.submit(uplink("t1", "00000000000000d2", "2026-11-03T10:00:00+00:00", 10.0))
        await meter.stop()

    asyncio.run(run())
    assert rows(db.factory)[("00000000000000d2", date(2026, 11, 3))][0] == 1


def test_day_usage_is_what_the_live_quotas_resume_from(db: Db) -> None:
    from billing.usage import day_usage
    from tenants.quota import DeviceDayUsage

    meter = UsageMeter(db.factory, Metrics())
    for minute in range(3):
        meter.submit(uplink("t1", "00000000000000d2", f"2026-11-03T10:{minute:02d}:00+00:00", 61.696, copies=3))
    meter.submit(uplink("t2", "00000000000000d3", "2026-11-03T10:00:00+00:00", 41.216))
    meter.submit(uplink("t1", "00000000000000d2", "2026-11-04T10:00:00+00:00", 61.696))  # another day
    meter.submit(txack("00000000000000d2", "2026-11-03T12:00:00+00:00", "OK"))
    meter.flush()
    with db.factory() as s:
        used = sorted(day_usage(s, date(2026, 11, 3)), key=lambda u: u.dev_eui)
    assert used == [DeviceDayUsage("t1", "00000000000000d2", 3, 185.088, 1),
                    DeviceDayUsage("t2", "00000000000000d3", 1, 41.216, 0)]
