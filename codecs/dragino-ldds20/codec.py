"""Dragino LDDS20 LoRaWAN liquid level sensor (ultrasonic through the tank wall, 20...2000 mm).

Dragino LDDS20 user manual, "Uplink Payload" (fPort 2): battery, liquid height (mm), interrupt flag, DS18B20
temperature, sensor flag. 0 means no probe; the probe reports 20 mm when it could not take a reading (Dragino's
LDDS20 decoder prints "Invalid Reading" for exactly that value).
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import dragino

INVALID_MM = 20


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != dragino.READINGS_F_PORT:
        return dragino.unknown_port()
    return dragino.distance_frame(payload, lambda mm: mm == INVALID_MM)
