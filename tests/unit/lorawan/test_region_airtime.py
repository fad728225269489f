"""EU868 regional parameters, CFList vectors and LoRa time on air."""

from __future__ import annotations

from typing import Any

import pytest

from lora_city.lorawan.airtime import fsk_time_on_air, time_on_air
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import EU868, CFList
from tests.unit.lorawan.vectors import vectors_of


@pytest.mark.parametrize("vector", vectors_of("cflist"))
def test_cflist_vectors(vector: dict[str, Any]) -> None:
    exp = vector["expected"]
    data = bytes.fromhex(exp["cflist_hex"])
    cf_list = CFList.from_bytes(data)
    assert cf_list.cf_list_type == exp["cflist_type"]
    assert cf_list.to_bytes() == data
    if exp["cflist_type"] == 0:
        assert EU868.parse_cf_list(data) == exp["freqs_hz"]
        assert EU868.build_cf_list(exp["freqs_hz"]) == data
    else:
        on = [ch for ch in range(16) if cf_list.ch_masks[0] >> ch & 1]
        assert on == exp["ch_mask_0_channels_on"]
        with pytest.raises(LoRaWANError, match="type 0"):
            EU868.parse_cf_list(data)


def test_eu868_defaults() -> None:
    assert [c.frequency_hz for c in EU868.default_channels] == [868_100_000, 868_300_000, 868_500_000]
    assert (EU868.rx2_frequency_hz, EU868.rx2_data_rate) == (869_525_000, 0)
    assert (EU868.receive_delay1_s, EU868.receive_delay2_s) == (1, 2)
    assert (EU868.join_accept_delay1_s, EU868.join_accept_delay2_s) == (5, 6)
    dr = EU868.data_rates
    assert [(dr[i].spreading_factor, dr[i].bandwidth_hz) for i in range(7)] == [
        (12, 125_000),
        (11, 125_000),
        (10, 125_000),
        (9, 125_000),
        (8, 125_000),
        (7, 125_000),
        (7, 250_000),
    ]
    assert dr[7].modulation == "FSK" and dr[7].bit_rate == 50_000
    assert [(dr[i].max_mac_payload, dr[i].max_app_payload) for i in range(8)] == [
        (59, 51),
        (59, 51),
        (59, 51),
        (123, 115),
        (250, 242),
        (250, 242),
        (250, 242),
        (250, 242),
    ]
    assert EU868.data_rate_index(9, 125_000) == 3
    assert EU868.max_eirp_dbm == 16
    assert [EU868.tx_power_dbm(i) for i in range(8)] == [16, 14, 12, 10, 8, 6, 4, 2]
    with pytest.raises(LoRaWANError):
        EU868.tx_power_dbm(8)


def test_rx1_data_rate_table() -> None:
    table = [[EU868.rx1_data_rate(up, off) for off in range(6)] for up in range(8)]
    assert table[0] == [0, 0, 0, 0, 0, 0]
    assert table[5] == [5, 4, 3, 2, 1, 0]
    assert table[7] == [7, 6, 5, 4, 3, 2]
    with pytest.raises(LoRaWANError, match="RX1DROffset"):
        EU868.rx1_data_rate(5, 6)


def test_duty_cycle_sub_bands() -> None:
    assert EU868.sub_band(868_100_000).name == "g1" and EU868.sub_band(868_100_000).duty_cycle == 0.01
    assert EU868.sub_band(867_100_000).name == "g"
    assert EU868.sub_band(868_800_000).duty_cycle == 0.001
    assert EU868.sub_band(869_525_000).name == "g3" and EU868.sub_band(869_525_000).duty_cycle == 0.10
    assert EU868.sub_band(869_850_000).name == "g4"
    with pytest.raises(LoRaWANError, match="sub-band"):
        EU868.sub_band(869_300_000)


@pytest.mark.parametrize(
    ("size", "sf", "bw", "expected_ms"),
    [
        # CR 4/5, 8-symbol preamble, explicit header, CRC on. The first three are the figures published by the
        # TTN / Semtech airtime calculators; the rest were worked by hand from AN1200.13 (see airtime.py).
        (13, 7, 125_000, 46.336),
        (13, 12, 125_000, 1155.072),
        (51, 12, 125_000, 2465.792),
        (13, 9, 125_000, 164.864),  # 12.25 + 28 symbols of 4.096 ms
        (51, 10, 125_000, 616.448),  # 12.25 + 63 symbols of 8.192 ms
        (0, 7, 125_000, 25.856),  # 12.25 + 13 symbols of 1.024 ms
        (222, 7, 250_000, 174.208),  # 12.25 + 328 symbols of 0.512 ms
    ],
)
def test_time_on_air_known_values(size: int, sf: int, bw: int, expected_ms: float) -> None:
    assert time_on_air(size, sf, bw) * 1000 == pytest.approx(expected_ms, abs=1e-6)


def test_time_on_air_options() -> None:
    base = time_on_air(20, 11, 125_000)
    assert time_on_air(20, 11, 125_000, low_data_rate_optimize=False) < base  # DE auto-on at SF11/125
    assert time_on_air(20, 10, 125_000, low_data_rate_optimize=True) > time_on_air(20, 10, 125_000)
    assert time_on_air(20, 7, 125_000, coding_rate="4/8") > time_on_air(20, 7, 125_000)
    assert time_on_air(20, 7, 125_000, crc=False) <= time_on_air(20, 7, 125_000)
    assert time_on_air(20, 7, 125_000, explicit_header=False) <= time_on_air(20, 7, 125_000)
    assert time_on_air(20, 7, 125_000, preamble=10) == pytest.approx(
        time_on_air(20, 7, 125_000) + 2 * 2**7 / 125e3
    )
    assert fsk_time_on_air(20) == pytest.approx(31 * 8 / 50_000)
    for bad in ({"coding_rate": "5/4"}, {"sf": 13}, {"bandwidth_hz": 0}):
        args: dict[str, Any] = {"payload_size": 10, "sf": 7, "bandwidth_hz": 125_000, **bad}
        with pytest.raises(LoRaWANError):
            time_on_air(**args)
