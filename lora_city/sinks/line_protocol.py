"""InfluxDB line protocol, formatted by hand: about six times cheaper than influxdb-client's ``Point`` (measured
side by side on the shared build machine: 19 µs against 122 µs per uplink; a few µs when the machine is idle).

Escaping follows the line-protocol reference: tag keys, tag values and field keys escape commas, equals signs,
spaces (and the backslash itself). Newlines would end the line, so they become spaces. Measurement names are
our fixed family names and need none. Empty tag values are left out (InfluxDB rejects them) and non-finite
numbers are left out (the format has no NaN or Inf). There are no string fields.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from math import isfinite

from lora_city.sinks.events import DeviceInfo, UplinkEvent

FAMILIES = frozenset({"streetlight", "water", "flood"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_KEY_ESCAPES = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": " ", "\r": " ", "\\": "\\\\"})


def escape_key(text: str) -> str:
    """A tag key, tag value or field key."""
    return text.translate(_KEY_ESCAPES)


def timestamp_ns(time: datetime) -> int:
    """Exact nanoseconds since the epoch; fixed per uplink, so replays overwrite. ``timestamp()`` is a float,
    off by far less than half a second once the microseconds are taken out, so rounding gives whole seconds."""
    if time.tzinfo is UTC:  # the pipeline's own times: integer arithmetic on the timedelta, no float (0.35 µs)
        d = time - _EPOCH
        return (d.days * 86_400 + d.seconds) * 1_000_000_000 + d.microseconds * 1000
    if time.tzinfo is None:
        return (time.replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND * 1000
    micro = time.microsecond
    return round(time.timestamp() - micro * 1e-6) * 1_000_000_000 + micro * 1000


def measurement_for(family: str | None) -> str:
    return family if family in FAMILIES else "other"


_tag_cache: dict[tuple[str, str, str | None, str | None, str | None], str] = {}
_field_key_cache: dict[str, str] = {}
_field_eq_cache: dict[str, str] = {}  # name -> "escaped_name="
_radio_cache: dict[tuple[float, float, int, int], str] = {}
_CACHE_LIMIT = 100_000


def _series_prefix(device: DeviceInfo) -> str:
    """``measurement,tag=value,…`` for a device: built once per device and cached, as it rarely changes."""
    key = (device.dev_eui, device.tenant_id, device.application_id, device.codec_id, device.family)
    prefix = _tag_cache.get(key)
    if prefix is None:
        family = measurement_for(device.family)
        tags = (
            ("application", device.application_id or ""),
            ("codec", device.codec_id or ""),
            ("dev_eui", device.dev_eui),
            ("family", family),
            ("tenant", device.tenant_id),
        )  # sorted by key, as InfluxDB recommends
        prefix = family + "".join(f",{k}={escape_key(v)}" for k, v in tags if v)
        if len(_tag_cache) >= _CACHE_LIMIT:
            _tag_cache.clear()
        _tag_cache[key] = prefix
    return prefix


def _field_key(name: str) -> str:
    key = _field_key_cache.get(name)
    if key is None:
        key = escape_key(name)
        if len(_field_key_cache) < _CACHE_LIMIT:
            _field_key_cache[name] = key
    return key


_RADIO_FIELDS = frozenset({"rssi", "snr", "spreading_factor", "gateway_count", "f_cnt"})


def format_uplink(event: UplinkEvent) -> str:
    """One line for one uplink: measurement = sensor family; tags identify the device; fields are the normalised
    measurements plus radio metadata (rssi and snr of the best gateway, spreading factor, gateway count, f_cnt).

    Numbers are written without the ``i`` suffix, which line protocol reads as floats: a reading of ``3`` and
    one of ``3.5`` then share a field type (InfluxDB refuses a field that changes type)."""
    names = event.measurements
    parts: list[str] = []
    append = parts.append
    for name, (value, _unit) in names.items():  # a plain loop and cached "key=": ~30 % cheaper than f-strings
        key = _field_eq_cache.get(name)
        if key is None:
            key = _field_key(name) + "="
            if len(_field_eq_cache) < _CACHE_LIMIT:
                _field_eq_cache[name] = key
        if value is True:
            append(key + "true")
        elif value is False:
            append(key + "false")
        elif isfinite(value):
            append(key + repr(value))
    rx_list = event.rx
    if rx_list and names.keys().isdisjoint(_RADIO_FIELDS):  # the common case, in one formatting step
        best = rx_list[0]
        for rx in rx_list:
            if rx.snr > best.snr:
                best = rx
        if isfinite(best.rssi) and isfinite(best.snr):
            # RSSI and SNR come in whole dB and quarter-dB steps: few combinations, so their text is cached
            # (two float reprs cost more than the rest of the radio part).
            radio_key = (best.rssi, best.snr, event.spreading_factor, len(rx_list))
            radio = _radio_cache.get(radio_key)
            if radio is None:
                radio = (f"rssi={best.rssi!r},snr={best.snr!r},spreading_factor={event.spreading_factor}i,"
                         f"gateway_count={len(rx_list)}i,f_cnt=")
                if len(_radio_cache) >= _CACHE_LIMIT:
                    _radio_cache.clear()
                _radio_cache[radio_key] = radio
            append(f"{radio}{event.f_cnt}i")
            return f"{_series_prefix(event.device)} {','.join(parts)} {timestamp_ns(event.time)}"
    return _with_radio_fields(event, parts)


def _with_radio_fields(event: UplinkEvent, parts: list[str]) -> str:
    """The general case: no gateway, a non-finite radio value, or a measurement named like a radio field
    (the measurement wins)."""
    names = event.measurements
    if event.rx:
        best = max(event.rx, key=lambda rx: rx.snr)
        if "rssi" not in names and isfinite(best.rssi):
            parts.append(f"rssi={best.rssi!r}")
        if "snr" not in names and isfinite(best.snr):
            parts.append(f"snr={best.snr!r}")
    if "spreading_factor" not in names:
        parts.append(f"spreading_factor={event.spreading_factor}i")
    if "gateway_count" not in names:
        parts.append(f"gateway_count={len(event.rx)}i")
    if "f_cnt" not in names:
        parts.append(f"f_cnt={event.f_cnt}i")
    return f"{_series_prefix(event.device)} {','.join(parts)} {timestamp_ns(event.time)}"
