"""Aqua-Scope WWD wireless water detector (floor leak / flood detector).

Aqua-Scope WWD LoRaWAN payload description: fPort 10 is the alarm/status frame -- byte 0 bit 0 water detected,
bit 1 remote (external probe) alarm; byte 1 battery %; bytes 2..3 temperature °C. fPort 16 is the periodic
status frame with battery and temperature only (byte 0 unused).

The vendor's TTN codec computes the temperature as ``b2 * 0xFF + b3``, which is off for any value above 255 and
cannot be negative; we read the big-endian signed 16-bit value, which agrees with it whenever the high byte is 0
(0...255 °C) and also handles frost.
"""

from __future__ import annotations

from typing import Any

ALARM_PORT = 10
STATUS_PORT = 16
FRAME_LENGTH = 4


def _result(data: dict[str, Any] | None, errors: list[str] | None = None) -> dict[str, Any]:
    return {"data": data, "warnings": [], "errors": errors or []}


def _status(payload: bytes) -> dict[str, Any]:
    return {"battery": payload[1], "temperature": int.from_bytes(payload[2:4], "big", signed=True)}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port not in (ALARM_PORT, STATUS_PORT):
        return _result(None, ["unknown FPort"])
    if len(payload) < FRAME_LENGTH:
        return _result(None, [f"payload has {len(payload)} byte(s), the frame needs {FRAME_LENGTH}"])
    if f_port == STATUS_PORT:
        return _result(_status(payload))
    flags = payload[0]
    return _result({"leak": flags & 0x01, "remote": 1 if flags & 0x02 else 0, **_status(payload)})
