"""Tektelic Smart AC outlet / switch (T000589x, gen 1): mains voltage, current, power, power factor and energy.

Uplinks on fPort 10 are records of a two-byte header and a value (Tektelic technical reference manual; vendor
decoder vendor/tektelic/decoder_ac_outlet_switch_gen1.js in TheThingsNetwork/lorawan-devices), all big-endian:
``00 FE`` energy meter (uint32 elapsed time, int32 energy consumed), ``00 00`` meter status (uint8),
``00 74`` RMS voltage (uint16 x 0.1), ``00 75`` RMS current (uint16 x 0.1), ``00 80`` real power (int16 x 0.1),
``01 80`` apparent power (uint16 x 0.1), ``00 81`` power factor (uint8 x 0.01). fPort 32 is the same records after
a two-byte fragment number. Like the vendor decoder, ``data`` carries ``port`` (as text) and ``raw``.

Known differences from the vendor decoder: it prints ``apparent_power`` as null (its table misspells "unsigned"),
we decode the value; where it puts a parse problem into ``data.error`` we return an ``errors`` result; and we also
read ``00 01`` relay state (uint8 ``relay_closed``), which the vendor's AC outlet encoder table lists as an uplink
and writable record on fPort 10 (vendor/tektelic/encoder_ac_outlet_switch.js).

Downlinks follow that encoder table: ``00 01 <byte>`` on fPort 10 writes ``relay_closed`` (the raw byte, as the
vendor encoder writes it: 1 closes the relay, 0 opens it), and the ``xx 93`` records with no value ask the device
to report a reading now. The device has no dimming.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PORT = 10
FRAGMENT_PORT = 32


def _unsigned(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def _vendor_signed(raw: bytes) -> int:
    # The vendor turns a value into a negative one only when it is strictly above 2^(n-1); 4-byte values are
    # already signed by JavaScript's 32-bit `<<`. Reproduced so both codecs print the same numbers.
    if len(raw) == 4:
        return int.from_bytes(raw, "big", signed=True)
    value = _unsigned(raw)
    return value - (1 << 8 * len(raw)) if value > 1 << (8 * len(raw) - 1) else value


def _scaled(read: Callable[[bytes], int], coefficient: float, digits: int) -> Callable[[bytes], float]:
    # The vendor's Number((x * coefficient).toFixed(digits)) with coefficient 10**-digits: for an integer x that
    # is x / 10**digits, which a correctly rounded division gives without round() (checked for all 16-bit x).
    divisor = 10**digits
    assert coefficient == 1 / divisor
    return lambda raw: read(raw) / divisor


def _energy(raw: bytes) -> dict[str, Any]:
    return {
        "energy_consumption_meter": {
            "elapsed_time": _unsigned(raw[:4]),
            "energy_consumed": _vendor_signed(raw[4:]),
        }
    }


def _one(key: str, read: Callable[[bytes], Any]) -> Callable[[bytes], dict[str, Any]]:
    return lambda raw: {key: read(raw)}


RECORDS: dict[bytes, tuple[int, Callable[[bytes], dict[str, Any]]]] = {
    b"\x00\xfe": (8, _energy),
    b"\x00\x00": (1, _one("energy_consumption_meter_status", _unsigned)),
    b"\x00\x74": (2, _one("rms_voltage", _scaled(_unsigned, 0.1, 1))),
    b"\x00\x75": (2, _one("rms_current", _scaled(_unsigned, 0.1, 1))),
    b"\x00\x80": (2, _one("real_power", _scaled(_vendor_signed, 0.1, 1))),
    b"\x01\x80": (2, _one("apparent_power", _scaled(_unsigned, 0.1, 1))),
    b"\x00\x81": (1, _one("power_factor", _scaled(_unsigned, 0.01, 2))),
    b"\x00\x01": (1, _one("relay_closed", _unsigned)),
}

# Report requests (vendor encoder table, "sensor_state"): a header with no value on fPort 10.
REQUESTS: dict[str, int] = {
    "request_energy_consumption": 0x00,
    "reset_energy_consumption_meter": 0x01,
    "request_energy_consumption_meter_status": 0x02,
    "request_voltage": 0x03,
    "request_current": 0x04,
    "request_real_power": 0x05,
    "request_apparent_power": 0x06,
    "request_power_factor": 0x07,
    "request_relay_status": 0x08,
}
_REQUEST_NAMES = {code: name for name, code in REQUESTS.items()}


def _raw_text(payload: bytes) -> str:
    # "[00, 74, 00, 11]" as the vendor prints it; bytes.hex does the per-byte work in C (an f-string per byte
    # cost more than the rest of a decode).
    return "[" + payload.hex(" ").upper().replace(" ", ", ") + "]"


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    data: dict[str, Any] = {"raw": _raw_text(payload), "port": str(f_port)}
    pos = 0
    if f_port == FRAGMENT_PORT:
        if len(payload) < 2:
            return {"errors": ["fPort 32 uplink without its fragment number"]}
        data["fragment_number"] = _unsigned(payload[:2])
        pos = 2
    elif f_port != PORT:
        return {"errors": [f"Wrong port: {f_port}"]}
    while pos < len(payload):
        header = payload[pos : pos + 2]
        record = RECORDS.get(header)
        if record is None:
            return {"errors": [f"unknown record header {header.hex()} at offset {pos}"]}
        size, decode = record
        start = pos + 2
        if start + size > len(payload):
            return {"errors": [f"record {header.hex()} needs {size} byte(s) at offset {start}"]}
        data.update(decode(payload[start : start + size]))
        pos = start + size
    return {"data": data, "warnings": [], "errors": []}


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    """``{"relay_closed": 1}`` (or 0, true, false) switches the relay; ``{"request_voltage": true, ...}`` asks for
    readings. Unknown keys are refused so a typo never sends an empty command."""
    out = bytearray()
    for key, value in data.items():
        if key == "relay_closed":
            if isinstance(value, bool):
                value = int(value)
            if not isinstance(value, int) or not 0 <= value <= 255:
                return {"errors": ["relay_closed must be 0 or 1 (a byte)"]}
            out += bytes([0x00, 0x01, value])
        elif key in REQUESTS:
            if value is True:
                out += bytes([REQUESTS[key], 0x93])
        else:
            return {"errors": [f"unknown command {key!r}"]}
    if not out:
        return {"errors": ["nothing to encode: give relay_closed or a request_* flag"]}
    return {"f_port": PORT, "bytes": bytes(out), "warnings": [], "errors": []}


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    data: dict[str, Any] = {}
    pos = 0
    while pos < len(payload):
        if payload[pos : pos + 2] == b"\x00\x01" and pos + 3 <= len(payload):
            data["relay_closed"] = payload[pos + 2]
            pos += 3
        elif pos + 2 <= len(payload) and payload[pos + 1] == 0x93 and payload[pos] in _REQUEST_NAMES:
            data[_REQUEST_NAMES[payload[pos]]] = True
            pos += 2
        else:
            return {"errors": [f"unknown or short command at offset {pos}"]}
    if not data:
        return {"errors": ["empty payload"]}
    return {"data": data, "warnings": [], "errors": []}
