"""Dragino LLMS01 LoRaWAN leaf moisture sensor (used here to detect wetting / standing water on surfaces).

Dragino LLMS01 user manual, "Uplink Payload" (fPort 2, 11 bytes): battery mV (2), DS18B20 temperature 0.1 °C (2),
leaf moisture 0.1 % (2), leaf temperature 0.1 °C (2), interrupt flag (1), one byte the decoder does not
use, message type (1).
Readings are published as two-decimal strings, as Dragino's decoder does.

Dragino's TTN decoder subtracts 0xFFFF (not 0x10000) for a negative leaf temperature, which is off by 0.1 °C; we
read it as the signed 16-bit value the manual specifies.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import dragino

FRAME_LENGTH = 11


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != dragino.READINGS_F_PORT:
        return dragino.unknown_port()
    short = dragino.too_short(payload, FRAME_LENGTH)
    if short is not None:
        return short
    data = {
        "Bat": dragino.battery_v(payload),
        "TempC_DS18B20": dragino.fixed2(dragino.tenths(payload, 2)),
        "Leaf_Moisture": dragino.fixed2(dragino.tenths(payload, 4, signed=False)),
        "Leaf_Temperature": dragino.fixed2(dragino.tenths(payload, 6)),
        "Interrupt_flag": payload[8],
        "Message_type": payload[10],
    }
    return dragino.result(data)
