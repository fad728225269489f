"""The EU868 radio facts the network server needs (RP002-1.0.3 §2.2), kept small and table-driven.

Data rates DR0..DR5 are LoRa SF12..SF7 at 125 kHz (DR6 SF7/250 kHz). RX1 uses the uplink channel and
DR = max(0, uplink DR - RX1DROffset) (§2.2.7); RX2 defaults to 869.525 MHz DR0 (§2.2.8). The SNR a
demodulator needs per spreading factor is Semtech's datasheet figure (SX1276 table 13), the one ChirpStack uses.
"""

from __future__ import annotations

import functools
import math

from lora_city.gateway.frames import LoRaModulation

# DR -> (spreading factor, bandwidth Hz)
EU868_DATA_RATES: dict[int, tuple[int, int]] = {
    0: (12, 125_000),
    1: (11, 125_000),
    2: (10, 125_000),
    3: (9, 125_000),
    4: (8, 125_000),
    5: (7, 125_000),
    6: (7, 250_000),
}
EU868_MAX_ADR_DR = 5
EU868_MAX_TX_POWER_INDEX = 7  # TXPower 0..7: max EIRP - 2 dB x index (§2.2.3)
EU868_MAX_EIRP_DBM = 16
EU868_RX2_FREQUENCY = 869_525_000
EU868_RX2_DR = 0
# Extra channels sent in the join-accept CFList (§2.2.4): the common city plan on top of 868.1/868.3/868.5.
EU868_EXTRA_CHANNELS = (867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)
# Maximum MACPayload size M per DR without a repeater (§2.2.6); FRMPayload max N = M - 8.
EU868_MAX_MAC_PAYLOAD = {0: 59, 1: 59, 2: 59, 3: 123, 4: 230, 5: 230, 6: 230}
# Downlink power: the RX1 channels (g1) and RX2 (g3, 27 dBm allowed; 14 dBm is what gateways use by default).
DOWNLINK_POWER_DBM = 14
RX2_POWER_DBM = 27

_REQUIRED_SNR = {7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}


def dr_of(modulation: LoRaModulation) -> int:
    """The EU868 DR of an uplink's modulation (unknown combinations fall back to the SF's 125 kHz DR)."""
    for dr, (sf, bw) in EU868_DATA_RATES.items():
        if sf == modulation.spreading_factor and bw == modulation.bandwidth:
            return dr
    return max(0, 12 - modulation.spreading_factor)


def modulation_for(dr: int, frequency: int) -> LoRaModulation:
    sf, bw = EU868_DATA_RATES[dr]
    return LoRaModulation(frequency=frequency, spreading_factor=sf, bandwidth=bw, code_rate="4/5")


def required_snr(dr: int) -> float:
    return _REQUIRED_SNR[EU868_DATA_RATES[dr][0]]


def rx1_dr(uplink_dr: int, rx1_dr_offset: int) -> int:
    return max(0, uplink_dr - rx1_dr_offset)


def cf_list() -> bytes:
    """The 16-byte frequency-list CFList: five 24-bit frequencies in 100 Hz units, then CFListType 0 (§2.2.4)."""
    body = b"".join((f // 100).to_bytes(3, "little") for f in EU868_EXTRA_CHANNELS)
    return body + b"\x00"


def time_on_air_s(modulation: LoRaModulation, phy_len: int, *, preamble: int = 8, explicit_header: bool = True,
                  crc: bool = False) -> float:
    """LoRa time on air (Semtech AN1200.13). Downlinks carry no payload CRC (LoRaWAN 1.0.4 §4)."""
    return _time_on_air(modulation.spreading_factor, modulation.bandwidth, modulation.code_rate, phy_len, preamble,
                        explicit_header, crc)


@functools.lru_cache(maxsize=4096)  # a handful of (SF, length) pairs cover all traffic: computed once each
def _time_on_air(sf: int, bw: int, code_rate: str, phy_len: int, preamble: int, explicit_header: bool,
                 crc: bool) -> float:
    cr = int(code_rate.split("/")[1]) - 4 if "/" in code_rate else 1
    t_sym = float(2**sf) / bw
    de = 1 if t_sym > 0.016 else 0  # low data rate optimisation, mandated above 16 ms symbols
    ih = 0 if explicit_header else 1
    num = 8 * phy_len - 4 * sf + 28 + (16 if crc else 0) - 20 * ih
    payload_symbols = 8 + max(math.ceil(num / (4 * (sf - 2 * de))) * (cr + 4), 0)
    return (preamble + 4.25) * t_sym + payload_symbols * t_sym
