"""Benchmark: parse + MIC check + decrypt of a 20-byte-payload uplink, lora_city vs npm lora-packet (same run).

Run with ``python3 bench/frames.py [--seconds S] [--devices N]``. Needs ``cd tests/js && npm install`` for the
lora-packet baseline (without it, only our figure is printed). Both sides run single-threaded on one core over the
same frames (N devices with distinct session keys, as a network server sees them).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lora_city.lorawan import crypto  # noqa: E402
from lora_city.lorawan.fcnt import full_f_cnt  # noqa: E402
from lora_city.lorawan.frames import DataFrame, FCtrl, MType, parse_phy_payload  # noqa: E402

JS_DIR = ROOT / "tests" / "js"


def make_frames(devices: int) -> list[tuple[bytes, bytes, bytes]]:
    """(phy, NwkSKey, AppSKey) for one 20-byte-payload uplink per device."""
    rng = random.Random(1)
    frames = []
    for _ in range(devices):
        nwk, app, dev_addr = rng.randbytes(16), rng.randbytes(16), rng.randbytes(4).hex()
        f_cnt = rng.randrange(1 << 16)
        cipher = crypto.encrypt_frm_payload(app, dev_addr, f_cnt, True, rng.randbytes(20))
        frame = DataFrame(MType.UNCONFIRMED_DATA_UP, dev_addr, FCtrl(adr=True), f_cnt, b"", 1, cipher)
        msg = frame.mic_input()
        frames.append((msg + crypto.data_mic_10(nwk, msg, dev_addr, f_cnt, True), nwk, app))
    return frames


def process(phy: bytes, nwk_s_key: bytes, app_s_key: bytes) -> bytes:
    """What the uplink pipeline does per frame once the session is found."""
    frame = parse_phy_payload(phy)
    assert isinstance(frame, DataFrame)
    f_cnt32 = full_f_cnt(None, frame.f_cnt)
    if crypto.data_mic_10(nwk_s_key, phy[:-4], frame.dev_addr, f_cnt32, True) != frame.mic:
        raise RuntimeError("MIC mismatch")
    return crypto.encrypt_frm_payload(app_s_key, frame.dev_addr, f_cnt32, True, frame.frm_payload)


def bench_python(frames: list[tuple[bytes, bytes, bytes]], seconds: float) -> tuple[float, int]:
    for phy, nwk, app in frames:  # warm the per-key cipher cache, as a running server would be
        process(phy, nwk, app)
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for phy, nwk, app in frames:
            process(phy, nwk, app)
        n += len(frames)
    return n / (time.perf_counter() - start), n


def bench_lora_packet(frames: list[tuple[bytes, bytes, bytes]], seconds: float) -> float | None:
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "lora-packet").is_dir():
        return None
    spec = {
        "frames": [{"phy": p.hex(), "nwk_s_key": n.hex(), "app_s_key": a.hex()} for p, n, a in frames],
        "seconds": seconds,
    }
    out = subprocess.run(
        [node, "bench_lora_packet.js"],
        input=json.dumps(spec),
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout)["frames_per_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per side")
    parser.add_argument("--devices", type=int, default=1000, help="distinct devices / session keys")
    args = parser.parse_args()
    frames = make_frames(args.devices)
    ours, n = bench_python(frames, args.seconds)
    print(f"frame: {len(frames[0][0])}-byte PHYPayload, 20-byte FRMPayload, {args.devices} devices")
    print(f"lora_city  : {ours:12,.0f} frames/s  {1e6 / ours:8.2f} us/frame  ({n} frames)")
    theirs = bench_lora_packet(frames, args.seconds)
    if theirs is None:
        print("lora-packet: not installed (cd tests/js && npm install); no baseline")
        return
    print(f"lora-packet: {theirs:12,.0f} frames/s  {1e6 / theirs:8.2f} us/frame")
    print(f"ratio      : {ours / theirs:.1f}x lora-packet (target >= 10x)")


if __name__ == "__main__":
    main()
