"""InfluxDB line protocol, formatted by hand: a line costs ~2 µs here, a ``Point`` object ~25 µs.

Escaping follows the line-protocol reference: measurement names escape commas and spaces; tag keys, tag values
and field keys escape commas, equals signs and spaces; string field values are double-quoted with ``"`` and
``\\`` escaped. Newlines would end the line, so they become spaces. Empty tag values are left out (InfluxDB
rejects them) and non-finite floats are left out (the format has no NaN or Inf).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from lora_city.sinks.events import UplinkEvent

FAMILIES = frozenset({"streetlight", "water", "flood"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_KEY_ESCAPES = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": " ", "\r": " ", "\\": "\\\\"})
_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ ", "\n": " ", "\r": " ", "\\": "\\\\"})
_STRING_ESCAPES = str.maketrans({'"': '\\"', "\\": "\\\\", "\n": "\\n"})


def escape_key(text: str) -> str:
    """A tag key, tag value or field key."""
    return text.translate(_KEY_ESCAPES)


def escape_measurement(text: str) -> str:
    return text.translate(_MEASUREMENT_ESCAPES)


def format_field_value(value: float | int | bool | str) -> str | None:
    """None when the value cannot be written (NaN, ±Inf)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return '"' + str(value).translate(_STRING_ESCAPES) + '"'


def timestamp_ns(time: datetime) -> int:
    """Exact nanoseconds since the epoch (float seconds would round); fixed per uplink, so replays overwrite."""
    return (time - _EPOCH) // _MICROSECOND * 1000


def measurement_for(family: str | None) -> str:
    return family if family in FAMILIES else "other"


def format_uplink(event: UplinkEvent) -> str:
    """One line for one uplink: measurement = sensor family; tags identify the device; fields are the normalised
    measurements (numbers always as floats, so a reading of ``3`` and one of ``3.5`` share a field type) plus
    radio metadata (rssi and snr of the best gateway, spreading factor, gateway count, f_cnt)."""
    device = event.device
    family = measurement_for(device.family)
    tags = [
        ("application", device.application_id or ""),
        ("codec", device.codec_id or ""),
        ("dev_eui", device.dev_eui),
        ("family", family),
        ("tenant", device.tenant_id),
    ]
    parts: list[str] = []
    for name, (value, _unit) in event.measurements.items():
        if isinstance(value, bool):
            parts.append(f"{escape_key(name)}={'true' if value else 'false'}")
        elif isinstance(value, int | float) and math.isfinite(value):
            parts.append(f"{escape_key(name)}={float(value)!r}")
    names = event.measurements
    if event.rx:
        best = max(event.rx, key=lambda rx: rx.snr)
        if "rssi" not in names and math.isfinite(best.rssi):
            parts.append(f"rssi={float(best.rssi)!r}")
        if "snr" not in names and math.isfinite(best.snr):
            parts.append(f"snr={float(best.snr)!r}")
    if "spreading_factor" not in names:
        parts.append(f"spreading_factor={event.spreading_factor}i")
    if "gateway_count" not in names:
        parts.append(f"gateway_count={len(event.rx)}i")
    if "f_cnt" not in names:
        parts.append(f"f_cnt={event.f_cnt}i")
    tag_text = "".join(f",{k}={escape_key(v)}" for k, v in tags if v)
    return f"{family}{tag_text} {','.join(parts)} {timestamp_ns(event.time)}"
