"""Per-gateway transmit budget per EU868 sub-band, over a sliding hour.

A gateway is a radio like any other: ETSI EN 300 220 (as summarised in RP002-1.0.3 §2.2 and LoRaWAN's EU
sub-band table, ERC 70-03 annex 1) limits its duty cycle per sub-band: 1 % in g (863–868 MHz) and g1
(868.0–868.6, the three default channels used for RX1), 0.1 % in g2 (868.7–869.2), 10 % in g3 (869.4–869.65,
where RX2 sits at 869.525), 1 % in g4 (869.7–870.0). The budget is measured over one hour, so a gateway that
answered many confirmed uplinks in RX1 runs out and must answer in RX2 or through another gateway.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 3600.0


@dataclass(frozen=True, slots=True)
class SubBand:
    name: str
    low_hz: int
    high_hz: int  # inclusive
    duty_cycle: float

    @property
    def budget_s(self) -> float:
        return self.duty_cycle * WINDOW_S


EU868_SUB_BANDS = (
    SubBand("g", 863_000_000, 867_999_999, 0.01),
    SubBand("g1", 868_000_000, 868_600_000, 0.01),
    SubBand("g2", 868_700_000, 869_200_000, 0.001),
    SubBand("g3", 869_400_000, 869_650_000, 0.10),
    SubBand("g4", 869_700_000, 870_000_000, 0.01),
)


def sub_band_of(frequency: int) -> SubBand | None:
    for band in EU868_SUB_BANDS:
        if band.low_hz <= frequency <= band.high_hz:
            return band
    return None


class DutyCycleTracker:
    """Remembers each gateway's transmissions for an hour; answers "may it send this much more?"."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # (gateway_id, sub-band name) -> deque of (time, airtime s), plus the running sum
        self._sent: dict[tuple[str, str], deque[tuple[float, float]]] = {}
        self._used: dict[tuple[str, str], float] = {}

    def used_s(self, gateway_id: str, frequency: int) -> float:
        band = sub_band_of(frequency)
        if band is None:
            return 0.0
        key = (gateway_id, band.name)
        self._expire(key, self._clock())
        return self._used.get(key, 0.0)

    def allows(self, gateway_id: str, frequency: int, airtime_s: float) -> bool:
        """False outside every EU868 sub-band, or when the hour's budget would be exceeded."""
        band = sub_band_of(frequency)
        if band is None:
            return False
        return self.used_s(gateway_id, frequency) + airtime_s <= band.budget_s

    def record(self, gateway_id: str, frequency: int, airtime_s: float) -> None:
        band = sub_band_of(frequency)
        if band is None:
            return
        key = (gateway_id, band.name)
        now = self._clock()
        self._sent.setdefault(key, deque()).append((now, airtime_s))
        self._used[key] = self._used.get(key, 0.0) + airtime_s
        self._expire(key, now)

    def _expire(self, key: tuple[str, str], now: float) -> None:
        sent = self._sent.get(key)
        if not sent:
            return
        limit = now - WINDOW_S
        used = self._used[key]
        while sent and sent[0][0] <= limit:
            used -= sent.popleft()[1]
        self._used[key] = max(used, 0.0)
