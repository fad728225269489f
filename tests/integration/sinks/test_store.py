"""The embedded readings store on SQLite and PostgreSQL: batched writes, idempotent replays, event rows."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, text

from lora_city.metrics import Metrics
from lora_city.sinks.events import AckEvent, JoinEvent, LogEvent, StatusEvent, TxAckEvent
from lora_city.sinks.store import ReadingStoreSink, reading_row, write_batch
from lora_city.storage.db import SessionFactory
from lora_city.storage.models import Event, Reading
from tests.unit.sinks.factories import T0, device, uplink

pytestmark = pytest.mark.integration


def test_readings_and_events_are_written_in_batches_and_replays_are_no_ops(db_factory: SessionFactory) -> None:
    commits: list[int] = []
    dev = device()
    others = [
        JoinEvent(T0, dev, "01020304", uplink(0).rx),
        AckEvent(T0, dev, "q-1", True, 4),
        TxAckEvent(T0, dev, 9, "0016c001ff10a235", "OK", 4, "q-1", 61.7, 14),
        StatusEvent(T0, dev, 7, 80.0, False),
        LogEvent(T0, dev, "ERROR", "UPLINK_CODEC", "bad payload"),
    ]

    async def run() -> None:
        sink = ReadingStoreSink(db_factory, Metrics(), batch_size=100, on_committed=commits.append)
        await sink.start()
        for n in range(250):
            sink.submit(uplink(n))
        for e in others:
            sink.submit(e)
        for n in range(100, 150):  # a replay of uplinks already stored
            sink.submit(uplink(n))
        await sink.stop()

    asyncio.run(run())
    assert sum(commits) == 305
    assert len(commits) <= 10  # batched, not a commit per event
    with db_factory() as s:
        assert s.scalar(select(func.count()).select_from(Reading)) == 250
        r = s.scalars(select(Reading).where(Reading.f_cnt == 7)).one()
        assert r.uplink_id == uplink(7).uplink_id
        assert r.measurements == {"volume": {"value": 19.5, "unit": "m3"}, "leak": {"value": False, "unit": None}}
        assert r.payload == bytes([1, 2, 7])
        assert r.family == "water" and r.tenant_id == "tenant-a" and r.codec_id == "netvox-r718h"
        assert r.rx[0]["rssi"] == -97.0 and r.tx["spreading_factor"] == 9
        assert r.time == T0.replace(second=7) or r.time.replace(tzinfo=None) == T0.replace(second=7, tzinfo=None)
        kinds = {e.kind: e for e in s.scalars(select(Event))}
        assert set(kinds) == {"join", "ack", "txack", "status", "log"}
        assert kinds["txack"].gateway_id == "0016c001ff10a235"
        assert kinds["join"].gateway_id == "0016c001ff10a235"  # best SNR
        assert kinds["log"].body["code"] == "UPLINK_CODEC"
        assert kinds["status"].body["batteryLevel"] == 80.0


def test_an_event_the_database_refuses_is_dropped_alone(db_factory: SessionFactory) -> None:
    poison = uplink(5, measurements={"volume": (complex(1, 2), "m3")})  # type: ignore[dict-item]

    async def run() -> ReadingStoreSink:
        sink = ReadingStoreSink(db_factory, Metrics(), batch_size=100)
        await sink.start()
        for n in range(10):
            sink.submit(poison if n == 5 else uplink(n))
        await asyncio.wait_for(sink.durable(), 20)
        await sink.stop()
        return sink

    sink = asyncio.run(run())
    assert (sink.written, sink.dropped) == (9, 1)
    with db_factory() as s:
        assert sorted(s.scalars(select(Reading.f_cnt))) == [0, 1, 2, 3, 4, 6, 7, 8, 9]


def test_the_stores_fast_insert_stores_what_the_orm_would(db_factory: SessionFactory) -> None:
    """The store writes readings through the driver (orjson, SQLAlchemy's own bind processors for the rest);
    readers must get exactly what the ORM's insert of the same row gives them: the stored time text on SQLite,
    the bytes, and equal JSON values (unicode, non-string keys, nested lists, null data)."""
    paris = timezone(timedelta(hours=1))
    base = uplink(3, time=T0.astimezone(paris), measurements={"température": (-3.5, "°C"), "ok": (True, None)})
    odd = dataclasses.replace(base, data={"nested": [1, 2.5, None, {"é": "ü"}], 7: "int key", "big": 2**53 + 1})
    pairs = [(odd, "a"), (dataclasses.replace(base, data=None), "b")]
    with db_factory() as s, s.begin():
        for event, tag in pairs:
            s.execute(insert(Reading), [reading_row(dataclasses.replace(event, uplink_id=f"orm-{tag}"))])
            write_batch(s, [dataclasses.replace(event, uplink_id=f"fast-{tag}")])
    columns = [c.name for c in Reading.__table__.columns if c.name not in ("id", "uplink_id")]
    with db_factory() as s:
        for _event, tag in pairs:
            orm = s.scalars(select(Reading).where(Reading.uplink_id == f"orm-{tag}")).one()
            fast = s.scalars(select(Reading).where(Reading.uplink_id == f"fast-{tag}")).one()
            assert {c: getattr(fast, c) for c in columns} == {c: getattr(orm, c) for c in columns}
            raw = s.execute(text("SELECT uplink_id, time FROM readings WHERE uplink_id IN (:a, :b) ORDER BY uplink_id"),
                            {"a": f"fast-{tag}", "b": f"orm-{tag}"}).all()
            assert raw[0][1] == raw[1][1]  # the stored time itself (SQLite: its text), not only once parsed
        odd_row = s.scalars(select(Reading).where(Reading.uplink_id == "fast-a")).one()
        assert odd_row.data == {"nested": [1, 2.5, None, {"é": "ü"}], "7": "int key", "big": 2**53 + 1}
        assert odd_row.measurements["température"] == {"value": -3.5, "unit": "°C"}
