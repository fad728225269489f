"""Decentlab DL-DLR2-002 analog / digital sensor device, pulse-counter variant (water meter pulse output).

Decentlab DL-DLR2-002 datasheet, "Payload": generic Decentlab v2 frame with two blocks -- sensor 0: pulse count
since the last sample, pulse interval (s) and the cumulative pulse count as a 32-bit value split over two words,
low word first (4 words); sensor 1: battery voltage (mV).
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import decentlab as dl

SENSORS = (
    dl.Sensor(
        4,
        (
            dl.SensorValue("pulse_count", "Pulse count", lambda x: x[0]),
            dl.SensorValue("pulse_interval", "Pulse interval", lambda x: x[1], "s"),
            dl.SensorValue("cumulative_pulse_count", "Cumulative pulse count", lambda x: x[2] + x[3] * 65536),
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
