"""The embedded readings store sink: every uplink as a ``readings`` row, every other device event as an
``events`` row, in the product's SQL database. Always on: it is the source of the API's readings and the
portal's charts.

Writes are batched (up to ``batch_size`` events or every ``flush_interval_s``) in one transaction on the sink's
own thread, never a commit per uplink. ``uplink_id`` is unique and inserted with ON CONFLICT DO NOTHING, so a
replayed uplink is a no-op. Readings go to the driver in one ``executemany`` of plain tuples with their JSON
columns serialised by orjson: SQLAlchemy's per-row bind processing and the standard library's JSON were most of
the store's cost (issue 18); the other columns take SQLAlchemy's own bind processors, so a row is stored exactly
as the ORM would store it. A failed commit (database restarting) keeps the batch in memory and retries it with
backoff; the radio side never waits. A batch refused for its data (an event the database cannot store) is
written event by event, so only the offending event is dropped (logged and counted), never its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import orjson
from sqlalchemy import Dialect, Table, insert, or_, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from lora_city.metrics import Metrics
from lora_city.sinks.chirpstack_json import event_kind, json_safe, to_chirpstack
from lora_city.sinks.events import DeviceEvent, JoinEvent, StatusEvent, TxAckEvent, UplinkEvent
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import Device, Event, Reading

log = logging.getLogger(__name__)

# The database is away or busy: retry the whole batch later. Any other error is about the data.
TRANSIENT = (OperationalError, InterfaceError, PoolTimeout)


_READINGS = cast(Table, Reading.__table__)
_READING_COLUMNS = ("uplink_id", "dev_eui", "tenant_id", "application_id", "family", "codec_id", "time", "f_cnt",
                    "f_port", "payload", "data", "measurements", "rx", "tx")
_JSON_COLUMNS = frozenset({"data", "measurements", "rx", "tx"})


def _dumps(value: Any) -> str:
    """JSON text of a column, as readers parse it back. Non-string keys become strings as with ``json.dumps``."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class _ReadingInsert:
    """The readings INSERT of one dialect and the bind processors of its columns, prepared once."""

    def __init__(self, dialect: Dialect) -> None:
        pg = dialect.name == "postgresql"
        marks = ", ".join(("%s::json" if pg else "?") if c in _JSON_COLUMNS else ("%s" if pg else "?")
                          for c in _READING_COLUMNS)
        self.sql = (f"INSERT INTO readings ({', '.join(_READING_COLUMNS)}) VALUES ({marks}) "
                    "ON CONFLICT (uplink_id) DO NOTHING")
        self.processors = tuple(
            (i, proc) for i, c in enumerate(_READING_COLUMNS) if c not in _JSON_COLUMNS
            and (proc := _READINGS.c[c].type.dialect_impl(dialect).bind_processor(dialect)) is not None
        )

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        out = [_dumps(v) if c in _JSON_COLUMNS and v is not None else v
               for c, v in ((c, row[c]) for c in _READING_COLUMNS)]
        for i, proc in self.processors:
            out[i] = proc(out[i])
        return tuple(out)


_INSERTS: dict[str, _ReadingInsert] = {}


def _reading_insert(dialect: Dialect) -> _ReadingInsert:
    found = _INSERTS.get(dialect.name)
    if found is None:
        found = _INSERTS[dialect.name] = _ReadingInsert(dialect)
    return found


def reading_row(event: UplinkEvent) -> dict[str, Any]:
    d = event.device
    return {
        "uplink_id": event.uplink_id,
        "dev_eui": d.dev_eui,
        "tenant_id": d.tenant_id,
        "application_id": d.application_id,
        "family": d.family,
        "codec_id": d.codec_id,
        "time": event.time,
        "f_cnt": event.f_cnt,
        "f_port": event.f_port,
        "payload": event.payload,
        "data": json_safe(event.data) if event.data is not None else None,
        "measurements": {k: {"value": v, "unit": u} for k, (v, u) in event.measurements.items()},
        "rx": [{"gateway_id": rx.gateway_id, "rssi": rx.rssi, "snr": rx.snr, "channel": rx.channel} for rx in event.rx],
        "tx": {
            "frequency": event.frequency, "spreading_factor": event.spreading_factor, "bandwidth": event.bandwidth,
            "dr": event.dr, "airtime_ms": event.airtime_ms, "phy_size": event.phy_size, "copies": event.copies,
            "adr": event.adr, "confirmed": event.confirmed,
            # for the device's live log: its MAC commands and why the codec failed, when it did
            **({"mac_commands": list(event.mac_commands)} if event.mac_commands else {}),
            **({"codec_errors": list(event.codec_errors)} if event.codec_errors else {}),
        },
    }


def event_row(event: DeviceEvent) -> dict[str, Any]:
    gateway_id: str | None = None
    if isinstance(event, TxAckEvent):
        gateway_id = event.gateway_id
    elif isinstance(event, JoinEvent) and event.rx:
        gateway_id = max(event.rx, key=lambda rx: rx.snr).gateway_id
    return {
        "tenant_id": event.device.tenant_id,
        "dev_eui": event.device.dev_eui,
        "gateway_id": gateway_id,
        "kind": event_kind(event),
        "time": event.time,
        "body": _with_frame(event),
    }


def _with_frame(event: DeviceEvent) -> dict[str, Any]:
    body = to_chirpstack(event)
    if isinstance(event, TxAckEvent) and event.frame is not None:
        body["frame"] = json_safe(event.frame)  # the live log's view of the downlink (not ChirpStack's JSON)
    return body


def write_batch(session: Session, events: list[DeviceEvent]) -> None:
    readings = [reading_row(e) for e in events if isinstance(e, UplinkEvent)]
    others = [event_row(e) for e in events if not isinstance(e, UplinkEvent)]
    if readings:
        conn = session.connection()
        statement = _reading_insert(conn.dialect)
        conn.exec_driver_sql(statement.sql, [statement.values(r) for r in readings])
    if others:
        session.execute(insert(Event), others)
    for status in events:
        if isinstance(status, StatusEvent):  # the device's latest answer, as GET /devices/{dev_eui} shows it
            session.execute(update(Device).where(
                Device.dev_eui == status.device.dev_eui,
                or_(Device.status_at.is_(None), Device.status_at <= status.time),
            ).values(battery_level=status.battery_level, margin=status.margin, status_at=status.time,
                     external_power=status.external_power))


class ReadingStoreSink:
    name = "store"

    def __init__(
        self,
        session_factory: SessionFactory,
        metrics: Metrics,
        *,
        batch_size: int = 1000,
        flush_interval_s: float = 0.2,
        queue_size: int = 200_000,
        on_committed: Callable[[int], None] | None = None,
    ) -> None:
        self._factory = session_factory
        self._metrics = metrics
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._queue_size = queue_size
        self._on_committed = on_committed  # told how many events each commit made durable
        self._queue: deque[DeviceEvent] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.written = 0
        self._queued = 0
        self.dropped = 0

    async def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sink-store", daemon=True)
        self._thread.start()

    def submit(self, event: DeviceEvent) -> None:
        if len(self._queue) >= self._queue_size:
            self.dropped += 1
            self._metrics.sink_errors.labels(self.name).inc()
            return
        self._queue.append(event)
        self._queued += 1
        if len(self._queue) >= self._batch_size:
            self._wake.set()

    async def durable(self, poll_s: float = 0.002) -> None:
        """Returns once every event submitted before the call is committed (written now, not at the next
        interval). Wrap it in a timeout: it waits as long as the database is unavailable."""
        mark = self._queued
        self._wake.set()
        while self.written + self.dropped < mark:
            await asyncio.sleep(poll_s)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30.0)

    def _run(self) -> None:
        batch: list[DeviceEvent] = []
        delay = 0.1
        while True:
            stopping = self._stopping
            while self._queue and len(batch) < self._batch_size:
                batch.append(self._queue.popleft())
            if batch:
                try:
                    self._commit(batch)
                    batch = []
                except TRANSIENT:
                    log.exception("sink store: writing %d event(s) failed, retrying in %.1fs", len(batch), delay)
                    self._metrics.sink_errors.labels(self.name).inc()
                    time.sleep(delay)
                    delay = min(delay * 2, 10.0)
                    if stopping and delay >= 10.0:
                        return  # the database stays down at shutdown: nothing more we can do
                    continue
                except Exception:
                    # Not the database but the data: find the event(s) it cannot take and keep the others.
                    batch = self._commit_one_by_one(batch)
                    continue
                delay = 0.1
            self._metrics.sink_queue_depth.labels(self.name).set(len(self._queue))
            if self._queue:
                continue
            if stopping:
                return
            self._wake.wait(self._flush_interval_s)
            self._wake.clear()

    def _commit(self, batch: list[DeviceEvent]) -> None:
        with transaction(self._factory) as s:
            write_batch(s, batch)
        self.written += len(batch)
        if self._on_committed is not None:
            self._on_committed(len(batch))

    def _commit_one_by_one(self, batch: list[DeviceEvent]) -> list[DeviceEvent]:
        """Returns what is left to retry when the database itself fails meanwhile."""
        for i, event in enumerate(batch):
            try:
                self._commit([event])
            except TRANSIENT:
                return batch[i:]
            except Exception:
                log.exception("sink store: event refused, dropped (dev_eui=%s, uplink_id=%s)",
                              event.device.dev_eui, getattr(event, "uplink_id", None))
                self._metrics.sink_errors.labels(self.name).inc()
                self.dropped += 1
        return []
