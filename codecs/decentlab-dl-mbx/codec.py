"""Decentlab DL-MBX ultrasonic distance / level sensor.

Decentlab DL-MBX datasheet, "Payload": generic Decentlab v2 frame with two blocks -- sensor 0: distance (mm) and
number of valid samples (2 words); sensor 1: battery voltage (mV). Downlinks use Decentlab's common command set.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import decentlab as dl

SENSORS = (
    dl.Sensor(
        2,
        (
            dl.SensorValue("distance", "Distance", lambda x: x[0], "mm"),
            dl.SensorValue("number_of_valid_samples", "Number of valid samples", lambda x: x[1]),
        ),
    ),
    dl.battery_sensor(),
)


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return dl.decode_uplink(f_port, payload, SENSORS)


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    return dl.encode_downlink(data)


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    return dl.decode_downlink(f_port, payload)
