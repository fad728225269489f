"""Milesight EM500-SWL submersible water level sensor.

Payload definition: Milesight EM500-SWL user guide and github.com/Milesight-IoT/SensorDecoders
EM500-SWL/README.md: battery (0x01 0x75, %), water level (0x03 0x77, uint16 LE, cm). The TTN device repository
codec the examples come from reports the water level under the key ``distance``; it is the height of water
above the probe, so the manifest maps it to ``water_level``.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import milesight as ms

CHANNELS: dict[tuple[int, int], ms.Channel] = {
    **ms.DEVICE_INFO,
    (0x01, 0x75): ms.uint8("battery"),
    (0x03, 0x77): ms.uint16("distance"),
}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return ms.decode(f_port, payload, CHANNELS)
