"""Milesight EM500-UDL ultrasonic distance/level sensor.

Payload definition: Milesight EM500-UDL user guide and github.com/Milesight-IoT/SensorDecoders
EM500-UDL/README.md: battery (0x01 0x75, %), distance (0x03 0x82, int16 LE, mm).

The documented example says ``distance: 30`` for ``03 82 1E 00``, but the vendor codec published in the TTN device
repository divides by 1000 and reports metres (0.03). We follow the codec, which is what deployed integrations
receive, so the manifest maps ``distance`` in metres.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import milesight as ms


def _distance_m(raw: bytes) -> ms.Fields:
    return {"distance": ms.js_number(ms.s16(raw) / 1000)}


def _history(raw: bytes) -> ms.Fields:
    # Historical data record (0x20 0xCE): unix timestamp (uint32 LE) + distance (mm).
    return {"history": [{"timestamp": ms.u32(raw), "distance": ms.js_number(ms.s16(raw, 4) / 1000)}]}


CHANNELS: dict[tuple[int, int], ms.Channel] = {
    **ms.DEVICE_INFO,
    (0x01, 0x75): ms.uint8("battery"),
    (0x03, 0x82): ms.Channel(2, _distance_m),
    (0x20, 0xCE): ms.Channel(6, _history),
}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return ms.decode(f_port, payload, CHANNELS)
