"""Which 32-bit FCnt an uplink carries, and whether it is new, a retransmission or a replay.

The device sends the 16 low bits (LoRaWAN 1.0.4 §4.3.1.5). A new frame carries a counter at or above the
session's next expected one (``f_cnt_up``: one more than the last received, or what an ABP activation set), so
``full_f_cnt`` rolls forward from there; a *lower* counter would look like a jump of almost 65,536 and the MIC
(computed over the 32-bit value, §4.4) fails. To tell "replay" from "wrong key" we also try the counter just
below the expected one in the same 64 Ki block; a MIC valid there means an old frame played again, or a device
whose counter went back (reset to 0): dropped either way, the counter only increases within a session. A frame
with exactly the last counter is a retransmission (same FCnt, same bytes, §4.3.1.1/§5.3 NbTrans, or an
unacknowledged confirmed uplink, §18.4) while the device's retransmission allowance lasts; after that it is
treated as a replay.
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


def f_cnt_candidates(last_f_cnt: int | None, next_f_cnt: int, wire_f_cnt: int) -> list[tuple[int, FCntVerdict]]:
    """32-bit counters to try the MIC with, in order, each with what it would mean if the MIC matched.

    ``last_f_cnt`` is the last accepted counter (None: none yet in this session), ``next_f_cnt`` the lowest
    counter a new frame may carry (``last_f_cnt + 1``, or an ABP activation's ``f_cnt_up``)."""
    out: list[tuple[int, FCntVerdict]] = []
    if last_f_cnt is not None and wire_f_cnt == last_f_cnt & 0xFFFF:
        out.append((last_f_cnt, FCntVerdict.RETRANSMISSION))
    try:
        forward: int | None = full_f_cnt(next_f_cnt, wire_f_cnt) if next_f_cnt <= 0xFFFFFFFF else None
    except LoRaWANError:
        forward = None  # counter exhausted: only a replay can match
    if forward is not None and forward != last_f_cnt:
        out.append((forward, FCntVerdict.NEW))
    below = (next_f_cnt & 0xFFFF0000) | wire_f_cnt
    if below >= next_f_cnt:
        below -= 0x10000
    if 0 <= below != last_f_cnt and below != forward:
        out.append((below, FCntVerdict.REPLAY))
    return out


def retransmission_allowed(transmissions_so_far: int, nb_trans: int, confirmed: bool) -> bool:
    """True while the device may still be repeating the last frame (``transmissions_so_far`` includes the first)."""
    allowed = max(nb_trans, MAX_CONFIRMED_TRANSMISSIONS) if confirmed else max(nb_trans, 1)
    return transmissions_so_far < allowed
