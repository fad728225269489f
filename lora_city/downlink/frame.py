"""Build one data downlink PHYPayload for a session: FCntDown, FOpts/FPort 0 MAC commands, encryption, MIC.

LoRaWAN 1.0.x has one downlink counter (NFCntDown here); 1.1 splits it, AFCntDown for application ports
(1.1 §4.3.1.5). MAC commands ride in FOpts (at most 15 bytes) next to application data, or alone in an
FRMPayload on FPort 0 (encrypted with the network key) when there is no application data (1.0.4 §4.3.1.6).
The MIC covers the 32-bit counter; in 1.1 ConfFCnt is the acknowledged uplink's counter (§4.4.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from lora_city.lorawan.crypto import data_downlink_mic_11, data_mic_10, encrypt_f_opts, encrypt_frm_payload
from lora_city.lorawan.frames import DataFrame, FCtrl, MType
from lora_city.storage.sessions import NetworkSession

MAX_F_OPTS = 15


@dataclass(frozen=True, slots=True)
class BuiltDownlink:
    phy_payload: bytes
    f_cnt_down: int
    carries_app_data: bool


def build_data_downlink(
    session: NetworkSession,
    *,
    ack: bool,
    mac: bytes,
    f_port: int | None,
    payload: bytes,
    confirmed: bool,
    f_pending: bool,
    ack_f_cnt: int = 0,
) -> BuiltDownlink:
    """Consumes one downlink counter of ``session`` (the caller marks it dirty)."""
    app = f_port is not None and f_port > 0
    if app and len(mac) > MAX_F_OPTS:
        mac = b""  # the application data goes now; the MAC commands are asked again on the next uplink
    if app:
        f_opts, frm_port, frm = mac, f_port, payload
    elif mac:
        f_opts, frm_port, frm = b"", 0, mac
    else:
        f_opts, frm_port, frm = b"", None, b""
    use_a = session.is_11 and app
    f_cnt = session.a_f_cnt_down if use_a else session.n_f_cnt_down
    if use_a:
        session.a_f_cnt_down += 1
    else:
        session.n_f_cnt_down += 1
    if frm:
        key = session.app_s_key if frm_port else session.nwk_s_enc_key
        frm = encrypt_frm_payload(key, session.dev_addr, f_cnt, False, frm)
    if f_opts and session.is_11:
        f_opts = encrypt_f_opts(session.nwk_s_enc_key, session.dev_addr, f_cnt, False, f_opts, a_f_cnt_down=use_a)
    frame = DataFrame(
        mtype=MType.CONFIRMED_DATA_DOWN if confirmed and app else MType.UNCONFIRMED_DATA_DOWN,
        dev_addr=session.dev_addr,
        f_ctrl=FCtrl(adr=session.adr_enabled, ack=ack, f_pending=f_pending),
        f_cnt=f_cnt & 0xFFFF,
        f_opts=f_opts,
        f_port=frm_port,
        frm_payload=frm,
    )
    msg = frame.mic_input()
    if session.is_11:
        mic = data_downlink_mic_11(session.s_nwk_s_int_key, msg, session.dev_addr, f_cnt,
                                   conf_f_cnt=ack_f_cnt & 0xFFFF if ack else 0)  # FCntUp mod 2^16 (§4.4.1)
    else:
        mic = data_mic_10(session.f_nwk_s_int_key, msg, session.dev_addr, f_cnt, False)
    return BuiltDownlink(msg + mic, f_cnt, app)
