"""Build wire bytes from the JSON shape ``describe_phy_payload`` prints (``lora-city frame encode``).

Payloads are given in plaintext; with the matching keys they are encrypted and the MIC computed, otherwise they
are written as given and ``mic`` (hex) is used, defaulting to zeros. Every problem raises LoRaWANError.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from lora_city.lorawan import crypto
from lora_city.lorawan.describe import DecodeOptions
from lora_city.lorawan.errors import LoRaWANError, parse_hex
from lora_city.lorawan.fcnt import full_f_cnt
from lora_city.lorawan.frames import (
    DataFrame,
    DLSettings,
    EncryptedJoinAccept,
    FCtrl,
    JoinAccept,
    JoinRequest,
    MType,
    Proprietary,
    RejoinRequest,
)
from lora_city.lorawan.mac import MacCommand, encode_mac_commands
from lora_city.lorawan.region import CFList

_OPTION_NAMES = {f.name for f in fields(DecodeOptions)}


def _get(obj: dict[str, Any], name: str, kind: type, default: Any = None, required: bool = False) -> Any:
    if name not in obj or obj[name] is None:
        if required:
            raise LoRaWANError(name, "required")
        return default
    value = obj[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise LoRaWANError(name, f"must be {kind.__name__}, got {value!r}")
    return value


def _hexfield(obj: dict[str, Any], name: str, default: bytes = b"", length: int | None = None) -> bytes:
    value = _get(obj, name, str)
    return default if value is None else parse_hex(value, name, length)


def compose_phy_payload(obj: dict[str, Any]) -> bytes:
    """Wire bytes for a JSON frame description (see the module docstring)."""
    if not isinstance(obj, dict):
        raise LoRaWANError("frame", "must be a JSON object")
    mtype = MType.from_spec_name(_get(obj, "mtype", str, required=True))
    options = DecodeOptions.from_mapping({k: v for k, v in obj.items() if k in _OPTION_NAMES})
    major = _get(obj, "major", int, 0)
    mic = _hexfield(obj, "mic", b"\x00" * 4, 4)
    if mtype.is_data:
        return _compose_data(obj, mtype, options, major, mic)
    if mtype is MType.JOIN_REQUEST:
        request = JoinRequest(
            _get(obj, "join_eui", str, required=True),
            _get(obj, "dev_eui", str, required=True),
            _get(obj, "dev_nonce", int, required=True),
            mic,
            major,
        )
        root = options.nwk_key if options.lorawan == "1.1" and options.nwk_key else options.app_key
        if root is not None:
            request = JoinRequest(request.join_eui, request.dev_eui, request.dev_nonce, b"", major)
            msg = request.mic_input()
            return msg + crypto.join_request_mic(root, msg)
        return request.to_bytes()
    if mtype is MType.JOIN_ACCEPT:
        if "encrypted" in obj:
            return EncryptedJoinAccept(_hexfield(obj, "encrypted"), major).to_bytes()
        return _compose_join_accept(obj, options, major, mic)
    if mtype is MType.REJOIN_REQUEST:
        return RejoinRequest(
            _get(obj, "rejoin_type", int, required=True),
            _get(obj, "dev_eui", str, required=True),
            _get(obj, "rj_count", int, 0),
            _get(obj, "net_id", str),
            _get(obj, "join_eui", str),
            mic,
            major,
        ).to_bytes()
    return Proprietary(_hexfield(obj, "payload"), major, _get(obj, "rfu", int, 0)).to_bytes()


def _compose_data(obj: dict[str, Any], mtype: MType, o: DecodeOptions, major: int, mic: bytes) -> bytes:
    dev_addr = _get(obj, "dev_addr", str, required=True)
    ctrl_obj = _get(obj, "f_ctrl", dict, {})
    f_ctrl = FCtrl(
        adr=bool(_get(ctrl_obj, "adr", bool, False)),
        adr_ack_req=bool(_get(ctrl_obj, "adr_ack_req", bool, False)),
        ack=bool(_get(ctrl_obj, "ack", bool, False)),
        f_pending=bool(_get(ctrl_obj, "f_pending", bool, False) or _get(ctrl_obj, "class_b", bool, False)),
    )
    f_cnt = _get(obj, "f_cnt", int, 0)
    f_cnt32 = _get(obj, "f_cnt32", int) or full_f_cnt(o.last_f_cnt, f_cnt)
    if f_cnt32 & 0xFFFF != f_cnt:
        raise LoRaWANError("f_cnt32", f"low 16 bits {f_cnt32 & 0xFFFF} differ from f_cnt {f_cnt}")
    f_port = _get(obj, "f_port", int)
    commands = _get(obj, "mac_commands", list)
    mac_bytes = b""
    if commands is not None:
        mac_bytes = encode_mac_commands(
            MacCommand.from_dict(_get({"mac_command": c}, "mac_command", dict, required=True))
            for c in commands
        )
    f_opts = _hexfield(obj, "f_opts")
    payload = _hexfield(obj, "frm_payload")
    if mac_bytes:
        if f_port == 0:
            payload = mac_bytes
        else:
            f_opts = mac_bytes
    uplink = mtype.uplink
    is11 = o.lorawan == "1.1"
    enc = (o.nwk_s_enc_key or o.nwk_s_key) if is11 else o.nwk_s_key
    if is11 and f_opts and enc is not None:
        f_opts = crypto.encrypt_f_opts(enc, dev_addr, f_cnt32, uplink, f_opts, not uplink and bool(f_port))
    payload_key = enc if f_port == 0 else o.app_s_key
    if payload_key is not None and f_port is not None:
        payload = crypto.encrypt_frm_payload(payload_key, dev_addr, f_cnt32, uplink, payload)
    frame = DataFrame(mtype, dev_addr, f_ctrl, f_cnt, f_opts, f_port, payload, mic, major)
    msg = frame.mic_input()
    conf = o.conf_f_cnt if f_ctrl.ack else 0
    f_int = o.f_nwk_s_int_key or o.nwk_s_key
    s_int = o.s_nwk_s_int_key or o.nwk_s_key
    if not is11 and o.nwk_s_key is not None:
        mic = crypto.data_mic_10(o.nwk_s_key, msg, dev_addr, f_cnt32, uplink)
    elif is11 and uplink and f_int is not None and s_int is not None:
        mic = crypto.data_uplink_mic_11(f_int, s_int, msg, dev_addr, f_cnt32, conf, o.tx_dr, o.tx_ch)
    elif is11 and not uplink and s_int is not None:
        mic = crypto.data_downlink_mic_11(s_int, msg, dev_addr, f_cnt32, conf)
    return msg + mic


def _compose_join_accept(obj: dict[str, Any], o: DecodeOptions, major: int, mic: bytes) -> bytes:
    dl_obj = _get(obj, "dl_settings", dict, {})
    dl = DLSettings(
        bool(_get(dl_obj, "opt_neg", bool, False)),
        _get(dl_obj, "rx1_dr_offset", int, 0),
        _get(dl_obj, "rx2_dr", int, 0),
    )
    cf_list = _hexfield(obj, "cf_list")
    freqs = _get(obj, "cf_list_frequencies", list)
    if freqs is not None:
        cf_list = CFList(
            0, tuple(_get({"frequency": f}, "frequency", int, required=True) for f in freqs)
        ).to_bytes()
    accept = JoinAccept(
        _get(obj, "join_nonce", int, required=True),
        _get(obj, "net_id", str, required=True),
        _get(obj, "dev_addr", str, required=True),
        dl,
        _get(obj, "rx_delay", int, 0),
        cf_list,
        mic,
        major,
    )
    root = (o.nwk_key or o.app_key) if o.lorawan == "1.1" else o.app_key
    if root is None:
        return accept.to_bytes()  # plaintext: nothing to encrypt with
    msg = accept.mic_input()
    if dl.opt_neg:
        if o.dev_eui is None or o.join_eui is None or o.dev_nonce is None:
            raise LoRaWANError("JoinAccept", "OptNeg needs dev_eui, join_eui and dev_nonce for the 1.1 MIC")
        js = crypto.derive_js_keys(o.nwk_key or root, o.dev_eui)
        mic = crypto.join_accept_mic_11(js.js_int_key, o.join_req_type, o.join_eui, o.dev_nonce, msg)
    else:
        mic = crypto.join_accept_mic_10(root, msg)
    return crypto.encrypt_join_accept(root, msg + mic)
