"""The traffic counters' write-behind (network/traffic.py) on SQLite and PostgreSQL: increments bucketed by
calendar hour, added to what other processes wrote (an upsert, never an overwrite), old hours pruned, and the
console's readings (services/network_health.py) summing them per hour, channel, DR and window."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from lora_city.gateway.frames import (
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    LoRaModulation,
    RxInfo,
    TimingKind,
    Transport,
    UplinkFrame,
)
from lora_city.lorawan.region import EU868
from lora_city.network.traffic import TrafficCounters, TrafficWriter
from lora_city.services import network_health
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory
from lora_city.storage.models import TrafficCount

GW = "aa555a0000000042"
T0 = datetime(2026, 12, 5, 9, 59, 58, tzinfo=UTC).timestamp()  # two seconds before 10:00 UTC


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


def uplink(frequency: int, sf: int) -> UplinkFrame:
    return UplinkFrame(b"\x40" + bytes(12), LoRaModulation(frequency, sf, 125_000), RxInfo(GW, 1, -80.0, 7.0),
                       Transport.UDP)


def downlink(frequency: int, sf: int) -> DownlinkFrame:
    item = DownlinkItem(b"\x60" + bytes(12), LoRaModulation(frequency, sf, 125_000), 14, TimingKind.DELAY, 1)
    return DownlinkFrame(GW, 7, [item, item])


@pytest.fixture()
def factory(database_url: str) -> Iterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_counts_bucketed_per_hour_added_across_processes_and_pruned(factory: SessionFactory) -> None:
    clock = Clock()
    mine, theirs = TrafficCounters(EU868, clock), TrafficCounters(EU868, clock)  # two server processes
    writers = [TrafficWriter(factory, c, clock=clock) for c in (mine, theirs)]
    # RP002-1.0.4 §2.4.3 (EU868 data rates): SF12/125 kHz is DR0, SF7/125 kHz is DR5
    mine.uplink(uplink(868_100_000, 12))
    mine.uplink(uplink(868_100_000, 12))
    theirs.uplink(uplink(868_100_000, 12))  # the same gateway heard by another process: added, not replaced
    theirs.uplink(uplink(868_300_000, 7))
    mine.downlink(downlink(868_100_000, 12))
    mine.tx_ack(DownlinkTxAck(GW, 7, ("TOO_LATE", "OK")))
    mine.tx_ack(DownlinkTxAck(GW, 8, ("OK", "IGNORED")))  # the fall-back never tried is not an acknowledgement
    mine.network("join")
    mine.network("drop", "bad_mic")
    clock.t += 5  # 10:00:03: the next hour
    mine.uplink(uplink(868_500_000, 7))
    theirs.network("drop", "bad_mic")
    for writer in writers:
        asyncio.run(writer.flush())
    asyncio.run(writers[0].flush())  # nothing new: nothing added twice
    with factory() as s:
        got = {(r.hour, r.kind, r.key): r.count
               for r in s.scalars(select(TrafficCount).where(TrafficCount.gateway_id == GW))}
    nine, ten = int(T0) // 3600 * 3600, int(T0) // 3600 * 3600 + 3600
    assert got == {(nine, "up", "868100000:0"): 3, (nine, "up", "868300000:5"): 1, (nine, "down", "868100000:0"): 1,
                   (nine, "tx_ack", "TOO_LATE"): 1, (nine, "tx_ack", "OK"): 2, (ten, "up", "868500000:5"): 1}

    now = datetime.fromtimestamp(clock.t, UTC)
    with factory() as s:
        traffic = network_health.gateway_traffic(s, GW, now)
        counters = network_health.network_counters(s, now)
    assert len(traffic.hours) == 168 and traffic.hours[-1][0] == datetime.fromtimestamp(ten, UTC)
    assert traffic.hours[-2:] == [(datetime.fromtimestamp(nine, UTC), 4, 1), (datetime.fromtimestamp(ten, UTC), 1, 0)]
    assert [(c.value, c.uplinks, c.downlinks) for c in traffic.channels] == [
        (868_100_000, 3, 1), (868_300_000, 1, 0), (868_500_000, 1, 0)]
    assert [(r.value, r.uplinks, r.downlinks) for r in traffic.data_rates] == [(0, 3, 1), (5, 2, 0)]
    assert traffic.tx_acks == [("OK", 2), ("TOO_LATE", 1)]
    assert (counters.day.joins, counters.day.mic_failures, counters.day.drops) == (1, 2, {"bad_mic": 2})

    # 8 days later the old hours are gone from the table; the windows no longer count them
    clock.t += 8 * 24 * 3600 + 60
    mine.network("join")
    asyncio.run(writers[0].flush())
    with factory() as s:
        left = sorted((r.gateway_id, r.kind) for r in s.scalars(select(TrafficCount)))
        counters = network_health.network_counters(s, datetime.fromtimestamp(clock.t, UTC))
    assert left == [("", "join")]
    assert (counters.week.joins, counters.week.mic_failures) == (1, 0)
