"""The independent emulator's frames against npm lora-packet (tests/js), a third implementation: what the emulated
devices send (1.0 and 1.1 uplinks with MAC answers in FOpts or on FPort 0, ACKs carrying ConfFCnt, join- and
rejoin-requests) must have the MIC, FOpts and payload lora-packet computes. With the known-answer vectors
(test_emulator_crypto.py) this makes the emulator a reference the server is judged against."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.support.emulator import crypto as c
from tests.support.emulator.device import Device
from tests.support.emulator.mac import Command

JS_DIR = Path(__file__).resolve().parents[2] / "js"


def lora_packet(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "lora-packet").is_dir():
        message = "lora-packet not installed: run `cd tests/js && npm ci` (needs node)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run([node, str(JS_DIR / "lorapacket_check.js")], input="".join(json.dumps(r) + "\n" for r in requests),
                          capture_output=True, text=True, timeout=120, cwd=JS_DIR, check=True)
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == len(requests), proc.stderr
    return answers


def personalised(rng: random.Random, version: str) -> tuple[Device, dict[str, bytes]]:
    dev = Device.generate(version, rng=rng)
    keys = {n: rng.randbytes(16) for n in ("nwk", "f", "s", "enc", "app")}
    addr = rng.randbytes(4).hex()
    if dev.is_11:
        dev.personalise(addr, app_s_key=keys["app"], f_nwk_s_int_key=keys["f"], s_nwk_s_int_key=keys["s"],
                        nwk_s_enc_key=keys["enc"], f_cnt_up=rng.randrange(1 << 20))
        dev.reset_pending = False
    else:
        dev.personalise(addr, nwk_s_key=keys["nwk"], app_s_key=keys["app"], f_cnt_up=rng.randrange(1 << 20))
    return dev, keys


def test_emulated_uplinks_agree_with_lora_packet() -> None:
    rng = random.Random(23)
    requests, expected = [], []
    for i in range(300):
        version = "1.1" if i % 2 else "1.0.4"
        dev, keys = personalised(rng, version)
        commands = [Command("DevStatusAns", bytes((rng.randrange(256), 10)))] if rng.random() < 0.5 else []
        ack = rng.random() < 0.3
        if ack:
            dev.ack_next = rng.randrange(1 << 16)
        conf = dev.ack_next or 0
        payload = rng.randbytes(rng.randrange(1, 40))
        up = dev.uplink(rng.randrange(1, 224), payload, commands=commands, channel=rng.randrange(3),
                        dr=rng.randrange(6), confirmed=rng.random() < 0.5)
        assert up.f_cnt is not None
        msb = up.f_cnt >> 16
        if dev.is_11:
            requests.append({"kind": "data11", "phy": up.phy.hex(), "f_int": keys["f"].hex(), "s_int": keys["s"].hex(),
                             "enc": keys["enc"].hex(), "app_s_key": keys["app"].hex(), "fcnt_msb": msb,
                             "conf": conf if ack else 0, "tx_dr": up.dr, "tx_ch": up.tx_ch})
        else:
            requests.append({"kind": "data10", "phy": up.phy.hex(), "nwk_s_key": keys["nwk"].hex(),
                             "app_s_key": keys["app"].hex(), "fcnt_msb": msb})
        expected.append((up.phy[-4:].hex(), payload.hex(), b"".join(x.to_bytes(uplink=True) for x in commands).hex(),
                         dev.is_11))
    for answer, (mic, payload_hex, f_opts_hex, is_11) in zip(lora_packet(requests), expected, strict=True):
        assert "error" not in answer, answer
        assert answer["mic"] == mic
        assert answer["payload"] == payload_hex
        if is_11:
            assert answer["fopts"] == f_opts_hex  # decrypted by lora-packet (1.1 FOpts, errata counter byte)
        else:
            assert answer["fopts_wire"] == f_opts_hex


def test_emulated_join_and_rejoin_requests_agree_with_lora_packet() -> None:
    rng = random.Random(7)
    requests, expected = [], []
    for i in range(60):
        dev = Device.generate("1.1" if i % 2 else "1.0.4", rng=rng)
        up = dev.join_request()
        requests.append({"kind": "join_request", "phy": up.phy.hex(),
                         "key": (dev.nwk_key if dev.is_11 else dev.app_key).hex()})  # type: ignore[union-attr]
        expected.append(up.phy[-4:].hex())
        if dev.is_11:
            assert dev.nwk_key is not None
            dev.personalise(rng.randbytes(4).hex(), app_s_key=rng.randbytes(16), f_nwk_s_int_key=rng.randbytes(16),
                            s_nwk_s_int_key=rng.randbytes(16), nwk_s_enc_key=rng.randbytes(16))
            dev.net_id = "000013"
            for rejoin_type in (0, 1):
                rj = dev.rejoin_request(rejoin_type)
                key = dev.s_nwk_s_int_key if rejoin_type == 0 else c.js_keys(dev.nwk_key, dev.dev_eui)[0]
                requests.append({"kind": "rejoin", "phy": rj.phy.hex(), "key": key.hex()})
                expected.append(rj.phy[-4:].hex())
    for answer, mic in zip(lora_packet(requests), expected, strict=True):
        assert "error" not in answer, answer
        assert answer["mic"] == mic
