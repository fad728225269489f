"""The independent emulator's cryptography (tests/support/emulator, no lora_city import) against the published
known answers in ../shared/vectors/lorawan.json (each vector names its source: lora-packet, brocaar/lorawan,
ChirpStack's lrwn, The Things Stack). An emulator that passes these is an outside reference for the flow tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.emulator import crypto as c

VECTORS = Path(__file__).resolve().parents[2] / "fixtures" / "lorawan.json"  # a copy of ../shared/vectors
ALL: list[dict[str, Any]] = json.loads(VECTORS.read_text())["vectors"]


def of(*kinds: str, version: str | None = None) -> list[Any]:
    found = [v for v in ALL if v["kind"] in kinds and (version is None or v["lorawan_version"] == version)]
    return [pytest.param(v, id=v["name"]) for v in found]


def k(v: dict[str, Any], name: str) -> bytes:
    return bytes.fromhex(v["keys"][name])


@pytest.mark.parametrize("v", of("uplink_unconfirmed", "uplink_confirmed_fopts", "uplink_unconfirmed_fopts",
                                 "uplink_unconfirmed_fport0", "downlink_unconfirmed", "downlink_unconfirmed_fopts",
                                 version="1.0.x"))
def test_data_frame_mic_and_payload_10(v: dict[str, Any]) -> None:
    """TS001-1.0.4 §4.4 MIC and §4.3.3 FRMPayload encryption."""
    phy = bytes.fromhex(v["phy_hex"])
    e = v["expected"]
    downlink = e["mtype"].endswith("Down")
    assert c.mic_10(k(v, "NwkSKey"), phy[:-4], e["dev_addr"], e["fcnt"], downlink).hex() == e["mic_hex"]
    if e.get("frm_payload_plain_hex") is not None and e["frm_payload_hex"]:
        key = k(v, "NwkSKey") if e["fport"] == 0 else k(v, "AppSKey")
        plain = c.payload_cipher(key, e["dev_addr"], e["fcnt"], downlink, bytes.fromhex(e["frm_payload_hex"]))
        assert plain.hex() == e["frm_payload_plain_hex"]


@pytest.mark.parametrize("v", of("uplink_unconfirmed", version="1.1"))
def test_uplink_mic_11(v: dict[str, Any]) -> None:
    """TS001-1.1 §4.4.2: cmacS[0..1] | cmacF[0..1], B1 with ConfFCnt (only when ACK is set), TxDr, TxCh."""
    phy = bytes.fromhex(v["phy_hex"])
    e = v["expected"]
    params = e.get("mic_params_1_1") or v.get("context") or {}
    conf = params.get("conf_fcnt", 0) if e["ack"] else 0
    mic = c.mic_11_up(k(v, "FNwkSIntKey"), k(v, "SNwkSIntKey"), phy[:-4], e["dev_addr"], e["fcnt"],
                      conf_f_cnt=conf, tx_dr=params.get("tx_dr", 0), tx_ch=params.get("tx_ch", 0))
    assert mic.hex() == e["mic_hex"]


@pytest.mark.parametrize("v", of("downlink_unconfirmed_fopts", version="1.1"))
def test_downlink_mic_and_fopts_11(v: dict[str, Any]) -> None:
    """TS001-1.1 §4.4.1 downlink MIC and §4.3.1.6 FOpts encryption with the errata's counter byte."""
    phy = bytes.fromhex(v["phy_hex"])
    e = v["expected"]
    conf = e["mic_params_1_1"]["conf_fcnt"] if e["ack"] else 0  # ConfFCnt only acknowledges
    assert c.mic_11_down(k(v, "SNwkSIntKey"), phy[:-4], e["dev_addr"], e["fcnt"], conf_f_cnt=conf).hex() == e["mic_hex"]
    plain = c.f_opts_cipher(k(v, "NwkSEncKey"), e["dev_addr"], e["fcnt"], True, bytes.fromhex(e["fopts_hex"]),
                            a_f_cnt_down=(e["fport"] or 0) > 0)
    assert plain.hex() == e["fopts_plain_hex"]


@pytest.mark.parametrize("v", of("fopts_encryption"))
def test_fopts_encryption_errata(v: dict[str, Any]) -> None:
    ctx = v["context"]
    out = c.f_opts_cipher(k(v, "NwkSEncKey"), ctx["dev_addr"], ctx["fcnt"], ctx["direction"] == "down",
                          bytes.fromhex(v["input_hex"]), a_f_cnt_down="AFCnt" in ctx["counter"].split("(")[0])
    assert out.hex() == v["expected"]["encrypted_hex"]


@pytest.mark.parametrize("v", of("join_request"))
def test_join_request_mic(v: dict[str, Any]) -> None:
    """TS001-1.0.4 §6.2.5: cmac(AppKey, MHDR | JoinEUI | DevEUI | DevNonce)[0..3]."""
    phy = bytes.fromhex(v["phy_hex"])
    assert c.cmac(k(v, "AppKey"), phy[:-4])[:4].hex() == v["expected"]["mic_hex"]


@pytest.mark.parametrize("v", of("join_accept", "join_accept_cflist"))
def test_join_accept_decrypt_and_mic(v: dict[str, Any]) -> None:
    """TS001-1.0.4 §6.2.6 (the device decrypts with AES encrypt) and TS001-1.1 §6.2.3 (OptNeg: JSIntKey MIC)."""
    phy = bytes.fromhex(v["phy_hex"])
    e = v["expected"]
    plain = phy[:1] + c.aes_encrypt(k(v, "AppKey"), phy[1:])
    assert plain.hex() == e["decrypted_phy_hex"]
    if e.get("opt_neg"):
        p = e["mic_1_1_params"]
        prefix = bytes((p["join_req_type"],)) + c.le(p["join_eui"]) + p["dev_nonce"].to_bytes(2, "little")
        assert c.cmac(bytes.fromhex(p["key"]), prefix + plain[:-4])[:4].hex() == e["mic_hex"]
    else:
        assert c.cmac(k(v, "AppKey"), plain[:-4])[:4].hex() == e["mic_hex"]
        if "derived_NwkSKey" in e:
            nwk, app = c.derive_10(k(v, "AppKey"), e["app_nonce"], e["net_id"], e["dev_nonce"])
            assert (nwk.hex(), app.hex()) == (e["derived_NwkSKey"].lower(), e["derived_AppSKey"].lower())


@pytest.mark.parametrize("v", of("key_derivation"))
def test_key_derivation(v: dict[str, Any]) -> None:
    """TS001-1.0.4 §6.2.6 and TS001-1.1 §6.2.3 / §6.1.1.4."""
    e = v["expected"]
    if "JSIntKey" in e:
        assert [x.hex() for x in c.js_keys(k(v, "NwkKey"), e["dev_eui"])] == [e["JSIntKey"], e["JSEncKey"]]
    elif v["lorawan_version"] == "1.1":
        keys = c.derive_11(k(v, "NwkKey"), k(v, "AppKey"), e["join_nonce"], e["join_eui"], e["dev_nonce"])
        assert [x.hex() for x in keys] == [e["FNwkSIntKey"], e["SNwkSIntKey"], e["NwkSEncKey"], e["AppSKey"]]
    else:
        nwk, app = c.derive_10(k(v, "AppKey"), e["app_nonce"], e["net_id"], e["dev_nonce"])
        assert [nwk.hex(), app.hex()] == [e["NwkSKey"], e["AppSKey"]]


def test_vectors_present() -> None:
    assert len(ALL) > 30
