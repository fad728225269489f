"""Milesight WS50x (WS501/WS502/WS503) smart wall switch: one to three switched lamp circuits.

Uplinks are Milesight channel records on fPort 85 (vendor decoder vendor/milesight-iot/ws50x.js in
TheThingsNetwork/lorawan-devices): switch state 0xFF 0x29 is one byte, bits 0..2 = state of switch 1..3
(1 = "open", the vendor's word for a switched-on circuit), bits 4..6 = "this switch changed". Downlinks (Milesight
WS50x encoders) use the same record: ``ff 29 <byte>`` with bits 4..6 selecting the switches to set and bits 0..2
their new state. A wall switch has no dimming.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import milesight as ms

F_PORT = ms.MILESIGHT_F_PORT
SWITCHES = 3


def _state(raw: bytes) -> dict[str, Any]:
    bits = raw[0]
    data: dict[str, Any] = {}
    for i in range(SWITCHES):
        data[f"switch_{i + 1}"] = "open" if bits >> i & 1 else "close"
        data[f"switch_{i + 1}_change"] = "yes" if bits >> (i + 4) & 1 else "no"
    return data


CHANNELS: dict[tuple[int, int], ms.Channel] = {**ms.DEVICE_INFO, (0xFF, 0x29): ms.Channel(1, _state)}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return ms.decode(f_port, payload, CHANNELS)


# "open"/"close" are what the uplink says; "on"/"off" what the newer vendor encoders take. Accept both.
_STATES = {"on": 1, "open": 1, "off": 0, "close": 0, 1: 1, 0: 0}  # True and False hash as 1 and 0


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    """``{"switch_1": "on", "switch_2": "off"}``: sets the named switches, leaves the others."""
    bits = 0
    for i in range(SWITCHES):
        key = f"switch_{i + 1}"
        if key not in data:
            continue
        value = data[key]
        state = (
            _STATES.get(value.lower())
            if isinstance(value, str)
            else _STATES.get(value)
            if isinstance(value, int)
            else None
        )
        if state is None:
            return {"errors": [f"{key} must be 'on', 'off', 'open', 'close', 1 or 0, not {value!r}"]}
        bits |= 1 << (i + 4) | state << i
    if not bits:
        return {"errors": ["nothing to encode: give switch_1, switch_2 or switch_3"]}
    return {"f_port": F_PORT, "bytes": bytes([0xFF, 0x29, bits]), "warnings": [], "errors": []}


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    if len(payload) != 3 or payload[:2] != b"\xff\x29":
        return {"errors": ["not a WS50x switch command (ff 29 <byte>)"]}
    bits = payload[2]
    data = {
        f"switch_{i + 1}": "on" if bits >> i & 1 else "off" for i in range(SWITCHES) if bits >> (i + 4) & 1
    }
    return {"data": data, "warnings": [], "errors": []}
