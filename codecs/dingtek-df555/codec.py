"""Dingtek DF555 ultrasonic water level sensor (flood / river / manhole level).

Uplinks (Dingtek DF555 user manual, "Uplink Data Format"; Dingtek's codec for ChirpStack/TTN), fPort 3, binary:
``0x80 | 0x00 0x01 | type | length | ... | 0x81``. Type 0x01/0x02 (heartbeat / alarm) carries the level reading
(uint16 BE, mm from the sensor to the water), temperature (°C), alarm nibbles and a frame counter; when GPS is
fitted two little-endian IEEE-754 floats (longitude, latitude) follow the level and the frame grows from 17 to
25 bytes. Type 0x03 reports the configuration.

Downlinks (manual, "Downlink Command"): ASCII hex text ``"80029999" + option (2 hex digits) + value (2 hex digits)
+ "81"`` on fPort 3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

F_PORT = 3
HEAD, TAIL = 0x80, 0x81
TYPE_PARAMETERS = 0x03
PLAIN_LENGTH, GPS_LENGTH = 17, 25


def _result(data: dict[str, Any] | None, errors: list[str] | None = None) -> dict[str, Any]:
    return {"data": data, "warnings": [], "errors": errors or []}


def _u16(payload: bytes, at: int) -> int:
    return int.from_bytes(payload[at : at + 2], "big")


def _vendor_float(raw: bytes) -> float:
    """Dingtek's own IEEE-754 decoding of a little-endian float32, bug included: its mantissa divides by 0x7FFFFF
    instead of 0x800000 (so 116.507423 prints as 116.507430). Integrations built on Dingtek's codec have
    these coordinates, so we reproduce them rather than ``struct.unpack``."""
    bits = int.from_bytes(raw, "little")
    sign = -1 if bits & 0x80000000 else 1
    exponent = ((bits >> 23) & 0xFF) - 127
    mantissa = 1 + (bits & 0x7FFFFF) / 0x7FFFFF
    return sign * mantissa * 2.0**exponent


def _alarms(payload: bytes, at: int) -> dict[str, bool]:
    # Level alarm in the high nibble of the first alarm byte, battery alarm in the low nibble of the next one.
    return {"alarmLevel": bool(payload[at] >> 4), "alarmBattery": bool(payload[at + 1] & 0x0F)}


def _reading(payload: bytes) -> dict[str, Any]:
    data: dict[str, Any] = {"level": _u16(payload, 5)}
    if len(payload) == GPS_LENGTH:
        data["longitude"] = f"{_vendor_float(payload[8:12]):.6f}"
        data["latitude"] = f"{_vendor_float(payload[12:16]):.6f}"
        tail = 16
    else:
        tail = 8
    data.update(_alarms(payload, tail + 3))
    data["temperature"] = payload[tail]
    data["frameCounter"] = _u16(payload, tail + 5)
    return data


def _parameters(payload: bytes) -> dict[str, Any]:
    return {
        "firmware": f"{payload[5]}.{payload[6]}",
        "uploadInterval": payload[7],  # hours
        "detectInterval": payload[8],  # minutes
        "levelThreshold": payload[9],  # cm
        "workMode": payload[14],
    }


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != F_PORT:
        return _result(None, ["unknown FPort"])
    if len(payload) not in (PLAIN_LENGTH, GPS_LENGTH):
        return _result(None, ["wrong length"])
    if payload[0] != HEAD or payload[-1] != TAIL or payload[4] != len(payload):
        return _result(None, ["invalid frame: head 0x80, length byte or tail 0x81 does not match"])
    if payload[3] == TYPE_PARAMETERS:
        if len(payload) != PLAIN_LENGTH:
            return _result(None, ["wrong length"])
        return _result(_parameters(payload))
    return _result(_reading(payload))


# --- downlinks ------------------------------------------------------------------------------------------------

_PREFIX = b"80029999"
_SUFFIX = b"81"


def _as_int(value: Any) -> int | None:
    """Whole numbers only (``4`` or ``4.0``); booleans only where a switch accepts them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


def _ranged(option: int, low: int, high: int, message: str) -> Callable[[Any], tuple[int, int] | str]:
    def encode(value: Any) -> tuple[int, int] | str:
        number = None if isinstance(value, bool) else _as_int(value)
        if number is None or not low <= number <= high:
            return message
        return option, number

    return encode


def _switch(option: int, values: dict[int, int], message: str) -> Callable[[Any], tuple[int, int] | str]:
    def encode(value: Any) -> tuple[int, int] | str:
        number = _as_int(value)
        code = None if number is None else values.get(int(number))
        return message if code is None else (option, code)

    return encode


# Option 0x09 is a family of switches: GPS off/on (0x00/0x01), reset (0x02), work modes (0x05/0x06/0x0E), fall
# detection off/on (0x09/0x0A).
_GPS = {0: 0x00, 1: 0x01}
_WORK_MODE = {0: 0x05, 1: 0x06, 2: 0x0E}
_FALL = {0: 0x09, 1: 0x0A}

# Checked in this order; the first setting present is encoded (one setting per downlink).
_ENCODERS: dict[str, Callable[[Any], tuple[int, int] | str]] = {
    "uploadInterval": _ranged(0x01, 1, 255, "upload interval range 1-255 hours."),
    "detectInterval": _ranged(0x08, 1, 255, "detection interval range 1-255 minutes."),
    "levelThreshold": _ranged(0x02, 15, 255, "Level alarm threshold range 15-255."),
    "fireThreshold": _ranged(0x03, 1, 255, "Fire alarm threshold range 1-255."),
    "fallThreshold": _ranged(0x04, 15, 90, "Fall alarm threshold range 15-90."),
    "batteryThreshold": _ranged(0x05, 5, 99, "Battery alarm threshold range 5-99."),
    "fallEnable": _switch(0x09, _FALL, "fallEnable must be 0 or 1."),
    "gpsEnable": _switch(0x09, _GPS, "gpsEnable must be 0 or 1."),
    "workMode": _switch(0x09, _WORK_MODE, "Work mode range 0-2."),
}

_DECODERS: dict[int, str] = {
    0x01: "uploadInterval",
    0x08: "detectInterval",
    0x02: "levelThreshold",
    0x03: "fireThreshold",
    0x04: "fallThreshold",
    0x05: "batteryThreshold",
}
_SWITCHES: dict[int, tuple[str, int]] = {
    **{code: ("gpsEnable", value) for value, code in _GPS.items()},
    0x02: ("reset", 1),
    **{code: ("workMode", value) for value, code in _WORK_MODE.items()},
    **{code: ("fallEnable", value) for value, code in _FALL.items()},
}


def _encode_error(message: str) -> dict[str, Any]:
    return {"f_port": None, "bytes": [], "warnings": [], "errors": [message]}


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        return _encode_error("invalid downlink parameter.")
    for key, encode in _ENCODERS.items():
        if data.get(key) is None:
            continue
        encoded = encode(data[key])
        if isinstance(encoded, str):
            return _encode_error(encoded)
        option, value = encoded
        frame = _PREFIX + f"{option:02X}{value:02X}".encode() + _SUFFIX
        return {"f_port": F_PORT, "bytes": list(frame), "warnings": [], "errors": []}
    return _encode_error("invalid downlink parameter.")


def _hex_field(payload: bytes, at: int) -> int | None:
    try:
        return int(payload[at : at + 2].decode("ascii"), 16)
    except (UnicodeDecodeError, ValueError):
        return None


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != F_PORT:
        return _result(None, ["invalid FPort."])
    if len(payload) != 14 or not payload.startswith(_PREFIX) or not payload.endswith(_SUFFIX):
        return _result(None, ["invalid format."])
    option, value = _hex_field(payload, 8), _hex_field(payload, 10)
    if option is None or value is None:
        return _result(None, ["invalid format."])
    if option in _DECODERS:
        return _result({_DECODERS[option]: value})
    if option == 0x09:
        switch = _SWITCHES.get(value)
        if switch is None:
            return _result(None, ["invalid parameter value."])
        return _result({switch[0]: switch[1]})
    return _result(None, ["invalid parameter key."])
