"""A frame as one JSON-ready dict, decrypted and MIC-checked with whatever keys are known (``lora-city frame decode``).

Pure code: the CLI only reads input and prints. Keys and identifiers are lowercase MSB-first hex.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from lora_city.lorawan import crypto
from lora_city.lorawan.errors import LoRaWANError, parse_hex
from lora_city.lorawan.fcnt import full_f_cnt
from lora_city.lorawan.frames import (
    DataFrame,
    EncryptedJoinAccept,
    JoinRequest,
    Proprietary,
    RejoinRequest,
    parse_join_accept,
    parse_phy_payload,
)
from lora_city.lorawan.mac import parse_mac_commands
from lora_city.lorawan.region import CFList


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """What the caller knows besides the frame. Any key may be None (then that check/decryption is skipped)."""

    lorawan: str = "1.0"  # "1.0" or "1.1"
    nwk_s_key: bytes | None = None  # 1.0 NwkSKey; in 1.1 stands for all three network session keys
    app_s_key: bytes | None = None
    f_nwk_s_int_key: bytes | None = None
    s_nwk_s_int_key: bytes | None = None
    nwk_s_enc_key: bytes | None = None
    app_key: bytes | None = None
    nwk_key: bytes | None = None  # 1.1 root key; defaults to app_key
    last_f_cnt: int | None = None  # last accepted 32-bit counter, to extend the 16-bit wire FCnt
    conf_f_cnt: int = 0  # 1.1 MIC: FCnt of the frame acknowledged (used only when ACK is set)
    tx_dr: int = 0  # 1.1 uplink MIC
    tx_ch: int = 0  # 1.1 uplink MIC
    dev_nonce: int | None = None  # join-accept: DevNonce of the join-request, to derive session keys
    join_eui: str | None = None  # join-accept 1.1 (OptNeg): MIC and key derivation
    dev_eui: str | None = None  # join-accept 1.1 (OptNeg): JSIntKey
    join_req_type: int = 0xFF  # join-accept 1.1 (OptNeg): 0xFF answers a join-request

    @classmethod
    def from_mapping(cls, data: dict[str, Any], base: DecodeOptions | None = None) -> DecodeOptions:
        """Options from JSON (keys as hex strings), overriding ``base``; unknown names raise LoRaWANError."""
        values = {f.name: getattr(base, f.name) for f in fields(cls)} if base else {}
        for name, value in data.items():
            if name not in {f.name for f in fields(cls)}:
                raise LoRaWANError(name, "unknown option")
            if name.endswith("_key"):
                values[name] = None if value is None else parse_hex(_str(value, name), name, 16)
            elif name in ("lorawan", "join_eui", "dev_eui"):
                values[name] = None if value is None else _str(value, name)
            else:
                if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                    raise LoRaWANError(name, f"must be an integer, got {value!r}")
                values[name] = value
        options = cls(**values)
        if options.lorawan not in ("1.0", "1.1"):
            raise LoRaWANError("lorawan", f"must be 1.0 or 1.1, got {options.lorawan!r}")
        return options


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise LoRaWANError(name, f"must be a string, got {value!r}")
    return value


def _hex(data: bytes | None) -> str | None:
    return None if data is None else data.hex()


def describe_phy_payload(phy: bytes, options: DecodeOptions | None = None) -> dict[str, Any]:
    """Parse ``phy`` and return its JSON description; raises LoRaWANError when the frame itself is malformed."""
    options = options or DecodeOptions()
    frame = parse_phy_payload(phy)
    out: dict[str, Any] = {"mtype": frame.mtype.spec_name, "major": frame.major}
    if isinstance(frame, DataFrame):
        out.update(_describe_data(phy, frame, options))
    elif isinstance(frame, JoinRequest):
        mic_valid = None
        root = options.nwk_key if options.lorawan == "1.1" and options.nwk_key else options.app_key
        if root is not None:
            mic_valid = crypto.join_request_mic(root, phy[:-4]) == frame.mic
        out.update(join_eui=frame.join_eui, dev_eui=frame.dev_eui, dev_nonce=frame.dev_nonce)
        out.update(mic=frame.mic.hex(), mic_valid=mic_valid)
    elif isinstance(frame, RejoinRequest):
        out.update(rejoin_type=frame.rejoin_type, net_id=frame.net_id, join_eui=frame.join_eui)
        out.update(dev_eui=frame.dev_eui, rj_count=frame.rj_count, mic=frame.mic.hex(), mic_valid=None)
    elif isinstance(frame, EncryptedJoinAccept):
        out.update(_describe_join_accept(phy, options))
    else:
        assert isinstance(frame, Proprietary)
        out.update(payload=frame.payload.hex())
    return out


def _describe_data(phy: bytes, frame: DataFrame, o: DecodeOptions) -> dict[str, Any]:
    uplink = frame.uplink
    f_cnt32 = full_f_cnt(o.last_f_cnt, frame.f_cnt)
    msg = phy[:-4]
    is11 = o.lorawan == "1.1"
    f_int = o.f_nwk_s_int_key or o.nwk_s_key
    s_int = o.s_nwk_s_int_key or o.nwk_s_key
    enc = (o.nwk_s_enc_key or o.nwk_s_key) if is11 else o.nwk_s_key
    conf = o.conf_f_cnt if frame.f_ctrl.ack else 0
    mic: bytes | None = None
    if not is11 and o.nwk_s_key is not None:
        mic = crypto.data_mic_10(o.nwk_s_key, msg, frame.dev_addr, f_cnt32, uplink)
    elif is11 and uplink and f_int is not None and s_int is not None:
        mic = crypto.data_uplink_mic_11(f_int, s_int, msg, frame.dev_addr, f_cnt32, conf, o.tx_dr, o.tx_ch)
    elif is11 and not uplink and s_int is not None:
        mic = crypto.data_downlink_mic_11(s_int, msg, frame.dev_addr, f_cnt32, conf)
    f_opts: bytes | None = frame.f_opts
    if is11 and frame.f_opts:
        a_f_cnt_down = not uplink and bool(frame.f_port)
        f_opts = (
            None
            if enc is None
            else crypto.encrypt_f_opts(enc, frame.dev_addr, f_cnt32, uplink, frame.f_opts, a_f_cnt_down)
        )
    payload_key = enc if frame.f_port == 0 else o.app_s_key
    payload = frame.frm_payload
    decrypted = payload_key is not None and frame.f_port is not None
    if decrypted and payload_key is not None:
        payload = crypto.encrypt_frm_payload(payload_key, frame.dev_addr, f_cnt32, uplink, payload)
    mac_source = payload if frame.f_port == 0 else f_opts
    if frame.f_port == 0 and not decrypted:
        mac_source = None
    mac_commands: list[dict[str, Any]] | None = None
    mac_error: str | None = None
    if mac_source is not None:
        try:
            mac_commands = [c.to_dict() for c in parse_mac_commands(mac_source, uplink)]
        except LoRaWANError as exc:
            mac_error = str(exc)
    ctrl = frame.f_ctrl
    out: dict[str, Any] = {
        "dev_addr": frame.dev_addr,
        "f_ctrl": {
            "adr": ctrl.adr,
            "adr_ack_req": ctrl.adr_ack_req,
            "ack": ctrl.ack,
            ("class_b" if uplink else "f_pending"): ctrl.f_pending,
            "f_opts_len": ctrl.f_opts_len,
        },
        "f_cnt": frame.f_cnt,
        "f_cnt32": f_cnt32,
        "f_opts": _hex(f_opts),
        "f_port": frame.f_port,
        "mac_commands": mac_commands,
        "frm_payload": payload.hex(),
        "frm_payload_decrypted": decrypted,
        "mic": frame.mic.hex(),
        "mic_valid": None if mic is None else mic == frame.mic,
    }
    if is11 and frame.f_opts and f_opts is None:
        out["f_opts_encrypted"] = frame.f_opts.hex()
    if mac_error is not None:
        out["mac_commands_error"] = mac_error
    return out


def _describe_join_accept(phy: bytes, o: DecodeOptions) -> dict[str, Any]:
    root = (o.nwk_key or o.app_key) if o.lorawan == "1.1" else o.app_key
    if root is None:
        return {"encrypted": phy[1:].hex(), "mic_valid": None}
    plain = crypto.decrypt_join_accept(root, phy)
    accept = parse_join_accept(plain)
    dl = accept.dl_settings
    out: dict[str, Any] = {
        "join_nonce": accept.join_nonce,
        "net_id": accept.net_id,
        "dev_addr": accept.dev_addr,
        "dl_settings": {"opt_neg": dl.opt_neg, "rx1_dr_offset": dl.rx1_dr_offset, "rx2_dr": dl.rx2_dr},
        "rx_delay": accept.rx_delay,
        "cf_list": accept.cf_list.hex(),
        "cf_list_frequencies": None,
        "mic": accept.mic.hex(),
        "mic_valid": None,
        "session_keys": None,
    }
    if accept.cf_list:
        try:
            cf = CFList.from_bytes(accept.cf_list)
            out["cf_list_frequencies"] = list(cf.frequencies_hz) if cf.cf_list_type == 0 else None
        except LoRaWANError as exc:
            out["cf_list_error"] = str(exc)
    if not dl.opt_neg:
        out["mic_valid"] = crypto.join_accept_mic_10(root, plain[:-4]) == accept.mic
        if o.dev_nonce is not None:
            keys = crypto.derive_session_keys_10(root, accept.join_nonce, accept.net_id, o.dev_nonce)
            out["session_keys"] = {"nwk_s_key": keys.nwk_s_key.hex(), "app_s_key": keys.app_s_key.hex()}
        return out
    nwk_key = o.nwk_key or root
    if o.dev_eui is not None and o.join_eui is not None and o.dev_nonce is not None:
        js = crypto.derive_js_keys(nwk_key, o.dev_eui)
        mic = crypto.join_accept_mic_11(js.js_int_key, o.join_req_type, o.join_eui, o.dev_nonce, plain[:-4])
        out["mic_valid"] = mic == accept.mic
    if o.join_eui is not None and o.dev_nonce is not None:
        app_key = o.app_key or nwk_key
        keys11 = crypto.derive_session_keys_11(nwk_key, app_key, accept.join_nonce, o.join_eui, o.dev_nonce)
        out["session_keys"] = {
            "f_nwk_s_int_key": keys11.f_nwk_s_int_key.hex(),
            "s_nwk_s_int_key": keys11.s_nwk_s_int_key.hex(),
            "nwk_s_enc_key": keys11.nwk_s_enc_key.hex(),
            "app_s_key": keys11.app_s_key.hex(),
        }
    return out
