"""Milesight EM400-UDL ultrasonic distance/level sensor (same record layout as the EM400-TLD laser model).

Payload definition: Milesight EM400 series user guide, "Uplink Payload": battery (0x01 0x75, %), temperature
(0x03 0x67, int16 LE, 0.1 °C), distance (0x04 0x82, uint16 LE, mm), position (0x05 0x00: 0 normal, 1 tilt),
temperature alarm (0x83 0x67: temperature + status byte), distance alarm (0x84 0x82: distance + status byte).
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import milesight as ms

_POSITION = {0: "normal", 1: "tilt"}


def _temperature_alarm(raw: bytes) -> ms.Fields:
    # The alarm record repeats the reading, then one status byte (0 = back to normal).
    return {"temperature": ms.js_number(ms.s16(raw) / 10), "temperature_abnormal": raw[2] != 0}


def _distance_alarm(raw: bytes) -> ms.Fields:
    return {"distance": ms.u16(raw), "distance_alarm": raw[2] != 0}


CHANNELS: dict[tuple[int, int], ms.Channel] = {
    **ms.DEVICE_INFO,
    (0x01, 0x75): ms.uint8("battery"),
    (0x03, 0x67): ms.temperature(),
    (0x04, 0x82): ms.uint16("distance"),
    (0x05, 0x00): ms.enum8("position", _POSITION),
    (0x83, 0x67): ms.Channel(3, _temperature_alarm),
    (0x84, 0x82): ms.Channel(3, _distance_alarm),
}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return ms.decode(f_port, payload, CHANNELS)
