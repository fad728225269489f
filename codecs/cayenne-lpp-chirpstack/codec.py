"""Cayenne LPP as ChirpStack v4 decodes and encodes it (its "Cayenne LPP" payload codec), for applications
migrated from ChirpStack: the object groups values by type, then by channel (as a string key):
``{"temperatureSensor": {"3": 27.2}, "gpsLocation": {"1": {"latitude": ..., "longitude": ..., "altitude": ...}}}``.

The wire format is myDevices' Cayenne Low Power Payload: ``channel (1 byte), type (1 byte), value``, big-endian,
with each type's size and resolution from the myDevices documentation. Like ChirpStack, the twelve types of the
original specification are read (digital in/out, analog in/out, illuminance, presence, temperature, humidity,
accelerometer, barometer, gyrometer, GPS); any other type is an error. The ``cayenne-lpp`` codec reads the
extended types too, with The Things Stack's one-field-per-channel shape.
"""

from __future__ import annotations

from typing import Any

DOWNLINK_PORT = 1

# type code: (object key, bytes per component, divisor, signed, components)
TYPES: dict[int, tuple[str, int, int, bool, tuple[str, ...]]] = {
    0: ("digitalInput", 1, 1, False, ()),
    1: ("digitalOutput", 1, 1, False, ()),
    2: ("analogInput", 2, 100, True, ()),  # 0.01 signed
    3: ("analogOutput", 2, 100, True, ()),
    101: ("illuminanceSensor", 2, 1, False, ()),  # 1 lux unsigned
    102: ("presenceSensor", 1, 1, False, ()),
    103: ("temperatureSensor", 2, 10, True, ()),  # 0.1 °C signed
    104: ("humiditySensor", 1, 2, False, ()),  # 0.5 % unsigned
    113: ("accelerometer", 2, 1000, True, ("x", "y", "z")),  # 0.001 G signed per axis
    115: ("barometer", 2, 10, False, ()),  # 0.1 hPa unsigned
    134: ("gyrometer", 2, 100, True, ("x", "y", "z")),  # 0.01 °/s signed per axis
    136: ("gpsLocation", 3, 0, True, ("latitude", "longitude", "altitude")),  # 0.0001 °, 0.0001 °, 0.01 m
}
BY_KEY = {spec[0]: code for code, spec in TYPES.items()}
GPS_DIVISORS = (10000, 10000, 100)


def _number(raw: int, divisor: int) -> int | float:
    return raw if divisor == 1 else raw / divisor


def _decode(payload: bytes) -> dict[str, Any]:
    data: dict[str, dict[str, Any]] = {}
    pos = 0
    while pos + 2 <= len(payload):  # a trailing odd byte ends the payload, as ChirpStack reads it
        channel, code = payload[pos], payload[pos + 1]
        pos += 2
        spec = TYPES.get(code)
        if spec is None:
            return {"errors": [f"invalid data type {code} on channel {channel}"]}
        key, size, divisor, signed, parts = spec
        width = size * max(1, len(parts))
        if pos + width > len(payload):
            return {"errors": [f"{key} on channel {channel} needs {width} byte(s) at offset {pos}"]}
        raws = [int.from_bytes(payload[pos + size * i: pos + size * (i + 1)], "big", signed=signed)
                for i in range(max(1, len(parts)))]
        pos += width
        if code == 136:
            value: Any = {p: r / d for p, r, d in zip(parts, raws, GPS_DIVISORS, strict=True)}
        elif parts:
            value = {p: _number(r, divisor) for p, r in zip(parts, raws, strict=True)}
        else:
            value = _number(raws[0], divisor)
        data.setdefault(key, {})[str(channel)] = value
    return {"data": data, "warnings": [], "errors": []}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return _decode(payload)


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    return _decode(payload)


def _raw(value: Any, divisor: int, size: int, signed: bool, what: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number")
    try:
        return round(value * divisor).to_bytes(size, "big", signed=signed)
    except (OverflowError, ValueError):
        raise ValueError(f"{what} = {value} does not fit the LPP field") from None


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    """ChirpStack's object (``{"digitalOutput": {"3": 1}, "analogOutput": {"4": 2.5}}``) -> LPP bytes, types in
    ChirpStack's order, channels ascending within a type."""
    out = bytearray()
    try:
        unknown = [k for k in data if k not in BY_KEY]
        if unknown:
            raise ValueError(f"unexpected key {unknown[0]!r} in the object")
        for code, (key, size, divisor, signed, parts) in TYPES.items():
            channels = data.get(key)
            if channels is None:
                continue
            if not isinstance(channels, dict):
                raise ValueError(f"{key} must be an object of channel: value")
            for channel_text in sorted(channels, key=lambda c: int(c) if str(c).isdigit() else -1):
                if not str(channel_text).isdigit() or not 0 <= int(channel_text) <= 255:
                    raise ValueError(f"{key}: channel {channel_text!r} is not 0..255")
                value = channels[channel_text]
                what = f"{key}.{channel_text}"
                out += bytes([int(channel_text), code])
                if parts:
                    if not isinstance(value, dict) or set(value) != set(parts):
                        raise ValueError(f"{what} must be an object with {', '.join(parts)}")
                    divisors = GPS_DIVISORS if code == 136 else (divisor,) * len(parts)
                    for part, d in zip(parts, divisors, strict=True):
                        out += _raw(value[part], d, size, signed, f"{what}.{part}")
                else:
                    out += _raw(value, divisor, size, signed, what)
    except ValueError as exc:
        return {"errors": [str(exc)]}
    if not out:
        return {"errors": ["nothing to encode"]}
    return {"f_port": DOWNLINK_PORT, "bytes": bytes(out), "warnings": [], "errors": []}
