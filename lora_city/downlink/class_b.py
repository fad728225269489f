"""Class B downlinks: a frame waits for one of the device's ping slots and is sent at that GPS time by a gateway
with a GPS fix (TS001-1.1 §13-§15; ``lorawan.class_b`` does the timing arithmetic).

The gateways that report a GPS time of reception (``RxInfo.gps_time_s``) are the ones that can transmit at a GPS
time; ``GpsGateways`` remembers them from their uplinks. A frame is handed to the gateway ahead of the slot
(``CLASS_B_MARGIN_S``), and one ping slot carries at most one of the device's downlinks (``last_ping_slot``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from lora_city.downlink.scheduler import Window
from lora_city.gateway.frames import TimingKind
from lora_city.lorawan import class_b
from lora_city.lorawan.region import Region
from lora_city.storage.sessions import NetworkSession
from lora_city.uplink.class_b import region_ping_slot

CLASS_B_MARGIN_S = 2.0  # a slot closer than this is too close: the frame must reach the gateway first
GPS_FIX_TTL_S = 3600.0  # a gateway that has not reported GPS time for an hour is not trusted with GPS timing


class GpsGateways:
    """Gateways seen reporting GPS time (a GPS fix), and when."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}

    def saw(self, gateway_id: str) -> None:
        self._seen[gateway_id] = self._clock()

    def __call__(self, gateway_id: str) -> bool:
        seen = self._seen.get(gateway_id)
        return seen is not None and self._clock() - seen < GPS_FIX_TTL_S


def gps_now(utcnow: Callable[[], datetime] | None = None) -> float:
    return class_b.utc_to_gps((utcnow or (lambda: datetime.now(UTC)))())


def ping_slot_window(session: NetworkSession, region: Region, after_gps_s: float) -> Window:
    """The device's next free ping slot at least ``CLASS_B_MARGIN_S`` after ``after_gps_s``, as a GPS-timed
    window on its ping-slot channel. Marks the slot as taken."""
    default_freq, default_dr = region_ping_slot(region)
    earliest = max(after_gps_s + CLASS_B_MARGIN_S, session.last_ping_slot)
    slot = class_b.next_ping_slot(earliest, session.dev_addr, session.ping_slot_periodicity)
    session.last_ping_slot = slot
    return Window(default_dr if session.ping_slot_dr is None else session.ping_slot_dr,
                  session.ping_slot_frequency or default_freq, TimingKind.GPS_EPOCH, gps_time_s=slot)
