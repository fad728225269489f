"""Which 32-bit FCnt an uplink carries, and whether it is new, a retransmission or a replay.

The device sends the 16 low bits (LoRaWAN 1.0.4 §4.3.1.5). ``full_f_cnt`` rolls forward from the last accepted
counter, so a *lower* counter would look like a jump of almost 65,536: the MIC (computed over the 32-bit value,
§4.4) then fails. To tell "replay" from "wrong key" we also try the counter just below in the same 64 Ki block;
a MIC valid there means an old frame played again. A frame with exactly the last counter is a retransmission
(same FCnt, same bytes, §4.3.1.1/§5.3 NbTrans, or an unacknowledged confirmed uplink, §18.4) while the
device's retransmission allowance lasts; after that it is treated as a replay.
"""

from __future__ import annotations

from enum import Enum

from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.fcnt import full_f_cnt

# A confirmed uplink is repeated until acknowledged, at most NbTrans times in 1.0.4 and up to 8 times in
# 1.0.2/1.0.3 devices (the retransmission procedure of §18.4); unconfirmed ones NbTrans times.
MAX_CONFIRMED_TRANSMISSIONS = 8


class FCntVerdict(Enum):
    NEW = "new"
    RETRANSMISSION = "retransmission"
    REPLAY = "replay"


def f_cnt_candidates(last_f_cnt: int | None, wire_f_cnt: int) -> list[tuple[int, FCntVerdict]]:
    """32-bit counters to try the MIC with, in order, each with what it would mean if the MIC matched."""
    try:
        forward = full_f_cnt(last_f_cnt, wire_f_cnt)
    except LoRaWANError:
        forward = None  # counter exhausted: only a replay can match
    out: list[tuple[int, FCntVerdict]] = []
    if forward is not None:
        verdict = FCntVerdict.RETRANSMISSION if forward == last_f_cnt else FCntVerdict.NEW
        out.append((forward, verdict))
    if last_f_cnt is not None:
        below = (last_f_cnt & 0xFFFF0000) | wire_f_cnt
        if below >= last_f_cnt:
            below -= 0x10000
        if below >= 0 and below != forward:
            out.append((below, FCntVerdict.REPLAY))
    return out


def retransmission_allowed(transmissions_so_far: int, nb_trans: int, confirmed: bool) -> bool:
    """True while the device may still be repeating the last frame (``transmissions_so_far`` includes the first)."""
    allowed = max(nb_trans, MAX_CONFIRMED_TRANSMISSIONS) if confirmed else max(nb_trans, 1)
    return transmissions_so_far < allowed
