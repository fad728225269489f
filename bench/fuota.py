"""Benchmark: a firmware update of a 50 kB image to 500 devices at DR5 with 10 % redundancy (issue 16).

Run with ``python3 bench/fuota.py [--image-kb 50] [--devices 500] [--gateways 30] [--dr 5] [--redundancy 10]``.

What it measures, with the product's own code (no radio):
- the fragmentation plan (lora_city/fuota/plan.py): fragments, parity, frame size and time on air at the DR;
- the multicast cover (lora_city/downlink/multicast.py's ``minimum_cover``) of 500 devices spread over a city of
  ``--gateways`` gateways, each device heard by 1-3 nearby gateways: how many gateways must send every fragment;
- per gateway: air time of the fragments, the share of its hourly g3 budget (10 % of 3600 s, ETSI EN 300 220 /
  RP002-1.0.4) they use, and the wall time at which the last fragment can leave, given that the gateways of one
  frame transmit one after another (the multicast sender's rule) and no gateway exceeds its budget;
- the unicast setup (package version, clock sync, group setup, fragmentation setup, session start, status: six
  downlinks per device) at the class C RX2 (869.525 MHz, DR0: RP002's default), charged to each device's best
  gateway in the same sub-band: its air time and duty-cycle use;
- the CPU time of the FEC encoder and of one device's decoder (lora_city/lorawan/applayer/fec.py) on the image.
The baseline printed beside the wall time is the floor: the fragments' air time through one gateway.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lora_city.downlink.duty_cycle import budget_s  # noqa: E402
from lora_city.downlink.multicast import GATEWAY_GAP_S, minimum_cover  # noqa: E402
from lora_city.fuota import plan  # noqa: E402
from lora_city.lorawan.applayer import fec, fragmentation  # noqa: E402
from lora_city.lorawan.region import EU868  # noqa: E402

G3 = 869_525_000
UNICAST_STEPS = 6
UNICAST_FRAME = 13 + 1 + 29  # FHDR, FPort, the largest step payload (McGroupSetupReq: CID + 29 octets)


def city(devices: int, gateways: int, rng: random.Random) -> dict[str, dict[str, float]]:
    """Devices on a 10 km x 10 km square, gateways on a grid; a device is heard by the gateways within 2.5 km
    (at least its nearest), SNR falling with distance."""
    side = max(1, round(gateways ** 0.5))
    gws = {f"gw{i:02d}": ((i % side + 0.5) * 10 / side, (i // side + 0.5) * 10 / side) for i in range(gateways)}
    reach: dict[str, dict[str, float]] = {}
    for d in range(devices):
        x, y = rng.uniform(0, 10), rng.uniform(0, 10)
        dist = {g: ((x - gx) ** 2 + (y - gy) ** 2) ** 0.5 for g, (gx, gy) in gws.items()}
        near = [g for g, km in sorted(dist.items(), key=lambda kv: kv[1])[:3] if km <= 2.5] or [min(dist, key=dist.get)]  # type: ignore[arg-type]
        reach[f"dev{d:04d}"] = {g: round(10 - 4 * dist[g], 1) for g in near}
    return reach


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image-kb", type=int, default=50)
    ap.add_argument("--devices", type=int, default=500)
    ap.add_argument("--gateways", type=int, default=30)
    ap.add_argument("--dr", type=int, default=5)
    ap.add_argument("--redundancy", type=int, default=10)
    args = ap.parse_args()
    rng = random.Random(1)
    image = os.urandom(args.image_kb * 1000)
    frag_size = plan.max_frag_size(EU868, args.dr)
    p = plan.plan(EU868, len(image), frag_size, args.redundancy, args.dr, G3)

    t0 = time.process_time()
    uncoded, padding = fragmentation.split(image, frag_size)
    parity = fec.encode(uncoded, p.redundancy)
    encode_s = time.process_time() - t0
    sent = uncoded + parity
    t0 = time.process_time()
    decoder = fec.Decoder(p.nb_frag, frag_size)
    for n, data in enumerate(sent, start=1):
        if rng.random() >= 0.05:  # a device that misses 5 % of the frames
            decoder.add(n, data)
    decode_s = time.process_time() - t0
    assert decoder.complete and decoder.block(padding) == image

    reach = city(args.devices, args.gateways, rng)
    cover = minimum_cover(reach, lambda _gw: True)
    gws = list(cover.gateways)
    frame_air = p.airtime_per_frame_s
    budget = budget_s(EU868.sub_band(G3))
    per_gw_air = p.frames * frame_air
    # One frame: every cover gateway in turn (frame_air + gap each); a gateway whose hour budget is spent waits.
    sequential = p.frames * len(gws) * (frame_air + GATEWAY_GAP_S)
    budget_bound = per_gw_air / EU868.sub_band(G3).duty_cycle if per_gw_air > budget else 0.0
    wall = max(sequential, budget_bound)

    best = Counter(max(heard, key=heard.get) for heard in reach.values())  # type: ignore[arg-type]
    unicast_air = EU868.time_on_air_s(0, UNICAST_FRAME, uplink=False)
    busiest_gw, busiest_devices = best.most_common(1)[0]
    busiest_unicast = busiest_devices * UNICAST_STEPS * unicast_air

    print(f"image {len(image)} B, DR{args.dr}, {frag_size} B fragments: {p.nb_frag} fragments + {p.redundancy} "
          f"parity = {p.frames} frames of {p.frame_size} B, {frame_air * 1000:.1f} ms each")
    print(f"FEC: encode {encode_s * 1000:.1f} ms CPU, one device's decode (5 % lost) {decode_s * 1000:.1f} ms CPU")
    print(f"multicast cover: {len(gws)} of {args.gateways} gateways reach all {args.devices} devices "
          f"({len(cover.unreached)} unreached)")
    print(f"fragments per gateway: {per_gw_air:.1f} s of air = {100 * per_gw_air / budget:.1f} % of its hourly "
          f"g3 budget ({budget:.0f} s)")
    print(f"fragments wall time: {wall:.0f} s ({wall / 60:.1f} min); floor (one gateway's air time): "
          f"{per_gw_air:.0f} s; ratio {wall / per_gw_air:.1f}x (the cover's gateways take turns)")
    print(f"unicast setup at RX2 DR0: {unicast_air * 1000:.0f} ms per downlink, {UNICAST_STEPS} per device; busiest "
          f"gateway {busiest_gw} serves {busiest_devices} devices: {busiest_unicast:.0f} s of air = "
          f"{100 * busiest_unicast / budget:.1f} % of its hourly g3 budget")
    total_air_busiest = busiest_unicast + (per_gw_air if busiest_gw in gws else 0.0)
    print(f"busiest gateway over the whole campaign: {total_air_busiest:.0f} s of air, "
          f"{100 * total_air_busiest / budget:.1f} % of one hour's budget (a campaign longer than an hour "
          "spreads it over several)")


if __name__ == "__main__":
    main()
