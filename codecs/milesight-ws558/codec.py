"""Milesight WS558 smart light controller: 8 lamp relays plus mains voltage, power, energy and current.

Uplinks are Milesight channel records on fPort 85 (WS558 user guide, "Uplink Payload"; vendor decoder
vendor/milesight-iot/ws558.js in TheThingsNetwork/lorawan-devices): voltage 0x03 0x74 (uint16 LE, 0.1 V),
active power 0x04 0x80 (uint32 LE, W), power factor 0x05 0x81 (uint8, %), energy 0x06 0x83 (uint32 LE, Wh),
total current 0x07 0xC9 (uint16 LE, mA), switch status 0x08 0x31 (one byte the decoder skips, then one bit per
relay, bit 0 = switch 1). Downlinks (Milesight WS558 encoder): switching is ``08 <mask> <status>`` where
``mask`` selects the relays to change; ``ff 32 <task> <delay u16 LE> <mask> <status>`` does it after a delay.
The WS558 has relays only: there is no dimming command.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats import milesight as ms

F_PORT = ms.MILESIGHT_F_PORT
SWITCHES = 8


# Every possible status byte decoded once at import: a report then costs one list index, not eight f-strings.
# The runtime copies the fields into its own dict, so sharing these is safe.
_SWITCH_STATES = [
    {f"switch_{i + 1}": "on" if flags >> i & 1 else "off" for i in range(SWITCHES)} for flags in range(256)
]


def _switches(raw: bytes) -> dict[str, Any]:
    return _SWITCH_STATES[raw[1]]


CHANNELS: dict[tuple[int, int], ms.Channel] = {
    **ms.DEVICE_INFO,
    (0x03, 0x74): ms.field("voltage", 2, lambda raw: ms.js_number(ms.u16(raw) / 10)),
    (0x04, 0x80): ms.field("active_power", 4, ms.u32),
    (0x05, 0x81): ms.uint8("power_factor"),
    (0x06, 0x83): ms.field("power_consumption", 4, ms.u32),
    (0x07, 0xC9): ms.uint16("total_current"),
    (0x08, 0x31): ms.Channel(2, _switches),
}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return ms.decode(f_port, payload, CHANNELS)


_ON_OFF = {"on": 1, "off": 0, 1: 1, 0: 0}  # True and False hash as 1 and 0


def _switch_bits(data: dict[str, Any]) -> tuple[int, int]:
    mask = status = 0
    for i in range(SWITCHES):
        key = f"switch_{i + 1}"
        if key not in data:
            continue
        value = data[key]
        state = (
            _ON_OFF.get(value.lower())
            if isinstance(value, str)
            else _ON_OFF.get(value)
            if isinstance(value, int)
            else None
        )
        if state is None:
            raise ValueError(f"{key} must be 'on', 'off', 1 or 0, not {value!r}")
        mask |= 1 << i
        status |= state << i
    return mask, status


def _uint(data: dict[str, Any], key: str, bits: int) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise ValueError(f"{key} must be an integer 0..{(1 << bits) - 1}")
    return value


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    """``{"switch_1": "on", "switch_3": "off"}``, optionally with ``delay_time`` (s) and ``task_id``;
    ``{"report_interval": 300}``; ``{"reboot": "yes"}``; ``{"report_status": "yes"}``."""
    try:
        out = bytearray()
        if data.get("reboot") in ("yes", 1, True):
            out += b"\xff\x10\xff"
        if data.get("report_status") in ("yes", 1, True):
            out += b"\xff\x28\xff"
        if "report_interval" in data:
            out += b"\xff\x03" + _uint(data, "report_interval", 16).to_bytes(2, "little")
        mask, status = _switch_bits(data)
        if mask and "delay_time" in data:
            task = _uint(data, "task_id", 8) if "task_id" in data else 0
            delay = _uint(data, "delay_time", 16).to_bytes(2, "little")
            out += bytes([0xFF, 0x32, task]) + delay + bytes([mask, status])
        elif mask:
            out += bytes([0x08, mask, status])
    except ValueError as exc:
        return {"errors": [str(exc)]}
    if not out:
        return {
            "errors": ["nothing to encode: give switch_1..switch_8, report_interval, report_status or reboot"]
        }
    return {"f_port": F_PORT, "bytes": bytes(out), "warnings": [], "errors": []}


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    """The switching command only (``08 <mask> <status>``), e.g. to show a queued downlink."""
    if len(payload) != 3 or payload[0] != 0x08:
        return {"errors": ["not a WS558 switch command (08 <mask> <status>)"]}
    mask, status = payload[1], payload[2]
    data = {f"switch_{i + 1}": "on" if status >> i & 1 else "off" for i in range(SWITCHES) if mask >> i & 1}
    return {"data": data, "warnings": [], "errors": []}
