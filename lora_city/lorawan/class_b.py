"""Class B timing (LoRaWAN TS001-1.1 §13-§15, unchanged in 1.0.4): GPS time, beacon periods and ping slots.

Beacons are sent every 128 s, at GPS times that are multiples of 128 s (§15.1, "BEACON_PERIOD"). After the
2.12 s reserved for the beacon (BEACON_RESERVED), the 122.88 s beacon window is cut into 4096 ping slots of
30 ms. A device opening pingNb = 2^(7 - periodicity) slots per beacon period uses the slots
``pingOffset + N x pingPeriod`` (N = 0 .. pingNb - 1) with pingPeriod = 4096 / pingNb, where the offset changes
every beacon period so that two devices do not collide twice (§15.2 "ping slot randomization"):

    Rand = aes128_encrypt(16 zero bytes, BeaconTime | DevAddr | pad16)
    pingOffset = (Rand[0] + Rand[1] x 256) modulo pingPeriod

BeaconTime is the beacon's GPS time in seconds modulo 2^32 and DevAddr the device's (or the multicast group's
McAddr), both little-endian. Times here are GPS seconds (floats) since 1980-01-06T00:00:00; GPS time does not
have leap seconds, UTC does (``lorawan.gps_time``).
"""

from __future__ import annotations

from datetime import datetime

from lora_city.lorawan._aes import keyed
from lora_city.lorawan.errors import LoRaWANError, eui_to_wire
from lora_city.lorawan.gps_time import from_gps_seconds, gps_seconds

BEACON_PERIOD_S = 128
BEACON_RESERVED_S = 2.120
BEACON_GUARD_S = 3.0  # no ping slot in the last 3 s of a period (the next beacon's guard time)
SLOT_LEN_S = 0.030
PING_PERIOD_BASE = 1 << 12  # slots per beacon window
DEFAULT_PERIODICITY = 7  # one ping slot per beacon period until the device says otherwise (PingSlotInfoReq)
_ZERO_KEY = bytes(16)

def utc_to_gps(utc: datetime) -> float:
    """Seconds since the GPS epoch of an aware UTC time."""
    if utc.tzinfo is None:
        raise ValueError("utc_to_gps needs an aware datetime")
    return gps_seconds(utc)


def gps_to_utc(gps_s: float) -> datetime:
    return from_gps_seconds(gps_s)


def ping_nb(periodicity: int) -> int:
    """Ping slots per beacon period for a PingSlotInfoReq periodicity (0 .. 7): 2^(7 - periodicity)."""
    if not 0 <= periodicity <= 7:
        raise LoRaWANError("Periodicity", f"must be 0..7, got {periodicity}")
    return 1 << (7 - periodicity)


def beacon_start(gps_s: float) -> int:
    """GPS time (s) of the beacon that opened the period containing ``gps_s``."""
    whole = int(gps_s // 1)
    return whole - whole % BEACON_PERIOD_S


def ping_offset(beacon_time: int, dev_addr: str, nb: int) -> int:
    """The period's slot offset for ``dev_addr`` (DevAddr or McAddr, MSB-first hex), §15.2."""
    if nb <= 0 or PING_PERIOD_BASE % nb:
        raise LoRaWANError("pingNb", f"must be a power of two 1..128, got {nb}")
    block = (beacon_time % (1 << 32)).to_bytes(4, "little") + eui_to_wire(dev_addr, "DevAddr", 4) + bytes(8)
    rand = keyed(_ZERO_KEY).encrypt(block)
    return (rand[0] + rand[1] * 256) % (PING_PERIOD_BASE // nb)


def ping_slots(beacon_time: int, dev_addr: str, periodicity: int) -> list[float]:
    """The GPS start times of every ping slot ``dev_addr`` opens in the period of ``beacon_time``."""
    nb = ping_nb(periodicity)
    period = PING_PERIOD_BASE // nb
    offset = ping_offset(beacon_time, dev_addr, nb)
    return [beacon_time + BEACON_RESERVED_S + (offset + n * period) * SLOT_LEN_S for n in range(nb)]


def next_ping_slot(after_gps_s: float, dev_addr: str, periodicity: int) -> float:
    """The first ping slot of ``dev_addr`` that starts strictly after ``after_gps_s`` (GPS seconds)."""
    start = beacon_start(after_gps_s)
    while True:
        for slot in ping_slots(start, dev_addr, periodicity):
            # rounding: slots are whole milliseconds from the beacon, compare in ms
            if round(slot * 1000) > round(after_gps_s * 1000):
                return round(slot * 1000) / 1000
        start += BEACON_PERIOD_S


def is_ping_slot(gps_s: float, dev_addr: str, periodicity: int) -> bool:
    """True when ``gps_s`` is (to the millisecond) the start of one of ``dev_addr``'s ping slots."""
    start = beacon_start(gps_s)
    return any(round(slot * 1000) == round(gps_s * 1000) for slot in ping_slots(start, dev_addr, periodicity))
