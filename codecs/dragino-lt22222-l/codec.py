"""Dragino LT-22222-L (and LT-33222-L) LoRa I/O controller: two relays, digital and analog inputs, counters.

A city uses its relays to switch lamp circuits. Uplink layout on fPort 2 (11 bytes, Dragino "LT Series I/O
controller user manual" §3.3 and vendor decoder vendor/dragino/lt22222-l.js in TheThingsNetwork/lorawan-devices):
bytes 0..7 depend on the work mode, byte 8 holds the I/O bits (RO1 0x80, RO2 0x40, first/DI3 0x20, DI2 0x10,
DI1 0x08, DO3 0x04, DO2 0x02, DO1 0x01; a DO bit set means "L"), byte 9 the mode status of the exit mode, byte 10
the hardware (bits 7..6) and work mode (bits 5..0). Analog values are big-endian signed 16-bit thousandths.
Every other port is "unknown FPort", as in the vendor decoder (its port 5 branch falls through to that error).

Downlink (manual, "Type Code 03"): ``03 <RO1> <RO2>`` with 01 = close (on), 00 = open (off), 11 = no action;
``08 FF`` asks for an uplink. Dragino devices take downlinks on any port; we use fPort 1. The LT-22222-L's
outputs are relays and open-collector digital outputs only (its analog ports are inputs; no PWM, 0-10 V or DALI
output), so a lamp on it can be switched but not dimmed: there is no dimming command.
"""

from __future__ import annotations

from typing import Any

UPLINK_PORT = 2
DOWNLINK_PORT = 1
PAYLOAD_LENGTH = 11


def _s16_thousandths(payload: bytes, at: int) -> float:
    # The vendor prints parseFloat((x / 1000).toFixed(3)). x is an integer, so x / 1000 (correctly rounded) is
    # already the double nearest the three-decimal value: round(..., 3) would return the same number, slower.
    return int.from_bytes(payload[at : at + 2], "big", signed=True) / 1000


def _s32(payload: bytes, at: int) -> int:
    # The vendor builds it with JavaScript's `|`, which yields a signed 32-bit integer.
    return int.from_bytes(payload[at : at + 4], "big", signed=True)


def _exit_mode(p: bytes, data: dict[str, Any]) -> None:
    data["Work_mode"] = "Exit mode"
    data["Mode_status"] = "True" if p[9] else "False"
    names = ("AV1L", "AV1H", "AV2L", "AV2H", "AC1L", "AC1H", "AC2L", "AC2H")
    for i, name in enumerate(names):
        data[f"{name}_flag"] = "True" if p[0] & (0x80 >> i) else "False"
        data[f"{name}_status"] = "True" if p[1] & (0x80 >> i) else "False"
    data["DI2_status"] = "True" if p[2] & 0x08 else "False"
    data["DI2_flag"] = "True" if p[2] & 0x04 else "False"
    data["DI1_status"] = "True" if p[2] & 0x02 else "False"
    data["DI1_flag"] = "True" if p[2] & 0x01 else "False"


def _decode_io(p: bytes) -> dict[str, Any]:
    io, hardware, mode = p[8], p[10] >> 6, p[10] & 0x3F
    data: dict[str, Any] = {}
    if hardware == 0:
        data["Hardware_mode"] = "LT33222"
        data["DO3_status"] = "L" if io & 0x04 else "H"
        if p[10] == 1:
            data["DI3_status"] = "H" if io & 0x20 else "L"
    elif hardware == 1:
        data["Hardware_mode"] = "LT22222"
    if mode != 6:
        data["DO1_status"] = "L" if io & 0x01 else "H"
        data["DO2_status"] = "L" if io & 0x02 else "H"
        data["RO1_status"] = "ON" if io & 0x80 else "OFF"
        data["RO2_status"] = "ON" if io & 0x40 else "OFF"
        if mode != 1:
            if mode != 5:
                data["Count1_times"] = _s32(p, 0)
            data["First_status"] = "Yes" if io & 0x20 else "No"
    if mode == 1:
        data["Work_mode"] = "2ACI+2AVI"
        data["AVI1_V"] = _s16_thousandths(p, 0)
        data["AVI2_V"] = _s16_thousandths(p, 2)
        data["ACI1_mA"] = _s16_thousandths(p, 4)
        data["ACI2_mA"] = _s16_thousandths(p, 6)
        data["DI1_status"] = "H" if io & 0x08 else "L"
        data["DI2_status"] = "H" if io & 0x10 else "L"
    elif mode == 2:
        data["Work_mode"] = "Count mode 1"
        data["Count2_times"] = _s32(p, 4)
    elif mode == 3:
        data["Work_mode"] = "2ACI+1Count"
        data["ACI1_mA"] = _s16_thousandths(p, 4)
        data["ACI2_mA"] = _s16_thousandths(p, 6)
    elif mode == 4:
        data["Work_mode"] = "Count mode 2"
        data["Acount_times"] = _s32(p, 4)
    elif mode == 5:
        data["Work_mode"] = " 1ACI+2AVI+1Count"  # sic: the vendor's string starts with a space
        data["AVI1_V"] = _s16_thousandths(p, 0)
        data["AVI2_V"] = _s16_thousandths(p, 2)
        data["ACI1_mA"] = _s16_thousandths(p, 4)
        data["Count1_times"] = p[6] << 8 | p[7]
    elif mode == 6:
        _exit_mode(p, data)
    return data


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != UPLINK_PORT:
        return {"errors": ["unknown FPort"]}
    if len(payload) != PAYLOAD_LENGTH:
        return {"errors": [f"an fPort 2 uplink has {PAYLOAD_LENGTH} bytes, this one has {len(payload)}"]}
    return {"data": _decode_io(payload), "warnings": [], "errors": []}


_RELAY = {"on": 0x01, "close": 0x01, "off": 0x00, "open": 0x00, 1: 0x01, 0: 0x00}  # True/False hash as 1/0
_NO_ACTION = 0x11


def _relay(data: dict[str, Any], key: str) -> int:
    if key not in data:
        return _NO_ACTION
    value = data[key]
    code = (
        _RELAY.get(value.lower())
        if isinstance(value, str)
        else _RELAY.get(value)
        if isinstance(value, int)
        else None
    )
    if code is None:
        raise ValueError(f"{key} must be 'on', 'off', 1 or 0, not {value!r}")
    return code


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    """``{"RO1": "on", "RO2": "off"}`` switches relays (an absent relay is left alone); ``{"poll": true}``
    asks for an uplink."""
    try:
        ro1, ro2 = _relay(data, "RO1"), _relay(data, "RO2")
    except ValueError as exc:
        return {"errors": [str(exc)]}
    out = bytearray()
    if (ro1, ro2) != (_NO_ACTION, _NO_ACTION):
        out += bytes([0x03, ro1, ro2])
    if data.get("poll") is True:
        out += b"\x08\xff"
    if not out:
        return {"errors": ["nothing to encode: give RO1, RO2 or poll"]}
    return {"f_port": DOWNLINK_PORT, "bytes": bytes(out), "warnings": [], "errors": []}


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    if len(payload) != 3 or payload[0] != 0x03:
        return {"errors": ["not a relay command (03 <RO1> <RO2>)"]}
    names = {0x01: "on", 0x00: "off"}
    data = {key: names[code] for key, code in (("RO1", payload[1]), ("RO2", payload[2])) if code in names}
    if any(code not in (*names, _NO_ACTION) for code in payload[1:]):
        return {"errors": ["relay codes are 00, 01 or 11"]}
    return {"data": data, "warnings": [], "errors": []}
