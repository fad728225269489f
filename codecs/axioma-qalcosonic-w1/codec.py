"""Axioma Qalcosonic W1 ultrasonic water meter, "enhanced" 24-hour payload.

Frame on fPort 100, 51 bytes, little-endian (Axioma "Qalcosonic W1 LoRaWAN payload description", enhanced
format; reference codec TheThingsNetwork/lorawan-devices vendor/axioma/qalcosonic-w1-codec.js):

=======  =====  ============================================================
0        1 B    frame version, 0x01
1..4     u32    meter time, Unix seconds (UTC)
5        u8     status code (alarm bits, below)
6..9     u32    volume at the log time, litres
10..50   bits   23 hourly volume increments of 14 bits each (litres), packed
                LSB-first from byte 10, then a 6-bit history multiplier
=======  =====  ============================================================

Status bits (Axioma status code table): 0x04 low battery, 0x08 permanent error, 0x10 temporary error
(0x10 alone: pipe empty), 0x60 backflow, 0xA0 burst, 0x20 otherwise leakage, 0x80 otherwise low temperature.
The current volume is the log volume plus the 23 increments.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats.js_compat import js_iso_string, js_number

PORT = 100
FRAME_LEN = 51
FRAME_VERSION = 0x01
HISTORY_OFFSET = 10
HISTORY_COUNT = 23
DELTA_BITS = 14
MULTIPLIER_BITS = 6
LITRES_PER_M3 = 1000.0


def _status_flags(status: int) -> dict[str, bool]:
    backflow = status & 0x60 == 0x60
    burst = status & 0xA0 == 0xA0
    return {
        "low_battery": status & 0x04 != 0,
        "permanent_error": status & 0x08 != 0,
        "temporary_error": status & 0x10 != 0,
        "pipe_empty": status == 0x10,
        "backflow": backflow,
        "burst": burst,
        "leakage": status & 0x20 != 0 and not backflow and not burst,
        "low_temperature": status & 0x80 != 0 and not burst,
    }


def _m3(litres: int) -> int | float:
    return js_number(litres / LITRES_PER_M3)


def _decode(payload: bytes) -> tuple[dict[str, Any], list[str]]:
    timestamp = int.from_bytes(payload[1:5], "little")
    status = payload[5]
    log_litres = int.from_bytes(payload[6:10], "little")
    data: dict[str, Any] = {
        "payload_format": "AXIOMA_W1_ENHANCED_24H",
        "frame_version": payload[0],
        "payload_bytes": len(payload),
        "timestamp_unix": timestamp,
        "timestamp_utc": js_iso_string(timestamp),
        "status": status,
        **_status_flags(status),
        "log_volume_m3": _m3(log_litres),
    }
    # The history is one little-endian bit field: increment i occupies bits 14*i .. 14*i+13.
    history = int.from_bytes(payload[HISTORY_OFFSET:], "little")
    mask = (1 << DELTA_BITS) - 1
    deltas = [(history >> (DELTA_BITS * i)) & mask for i in range(HISTORY_COUNT)]
    for index, litres in enumerate(deltas, start=1):
        data[f"delta_{index}_m3"] = _m3(litres)
    data["history_count"] = HISTORY_COUNT
    data["history_total_m3"] = _m3(sum(deltas))
    data["current_volume_m3"] = _m3(log_litres + sum(deltas))
    multiplier = (history >> (DELTA_BITS * HISTORY_COUNT)) & ((1 << MULTIPLIER_BITS) - 1)
    data["history_multiplier"] = multiplier
    warnings = []
    if multiplier != 0:
        warnings.append("Non-zero history multiplier detected. Additional scaling may be required.")
    return data, warnings


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != PORT:
        return {"data": None, "warnings": [], "errors": [f"Unsupported FPort: {f_port}"]}
    if len(payload) != FRAME_LEN:
        return {"data": None, "warnings": [], "errors": [f"Unsupported payload length: {len(payload)}"]}
    if payload[0] != FRAME_VERSION:
        return {"data": None, "warnings": [], "errors": [f"Unsupported frame version: 0x{payload[0]:x}"]}
    data, warnings = _decode(payload)
    return {"data": data, "warnings": warnings, "errors": []}
