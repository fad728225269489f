"""Benchmark: dim 10,000 street lamps in 100 district groups with one multicast downlink each (issue 24).

Run with ``python3 bench/multicast.py [--lamps 10000] [--groups 100] [--gateways 30] [--range-km 2.5] [--seed 1]``.

The city: lamps on a 10 km x 10 km square cut into ``--groups`` districts (a square grid of cells), one class C
multicast group per district; gateways on a jittered grid, a lamp heard by up to its three nearest gateways within
``--range-km`` (2.5 km; at least the nearest), SNR falling with distance. Each group gets one "dim to 50 %" item (NAS UL20x2
manual dimming, FPort 60 ``01 FE 32``), at the group's default radio settings: RX2, 869.525 MHz DR0 (RP002-1.0.4).

What runs is the product's own sender, ``lora_city.downlink.multicast.MulticastDownlinks`` over the real
``DownlinkScheduler`` and ``DutyCycleTracker``: the minimum gateway cover per group, the frame built and
encrypted once per group, the gateways of one frame taking turns, no gateway given two overlapping frames, every
frame charged to its gateway's hourly g3 budget (10 % of 3600 s, ETSI EN 300 220 / RP002-1.0.4). Left out, and
said so: the queue's database (an in-memory stand-in with ``MulticastStore``'s interface) and the radio (frames
are counted, not sent); time on air is virtual (the sender's waits are recorded, not slept).

Printed beside the multicast figures, measured in the same run on the same city:
- unicast: one frame per lamp at the same DR through its best gateway, each gateway sending its frames one after
  another and refusing what its budget cannot take (the way ``DownlinkScheduler.transmit`` charges it);
- naive multicast: every gateway that heard a member sends the group's frame (no cover).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lora_city.downlink.duty_cycle import DutyCycleTracker, budget_s  # noqa: E402
from lora_city.downlink.multicast import GATEWAY_GAP_S, MulticastDownlinks, SendReport  # noqa: E402
from lora_city.downlink.scheduler import DownlinkScheduler  # noqa: E402
from lora_city.gateway.frames import DownlinkFrame  # noqa: E402
from lora_city.lorawan.region import EU868  # noqa: E402
from lora_city.metrics import Metrics  # noqa: E402
from lora_city.storage.multicast import McGroup, McItem  # noqa: E402

NOW = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)
DIM_50 = bytes.fromhex("01fe32")  # NAS UL20x2 manual dimming on FPort 60: all DALI drivers to 50 %
F_PORT = 60
PHY_LEN = 1 + 7 + 1 + len(DIM_50) + 4  # MHDR, FHDR (no FOpts), FPort, payload, MIC


@dataclass(frozen=True, slots=True)
class City:
    reach: dict[str, dict[str, float]]  # lamp -> gateway -> SNR
    districts: dict[str, list[str]]  # group -> lamps
    gateways: list[str]


def city(lamps: int, groups: int, gateways: int, rng: random.Random, range_km: float = 2.5) -> City:
    side = max(1, round(gateways ** 0.5))
    # a grid, each gateway moved by up to half a cell (the rooftops a city gets), so that districts and the
    # gateways' areas do not line up
    gws = {f"gw{i:03d}": ((i % side + rng.uniform(0.0, 1.0)) * 10 / side, (i // side + rng.uniform(0.0, 1.0)) * 10 / side)
           for i in range(gateways)}
    cells = max(1, round(groups ** 0.5))
    reach: dict[str, dict[str, float]] = {}
    districts: dict[str, list[str]] = {f"district{c:03d}": [] for c in range(cells * cells)}
    for n in range(lamps):
        x, y = rng.uniform(0, 10), rng.uniform(0, 10)
        dist = {g: ((x - gx) ** 2 + (y - gy) ** 2) ** 0.5 for g, (gx, gy) in gws.items()}
        ranked = sorted(dist.items(), key=lambda kv: kv[1])
        near = [g for g, km in ranked[:3] if km <= range_km] or [ranked[0][0]]
        lamp = f"{n:016x}"
        reach[lamp] = {g: round(10 - 4 * dist[g], 1) for g in near}
        cell = min(int(x / 10 * cells), cells - 1) + cells * min(int(y / 10 * cells), cells - 1)
        districts[f"district{cell:03d}"].append(lamp)
    return City(reach, {g: m for g, m in districts.items() if m}, list(gws))


@dataclass(frozen=True, slots=True)
class _Session:
    heard_by: tuple[tuple[str, float, float], ...]  # (gateway_id, snr, rssi), as NetworkSession.heard_by


class Sessions:
    """Each lamp's last uplink: the gateways that heard it (what ``SessionStore.for_dev_eui`` gives the sender)."""

    def __init__(self, reach: dict[str, dict[str, float]]) -> None:
        self._by_eui = {lamp: _Session(tuple((g, snr, -100.0) for g, snr in heard.items()))
                        for lamp, heard in reach.items()}

    def for_dev_eui(self, dev_eui: str) -> _Session | None:
        return self._by_eui.get(dev_eui)


class Queue:
    """``MulticastStore``'s interface in memory: one queued item per group."""

    def __init__(self, districts: dict[str, list[str]], rng: random.Random) -> None:
        self._groups = {gid: McGroup(gid, "city", gid, f"{0x01000000 + i:08x}", rng.randbytes(16), rng.randbytes(16),
                                     "C", EU868.rx2_data_rate, EU868.rx2_frequency_hz, 0)
                        for i, gid in enumerate(districts)}
        self._members = districts
        self._items = {gid: [McItem(f"item-{gid}", gid, 1, F_PORT, DIM_50, NOW, NOW + timedelta(minutes=30))]
                       for gid in districts}
        self.finished: dict[str, str] = {}

    def group(self, group_id: str) -> McGroup | None:
        return self._groups.get(group_id)

    def members(self, group_id: str) -> list[str]:
        return self._members.get(group_id, [])

    def groups_with_queue(self) -> list[str]:
        return [g for g, items in self._items.items() if items]

    def claim_next(self, group_id: str, now: datetime) -> tuple[McItem | None, list[str]]:
        items = self._items.get(group_id) or []
        return (items.pop(0) if items else None), []

    def finish(self, item_id: str, state: str, *, gateways: list[str], detail: str, now: datetime) -> None:
        self.finished[item_id] = state

    def release(self, item_id: str, detail: str) -> None:
        self.finished[item_id] = "queued"


class Radio:
    """Every gateway reachable; frames counted per gateway."""

    def __init__(self) -> None:
        self.frames: Counter[str] = Counter()

    def reachable(self, gateway_id: str) -> bool:
        return True

    async def send(self, frame: DownlinkFrame) -> None:
        self.frames[frame.gateway_id] += 1


def run_multicast(c: City, seed: int) -> tuple[list[SendReport], Radio, DutyCycleTracker, float, float]:
    """The product's sender over the city; (reports, radio, duty cycle, CPU seconds, on-air makespan)."""
    radio = Radio()
    duty = DutyCycleTracker(clock=lambda: 0.0)
    scheduler = DownlinkScheduler(radio, duty, Metrics(), lambda _e: None, clock=lambda: 0.0,
                                  rng=random.Random(seed))
    starts: list[float] = [0.0]

    async def virtual_sleep(delay: float) -> None:  # the instant the sender waits for (its clock stays at 0)
        starts.append(delay)

    sender = MulticastDownlinks(scheduler, Queue(c.districts, random.Random(seed)), Sessions(c.reach),  # type: ignore[arg-type]
                                clock=lambda: 0.0, utcnow=lambda: NOW, sleep=virtual_sleep, in_thread=False)
    t0 = time.process_time()
    reports = asyncio.run(sender.process_all())
    cpu = time.process_time() - t0
    airtime = EU868.time_on_air_s(EU868.rx2_data_rate, PHY_LEN, uplink=False)
    return reports, radio, duty, cpu, max(starts) + airtime


def run_unicast(c: City) -> tuple[Counter[str], int, float]:
    """One frame per lamp through its best gateway, the gateway's budget charged as the scheduler does;
    (frames per gateway, frames refused, makespan: the busiest gateway's frames one after another)."""
    duty = DutyCycleTracker(clock=lambda: 0.0)
    airtime = EU868.time_on_air_s(EU868.rx2_data_rate, PHY_LEN, uplink=False)
    per_gw: Counter[str] = Counter()
    refused = 0
    for heard in c.reach.values():
        for gw in sorted(heard, key=lambda g: heard[g], reverse=True):
            if duty.allows(gw, EU868.rx2_frequency_hz, airtime):
                duty.record(gw, EU868.rx2_frequency_hz, airtime)
                per_gw[gw] += 1
                break
        else:
            refused += 1
    return per_gw, refused, max(per_gw.values()) * (airtime + GATEWAY_GAP_S)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lamps", type=int, default=10_000)
    ap.add_argument("--groups", type=int, default=100)
    ap.add_argument("--gateways", type=int, default=30)
    ap.add_argument("--range-km", type=float, default=2.5, help="how far a gateway hears a lamp")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    c = city(args.lamps, args.groups, args.gateways, random.Random(args.seed), args.range_km)
    band = EU868.sub_band(EU868.rx2_frequency_hz)
    budget = budget_s(band)
    airtime = EU868.time_on_air_s(EU868.rx2_data_rate, PHY_LEN, uplink=False)

    reports, radio, duty, cpu, makespan = run_multicast(c, args.seed)
    sent = [r for r in reports if r.state == "sent"]
    reached = sum(r.members - r.unreached for r in sent)
    used = [duty.used_s(gw, EU868.rx2_frequency_hz) for gw in c.gateways]
    left = [budget - u for u in used]
    frames = sum(radio.frames.values())
    per_group = [len(r.gateways) for r in sent]
    naive = sum(len({g for lamp in members for g in c.reach[lamp]}) for members in c.districts.values())

    uni_per_gw, uni_refused, uni_makespan = run_unicast(c)
    uni_frames = sum(uni_per_gw.values())
    uni_left = [budget - uni_per_gw.get(gw, 0) * airtime for gw in c.gateways]

    print(f"city: {args.lamps} lamps in {len(c.districts)} district groups, {args.gateways} gateways heard to "
          f"{args.range_km:g} km; one 'dim to "
          f"50 %' frame ({PHY_LEN} B) at RX2 {EU868.rx2_frequency_hz / 1e6:.3f} MHz DR{EU868.rx2_data_rate}: "
          f"{airtime * 1000:.0f} ms on air")
    print(f"multicast: {len(sent)}/{len(reports)} groups sent, {reached}/{args.lamps} lamps reached, "
          f"{frames} gateway transmissions (gateways per group: min {min(per_group)}, median "
          f"{statistics.median(per_group):g}, max {max(per_group)}); {len(radio.frames)} gateways used")
    print(f"  sender CPU time: {cpu * 1000:.0f} ms ({cpu / max(1, len(reports)) * 1e6:.0f} us per group, cover + "
          f"encryption + scheduling); last frame on air ends at {makespan:.1f} s (floor: the busiest gateway's "
          f"frames back to back, {max(radio.frames.values()) * (airtime + GATEWAY_GAP_S):.1f} s; the gateways of "
          f"one frame take turns)")
    print(f"  g3 budget ({budget:.0f} s/h per gateway) left: min {min(left):.1f} s ({100 * min(left) / budget:.1f} %),"
          f" median {statistics.median(left):.1f} s; busiest gateway {max(radio.frames.values())} frames")
    print(f"baseline, naive multicast (every gateway that heard a member): {naive} transmissions "
          f"({naive / max(1, frames):.1f}x the cover's)")
    print(f"baseline, unicast (one frame per lamp, best gateway): {uni_frames} frames sent, {uni_refused} refused by "
          f"the duty cycle; busiest gateway {max(uni_per_gw.values())} frames, last frame at {uni_makespan:.0f} s "
          f"({uni_makespan / makespan:.0f}x multicast; the refused wait for the next hour); g3 budget left: "
          f"min {min(uni_left):.1f} s "
          f"({100 * min(uni_left) / budget:.1f} %)")
    print(f"air time used, all gateways: multicast {sum(used):.0f} s, unicast {uni_frames * airtime:.0f} s "
          f"({uni_frames * airtime / max(sum(used), 1e-9):.0f}x)")


if __name__ == "__main__":
    main()
