"""B METERS IWM-LR3 / IWM-LR4 pulse reader for water meters (inductive target on the meter dial).

Periodic report on fPort 1, 13 bytes (15 with the optional temperature), little-endian counters (B METERS
"IWM-LR3 - IWM-LR4 User Manual v1.0", section "Payload description"; reference codec
TheThingsNetwork/lorawan-devices vendor/b-meters/iwmlr3.js):

=====  ====  ===========================================================
0      u8    application code
1..4   u32   absolute counter value (direct minus reverse flow)
5..8   u32   reverse flow counter
9      u8    index K (pulse weight: 0 = 1 L, 1 = 10 L, 2 = 100 L)
10     u8    medium (0 = water, 1 = hot water)
11     u8    VIF (unit of the counters)
12     u8    alarm code
=====  ====  ===========================================================

The output follows the vendor codec, which is what users run: its examples page shows a field ``aplication``
and counter values the code does not produce, while the code names the field ``application`` and reads the
counters little-endian as the manual says. Like the vendor codec, ``vif`` is 13 for VIF 0x0D (litres) and 140 for 0x0E (decalitres), and
absent otherwise; an alarm code above 5 (the codec's list: magnetic, removal, sensor fraud, leakage, reverse flow,
low battery) becomes ``"error"``. Counters are unsigned: the vendor's ``byte << 24`` would turn counters of 2^31
and more negative.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.reader import PayloadTooShort, Reader

PORT = 1
VIF_VALUES = {0x0D: 0x0D * 1, 0x0E: 0x0E * 10}
MAX_ALARM_CODE = 0x05


def _decode(payload: bytes) -> dict[str, Any]:
    r = Reader(payload)
    data: dict[str, Any] = {
        "application": r.u8("application code"),
        "valueCounter": r.uint(4, "counter value", little=True),
        "flowCounter": r.uint(4, "reverse flow counter", little=True),
        "indexK": r.u8("index K"),
        "medium": r.u8("medium"),
    }
    vif = r.u8("VIF")
    if vif in VIF_VALUES:
        data["vif"] = VIF_VALUES[vif]
    alarm = r.u8("alarm")
    data["alarm"] = alarm if alarm <= MAX_ALARM_CODE else "error"
    return data


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != PORT:
        return {"data": None, "warnings": [], "errors": ["unknown FPort"]}
    try:
        data = _decode(payload)
    except PayloadTooShort as exc:
        return {"data": None, "warnings": [], "errors": [str(exc)]}
    return {"data": data, "warnings": [], "errors": []}
