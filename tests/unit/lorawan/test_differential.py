"""Differential test against npm lora-packet 0.9.3, an independent implementation (tests/js).

Thousands of generated frames (random keys, DevAddr, 32-bit counters, FOpts, payloads, both directions, 1.0 and
1.1) go to ONE node process as JSON lines; lora-packet's MIC, decrypted payload/FOpts and parsed fields must equal
ours. It also builds frames from fields that we parse, check and decrypt. Skipped locally without
tests/js/node_modules (run ``cd tests/js && npm install``); a failure in CI.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lora_city.lorawan import crypto
from lora_city.lorawan.frames import (
    DataFrame,
    DLSettings,
    FCtrl,
    JoinAccept,
    JoinRequest,
    MType,
    RejoinRequest,
    parse_phy_payload,
)
from lora_city.lorawan.mac import MacCommand, encode_mac_commands
from tests.conftest import IN_CI

JS_DIR = Path(__file__).resolve().parents[2] / "js"
HELPER = JS_DIR / "lorapacket_check.js"
N_DATA = 3000
N_JOIN = 300
N_BUILD = 600


@pytest.fixture(scope="module")
def lora_packet() -> Any:
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "lora-packet").is_dir():
        message = "lora-packet not installed: run `cd tests/js && npm install` (needs node)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)

    def run(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        text = "".join(json.dumps(r) + "\n" for r in requests)
        proc = subprocess.run(
            [node, str(HELPER)],
            input=text,
            capture_output=True,
            text=True,
            timeout=240,
            cwd=JS_DIR,
            check=True,
        )
        answers = [json.loads(line) for line in proc.stdout.splitlines()]
        assert len(answers) == len(requests), proc.stderr
        return answers

    return run


def _key(rng: random.Random) -> bytes:
    return rng.randbytes(16)


def _data_case(rng: random.Random, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One random data frame built by us: (request for node, what we expect back)."""
    mtype = rng.choice([m for m in MType if m.is_data])
    uplink = mtype.uplink
    dev_addr = rng.randbytes(4).hex()
    f_cnt32 = rng.choice([rng.randrange(1 << 16), rng.randrange(1 << 32)])
    f_port = rng.choice([None, 0, rng.randrange(1, 256)])
    f_opts = b"" if f_port == 0 else rng.randbytes(rng.choice([0, 0, rng.randrange(1, 16)]))
    plain = b"" if f_port is None else rng.randbytes(rng.choice([0, rng.randrange(1, 60)]))
    ctrl = FCtrl(rng.random() < 0.5, rng.random() < 0.3, rng.random() < 0.5, rng.random() < 0.3)
    conf = rng.randrange(1 << 16) if ctrl.ack else 0
    tx_dr, tx_ch = rng.randrange(16), rng.randrange(16)
    app_s_key = _key(rng)
    if version == "1.0":
        nwk = _key(rng)
        keys: dict[str, Any] = {"kind": "data10", "nwk_s_key": nwk.hex(), "app_s_key": app_s_key.hex()}
        wire_opts = f_opts
        enc_key = nwk
    else:
        f_int, s_int, enc_key = _key(rng), _key(rng), _key(rng)
        keys = {"kind": "data11", "f_int": f_int.hex(), "s_int": s_int.hex(), "enc": enc_key.hex()}
        keys.update(app_s_key=app_s_key.hex(), conf=conf, tx_dr=tx_dr, tx_ch=tx_ch)
        a_down = not uplink and bool(f_port)
        wire_opts = crypto.encrypt_f_opts(enc_key, dev_addr, f_cnt32, uplink, f_opts, a_down)
    payload_key = enc_key if f_port == 0 else app_s_key
    cipher = crypto.encrypt_frm_payload(payload_key, dev_addr, f_cnt32, uplink, plain)
    frame = DataFrame(mtype, dev_addr, ctrl, f_cnt32 & 0xFFFF, wire_opts, f_port, cipher)
    msg = frame.mic_input()
    if version == "1.0":
        mic = crypto.data_mic_10(bytes.fromhex(keys["nwk_s_key"]), msg, dev_addr, f_cnt32, uplink)
    elif uplink:
        mic = crypto.data_uplink_mic_11(f_int, s_int, msg, dev_addr, f_cnt32, conf, tx_dr, tx_ch)
    else:
        mic = crypto.data_downlink_mic_11(s_int, msg, dev_addr, f_cnt32, conf)
    request = {**keys, "phy": (msg + mic).hex(), "fcnt_msb": f_cnt32 >> 16}
    expected = {
        "dev_addr": dev_addr, "fcnt": f_cnt32 & 0xFFFF, "fport": f_port, "fctrl": f"{ctrl.to_byte() | len(f_opts):02x}",
        "fopts_wire": wire_opts.hex(), "frm_payload": cipher.hex(), "mic": mic.hex(), "payload": plain.hex(),
    }  # fmt: skip
    if version == "1.1":
        expected["fopts"] = f_opts.hex()
    return request, expected


def test_data_frames_agree_with_lora_packet(lora_packet: Any) -> None:
    rng = random.Random(20261122)
    cases = [_data_case(rng, "1.0" if i % 3 else "1.1") for i in range(N_DATA)]
    answers = lora_packet([request for request, _ in cases])
    mismatches = [
        (request, expected, answer)
        for (request, expected), answer in zip(cases, answers, strict=True)
        if any(answer.get(k) != v for k, v in expected.items())
    ]
    assert not mismatches, f"{len(mismatches)} of {len(cases)} differ, first: {mismatches[0]}"
    assert sum(1 for r, _ in cases if r["kind"] == "data11") > N_DATA // 4  # both versions really exercised


def test_join_frames_agree_with_lora_packet(lora_packet: Any) -> None:
    rng = random.Random(7)
    requests, expected = [], []
    for _ in range(N_JOIN):
        key = _key(rng)
        req = JoinRequest(rng.randbytes(8).hex(), rng.randbytes(8).hex(), rng.randrange(1 << 16))
        msg = req.mic_input()
        mic = crypto.join_request_mic(key, msg)
        requests.append({"kind": "join_request", "phy": (msg + mic).hex(), "key": key.hex()})
        expected.append({"mic": mic.hex(), "join_eui": req.join_eui, "dev_eui": req.dev_eui,
                         "dev_nonce": f"{req.dev_nonce:04x}"})  # fmt: skip
        accept = JoinAccept(
            rng.randrange(1 << 24), rng.randbytes(3).hex(), rng.randbytes(4).hex(),
            DLSettings(False, rng.randrange(8), rng.randrange(16)), rng.randrange(16), rng.choice([b"", rng.randbytes(16)]),
        )  # fmt: skip
        body = accept.mic_input()
        plain = body + crypto.join_accept_mic_10(key, body)
        requests.append(
            {"kind": "join_accept", "phy": crypto.encrypt_join_accept(key, plain).hex(), "key": key.hex()}
        )
        expected.append({"plain": plain.hex(), "mic": plain[-4:].hex()})
        rejoin_type = rng.choice([0, 1, 2])
        ident = (
            {"join_eui": rng.randbytes(8).hex()} if rejoin_type == 1 else {"net_id": rng.randbytes(3).hex()}
        )
        rejoin = RejoinRequest(rejoin_type, rng.randbytes(8).hex(), rng.randrange(1 << 16), **ident)
        body = rejoin.mic_input()
        mic = crypto.rejoin_request_mic(key, body)
        requests.append({"kind": "rejoin", "phy": (body + mic).hex(), "key": key.hex()})
        expected.append({"mic": mic.hex(), "dev_eui": rejoin.dev_eui})
    answers = lora_packet(requests)
    bad = [(r, e, a) for r, e, a in zip(requests, expected, answers, strict=True) if a != e]
    assert not bad, f"{len(bad)} differ, first: {bad[0]}"


def test_frames_built_by_lora_packet_parse_verify_and_decrypt(lora_packet: Any) -> None:
    rng = random.Random(99)
    names = {
        MType.UNCONFIRMED_DATA_UP: "Unconfirmed Data Up", MType.CONFIRMED_DATA_UP: "Confirmed Data Up",
        MType.UNCONFIRMED_DATA_DOWN: "Unconfirmed Data Down", MType.CONFIRMED_DATA_DOWN: "Confirmed Data Down",
    }  # fmt: skip
    requests = []
    for _ in range(N_BUILD):
        mtype = rng.choice(list(names))
        f_port = rng.choice([0, rng.randrange(1, 256)])
        requests.append({
            "kind": "build10", "mtype": names[mtype], "dev_addr": rng.randbytes(4).hex(),
            "fctrl": {"ADR": rng.random() < 0.5, "ACK": rng.random() < 0.5, "FPending": rng.random() < 0.5},
            "fcnt": rng.randrange(1 << 16), "fopts": "" if f_port == 0 else rng.randbytes(rng.randrange(16)).hex(),
            "fport": f_port, "payload": rng.randbytes(rng.randrange(1, 50)).hex(),
            "nwk_s_key": _key(rng).hex(), "app_s_key": _key(rng).hex(),
        })  # fmt: skip
    for request, answer in zip(requests, lora_packet(requests), strict=True):
        phy = bytes.fromhex(answer["phy"])
        frame = parse_phy_payload(phy)
        assert isinstance(frame, DataFrame)
        assert frame.mtype.name.replace("_", " ").title() == request["mtype"].title()
        assert (frame.dev_addr, frame.f_cnt, frame.f_port, frame.f_opts.hex()) == (
            request["dev_addr"], request["fcnt"], request["fport"], request["fopts"],
        )  # fmt: skip
        assert (frame.f_ctrl.adr, frame.f_ctrl.ack, frame.f_ctrl.f_pending) == tuple(
            request["fctrl"].values()
        )
        nwk, app = bytes.fromhex(request["nwk_s_key"]), bytes.fromhex(request["app_s_key"])
        assert crypto.data_mic_10(nwk, phy[:-4], frame.dev_addr, frame.f_cnt, frame.uplink) == frame.mic
        key = nwk if frame.f_port == 0 else app
        plain = crypto.encrypt_frm_payload(key, frame.dev_addr, frame.f_cnt, frame.uplink, frame.frm_payload)
        assert plain.hex() == request["payload"]
        assert frame.to_bytes() == phy


# A confirmed downlink built here (no public vector exists): ADR+ACK+FPending, FOpts LinkADRReq, FPort 10,
# "hello city", and a 32-bit FCnt above 2^16 so the counter's upper half enters B0 and the A blocks.
CONFIRMED_DOWN = {
    "nwk_s_key": "2b7e151628aed2a6abf7158809cf4f3c",
    "app_s_key": "3c4fcf098815f7aba6d2ae2816157e2b",
    "dev_addr": "26011f3a",
    "f_cnt32": 0x0001_0007,
    "phy_hex": "a03a1f0126b5070003510700010a28a4a33f9cf6ac01f519ff463f51",
}


def test_confirmed_downlink_vector_built_here() -> None:
    v = CONFIRMED_DOWN
    nwk, app = bytes.fromhex(v["nwk_s_key"]), bytes.fromhex(v["app_s_key"])
    f_opts = encode_mac_commands(
        [MacCommand("LinkADRReq", {"data_rate": 5, "tx_power": 1, "ch_mask": 7, "nb_trans": 1})]
    )
    cipher = crypto.encrypt_frm_payload(app, v["dev_addr"], v["f_cnt32"], False, b"hello city")
    ctrl = FCtrl(adr=True, ack=True, f_pending=True)
    frame = DataFrame(
        MType.CONFIRMED_DATA_DOWN, v["dev_addr"], ctrl, v["f_cnt32"] & 0xFFFF, f_opts, 10, cipher
    )
    msg = frame.mic_input()
    phy = msg + crypto.data_mic_10(nwk, msg, v["dev_addr"], v["f_cnt32"], uplink=False)
    assert phy.hex() == v["phy_hex"]
    parsed = parse_phy_payload(phy)
    assert isinstance(parsed, DataFrame) and parsed.confirmed and not parsed.uplink


def test_confirmed_downlink_vector_agrees_with_lora_packet(lora_packet: Any) -> None:
    v = CONFIRMED_DOWN
    request = {"kind": "data10", "phy": v["phy_hex"], "nwk_s_key": v["nwk_s_key"], "app_s_key": v["app_s_key"],
               "fcnt_msb": v["f_cnt32"] >> 16}  # fmt: skip
    (answer,) = lora_packet([request])
    assert answer["mic"] == v["phy_hex"][-8:]
    assert bytes.fromhex(answer["payload"]) == b"hello city"
    assert (answer["dev_addr"], answer["fcnt"], answer["fport"], answer["fctrl"]) == ("26011f3a", 7, 10, "b5")
    assert answer["fopts_wire"] == "0351070001"
