"""Milesight EM310-UDL ultrasonic distance/level sensor.

Payload definition: Milesight EM310-UDL user guide, "Uplink Payload", and
github.com/Milesight-IoT/SensorDecoders em-series/em310-udl/README.md: battery (0x01 0x75, %), distance
(0x03 0x82, uint16 LE, mm), position (0x04 0x00: 0 normal, 1 tilt). The TTN device repository codec the examples
come from names the position field ``tilt``.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import milesight as ms

_POSITION = {0: "normal", 1: "tilt"}

CHANNELS: dict[tuple[int, int], ms.Channel] = {
    **ms.DEVICE_INFO,
    (0x01, 0x75): ms.uint8("battery"),
    (0x03, 0x82): ms.uint16("distance"),
    (0x04, 0x00): ms.enum8("tilt", _POSITION),
    # Answers to configuration downlinks (user guide "Downlink Commands"), under either channel 0xFE or 0xFF:
    # intervals in seconds.
    **{(channel, 0x02): ms.uint16("collection_interval") for channel in (0xFE, 0xFF)},
    **{(channel, 0x03): ms.uint16("report_interval") for channel in (0xFE, 0xFF)},
}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return ms.decode(f_port, payload, CHANNELS)
