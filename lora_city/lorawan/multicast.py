"""A multicast data downlink (TS001-1.1 §17.2 class C, §14 class B; TS005 §4.3 keys).

A group downlink is an ordinary unconfirmed data-down frame addressed to the group's McAddr, encrypted once with
McAppSKey and signed with McNwkSKey under the group's 32-bit frame counter. Multicast frames carry no MAC
commands (FOpts empty, FPort > 0), are never confirmed, and have ACK, ADR and FPending cleared.
"""

from __future__ import annotations

from lora_city.lorawan.crypto import data_mic_10, encrypt_frm_payload
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.frames import DataFrame, FCtrl, MType


def build_multicast_downlink(mc_addr: str, mc_nwk_s_key: bytes, mc_app_s_key: bytes, f_cnt: int, f_port: int,
                             payload: bytes) -> bytes:
    if not 1 <= f_port <= 223:
        raise LoRaWANError("FPort", f"a multicast downlink carries application data on FPort 1..223, got {f_port}")
    frm = encrypt_frm_payload(mc_app_s_key, mc_addr, f_cnt, False, payload) if payload else b""
    frame = DataFrame(MType.UNCONFIRMED_DATA_DOWN, mc_addr, FCtrl(), f_cnt & 0xFFFF, b"", f_port, frm)
    msg = frame.mic_input()
    return msg + data_mic_10(mc_nwk_s_key, msg, mc_addr, f_cnt, False)
