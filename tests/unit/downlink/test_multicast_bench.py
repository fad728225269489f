"""bench/multicast.py's city run through the product's multicast sender, checked independently on a small city:
every lamp reached, each group's gateways a true minimum cover of its members (brute force over the gateways
that heard them), every transmission charged to its gateway's duty-cycle budget at the time on air of Semtech's
formula (AN1200.13; SX1272 datasheet §4.1.1.7), and fewer transmissions than the naive and the unicast ways."""

from __future__ import annotations

import importlib.util
import itertools
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from lora_city.lorawan.region import EU868

BENCH = Path(__file__).resolve().parents[3] / "bench" / "multicast.py"
# 16-byte PHYPayload at SF12/125 kHz, CR 4/5, explicit header, no CRC (downlink), low-data-rate optimisation on:
# T_sym = 2^12 / 125 kHz = 32.768 ms; preamble (8 + 4.25) T_sym; payload 8 + ceil((8*16 - 4*12 + 28) / (4*10)) * 5
# = 23 symbols: 401.408 + 753.664 ms
TOA_16_B_SF12_S = 1.155072


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_multicast", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def test_the_bench_city_is_dimmed_through_minimum_covers(bench: ModuleType) -> None:
    c = bench.city(1200, 16, 16, random.Random(7), 1.5)
    reports, radio, duty, _cpu, makespan = bench.run_multicast(c, 7)
    assert len(reports) == len(c.districts) and all(r.state == "sent" for r in reports)
    for r in reports:
        members = c.districts[r.group_id]
        assert r.members == len(members) and r.unreached == 0
        assert all(set(c.reach[lamp]) & set(r.gateways) for lamp in members), r.group_id
        heard = sorted({g for lamp in members for g in c.reach[lamp]})
        smaller = [combo for combo in itertools.combinations(heard, len(r.gateways) - 1)
                   if all(set(c.reach[lamp]) & set(combo) for lamp in members)]
        assert smaller == [], (r.group_id, r.gateways, smaller)
    assert sum(radio.frames.values()) == sum(len(r.gateways) for r in reports)
    assert bench.PHY_LEN == 16
    for gw, frames in radio.frames.items():
        assert duty.used_s(gw, EU868.rx2_frequency_hz) == pytest.approx(frames * TOA_16_B_SF12_S, abs=1e-3)
    # a gateway sends its frames one after another: the last ends no sooner than the busiest gateway's share
    assert makespan >= max(radio.frames.values()) * TOA_16_B_SF12_S
    naive = sum(len({g for lamp in m for g in c.reach[lamp]}) for m in c.districts.values())
    per_gw, _refused, _ = bench.run_unicast(c)
    assert sum(radio.frames.values()) < naive < sum(per_gw.values())
