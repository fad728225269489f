"""Duty-cycle budget per gateway and EU868 sub-band, over a sliding hour; the region's radio helpers."""

from __future__ import annotations

import pytest

from lora_city.downlink.duty_cycle import DutyCycleTracker
from lora_city.lorawan.region import EU868


def test_budget_per_gateway_and_band_slides_over_an_hour() -> None:
    now = [0.0]
    t = DutyCycleTracker(clock=lambda: now[0])
    # g1 allows 36 s per hour.
    for _ in range(35):
        assert t.allows("gw1", 868_100_000, 1.0)
        t.record("gw1", 868_100_000, 1.0)
    assert t.allows("gw1", 868_300_000, 1.0)
    t.record("gw1", 868_300_000, 1.0)
    assert not t.allows("gw1", 868_500_000, 0.5)  # same sub-band, budget spent
    assert t.allows("gw2", 868_100_000, 1.0)  # other gateway
    assert t.allows("gw1", 869_525_000, 300.0)  # RX2 band: 10 % = 360 s
    assert not t.allows("gw1", 869_525_000, 361.0)
    assert not t.allows("gw1", 915_000_000, 0.01)  # outside EU868
    now[0] = 3600.5
    assert t.used_s("gw1", 868_100_000) == pytest.approx(0.0)
    assert t.allows("gw1", 868_100_000, 1.0)


def test_g2_is_a_tenth_of_a_percent() -> None:
    t = DutyCycleTracker(clock=lambda: 0.0)
    t.record("gw", 868_800_000, 3.5)
    assert not t.allows("gw", 868_800_000, 0.2)


def test_time_on_air_matches_semtech_calculator() -> None:
    # Semtech's LoRa calculator: SF7/125 kHz, 13-byte payload, CR 4/5, 8 preamble, explicit header, CRC on:
    # 46.336 ms; SF12/125 kHz, 13 bytes: 1155.072 ms (low data rate optimisation on).
    assert EU868.time_on_air_s(5, 13, uplink=True) == pytest.approx(0.046336, abs=1e-6)
    assert EU868.time_on_air_s(0, 13, uplink=True) == pytest.approx(1.155072, abs=1e-6)
    assert EU868.time_on_air_s(5, 13, uplink=False) < 0.046336  # no CRC on downlinks


def test_region_radio_helpers() -> None:
    assert EU868.data_rate_index(12, 125_000) == 0 and EU868.data_rate_index(7, 250_000) == 6
    assert EU868.rx1_data_rate(5, 2) == 3 and EU868.rx1_data_rate(1, 3) == 0
    assert EU868.required_snr_db(0) == -20.0 and EU868.required_snr_db(5) == -7.5
    assert [EU868.channel_index(f) for f in (868_100_000, 868_500_000, 867_100_000, 867_900_000, 869_000_000)] == [
        0, 2, 3, 7, None]
    cfl = EU868.cf_list()
    assert len(cfl) == 16 and cfl[-1] == 0 and EU868.parse_cf_list(cfl) == list(EU868.extra_channels_hz)
