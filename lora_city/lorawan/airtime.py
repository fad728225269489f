"""Time on air of a LoRa (Semtech AN1200.13, "LoRa Modem Designer's Guide" §4) or FSK transmission.

Used for duty-cycle accounting (ETSI limits per sub-band) and for choosing downlink data rates.
"""

from __future__ import annotations

import functools
import math

from lora_city.lorawan.errors import LoRaWANError

_CODING_RATES = {"4/5": 1, "4/6": 2, "4/7": 3, "4/8": 4}


def symbol_time(spreading_factor: int, bandwidth_hz: int) -> float:
    """T_sym = 2^SF / BW seconds."""
    return float(2**spreading_factor) / bandwidth_hz


@functools.lru_cache(maxsize=4096)  # a few (SF, BW, size) triples cover all traffic: each computed once
def time_on_air(
    payload_size: int,
    sf: int,
    bandwidth_hz: int,
    coding_rate: str = "4/5",
    preamble: int = 8,
    explicit_header: bool = True,
    crc: bool = True,
    low_data_rate_optimize: bool | None = None,
) -> float:
    """Seconds on air for ``payload_size`` PHYPayload bytes.

    AN1200.13: T_preamble = (n_preamble + 4.25) T_sym; n_payload = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH)
    / (4 (SF - 2 DE))) (CR + 4), 0). Low-data-rate optimisation (DE) is on when a symbol lasts 16 ms or more, i.e.
    SF11 and SF12 at 125 kHz and SF12 at 250 kHz, as LoRaWAN devices configure it; pass a bool to force it.
    LoRaWAN uplinks use explicit header and CRC; downlinks are sent without CRC.
    """
    if not 6 <= sf <= 12:
        raise LoRaWANError("SpreadingFactor", f"must be 6..12, got {sf}")
    if bandwidth_hz <= 0:
        raise LoRaWANError("Bandwidth", f"must be positive, got {bandwidth_hz}")
    if payload_size < 0 or payload_size > 255:
        raise LoRaWANError("PayloadSize", f"must be 0..255 bytes, got {payload_size}")
    if preamble < 0:
        raise LoRaWANError("Preamble", f"must not be negative, got {preamble}")
    cr = _CODING_RATES.get(coding_rate)
    if cr is None:
        raise LoRaWANError("CodingRate", f"must be one of {sorted(_CODING_RATES)}, got {coding_rate!r}")
    t_sym = symbol_time(sf, bandwidth_hz)
    de = t_sym >= 0.016 if low_data_rate_optimize is None else low_data_rate_optimize
    numerator = 8 * payload_size - 4 * sf + 28 + 16 * int(crc) - 20 * int(not explicit_header)
    n_payload = 8 + max(math.ceil(numerator / (4 * (sf - 2 * int(de)))) * (cr + 4), 0)
    return (preamble + 4.25) * t_sym + n_payload * t_sym


def fsk_time_on_air(payload_size: int, bit_rate: int = 50_000) -> float:
    """Seconds on air of a LoRaWAN GFSK frame (EU868 DR7): 5 preamble + 3 sync + 1 length + payload + 2 CRC bytes.

    RP002-1.0.4 §2.4.3 / LoRaWAN 1.0.4 §4.1: preamble 5 bytes, sync word 3 bytes, length byte, CRC-16.
    """
    if payload_size < 0 or payload_size > 255:
        raise LoRaWANError("PayloadSize", f"must be 0..255 bytes, got {payload_size}")
    if bit_rate <= 0:
        raise LoRaWANError("BitRate", f"must be positive, got {bit_rate}")
    return (5 + 3 + 1 + payload_size + 2) * 8 / bit_rate
