"""Milesight EM300-DI (pulse counter / digital input, used as a water meter interface).

Payload (Milesight "EM300-DI User Guide", section "Uplink Packet"; reference codec
TheThingsNetwork/lorawan-devices vendor/milesight-iot/em300-di.js): a sequence of channel records
``channel_id, channel_type, value`` with little-endian values:

==========  ======  =====================================================
01 75       1 B     battery level, %
03 67       2 B     temperature, int16 LE, 0.1 °C
04 68       1 B     relative humidity, 0.5 %
05 00       1 B     digital input (GPIO) state
05 c8       4 B     pulse counter, uint32 LE
20 ce       13 B    history record: time u32, temperature i16, humidity u8, mode u8,
                    gpio u8 (mode 1), pulse u32 (mode 2)
==========  ======  =====================================================

The device reports on fPort 85. The vendor codec stops at the first channel it does not know; so do we, with a
warning naming the channel, and a record cut short is an error rather than a half-read value.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats.js_compat import js_number
from lora_city.codec.reader import PayloadTooShort, Reader

HISTORY_RECORD_LEN = 13
MODE_GPIO = 1
MODE_PULSE = 2


def _history_point(r: Reader) -> dict[str, Any]:
    record = Reader(r.take(HISTORY_RECORD_LEN, "history record"))
    point: dict[str, Any] = {
        "timestamp": record.uint(4, "history timestamp", little=True),
        "temperature": js_number(record.sint(2, "history temperature", little=True) / 10),
        "humidity": js_number(record.u8("history humidity") / 2),
    }
    mode = record.u8("history mode")
    gpio = record.u8("history gpio")
    pulse = record.uint(4, "history pulse", little=True)
    # Mode tells which input the record carries (guide: "data mode 01 = digital, 02 = counter").
    if mode == MODE_GPIO:
        point["gpio"] = gpio
    elif mode == MODE_PULSE:
        point["pulse"] = pulse
    return point


def _decode_channels(payload: bytes, data: dict[str, Any], warnings: list[str]) -> None:
    r = Reader(payload)
    while r.remaining > 0:
        start = r.pos
        channel_id = r.u8("channel id")
        channel_type = r.u8("channel type")
        key = (channel_id, channel_type)
        if key == (0x01, 0x75):
            data["battery"] = r.u8("battery")
        elif key == (0x03, 0x67):
            data["temperature"] = js_number(r.sint(2, "temperature", little=True) / 10)
        elif key == (0x04, 0x68):
            data["humidity"] = js_number(r.u8("humidity") / 2)
        elif key == (0x05, 0x00):
            data["gpio"] = r.u8("gpio")
        elif key == (0x05, 0xC8):
            data["pulse"] = r.uint(4, "pulse counter", little=True)
        elif key == (0x20, 0xCE):
            data.setdefault("history", []).append(_history_point(r))
        else:
            warnings.append(
                f"unknown channel 0x{channel_id:02x} type 0x{channel_type:02x} at offset {start}; rest ignored"
            )
            return


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    data: dict[str, Any] = {}
    warnings: list[str] = []
    try:
        _decode_channels(payload, data, warnings)
    except PayloadTooShort as exc:
        return {"data": None, "warnings": warnings, "errors": [str(exc)]}
    return {"data": data, "warnings": warnings, "errors": []}
