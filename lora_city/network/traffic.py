"""Hourly traffic counters for the network health pages: per gateway, uplink copies and downlinks per channel
and data rate, TX acknowledgements by status; network-wide, joins and drops by reason (``bad_mic`` is the MIC
failures). Kept 7 days in ``traffic_counts``.

The hot path only adds 1 to a dict entry (one per gateway copy); ``TrafficWriter`` drains the dict every few
seconds in a worker thread and adds the increments to the table (``count = count + n``), so every network server
process contributes to the same rows and the console reads the sum. A crash loses at most one flush interval of
counts, as for the other write-behind state; counts are informative, never used for billing.

Keys of the rows (``kind`` / ``key``):
- ``up`` / ``down``: ``"{frequency Hz}:{DR}"`` — one key serves the per-hour totals, the per-channel and the
  per-DR tables (a downlink counts its first transmission opportunity, RX1 or the class C/B slot);
- ``tx_ack``: the gateway's status of each transmission it attempted (``OK``, ``TOO_LATE``, ``COLLISION_PACKET``,
  … ; the ``IGNORED`` fall-backs that were not tried are not counted);
- network-wide (gateway ``""``): ``join`` / ``rejoin`` (accepted), ``drop`` / reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete

from lora_city.gateway.frames import DownlinkFrame, DownlinkTxAck, LoRaModulation, UplinkFrame
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import Region
from lora_city.storage.db import SessionFactory, transaction, upsert_insert
from lora_city.storage.models import TrafficCount

log = logging.getLogger(__name__)

NETWORK = ""  # the gateway_id of the network-wide counters
HOUR_S = 3600
KEEP_S = 8 * 24 * HOUR_S  # 7 full days shown, plus the hour in progress and a margin
Key = tuple[str, int, str, str]  # (gateway_id, hour start in Unix seconds, kind, key)


class TrafficCounters:
    """In-memory increments since the last drain. A ``FrameTap`` of the network server (every registered
    gateway's copy and every downlink sent) plus the server's own joins, drops and TX acknowledgements."""

    def __init__(self, region: Region, clock: Callable[[], float] = time.time) -> None:
        self._region = region
        self._clock = clock  # wall clock: the hour buckets are calendar hours
        self._counts: dict[Key, int] = {}
        self._hour_start = 0  # the current hour's start (Unix seconds), recomputed when the clock leaves it
        self._radios: dict[tuple[int, int, int], str] = {}  # (frequency, SF, bandwidth) -> key, memoised

    def _hour(self) -> int:
        now = self._clock()
        if not self._hour_start <= now < self._hour_start + HOUR_S:  # a float compare, not a division, per copy
            self._hour_start = int(now) // HOUR_S * HOUR_S
        return self._hour_start

    def add(self, gateway_id: str, kind: str, key: str, n: int = 1) -> None:
        k = (gateway_id, self._hour(), kind, key)
        self._counts[k] = self._counts.get(k, 0) + n

    def _radio(self, modulation: LoRaModulation) -> str:
        """``"{frequency}:{DR}"``, memoised per (frequency, SF, bandwidth): a handful of values per network."""
        triple = (modulation.frequency, modulation.spreading_factor, modulation.bandwidth)
        radio = self._radios.get(triple)
        if radio is None:
            try:
                dr = self._region.data_rate_index(modulation.spreading_factor, modulation.bandwidth)
            except LoRaWANError:
                dr = -1  # not a data rate of the region: shown as "other" rather than dropped from the totals
            radio = self._radios[triple] = f"{modulation.frequency}:{dr}"
        return radio

    # --- FrameTap ----------------------------------------------------------------------------------------
    def uplink(self, frame: UplinkFrame) -> None:
        # Once per gateway copy on the ingest path: inlined (one clock read, one memo lookup, one dict update).
        m = frame.modulation
        radio = self._radios.get((m.frequency, m.spreading_factor, m.bandwidth)) or self._radio(m)
        k = (frame.rx_info.gateway_id, self._hour(), "up", radio)
        counts = self._counts
        counts[k] = counts.get(k, 0) + 1

    def downlink(self, frame: DownlinkFrame) -> None:
        if frame.items:
            self.add(frame.gateway_id, "down", self._radio(frame.items[0].modulation))

    # --- the server's outcomes ---------------------------------------------------------------------------
    def tx_ack(self, ack: DownlinkTxAck) -> None:
        for status in ack.statuses:
            if status != "IGNORED":
                self.add(ack.gateway_id, "tx_ack", status[:40])

    def network(self, kind: str, key: str = "") -> None:
        self.add(NETWORK, kind, key)

    def restore(self, counts: dict[Key, int]) -> None:
        """Increments a failed write gives back, kept in their own hours for the next flush."""
        for k, n in counts.items():
            self._counts[k] = self._counts.get(k, 0) + n

    def drain(self) -> dict[Key, int]:
        counts, self._counts = self._counts, {}
        return counts


def write_counts(factory: SessionFactory, counts: dict[Key, int]) -> None:
    """Add the increments to ``traffic_counts`` in one statement (an upsert per row, executed as a batch)."""
    rows = [{"gateway_id": g, "hour": h, "kind": k, "key": key, "count": n} for (g, h, k, key), n in counts.items()]
    with transaction(factory) as db:
        table: Any = TrafficCount.__table__
        insert = upsert_insert(db, table)
        stmt = insert.on_conflict_do_update(index_elements=["gateway_id", "hour", "kind", "key"],
                                            set_={"count": table.c.count + insert.excluded.count})
        db.execute(stmt, rows)


def prune_counts(factory: SessionFactory, now: float) -> int:
    with transaction(factory) as db:
        result: Any = db.execute(delete(TrafficCount).where(TrafficCount.hour < int(now) - KEEP_S))
        return int(result.rowcount or 0)


class TrafficWriter:
    """Flushes ``TrafficCounters`` to the database every ``interval_s`` (and on stop); prunes old hours hourly."""

    def __init__(self, factory: SessionFactory, counters: TrafficCounters, *, interval_s: float = 5.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._factory = factory
        self._counters = counters
        self._interval_s = interval_s
        self._clock = clock
        self._pruned_at = 0.0
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.flush()

    async def flush(self) -> int:
        async with self._lock:
            counts = self._counters.drain()
            try:
                if counts:
                    await asyncio.to_thread(write_counts, self._factory, counts)
                now = self._clock()
                if now - self._pruned_at >= HOUR_S:
                    self._pruned_at = now
                    await asyncio.to_thread(prune_counts, self._factory, now)
            except Exception:
                log.exception("traffic counters write failed: %d rows kept for the next flush", len(counts))
                self._counters.restore(counts)
                return 0
            return len(counts)
