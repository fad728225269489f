"""Per-gateway transmit budget per duty-cycle sub-band, over a sliding hour.

A gateway is a radio like any other: ETSI EN 300 220 (the sub-bands and limits of the ``Region``, RP002-1.0.4
§2.4 for EU868) limits its duty cycle per sub-band: in EU868 1 % in g (863–868 MHz) and g1 (868.0–868.6, the
three default channels used for RX1), 0.1 % in g2, 10 % in g3 (869.4–869.65, where RX2 sits at 869.525), 1 %
in g4. The budget is measured over one hour, so a gateway that answered many confirmed uplinks in RX1 runs out
and must answer in RX2 or through another gateway.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import EU868, Region, SubBand

WINDOW_S = 3600.0


def budget_s(band: SubBand) -> float:
    return band.duty_cycle * WINDOW_S


class DutyCycleTracker:
    """Remembers each gateway's transmissions for an hour; answers "may it send this much more?"."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, region: Region = EU868) -> None:
        self._clock = clock
        self._region = region
        # (gateway_id, sub-band name) -> deque of (time, airtime s), plus the running sum
        self._sent: dict[tuple[str, str], deque[tuple[float, float]]] = {}
        self._used: dict[tuple[str, str], float] = {}

    def _band(self, frequency: int) -> SubBand | None:
        try:
            return self._region.sub_band(frequency)
        except LoRaWANError:
            return None

    def used_s(self, gateway_id: str, frequency: int) -> float:
        band = self._band(frequency)
        if band is None:
            return 0.0
        key = (gateway_id, band.name)
        self._expire(key, self._clock())
        return self._used.get(key, 0.0)

    def allows(self, gateway_id: str, frequency: int, airtime_s: float) -> bool:
        """False outside every sub-band of the region, or when the hour's budget would be exceeded."""
        band = self._band(frequency)
        if band is None:
            return False
        return self.used_s(gateway_id, frequency) + airtime_s <= budget_s(band)

    def record(self, gateway_id: str, frequency: int, airtime_s: float) -> None:
        band = self._band(frequency)
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

    def usage(self, gateway_id: str) -> list[tuple[SubBand, float]]:
        """(sub-band, airtime s used in the last hour) for every sub-band of the region. Read-only, so another
        thread (the gRPC API) may call it while the event loop records transmissions."""
        since = self._clock() - WINDOW_S
        out = []
        for band in self._region.sub_bands:
            sent = list(self._sent.get((gateway_id, band.name), ()))  # a copy: the loop may append meanwhile
            out.append((band, sum(airtime for at, airtime in sent if at > since)))
        return out
