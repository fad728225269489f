"""Decentlab DL-PR21 pressure / liquid level and temperature sensor, -1...10 bar variant.

Decentlab DL-PR21 datasheet, "Payload": generic Decentlab v2 frame with two blocks -- sensor 0: pressure and
temperature (2 words); sensor 1: battery voltage (mV). Pressure is linear in the raw word between 16384 (Pmin)
and 49152 (Pmax); temperature is (raw - 384) * 0.003125 - 50 °C. The arithmetic is written in the datasheet's
order so the floats match Decentlab's decoder bit for bit.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import decentlab as dl

P_MIN = -1.0  # bar
P_MAX = 10.0  # bar

SENSORS = dl.pressure_sensors(P_MIN, P_MAX)


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return dl.decode_uplink(f_port, payload, SENSORS)


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    return dl.encode_downlink(data)


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    return dl.decode_downlink(f_port, payload)
