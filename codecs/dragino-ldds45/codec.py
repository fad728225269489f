"""Dragino LDDS45 LoRaWAN distance detection sensor (ultrasonic, 30...4500 mm).

Dragino LDDS45 user manual, "Uplink Payload" (fPort 2, 8 bytes): battery mV (2), distance mm (2), interrupt flag
(1), DS18B20 temperature 0.1 °C (2), sensor flag (1). Field names and string forms follow Dragino's LDDS45 decoder
("2799 mm", temperature with two decimals); like Dragino's LDDS20 decoder, 0 reads "No Sensor" and the
20 mm error value "Invalid Reading".
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import dragino

FRAME_LENGTH = 8
INVALID_MM = 20


def _distance(mm: int) -> str:
    if mm == 0:
        return "No Sensor"
    if mm == INVALID_MM:
        return "Invalid Reading"
    return f"{mm} mm"


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != dragino.READINGS_F_PORT:
        return dragino.unknown_port()
    short = dragino.too_short(payload, FRAME_LENGTH)
    if short is not None:
        return short
    data = {
        "Bat": dragino.battery_v(payload),
        "Distance": _distance(dragino.u16(payload, 2)),
        "Interrupt_flag": payload[4],
        "TempC_DS18B20": dragino.fixed2(dragino.tenths(payload, 5)),
        "Sensor_flag": payload[7],
    }
    return dragino.result(data)
