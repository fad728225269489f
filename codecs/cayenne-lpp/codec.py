"""Cayenne Low Power Payload (myDevices Cayenne LPP), used by many cheap sensors.

A payload is a sequence of ``channel (1 byte), type (1 byte), value``; the type (IPSO object id - 3200) fixes the
value's length and scale, all big-endian (myDevices "Cayenne LPP" documentation; the extended types follow the
CayenneLPP library of Electronic Cats). Output keys are ``<type name>_<channel>`` as in The Things Stack's LPP
formatter (``temperature_1``, ``gps_2``...). Encoding is the inverse, so a codec can also build actuator downlinks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DOWNLINK_PORT = 1


@dataclass(frozen=True, slots=True)
class LppType:
    code: int
    name: str
    size: int  # bytes per component
    scale: int  # value = raw / scale
    signed: bool
    components: tuple[str, ...] = ()  # for multi-value types: names of the parts, in wire order


TYPES: tuple[LppType, ...] = (
    LppType(0, "digital_in", 1, 1, False),
    LppType(1, "digital_out", 1, 1, False),
    LppType(2, "analog_in", 2, 100, True),
    LppType(3, "analog_out", 2, 100, True),
    LppType(100, "generic", 4, 1, False),
    LppType(101, "luminosity", 2, 1, False),  # lux
    LppType(102, "presence", 1, 1, False),
    LppType(103, "temperature", 2, 10, True),  # °C
    LppType(104, "relative_humidity", 1, 2, False),  # %
    LppType(113, "accelerometer", 2, 1000, True, ("x", "y", "z")),  # G
    LppType(115, "barometric_pressure", 2, 10, False),  # hPa
    LppType(116, "voltage", 2, 100, False),  # V
    LppType(117, "current", 2, 1000, False),  # A
    LppType(118, "frequency", 4, 1, False),  # Hz
    LppType(120, "percentage", 1, 1, False),  # %
    LppType(121, "altitude", 2, 1, True),  # m
    LppType(125, "concentration", 2, 1, False),  # ppm
    LppType(128, "power", 2, 1, False),  # W
    LppType(130, "distance", 4, 1000, False),  # m
    LppType(131, "energy", 4, 1000, False),  # kWh
    LppType(132, "direction", 2, 1, False),  # degrees
    LppType(133, "unixtime", 4, 1, False),  # s
    LppType(134, "gyrometer", 2, 100, True, ("x", "y", "z")),  # °/s
    LppType(135, "colour", 1, 1, False, ("r", "g", "b")),
    LppType(142, "switch", 1, 1, False),
)
BY_CODE = {t.code: t for t in TYPES}
BY_NAME = {t.name: t for t in TYPES}
# GPS mixes scales per component (latitude/longitude 1e-4 degree, altitude 1e-2 m), so it is its own case.
GPS_CODE, GPS_NAME = 136, "gps"
GPS_PARTS = (("latitude", 10000), ("longitude", 10000), ("altitude", 100))


def _number(raw: int, scale: int) -> int | float:
    return raw if scale == 1 else raw / scale


def _read(payload: bytes, pos: int, size: int, signed: bool) -> int:
    return int.from_bytes(payload[pos : pos + size], "big", signed=signed)


def _decode(payload: bytes) -> dict[str, Any]:
    if not payload:
        return {"errors": ["empty payload"]}
    data: dict[str, Any] = {}
    pos = 0
    while pos < len(payload):
        if pos + 2 > len(payload):
            return {"errors": [f"truncated channel/type at offset {pos}"]}
        channel, code = payload[pos], payload[pos + 1]
        pos += 2
        if code == GPS_CODE:
            if pos + 9 > len(payload):
                return {"errors": [f"gps on channel {channel} needs 9 bytes at offset {pos}"]}
            data[f"{GPS_NAME}_{channel}"] = {
                name: _read(payload, pos + 3 * i, 3, True) / scale
                for i, (name, scale) in enumerate(GPS_PARTS)
            }
            pos += 9
            continue
        kind = BY_CODE.get(code)
        if kind is None:
            return {"errors": [f"unknown LPP type {code} on channel {channel} at offset {pos - 1}"]}
        width = kind.size * max(1, len(kind.components))
        if pos + width > len(payload):
            return {"errors": [f"{kind.name} on channel {channel} needs {width} byte(s) at offset {pos}"]}
        if kind.components:
            data[f"{kind.name}_{channel}"] = {
                part: _number(_read(payload, pos + kind.size * i, kind.size, kind.signed), kind.scale)
                for i, part in enumerate(kind.components)
            }
        else:
            data[f"{kind.name}_{channel}"] = _number(_read(payload, pos, kind.size, kind.signed), kind.scale)
        pos += width
    return {"data": data, "warnings": [], "errors": []}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return _decode(payload)


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    return _decode(payload)


def _raw(value: Any, scale: int, size: int, signed: bool, what: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number")
    try:
        return round(value * scale).to_bytes(size, "big", signed=signed)
    except (OverflowError, ValueError):  # out of range, or infinite / NaN
        raise ValueError(f"{what} = {value} does not fit the LPP field") from None


def _split_key(key: str) -> tuple[str, int]:
    name, _, channel = key.rpartition("_")
    if not name or not channel.isdigit() or not 0 <= int(channel) <= 255:
        raise ValueError(f"{key!r} is not <type>_<channel 0..255>")
    return name, int(channel)


def _parts(value: Any, names: tuple[str, ...], what: str) -> list[Any]:
    if not isinstance(value, dict) or set(value) != set(names):
        raise ValueError(f"{what} must be an object with {', '.join(names)}")
    return [value[name] for name in names]


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    """``{"digital_out_3": 1, "analog_out_4": 2.5}`` -> LPP bytes, in the order given."""
    out = bytearray()
    try:
        for key, value in data.items():
            name, channel = _split_key(key)
            if name == GPS_NAME:
                out += bytes([channel, GPS_CODE])
                for (_, scale), part in zip(
                    GPS_PARTS, _parts(value, tuple(p for p, _ in GPS_PARTS), key), strict=True
                ):
                    out += _raw(part, scale, 3, True, key)
                continue
            kind = BY_NAME.get(name)
            if kind is None:
                raise ValueError(f"unknown LPP type {name!r}")
            out += bytes([channel, kind.code])
            values = _parts(value, kind.components, key) if kind.components else [value]
            for part in values:
                out += _raw(part, kind.scale, kind.size, kind.signed, key)
    except ValueError as exc:
        return {"errors": [str(exc)]}
    if not out:
        return {"errors": ["nothing to encode"]}
    return {"f_port": DOWNLINK_PORT, "bytes": bytes(out), "warnings": [], "errors": []}
