"""What a campaign will put on the air, computed before it starts (pure): the fragments of the image, their parity,
the frames' airtime at the campaign's data rate and the class C session length that covers them.

Every figure the API shows before "start" comes from here, and so does bench/fuota.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lora_city.lorawan.applayer import fec, fragmentation
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import Region

BEACON_PERIOD_S = 128  # class B (TS001-1.0.4 §13.1 / 1.1 §15.1): a TS005 class B session counts in these
DATA_FRAGMENT_OVERHEAD = 3  # CID (1) + IndexAndN (2), TS004 DataFragment
FRAME_OVERHEAD = 13  # MHDR (1) + FHDR without FOpts (7) + FPort (1) + MIC (4)


@dataclass(frozen=True, slots=True)
class FragmentPlan:
    image_size: int
    frag_size: int
    nb_frag: int
    padding: int
    redundancy: int  # parity fragments sent after the uncoded ones
    dr: int
    frame_size: int  # PHYPayload octets of one DataFragment frame
    airtime_per_frame_s: float
    duty_cycle: float  # of the sub-band the group's frequency is in

    @property
    def frames(self) -> int:
        return self.nb_frag + self.redundancy

    @property
    def airtime_s(self) -> float:
        """Air time of every fragment through one gateway."""
        return self.frames * self.airtime_per_frame_s

    @property
    def min_duration_s(self) -> float:
        """Shortest time one gateway can send them in without exceeding its sub-band's duty cycle."""
        return self.airtime_s / self.duty_cycle


def max_frag_size(region: Region, dr: int) -> int:
    """The largest fragment a DataFragment frame carries at ``dr`` (RP002's maximum N for the data rate)."""
    return region.max_payload_size(dr)[1] - DATA_FRAGMENT_OVERHEAD


def plan(region: Region, image_size: int, frag_size: int, redundancy_pct: int, dr: int,
         frequency: int) -> FragmentPlan:
    if image_size <= 0:
        raise LoRaWANError("image", "is empty")
    if not 1 <= frag_size <= max_frag_size(region, dr):
        raise LoRaWANError("frag_size", f"{frag_size} octets: DR{dr} carries 1..{max_frag_size(region, dr)} "
                                        "octets of fragment")
    nb_frag = math.ceil(image_size / frag_size)
    if nb_frag > fragmentation.MAX_FRAGMENTS:
        raise LoRaWANError("image", f"{nb_frag} fragments exceed the {fragmentation.MAX_FRAGMENTS} TS004 numbers")
    redundancy = max(1, math.ceil(nb_frag * redundancy_pct / 100)) if redundancy_pct > 0 else 0
    if nb_frag + redundancy > fragmentation.MAX_FRAGMENTS:
        redundancy = fragmentation.MAX_FRAGMENTS - nb_frag
    frame = FRAME_OVERHEAD + DATA_FRAGMENT_OVERHEAD + frag_size
    return FragmentPlan(
        image_size=image_size, frag_size=frag_size, nb_frag=nb_frag, padding=nb_frag * frag_size - image_size,
        redundancy=redundancy, dr=dr, frame_size=frame,
        airtime_per_frame_s=region.time_on_air_s(dr, frame, uplink=False),
        duty_cycle=region.sub_band(frequency).duty_cycle,
    )


def fragments(image: bytes, frag_size: int, redundancy: int, version: int) -> list[bytes]:
    """Every fragment in sending order: uncoded 1..M, then parity M+1..M+redundancy (TS004 FEC of ``version``)."""
    uncoded, _padding = fragmentation.split(image, frag_size)
    return uncoded + fec.encode(uncoded, redundancy, version)


def session_timeout_exponent(duration_s: float, group_class: str = "C") -> int:
    """The session's TimeOut n, the smallest that covers ``duration_s``, at most 15: a class C session lasts 2^n s
    (TS005 McClassCSessionReq), a class B session 2^n beacon periods of 128 s (McClassBSessionReq TimeOut)."""
    unit = BEACON_PERIOD_S if group_class == "B" else 1
    n = max(0, math.ceil(math.log2(max(1.0, duration_s / unit))))
    if n > 15:
        raise LoRaWANError("session", f"{duration_s:.0f} s exceeds the longest class {group_class} session "
                                      f"(2^15 {'beacon periods' if unit > 1 else 's'})")
    return n


def session_length_s(timeout_exp: int, group_class: str) -> int:
    """How long a session with TimeOut ``timeout_exp`` lasts (see ``session_timeout_exponent``)."""
    return int(2 ** timeout_exp) * (BEACON_PERIOD_S if group_class == "B" else 1)


def ping_period_s(periodicity: int) -> float:
    """Seconds between two ping slots of one address (TS001-1.1 §15.2: pingPeriod = 2^12 / pingNb slots of
    30 ms, pingNb = 2^(7 - periodicity)): a class B group carries at most one frame per gateway this often."""
    return 0.96 * float(2 ** periodicity)


def class_b_start_gps(earliest_gps_s: float) -> int:
    """A class B session starts at a beacon period (TS005-1.0.0 §4.6 / TS005-2.0.0 McClassBSessionReq: the
    SessionTime of a class B session is the start of a beacon period, a multiple of 128 s): the first at or after
    ``earliest_gps_s``."""
    return math.ceil(earliest_gps_s / BEACON_PERIOD_S) * BEACON_PERIOD_S
