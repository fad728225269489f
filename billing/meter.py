"""``UsageMeter``: the billing meter, a core ``Sink``. Counts per tenant, device and Paris day in memory and adds
each batch to ``billing_usage_daily`` in one transaction (never a commit per uplink).

Uplinks, gateway copies, airtime and PHYPayload bytes come from ``UplinkEvent``; downlinks from ``TxAckEvent``
with status OK (a downlink the gateway did not send used no airtime). Airtime is kept in integer microseconds.
A failed flush keeps its counts for the next one: usage is never lost because the database was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from datetime import date
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from billing.models import UsageDaily
from lora_city.metrics import Metrics
from lora_city.sinks.events import DeviceEvent, TxAckEvent, UplinkEvent
from lora_city.storage.db import SessionFactory, transaction, upsert_insert
from tenants.calendar import DayCache

log = logging.getLogger(__name__)

Key = tuple[str, str, date]  # tenant_id, dev_eui, Paris day
COUNTERS = ("uplinks", "copies", "downlinks", "airtime_up_us", "airtime_down_us", "bytes_up", "bytes_down")
UPLINKS, COPIES, DOWNLINKS, AIR_UP, AIR_DOWN, BYTES_UP, BYTES_DOWN = range(7)


class UsageMeter:
    name = "billing"

    def __init__(self, factory: SessionFactory, metrics: Metrics, *, flush_interval_s: float = 10.0) -> None:
        self._factory = factory
        self._metrics = metrics
        self._interval = flush_interval_s
        self._pending: dict[Key, list[int]] = {}
        self._lock = threading.Lock()  # submit runs on the event loop, flush on a worker thread
        self._flush_lock = threading.Lock()
        self._days = DayCache()
        self._task: asyncio.Task[None] | None = None

    # --- Sink ----------------------------------------------------------------------------------------

    def submit(self, event: DeviceEvent) -> None:
        if isinstance(event, UplinkEvent):
            with self._lock:
                c = self._counters(event.device.tenant_id, event.device.dev_eui, event.time)
                c[UPLINKS] += 1
                c[COPIES] += event.copies
                c[AIR_UP] += round(event.airtime_ms * 1000)
                c[BYTES_UP] += event.phy_size
        elif isinstance(event, TxAckEvent) and event.status == "OK":
            with self._lock:
                c = self._counters(event.device.tenant_id, event.device.dev_eui, event.time)
                c[DOWNLINKS] += 1
                c[AIR_DOWN] += round(event.airtime_ms * 1000)
                c[BYTES_DOWN] += event.phy_size

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="billing-meter")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self.flush)

    # --- batches -------------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Add everything counted so far to the daily rows, in one transaction. Returns the rows written."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            try:
                with transaction(self._factory) as session:
                    session.execute(_upsert(session), [_row(k, v) for k, v in batch.items()])
            except Exception:
                self._metrics.sink_errors.labels(self.name).inc()
                log.exception("billing meter flush failed: %d rows kept for the next flush", len(batch))
                self._merge_back(batch)
                return 0
            return len(batch)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await asyncio.to_thread(self.flush)

    def _counters(self, tenant_id: str, dev_eui: str, moment: Any) -> list[int]:
        key = (tenant_id, dev_eui, self._days.day(moment))
        c = self._pending.get(key)
        if c is None:
            c = self._pending[key] = [0] * len(COUNTERS)
        return c

    def _merge_back(self, batch: dict[Key, list[int]]) -> None:
        with self._lock:
            for key, counts in batch.items():
                current = self._pending.get(key)
                if current is None:
                    self._pending[key] = counts
                else:
                    for i, n in enumerate(counts):
                        current[i] += n


def _row(key: Key, counts: list[int]) -> dict[str, Any]:
    tenant_id, dev_eui, day = key
    return {"tenant_id": tenant_id, "dev_eui": dev_eui, "day": day, **dict(zip(COUNTERS, counts, strict=True))}


def _upsert(session: Session) -> Any:
    """INSERT … ON CONFLICT (tenant, device, day) DO UPDATE SET n = n + excluded.n (SQLite and PostgreSQL)."""
    table: Table = UsageDaily.__table__  # type: ignore[assignment]
    stmt = upsert_insert(session, table)
    return stmt.on_conflict_do_update(
        index_elements=["tenant_id", "dev_eui", "day"],
        set_={name: table.c[name] + stmt.excluded[name] for name in COUNTERS},
    )
