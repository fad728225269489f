"""Milesight IoT uplink format: a sequence of ``channel_id, channel_type, value`` records.

Every Milesight LoRaWAN sensor (EM300/EM310/EM400/EM500, WS, UC series) sends its readings on fPort 85 as records
of one channel id byte, one channel type byte and a value whose length the pair fixes (Milesight "Payload
Definition" tables in each device's user guide and in github.com/Milesight-IoT/SensorDecoders). Values are
little-endian. A codec describes its device as a table ``{(channel_id, channel_type): Channel}`` and calls
``decode``; ``DEVICE_INFO`` holds the 0xFF attribute records every device shares.

Vendor decoders stop silently at the first unknown record; we stop too (its length is unknown, so nothing after
it can be read) but say so in a warning, and a record cut short by the end of the payload is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MILESIGHT_F_PORT = 85

Value = Any
Fields = dict[str, Value]


@dataclass(frozen=True, slots=True)
class Channel:
    """One record type: ``size`` value bytes, turned into one or more named fields by ``decode``.

    A record holding a single field (most of them) also keeps its ``key`` and value reader ``read``, so the
    record walk stores the value directly instead of building a one-entry dict and merging it."""

    size: int
    decode: Callable[[bytes], Fields]
    key: str | None = None
    read: Callable[[bytes], Value] | None = None


ChannelTable = Mapping[tuple[int, int], Channel]


# --- value readers (little-endian, Milesight "Payload Definition": all multi-byte values are LE) --------------


def u8(raw: bytes, at: int = 0) -> int:
    return raw[at]


def u16(raw: bytes, at: int = 0) -> int:
    return int.from_bytes(raw[at : at + 2], "little")


def s16(raw: bytes, at: int = 0) -> int:
    return int.from_bytes(raw[at : at + 2], "little", signed=True)


def u32(raw: bytes, at: int = 0) -> int:
    return int.from_bytes(raw[at : at + 4], "little")


def js_number(value: float) -> int | float:
    """Integral floats as ints, the way the vendors' JavaScript prints them (``1000 / 1000`` is ``1``)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def label(table: Mapping[int, str], value: int) -> str:
    """An enumerated value by name; the vendor decoders print unlisted values as ``"unknown"``."""
    return table.get(value, "unknown")


# --- channel builders, so device tables read as one line per record -----------------------------------------


def field(key: str, size: int, read: Callable[[bytes], Value]) -> Channel:
    """A record holding exactly one field."""
    return Channel(size, lambda raw: {key: read(raw)}, key, read)


def uint8(key: str) -> Channel:
    return field(key, 1, u8)


def uint16(key: str) -> Channel:
    return field(key, 2, u16)


def enum8(key: str, table: Mapping[int, str]) -> Channel:
    return field(key, 1, lambda raw: label(table, raw[0]))


def temperature(key: str = "temperature") -> Channel:
    """Signed 0.1 °C (Milesight channel type 0x67)."""
    return field(key, 2, lambda raw: js_number(s16(raw) / 10))


# --- the 0xFF attribute records every Milesight device sends after join or on request -----------------------


def _version_hw(raw: bytes) -> str:
    # "hardware_version, e.g. 0110 -> v1.1": major as hex digits, minor in the high nibble of the second byte.
    return f"v{raw[0]:x}.{raw[1] >> 4}"


def _version_fw(raw: bytes) -> str:
    # "firmware_version, e.g. 0110 -> v1.10"
    return f"v{raw[0]:x}.{raw[1]:x}"


_CLASSES = {0: "Class A", 1: "Class B", 2: "Class C", 3: "Class CtoB"}

DEVICE_INFO: dict[tuple[int, int], Channel] = {
    (0xFF, 0x01): field("ipso_version", 1, lambda raw: f"v{raw[0] >> 4}.{raw[0] & 0x0F}"),
    (0xFF, 0x09): field("hardware_version", 2, _version_hw),
    (0xFF, 0x0A): field("firmware_version", 2, _version_fw),
    (0xFF, 0xFF): field("tsl_version", 2, lambda raw: f"v{raw[0]}.{raw[1]}"),
    (0xFF, 0x16): field("sn", 8, lambda raw: raw.hex()),
    (0xFF, 0x0F): enum8("lorawan_class", _CLASSES),
    # Reset event and device status carry one byte the vendor decoders ignore: receiving the record is the event.
    (0xFF, 0xFE): field("reset_event", 1, lambda raw: "reset"),
    (0xFF, 0x0B): field("device_status", 1, lambda raw: "on"),
}


def result(data: Fields | None, warnings: list[str], errors: list[str]) -> dict[str, Any]:
    return {"data": data, "warnings": warnings, "errors": errors}


def _merge(data: Fields, fields: Fields) -> None:
    """Later records win, except lists (historical readings), which accumulate in payload order."""
    for key, value in fields.items():
        previous = data.get(key)
        data[key] = previous + value if isinstance(previous, list) and isinstance(value, list) else value


def _add(data: Fields, fields: Fields) -> None:
    # Per record: a plain update when no key repeats (nearly always), the list-merging walk otherwise.
    if data.keys().isdisjoint(fields):
        data.update(fields)
    else:
        _merge(data, fields)


def decode(f_port: int, payload: bytes, table: ChannelTable) -> dict[str, Any]:
    """Walk the records of ``payload`` with ``table`` and return the TS013 uplink result."""
    if f_port != MILESIGHT_F_PORT:
        return result(None, [], ["unknown FPort"])
    if not payload:
        return result(None, [], ["empty payload"])
    data: Fields = {}
    warnings: list[str] = []
    pos = 0
    length, get = len(payload), table.get  # locals: this loop runs once per record of every uplink
    while pos < length:
        if pos + 2 > length:
            return result(None, [], [f"truncated record header at offset {pos}"])
        key = (payload[pos], payload[pos + 1])
        channel = get(key)
        if channel is None:
            warnings.append(
                f"unknown channel 0x{key[0]:02x} type 0x{key[1]:02x} at offset {pos}; rest of payload ignored"
            )
            break
        start = pos + 2
        size = channel.size
        end = start + size
        if end > length:
            name = f"channel 0x{key[0]:02x} type 0x{key[1]:02x}"
            return result(None, [], [f"{name} needs {size} byte(s) at offset {start}"])
        read = channel.read
        if read is None:
            _add(data, channel.decode(payload[start:end]))
        else:
            value = read(payload[start:end])
            field_key = channel.key
            assert field_key is not None  # set together with read
            if type(value) is list and field_key in data:
                _merge(data, {field_key: value})
            else:
                data[field_key] = value
        pos = end
    return result(data, warnings, [])
