"""MClimate Flood Sensor (water leak / flood detector with box-tamper switch).

MClimate Flood Sensor "Uplink decoding": byte 0 holds the reason in bits 7..5 (0 keepalive, 1 test button
pressed, 2 flood detected, 3 fraud detected), the box-tamper switch in bit 3 and the flood state in bit 1;
byte 1 is the battery voltage in 16 mV steps. The long form adds byte 2, the temperature in °C.
"""

from __future__ import annotations

from typing import Any

REASONS = ("keepalive", "testButtonPressed", "floodDetected", "fraudDetected")
SHORT_LENGTH = 2


def _result(data: dict[str, Any] | None, warnings: list[str], errors: list[str]) -> dict[str, Any]:
    return {"data": data, "warnings": warnings, "errors": errors}


def _js_number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port == 0:
        return _result(None, [], ["unknown FPort"])
    if len(payload) < SHORT_LENGTH:
        return _result(
            None, [], [f"payload has {len(payload)} byte(s), the status frame needs {SHORT_LENGTH}"]
        )
    status = payload[0]
    code = status >> 5
    warnings = [] if code < len(REASONS) else [f"reserved reason code {code}"]
    data: dict[str, Any] = {
        "reason": REASONS[code] if code < len(REASONS) else "unknown",
        "boxTamper": bool(status & 0x08),
        "flood": bool(status & 0x02),
        "battery": _js_number(payload[1] * 16 / 1000),
    }
    if len(payload) > SHORT_LENGTH:
        data["temperature"] = payload[2]
    return _result(data, warnings, [])
