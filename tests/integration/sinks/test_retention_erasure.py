"""Retention purge and GDPR erasure on SQLite and PostgreSQL; erasure in victoria-metrics and the InfluxDB 2 API."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lora_city.errors import InvalidInput
from lora_city.sinks.erasure import TimeSeriesEraser, erase_device
from lora_city.sinks.events import LogEvent
from lora_city.sinks.line_protocol import format_uplink
from lora_city.sinks.outbox import Journaled, Outbox
from lora_city.sinks.retention import RetentionJob, purge_expired, set_retention
from lora_city.sinks.store import write_batch
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import Event, Reading, Tenant
from tests.integration.sinks.conftest import export
from tests.integration.sinks.test_influx import make_sink, wait_for
from tests.integration.sinks.webhook_server import webhook_receiver
from tests.support.services import Service
from tests.unit.sinks.factories import T0, device, uplink

pytestmark = pytest.mark.integration
NOW = T0 + timedelta(days=100)


def count(factory: SessionFactory, model: type[Reading] | type[Event], **where: str | None) -> int:
    query = select(func.count()).select_from(model)
    for k, v in where.items():
        column = getattr(model, k)
        query = query.where(column.is_(None) if v is None else column == v)
    with factory() as s:
        return int(s.scalar(query) or 0)


def seed(factory: SessionFactory) -> None:
    """Per (tenant, family): one reading 10 days old, one 40 days old, one 95 days old; plus log events."""
    with transaction(factory) as s:
        for t in ("tenant-a", "tenant-b"):
            s.add(Tenant(id=t, name=t, slug=t))
    events = []
    n = 0
    for tenant in ("tenant-a", "tenant-b"):
        for family in ("water", "flood", None):
            for age in (10, 40, 95):
                n += 1
                events.append(uplink(n, device(tenant_id=tenant, family=family), time=NOW - timedelta(days=age)))
        for age in (10, 40, 95):
            events.append(LogEvent(NOW - timedelta(days=age), device(tenant_id=tenant), "INFO", "OTAA", "joined"))
    with transaction(factory) as s:
        write_batch(s, events)


def test_most_specific_policy_wins(db_factory: SessionFactory) -> None:
    seed(db_factory)
    set_retention(db_factory, 90)  # global
    set_retention(db_factory, 30, family="water")  # every tenant's water meters
    set_retention(db_factory, 60, tenant_id="tenant-b")  # tenant b's everything…
    set_retention(db_factory, 20, tenant_id="tenant-b", family="flood")  # …but flood
    set_retention(db_factory, 35, tenant_id="tenant-b")  # updating a policy, not adding one
    result = purge_expired(db_factory, now=NOW)
    kept = {
        (t, f): count(db_factory, Reading, tenant_id=t, family=f)
        for t in ("tenant-a", "tenant-b") for f in ("water", "flood", None)
    }
    assert kept == {
        ("tenant-a", "water"): 1, ("tenant-a", "flood"): 2, ("tenant-a", None): 2,
        ("tenant-b", "water"): 1, ("tenant-b", "flood"): 1, ("tenant-b", None): 1,
    }
    assert count(db_factory, Event, tenant_id="tenant-a") == 2  # global 90 days
    assert count(db_factory, Event, tenant_id="tenant-b") == 1  # tenant b: 35 days
    assert result.readings == 18 - 8 and result.events == 3
    assert purge_expired(db_factory, now=NOW).readings == 0


def test_retention_job_purges_periodically(sqlite_factory: SessionFactory) -> None:
    seed(sqlite_factory)

    async def run() -> None:
        job = RetentionJob(sqlite_factory, default_days=30, interval_s=0.05, clock=lambda: NOW)
        await job.start()
        await asyncio.to_thread(wait_for, lambda: job.last is not None)
        await job.stop()

    asyncio.run(run())
    assert count(sqlite_factory, Reading) == 6


def test_erasure_removes_the_device_everywhere_in_sql(db_factory: SessionFactory) -> None:
    seed(db_factory)
    gone, kept = device(dev_eui="70b3d57ed00000ee", tenant_id="tenant-a"), device(tenant_id="tenant-a")
    with transaction(db_factory) as s:
        write_batch(s, [uplink(500, gone), uplink(501, gone), LogEvent(T0, gone, "INFO", "OTAA", "joined")])
    outbox = Outbox(db_factory)
    mixed = b"\n".join(format_uplink(uplink(n, d)).encode() for n, d in ((1, gone), (2, kept), (3, gone)))
    outbox.append([
        Journaled("influx", mixed, items=3),
        Journaled("influx", format_uplink(uplink(4, gone)).encode()),
        Journaled("webhook:x", b"up\n{}", dev_eui=gone.dev_eui),
        Journaled("webhook:x", b"up\n{}", dev_eui=kept.dev_eui),
    ])
    with pytest.raises(InvalidInput):
        erase_device(db_factory, "70b3d57ed00000ee' or 1=1")
    report = erase_device(db_factory, "70B3D57ED00000EE")
    assert (report.readings, report.events, report.outbox_rows, report.outbox_lines) == (2, 1, 2, 3)
    assert count(db_factory, Reading, dev_eui=gone.dev_eui) == 0
    assert count(db_factory, Event, dev_eui=gone.dev_eui) == 0
    assert count(db_factory, Reading) == 18 and count(db_factory, Event) == 6
    [remaining_batch] = outbox.pending("influx", 10)
    assert remaining_batch.items == 1 and remaining_batch.body == format_uplink(uplink(2, kept)).encode()
    assert outbox.size("webhook:x") == 1


def test_erasure_in_victoria_metrics(victoria_metrics: Service, sqlite_factory: SessionFactory) -> None:
    gone, kept = device(dev_eui="70b3d57ed00000ee"), device()

    async def run() -> None:
        sink = make_sink(victoria_metrics, sqlite_factory)
        await sink.start()
        for n in range(5):
            sink.submit(uplink(n, gone))
            sink.submit(uplink(n, kept))
        await sink.stop()

    asyncio.run(run())
    assert len(export(victoria_metrics.url, '{dev_eui="70b3d57ed00000ee"}')) == 7
    eraser = TimeSeriesEraser(victoria_metrics.url, token="", org="city", bucket="city", flavour="victoria-metrics")
    assert erase_device(sqlite_factory, gone.dev_eui, timeseries=eraser).timeseries
    assert export(victoria_metrics.url, '{dev_eui="70b3d57ed00000ee"}') == []
    assert len(export(victoria_metrics.url, '{dev_eui="70b3d57ed0000001"}')) == 7


def test_erasure_through_the_influxdb2_delete_api(sqlite_factory: SessionFactory) -> None:
    """victoria-metrics has no /api/v2/delete, so a real local HTTP server checks the request InfluxDB 2 gets."""
    with webhook_receiver([204]) as server:
        base = server.url.removesuffix("/hook")
        eraser = TimeSeriesEraser(base, token="s3cret", org="city", bucket="readings")
        erase_device(sqlite_factory, "70b3d57ed00000ee", timeseries=eraser)
    [req] = server.requests
    assert req.path.startswith("/api/v2/delete?")
    assert "org=city" in req.path and "bucket=readings" in req.path
    assert req.headers["Authorization"] == "Token s3cret"
    body = json.loads(req.body)
    assert body["predicate"] == 'dev_eui="70b3d57ed00000ee"'
    assert body["start"].startswith("1970-01-01") and body["stop"].startswith("2262-01-01")
