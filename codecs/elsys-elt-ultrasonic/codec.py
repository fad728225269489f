"""Elsys ELT Ultrasonic: distance (water level, tank, snow depth) with temperature, humidity, pressure and
accelerometer.

Payload: Elsys "Sensor payload" document -- the common Elsys record format (see ``formats/elsys.py``); this device
sends temperature (0x01), humidity (0x02), acceleration (0x03), battery (0x07), distance in mm (0x0E) and
pressure (0x14). Elsys devices send data on a configurable port, so any application fPort is accepted.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import elsys


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if not 1 <= f_port <= 223:
        return {"data": None, "warnings": [], "errors": ["unknown FPort"]}
    return elsys.decode(payload)
