"""Fields shared by Dragino's LoRaWAN sensors (LDDS75, LDDS20, LDDS45, LLMS01, ...).

Dragino user manuals, "Uplink Payload": periodic readings go on fPort 2, big-endian. The first two bytes are the
battery voltage in mV, whose top two bits some firmware uses as flags (hence the 0x3FFF mask in Dragino's
decoders); an optional DS18B20 probe reports signed 0.1 °C.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

READINGS_F_PORT = 2


def result(data: dict[str, Any] | None, errors: list[str] | None = None) -> dict[str, Any]:
    return {"data": data, "warnings": [], "errors": errors or []}


def unknown_port() -> dict[str, Any]:
    # The exact message Dragino's TTN codecs return, which the published examples expect.
    return result(None, ["unknown FPort"])


def too_short(payload: bytes, needed: int) -> dict[str, Any] | None:
    """An errors result when ``payload`` is shorter than the frame, else None."""
    if len(payload) < needed:
        return result(None, [f"payload has {len(payload)} byte(s), the frame needs {needed}"])
    return None


def battery_v(payload: bytes, at: int = 0) -> float:
    """Battery voltage in V: uint16 BE mV, top two bits masked off."""
    return (int.from_bytes(payload[at : at + 2], "big") & 0x3FFF) / 1000


def u16(payload: bytes, at: int) -> int:
    return int.from_bytes(payload[at : at + 2], "big")


def s16(payload: bytes, at: int) -> int:
    return int.from_bytes(payload[at : at + 2], "big", signed=True)


def tenths(payload: bytes, at: int, *, signed: bool = True) -> float:
    """A 0.1-unit reading (DS18B20 temperature, soil/leaf moisture)."""
    return (s16(payload, at) if signed else u16(payload, at)) / 10


def fixed2(value: float) -> str:
    """``value.toFixed(2)``, the string form Dragino's decoders publish; a tenth never falls on a tie at two
    decimals, so Python's formatting gives the same digits."""
    return f"{value:.2f}"


def distance_frame(payload: bytes, is_invalid: Callable[[int], bool]) -> dict[str, Any]:
    """The LDDS75 / LDDS20 8-byte reading (user manual "Uplink Payload"): battery mV (2), distance mm (2),
    interrupt flag (1), DS18B20 temperature (2), sensor flag (1).

    Distance 0 means no ultrasonic probe answered; ``is_invalid`` flags readings outside the probe's range. Both
    become strings, as Dragino's decoders print them. A shorter frame carries no reading: Dragino's TTN codec
    reports ``{"distance": "No Sensor"}`` for it, which is what integrations (and its examples) expect.
    """
    if not payload:
        return result(None, ["empty payload"])
    if len(payload) < 8:
        return result({"distance": "No Sensor"})
    raw = u16(payload, 2)
    distance: int | str = raw
    if raw == 0:
        distance = "No Sensor"
    elif is_invalid(raw):
        distance = "Invalid Reading"
    data = {
        "battery": battery_v(payload),
        "distance": distance,
        "interrupt_flag": payload[4],
        "temperature": js_number(tenths(payload, 5)),
        "sensor_flag": payload[7],
    }
    return result(data)


def js_number(value: float) -> int | float:
    """Integral floats as ints, as the vendor's JavaScript prints them."""
    return int(value) if value.is_integer() else value
