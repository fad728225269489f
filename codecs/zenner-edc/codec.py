"""Minol-ZENNER EDC communication module for water meters (add-on radio module reading the meter's dial).

Uplink on fPort 1: one status byte, then the meter values as unsigned 32-bit big-endian integers.

Sources: TheThingsNetwork/lorawan-devices vendor/minol-zenner/edc-communication-module.yaml and -codec.yaml
(device, fPort and the one published example). The vendor's JavaScript (edc-communication-module.js) is not in
the code index we could read, so the layout below is derived from that example and must be read as such:
``27 0000000c 0000000d 0000000f`` -> status 0x27, meter values [12, 13, 15]. A status byte followed by 4-byte
big-endian values uses the 13 bytes exactly; a little-endian reading would need a 4-byte status and leave the
last value one byte long.

Status bits, from the same example (0x27 = bits 0, 1, 2 and 5 set, with four flags set and hw_error clear):
bit 0 removal detection, bit 1 battery low, bit 2 battery end of life, bit 3 hardware error (inferred),
bit 5 coil (magnetic) manipulation. Bits 4, 6 and 7 are not reported.
"""

from __future__ import annotations

from typing import Any

PORT = 1
VALUE_LEN = 4

STATUS_BITS = {
    "removal_detection": 0,
    "battery_low": 1,
    "battery_end_of_life": 2,
    "hw_error": 3,
    "coil_manipulation": 5,
}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != PORT:
        return {"data": None, "warnings": [], "errors": ["unknown FPort"]}
    if not payload:
        return {
            "data": None,
            "warnings": [],
            "errors": ["status: needs 1 byte(s) at offset 0, payload has 0"],
        }
    status = payload[0]
    # Flags as 0/1 integers, as the vendor's published example shows them.
    data: dict[str, Any] = {name: (status >> bit) & 1 for name, bit in STATUS_BITS.items()}
    body = payload[1:]
    whole = len(body) - len(body) % VALUE_LEN
    data["meter_values"] = [
        int.from_bytes(body[i : i + VALUE_LEN], "big") for i in range(0, whole, VALUE_LEN)
    ]
    warnings = []
    if whole < len(body):
        warnings.append(f"{len(body) - whole} trailing byte(s) ignored (meter values are 4 bytes)")
    return {"data": data, "warnings": warnings, "errors": []}
