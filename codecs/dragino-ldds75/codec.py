"""Dragino LDDS75 LoRaWAN distance detection sensor (ultrasonic, 280...7500 mm).

Dragino LDDS75 user manual, "Uplink Payload" (fPort 2): battery, distance (mm), interrupt flag, DS18B20
temperature, sensor flag. "If the sensor value is 0x0000, the system doesn't detect the ultrasonic sensor; below
0x0118 (280 mm) the value is invalid."
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import dragino

MIN_RANGE_MM = 280


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != dragino.READINGS_F_PORT:
        return dragino.unknown_port()
    return dragino.distance_frame(payload, lambda mm: mm < MIN_RANGE_MM)
