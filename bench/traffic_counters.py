"""Benchmark: the network health counters' cost per gateway copy (network/traffic.py ``TrafficCounters.uplink``,
run on the ingest path for every copy) beside the UDP connector's own per-copy work measured in the same run:
turning one parsed ``rxpk`` into an ``UplinkFrame`` (gateway/semtech.py ``rxpk_to_uplink``).

Run with ``python3 bench/traffic_counters.py [--copies N]``. Prints ns per copy for both and the ratio.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lora_city.gateway import semtech  # noqa: E402
from lora_city.lorawan.region import EU868  # noqa: E402
from lora_city.network.traffic import TrafficCounters  # noqa: E402


def rxpks(n: int) -> list[tuple[dict[str, object], str]]:
    """(rxpk, gateway id): 50 gateways, the three default channels, DR0..DR5 (RP002-1.0.4 §2.4)."""
    out = []
    for i in range(n):
        sf = 7 + i % 6
        out.append(({"tmst": i, "chan": i % 3, "rfch": 0, "freq": 868.1 + 0.2 * (i % 3), "stat": 1, "modu": "LORA",
                     "datr": f"SF{sf}BW125", "codr": "4/5", "rssi": -80, "lsnr": 7.5, "size": 23,
                     "data": base64.b64encode(bytes(23)).decode()}, f"aa{i % 50:014x}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=200_000)
    args = parser.parse_args()
    packets = rxpks(args.copies)
    t0 = time.perf_counter()
    frames = [semtech.rxpk_to_uplink(pk, gw, i, 0.0) for i, (pk, gw) in enumerate(packets)]
    parse_s = time.perf_counter() - t0
    counters = TrafficCounters(EU868)
    t0 = time.perf_counter()
    for frame in frames:
        counters.uplink(frame)
    count_s = time.perf_counter() - t0
    assert sum(counters.drain().values()) == args.copies
    n = args.copies
    print(f"rxpk_to_uplink (baseline): {parse_s / n * 1e9:8.0f} ns/copy")
    print(f"TrafficCounters.uplink:    {count_s / n * 1e9:8.0f} ns/copy  ({count_s / parse_s:.1%} of the baseline)")


if __name__ == "__main__":
    main()
