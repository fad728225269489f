"""Elsys sensor payload: a sequence of ``type byte | value`` records, big-endian (Elsys "Sensor payload"
document, rev. 2.x; used by the ERS, ELT, EMS and ELT Ultrasonic families).

Each type fixes its value length. Elsys' reference decoder stops at the first unknown type; we stop too (the
length of an unknown record is unknown) and say so in a warning. A record cut short is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Fields = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Record:
    """``size`` value bytes; a single-field record names its ``key`` and ``read`` returns the value, a
    multi-field record (``key`` None) returns a dict of fields."""

    size: int
    read: Callable[[bytes], Any]
    key: str | None = None


def _u(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def _s(raw: bytes) -> int:
    return int.from_bytes(raw, "big", signed=True)


def _tenths(raw: bytes) -> int | float:
    value = _s(raw) / 10
    return int(value) if value.is_integer() else value


def _one(key: str, size: int, read: Callable[[bytes], Any] = _u) -> Record:
    return Record(size, read, key)


def _acceleration(raw: bytes) -> Fields:
    # Signed bytes, ±63 = 1 g.
    return {"x": _s(raw[0:1]), "y": _s(raw[1:2]), "z": _s(raw[2:3])}


def _gps(raw: bytes) -> Fields:
    return {"lat": _u(raw[0:3]), "long": _u(raw[3:6])}


def _ir_temperature(raw: bytes) -> Fields:
    return {"irInternalTemperature": _tenths(raw[0:2]), "irExternalTemperature": _tenths(raw[2:4])}


def _pressure(raw: bytes) -> Fields:
    # Elsys: "pressure data (hPa)", transmitted in thousandths.
    value = _u(raw) / 1000
    return {"pressure": int(value) if value.is_integer() else value}


def _sound(raw: bytes) -> Fields:
    return {"soundPeak": raw[0], "soundAvg": raw[1]}


def _grideye(raw: bytes) -> Fields:
    reference = raw[0]
    return {"grideye": [reference + pixel / 10.0 for pixel in raw[1:]]}


RECORDS: dict[int, Record] = {
    0x01: _one("temperature", 2, _tenths),  # 0.1 °C, signed
    0x02: _one("humidity", 1),  # %
    0x03: Record(3, _acceleration),
    0x04: _one("light", 2),  # lux
    0x05: _one("motion", 1),  # PIR count
    0x06: _one("co2", 2),  # ppm
    0x07: _one("vdd", 2),  # battery, mV
    0x08: _one("analog1", 2),  # mV
    0x09: Record(6, _gps),
    0x0A: _one("pulse1", 2),  # relative count
    0x0B: _one("pulseAbs", 4),  # absolute count
    0x0C: _one("externalTemperature", 2, _tenths),
    0x0D: _one("digital", 1),
    0x0E: _one("distance", 2),  # mm
    0x0F: _one("accMotion", 1),
    0x10: Record(4, _ir_temperature),
    0x11: _one("occupancy", 1),
    0x12: _one("waterleak", 1),  # 0...255
    0x13: Record(65, _grideye),
    0x14: Record(4, _pressure),
    0x15: Record(2, _sound),
    0x16: _one("pulse2", 2),
    0x17: _one("pulseAbs2", 4),
    0x18: _one("analog2", 2),  # mV
    0x19: _one("externalTemperature2", 2, _tenths),  # may repeat, see below
    0x1A: _one("digital2", 1),
    0x1B: _one("analogUv", 4, _s),  # µV, signed
    0x1C: _one("tvoc", 2),  # ppb
}
EXTERNAL_TEMPERATURE_2 = 0x19  # may repeat: one value per probe


def _add_external_temperature_2(data: Fields, value: int | float) -> None:
    # A single probe gives a number; several give a list in payload order (as Elsys' decoder does).
    previous = data.get("externalTemperature2")
    if previous is None:
        data["externalTemperature2"] = value
    elif isinstance(previous, list):
        previous.append(value)
    else:
        data["externalTemperature2"] = [previous, value]


def decode(payload: bytes) -> dict[str, Any]:
    """Decode all records of ``payload`` into the TS013 result."""
    if not payload:
        return {"data": None, "warnings": [], "errors": ["empty payload"]}
    data: Fields = {}
    warnings: list[str] = []
    pos = 0
    while pos < len(payload):
        kind = payload[pos]
        record = RECORDS.get(kind)
        if record is None:
            warnings.append(f"unknown record type 0x{kind:02x} at offset {pos}; rest of payload ignored")
            break
        end = pos + 1 + record.size
        if end > len(payload):
            error = f"record 0x{kind:02x} needs {record.size} byte(s) at offset {pos + 1}"
            return {"data": None, "warnings": [], "errors": [error]}
        value = record.read(payload[pos + 1 : end])
        if record.key is None:
            data.update(value)
        elif kind == EXTERNAL_TEMPERATURE_2:
            _add_external_temperature_2(data, value)
        else:
            data[record.key] = value
        pos = end
    return {"data": data, "warnings": warnings, "errors": []}
