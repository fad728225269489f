"""The multicast downlink frame and class B ping slots (TS001-1.1 §15). (The TS005 §4.3 key hierarchy is tested
with lorawan/applayer/multicast_setup.)

TS001 prints no numeric example of the ping-slot formula, so the known answers come from an independent
implementation's published test suite: ChirpStack's class B tests, "next ping slot after a GPS time"
(DevAddr 00000000, pingNb 1/2/128).
The formula itself is also recomputed here with ``cryptography``'s AES directly (not our AES cache), and the
multicast frame is opened by npm lora-packet, an independent LoRaWAN implementation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from lora_city.lorawan import class_b
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.multicast import build_multicast_downlink
from tests.conftest import IN_CI

JS_DIR = Path(__file__).resolve().parents[2] / "js"


def _aes(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


MC_KEY = bytes(range(1, 17))


def _mc_keys(mc_key: bytes, mc_addr: str) -> tuple[bytes, bytes]:
    """(McNwkSKey, McAppSKey) straight from TS005 §4.3, with cryptography's AES."""
    addr = bytes.fromhex(mc_addr)[::-1]
    return _aes(mc_key, b"\x02" + addr + bytes(11)), _aes(mc_key, b"\x01" + addr + bytes(11))


# --- TS001-1.1 §15 ping slots --------------------------------------------------------------------------

@pytest.mark.parametrize(("after_s", "ping_nb", "expected_s"), [
    (0.0, 1, 74.300),
    (120.0, 1, 185.620),
    (0.0, 2, 12.860),
    (13.0, 2, 74.300),
    (124.0, 128, 124.220),
])
def test_next_ping_slot_chirpstack_vectors(after_s: float, ping_nb: int, expected_s: float) -> None:
    periodicity = 7 - ping_nb.bit_length() + 1
    assert class_b.ping_nb(periodicity) == ping_nb
    assert class_b.next_ping_slot(after_s, "00000000", periodicity) == pytest.approx(expected_s, abs=1e-9)


@settings(deadline=None)  # up to 128 slots checked per example: no time limit on a loaded machine
@given(st.integers(0, (1 << 32) - 1), st.binary(min_size=4, max_size=4), st.integers(0, 7))
def test_ping_offset_is_the_spec_formula(beacon_time: int, addr: bytes, periodicity: int) -> None:
    """Rand = aes128_encrypt(0^16, BeaconTime | DevAddr | pad16); offset = (Rand[0] + 256 Rand[1]) mod period."""
    nb = 1 << (7 - periodicity)
    rand = _aes(bytes(16), beacon_time.to_bytes(4, "little") + addr[::-1] + bytes(8))
    expected = (rand[0] + 256 * rand[1]) % (4096 // nb)
    assert class_b.ping_offset(beacon_time, addr.hex(), nb) == expected
    slots = class_b.ping_slots(beacon_time - beacon_time % 128, addr.hex(), periodicity)
    assert len(slots) == nb
    assert all(class_b.is_ping_slot(s, addr.hex(), periodicity) for s in slots)


def test_beacon_period_and_gps_time() -> None:
    assert class_b.beacon_start(255.9) == 128
    # 2017-01-01 onwards GPS is 18 s ahead of UTC (IERS); the GPS epoch is 1980-01-06 00:00:00 UTC.
    t = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
    gps = class_b.utc_to_gps(t)
    assert gps == (t - datetime(1980, 1, 6, tzinfo=UTC)).total_seconds() + 18
    assert class_b.gps_to_utc(gps) == t


def test_periodicity_out_of_range() -> None:
    with pytest.raises(LoRaWANError):
        class_b.ping_nb(8)


# --- the multicast frame, opened by lora-packet --------------------------------------------------------

def test_multicast_downlink_opens_with_lora_packet() -> None:
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "lora-packet").is_dir():
        if IN_CI:
            pytest.fail("lora-packet not installed (cd tests/js && npm ci)")
        pytest.skip("lora-packet not installed")
    nwk, app = _mc_keys(MC_KEY, "01020304")
    cases = [(0x0001_0005, 60, bytes.fromhex("01fe64")), (7, 60, bytes.fromhex("01fe00")), (70_000, 2, b"")]
    requests, expected = [], []
    for f_cnt, f_port, payload in cases:
        phy = build_multicast_downlink("01020304", nwk, app, f_cnt, f_port, payload)
        assert phy[0] == 0x60  # MHDR: unconfirmed data down
        requests.append({"kind": "data10", "phy": phy.hex(), "nwk_s_key": nwk.hex(),
                         "app_s_key": app.hex(), "fcnt_msb": f_cnt >> 16})
        expected.append((f_cnt, f_port, payload, phy[-4:].hex()))
    proc = subprocess.run([node, str(JS_DIR / "lorapacket_check.js")], input="".join(json.dumps(r) + "\n"
                          for r in requests), capture_output=True, text=True, timeout=60, cwd=JS_DIR, check=True)
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    for answer, (f_cnt, f_port, payload, mic) in zip(answers, expected, strict=True):
        assert answer["dev_addr"] == "01020304"
        assert answer["fcnt"] == f_cnt & 0xFFFF
        assert answer["fport"] == f_port
        assert answer["fctrl"] == "00"  # no ACK, ADR, FPending, FOpts
        assert answer["mic"] == mic
        assert answer["payload"] == payload.hex()


def test_multicast_downlink_refuses_mac_port() -> None:
    nwk, app = _mc_keys(MC_KEY, "01020304")
    with pytest.raises(LoRaWANError):
        build_multicast_downlink("01020304", nwk, app, 1, 0, b"\x01")
