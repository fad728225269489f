"""What the network health pages read from ``traffic_counts`` (written by network/traffic.py): one gateway's
traffic per hour, per channel and per data rate, its TX acknowledgements by status; the network-wide joins, MIC
failures and drops by reason over the last 24 hours and 7 days.

Each read is one range query on the primary key (gateway, hour …), summed here: at most 7 × 24 hours × the
channel/DR pairs a gateway heard, a few thousand rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.storage.models import TrafficCount

HOUR_S = 3600
DAYS = 7
NETWORK = ""  # network/traffic.py: the gateway_id of the network-wide rows
MIC_FAILURE = "bad_mic"  # the drop reason of a MIC that does not verify (uplink/data.py, uplink/join.py)


@dataclass(frozen=True, slots=True)
class RadioCount:
    """Counts for one channel (frequency in Hz) or one data rate (``None``: not a data rate of the region)."""

    value: int | None
    uplinks: int
    downlinks: int


@dataclass(slots=True)
class GatewayTraffic:
    hours: list[tuple[datetime, int, int]]  # (hour start UTC, uplinks, downlinks), oldest first, 7 × 24 of them
    channels: list[RadioCount]
    data_rates: list[RadioCount]
    tx_acks: list[tuple[str, int]]  # (status, count), OK first then the most frequent
    uplinks: int = 0
    downlinks: int = 0

    @property
    def peak(self) -> int:
        return max((max(up, down) for _, up, down in self.hours), default=0)


def _hour_floor(now: datetime) -> int:
    return int(now.timestamp()) // HOUR_S * HOUR_S


def gateway_traffic(session: Session, gateway_id: str, now: datetime, days: int = DAYS) -> GatewayTraffic:
    top = _hour_floor(now)
    start = top - (days * 24 - 1) * HOUR_S
    per_hour: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    channels: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rates: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    acks: dict[str, int] = defaultdict(int)
    rows = session.execute(select(TrafficCount.hour, TrafficCount.kind, TrafficCount.key, TrafficCount.count)
                           .where(TrafficCount.gateway_id == gateway_id, TrafficCount.hour >= start))
    for hour, kind, key, count in rows:
        if kind == "tx_ack":
            acks[key] += count
            continue
        if kind not in ("up", "down"):
            continue
        i = 0 if kind == "up" else 1
        frequency, _, dr = key.partition(":")
        per_hour[hour][i] += count
        channels[int(frequency)][i] += count
        rates[int(dr) if dr.isdigit() else None][i] += count
    hours = [(datetime.fromtimestamp(h, UTC), *per_hour.get(h, (0, 0))) for h in range(start, top + 1, HOUR_S)]
    return GatewayTraffic(
        hours=[(when, up, down) for when, up, down in hours],
        channels=[RadioCount(f, up, down) for f, (up, down) in sorted(channels.items())],
        data_rates=[RadioCount(dr, up, down)
                    for dr, (up, down) in sorted(rates.items(), key=lambda kv: -1 if kv[0] is None else kv[0])],
        tx_acks=sorted(acks.items(), key=lambda kv: (kv[0] != "OK", -kv[1], kv[0])),
        uplinks=sum(up for _, up, _ in hours), downlinks=sum(down for _, _, down in hours),
    )


@dataclass(slots=True)
class Window:
    """Network-wide counts over one window (the last 24 hours or 7 days, whole hours)."""

    uplinks: int = 0
    joins: int = 0
    rejoins: int = 0
    mic_failures: int = 0
    drops: dict[str, int] = field(default_factory=dict)  # reason -> count

    @property
    def dropped(self) -> int:
        return sum(self.drops.values())


@dataclass(slots=True)
class NetworkCounters:
    day: Window
    week: Window

    def reasons(self) -> list[str]:
        """Every drop reason seen in the week, the most frequent first."""
        return sorted(self.week.drops, key=lambda r: (-self.week.drops[r], r))


def network_counters(session: Session, now: datetime) -> NetworkCounters:
    top = _hour_floor(now)
    week_start, day_start = top - (DAYS * 24 - 1) * HOUR_S, top - 23 * HOUR_S
    day, week = Window(), Window()
    rows = session.execute(select(TrafficCount.hour, TrafficCount.kind, TrafficCount.key, TrafficCount.count)
                           .where(TrafficCount.gateway_id == NETWORK, TrafficCount.hour >= week_start))
    for hour, kind, key, count in rows:
        for window in (week, day) if hour >= day_start else (week,):
            if kind == "uplink":
                window.uplinks += count
            elif kind == "join":
                window.joins += count
            elif kind == "rejoin":
                window.rejoins += count
            elif kind == "drop":
                window.drops[key] = window.drops.get(key, 0) + count
                if key == MIC_FAILURE:
                    window.mic_failures += count
    return NetworkCounters(day, week)


def since(now: datetime, days: int = DAYS) -> datetime:
    """The start of the oldest hour shown."""
    return datetime.fromtimestamp(_hour_floor(now), UTC) - timedelta(hours=days * 24 - 1)
