"""NAS (Nordic Automation Systems) UL20x2 LoRaWAN luminaire controller, firmware 1.1.x: DALI / 0-10 V dimming of
street lamps, relay, metering. Written from the vendor's payload documentation (docs.nasys.no/en/lcu:
"payloads-uplinks", "payloads-commands"), whose worked examples are this codec's known answers (examples.json).

All multi-byte fields are little-endian. Addresses (one byte) name what a value is about: 0x01 the 0-10 V analog
output, 0xFE every DALI driver (broadcast), ``0b0aaaaaa0`` DALI driver a (0..63), ``0b100gggg0`` DALI group g.

Uplinks
- fPort 23, status: header (0x01; 0x00 before FW 1.1.4), device time, status bits (relay, DALI bus, metering),
  downlink RSSI/SNR, MCU temperature, alerts of the last 24 h, sensor sources (LDR, light sensor, digital input,
  tilt), then per output: address, the reason of its level (calendar dusk step, manual override, relay off …), the
  level in % and the DALI driver's status byte (IEC 62386-102 "status": bit 0 control gear failure, bit 1 lamp
  failure, bit 2 lamp on, bit 3 limit error, bit 4 fade running, bit 5 reset state, bit 6 missing short address,
  bit 7 power failure).
- fPort 26, usage: per measured output, a presence bit field then active energy (Wh), active power (W), load-side
  energy and power, power factor (/100), mains voltage (V), driver operating time (s), lamp on time (s).
- fPort 60, the device's echo of an applied command (its broadcast level becomes ``dim_level__percent``); fPort 61, alerts (DALI driver, metering); fPort 99, boot and
  "invalid downlink" reports.

Downlinks (fPort 60)
- ``{"dim_level": 0..100}`` sets every DALI driver (``address`` to pick another output), ``{"lamp": "on"|"off"}``
  is 100 % / 0 % (the relay opens when every output is at or below 1 %), ``{"resume": true}`` cancels a manual
  level so the controller's own calendar applies again, with ``duration_minutes`` the level holds that long
  (timed dimming, 0x09); ``{"read": "status"|"usage"|"both"}`` asks for a status/usage report (0x05);
- the vendor's own objects: ``manual_dimming``, ``manual_timed_dimming``, ``status_usage_request``.

Beside the vendor's fields every decode adds a summary the measurement catalogue reads: ``dim_level__percent``,
``lamp_on``, ``lamp_failure``, ``energy__Wh``, ``power__W``, ``lamp_on_time__h`` … (see manifest.json).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

DIM_PORT = 60
BROADCAST = 0xFE
ANALOG = 0x01
_MIN_EPOCH = 1_420_070_400  # 2015-01-01: earlier means the device never got the time (it counts from 2000)

_REASONS = {
    0x21: "calendar_day", 0x22: "calendar_night", 0x30: "calendar_dawn_step", 0x50: "calendar_dusk_step",
    245: "relay_off", 246: "driver_not_found", 248: "fallback_active", 250: "ldr_input_active",
    252: "dig_input_active", 253: "manual_active", 255: "unknown",
}
_DALI_BITS = ("driver_error", "lamp_failure", "lamp_on", "limit_error", "fade_running", "reset_state",
              "missing_short_address", "power_failure")
_DALI_WARN = {"driver_error", "lamp_failure", "limit_error", "reset_state", "power_failure"}
_USAGE_FIELDS = (  # presence bit -> (name, size, scale)
    ("active_energy__Wh", 4, None), ("active_power__W", 2, None), ("load_side_energy__Wh", 4, None),
    ("load_side_power__W", 2, None), ("power_factor", 1, "pf"), ("mains_voltage__V", 1, None),
    ("driver_operating_time__h", 4, "h"), ("lamp_on_time__h", 4, "h"),
)
_DEVICE_CONFIG = ("dali", "dali_nc", "dali_no", "analog_nc", "analog_no", "dali_analog_nc", "dali_analog_no",
                  "dali_analog_nc_no")
_DOWNLINK_ERRORS = {
    0x02: "unknown_fport", 0x03: "packet_size_short", 0x04: "packet_size_long", 0x05: "value_error",
    0x06: "protocol_parse_error", 0x07: "reserved_flag_set", 0x08: "invalid_flag_combination",
    0x09: "unavailable_feature_request", 0x0A: "unsupported_header", 0x0B: "unreachable_hw_request",
    0x0C: "address_not_available", 0x0D: "internal_error", 0x0E: "packet_size_error",
}


class _Short(ValueError):
    pass


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    @property
    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise _Short(f"{what}: needs {n} byte(s) at offset {self.pos}, payload has {len(self.data)}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u(self, n: int, what: str) -> int:
        return int.from_bytes(self.take(n, what), "little")

    def s8(self, what: str) -> int:
        return int.from_bytes(self.take(1, what), "little", signed=True)


def _bits(value: int, n: int) -> list[bool]:
    return [bool(value >> i & 1) for i in range(n)]


def address_name(addr: int, ff: str | None = None) -> str:
    if addr == ANALOG:
        return "analog_0_10v"
    if addr == BROADCAST:
        return "dali_broadcast"
    if addr == 0xFF and ff is not None:
        return ff
    if addr & 0x01 or addr == 0xFF:
        return "invalid"
    if addr & 0x80:
        return f"dali_group_{addr >> 1 & 0x0F}"
    return f"dali_single_{addr >> 1 & 0x3F}"


def address_byte(name: Any) -> int | None:
    if name in (None, "dali_broadcast", "all_drivers"):
        return BROADCAST
    if name == "analog_0_10v":
        return ANALOG
    if isinstance(name, str):
        for prefix, high, top in (("dali_single_", 0x00, 63), ("dali_group_", 0x80, 15)):
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                n = int(name[len(prefix):])
                if 0 <= n <= top:
                    return high | n << 1
    return None


def _epoch(value: int, warnings: list[str]) -> str:
    if value < _MIN_EPOCH:
        warnings.append("invalid_timestamp")
        return "invalid_timestamp"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dali_status(value: int, address: str, warnings: list[str]) -> dict[str, bool] | None:
    if value == 0xFF:
        return None  # the driver did not answer the query
    status = dict(zip(_DALI_BITS, _bits(value, 8), strict=True))
    warnings.extend(f"{address} {name}" for name in _DALI_BITS if status[name] and name in _DALI_WARN)
    return status


def _reason(value: int, errors: list[str]) -> str:
    if value <= 7:
        return f"profile_{value}"
    if value in _REASONS:
        return _REASONS[value]
    errors.append(f"invalid dimming reason {value}")
    return "invalid_reason"


def _lux(raw: int) -> float | None:
    if raw == 0xFFFF:
        return None
    return round(10 ** ((raw & 0x7FFF) / 4000.0) / 1000.0, 1)


# --- uplinks ---------------------------------------------------------------------------------------------------

def _status(r: _Bytes, warnings: list[str], errors: list[str]) -> dict[str, Any]:
    header = r.u(1, "packet_type")
    if header not in (0x00, 0x01):
        raise ValueError(f"unknown status packet type 0x{header:02x}")
    legacy = header == 0x00
    out: dict[str, Any] = {"packet_type": "status_packet", "device_unix_epoch": _epoch(r.u(4, "epoch"), warnings)}
    b = _bits(r.u(1, "status_field"), 8)
    status: dict[str, Any] = {"dali_connection_error": b[1], "metering_com_error": b[5], "ext_rtc_warning": b[6],
                              "internal_relay_closed": b[7]}
    for flag, name in ((b[1], "dali_connection_error"), (b[5], "metering_com_error"), (b[6], "ext_rtc_warning")):
        if flag:
            warnings.append(name)
    if legacy:
        status.update(ldr_input_on=b[2], dig_input_on=b[4])
    else:
        b1 = _bits(r.u(1, "status_field_2"), 8)
        status.update(open_drain_output_on=b1[2], lumalink_connected=b1[6], lumalink_connected_after_boot=b1[7])
    out["status"] = status
    out["downlink_rssi__dBm"] = -r.u(1, "downlink_rssi")
    out["downlink_snr__dB"] = r.s8("downlink_snr")
    out["mcu_temperature__C"] = r.s8("mcu_temperature")
    alerts_sent = True
    if legacy:
        b2 = _bits(r.u(1, "reported_fields"), 8)
        status["open_drain_output_on"] = b2[2]
        alerts_sent = b2[4]
        if b2[1]:
            out["ldr_input_value"] = r.u(1, "ldr_input_value")
    if alerts_sent:
        a = _bits(r.u(1, "active_alerts"), 8)
        out["active_alerts"] = {"voltage_alert_in_24h": a[4], "lamp_error_alert_in_24h": a[5],
                                "power_alert_in_24h": a[6], "power_factor_alert_in_24h": a[7]}
        warnings.extend(n for n, on in out["active_alerts"].items() if on)
    if not legacy:
        out["sensor_source"] = _sensor_sources(r, errors)
    sources = []
    while r.left:
        address = address_name(r.u(1, "dimming_source.address"))
        reason = _reason(r.u(1, "dimming_source.reason"), errors)
        level = r.u(1, "dimming_source.level")
        sources.append({"address": address, "reason": reason,
                        "dimming_level__percent": None if level == 0xFF else level,
                        "status": _dali_status(r.u(1, "dimming_source.status"), address, warnings)})
    out["dimming_source"] = sources
    _status_summary(out)
    return out


def _sensor_sources(r: _Bytes, errors: list[str]) -> dict[str, Any]:
    length = r.u(1, "sensor_source length")
    block = _Bytes(r.take(length, "sensor_source"))
    found: dict[str, Any] = {}
    while block.left:
        kind = block.u(1, "sensor_source.type")
        if kind == 0x01:
            found["ldr_input"] = block.u(1, "ldr_input")
        elif kind == 0x02:
            found["light_sensor__lx"] = _lux(block.u(2, "light_sensor"))
        elif kind == 0x03:
            found["d4i_light_sensor__lx"] = _lux(block.u(2, "d4i_light_sensor"))
        elif kind == 0x04:
            found["dig_input_1_on"] = bool(block.u(1, "dig_input") & 1)
        elif kind == 0x08:
            tilt = block.u(1, "tilt_sensor")
            found["tilt_sensor__deg"] = None if tilt == 0xFF else tilt
        else:
            errors.append(f"unsupported sensor source 0x{kind:02x}")
            break
    return found


def _status_summary(out: dict[str, Any]) -> None:
    """What the lamp does now: the first output's level (0 when the relay is open), lit or not, failed or not."""
    levels = [s["dimming_level__percent"] for s in out["dimming_source"] if s["dimming_level__percent"] is not None]
    relay = out["status"]["internal_relay_closed"]
    if levels or not relay:
        level = levels[0] if levels and relay else 0
        out["dim_level__percent"] = level
        out["lamp_on"] = bool(relay and level > 0)
    statuses = [s["status"] for s in out["dimming_source"] if s["status"] is not None]
    if statuses:
        out["lamp_failure"] = any(s["lamp_failure"] or s["driver_error"] for s in statuses)


def _usage(r: _Bytes) -> dict[str, Any]:
    if r.u(1, "packet_type") != 0x00:
        raise ValueError("unknown usage packet type")
    consumption = []
    while r.left:
        entry: dict[str, Any] = {"address": address_name(r.u(1, "consumption.address"), "internal_measurement")}
        present = _bits(r.u(1, "consumption.fields"), 8)
        for on, (name, size, kind) in zip(present, _USAGE_FIELDS, strict=True):
            if not on:
                continue
            raw = r.u(size, name)
            if kind == "pf":
                entry[name] = None if raw == 0xFF else raw / 100
            elif kind == "h":
                entry[name] = round(raw / 3600, 1)
            else:
                entry[name] = raw
        consumption.append(entry)
    out: dict[str, Any] = {"packet_type": "usage_packet", "consumption": consumption}
    # Totals: the controller's own meter when it has one, else the sum of the DALI drivers' (D4i) meters.
    internal = [c for c in consumption if c["address"] == "internal_measurement"]
    drivers = [c for c in consumption if c["address"] != "internal_measurement"]
    for key, total in (("active_energy__Wh", "energy__Wh"), ("active_power__W", "power__W")):
        mine = [c[key] for c in internal if key in c]
        theirs = [c[key] for c in drivers if key in c]
        if mine or theirs:
            out[total] = mine[0] if mine else sum(theirs)
    for key in ("lamp_on_time__h", "driver_operating_time__h", "power_factor", "mains_voltage__V"):
        values = [c[key] for c in internal + drivers if c.get(key) is not None]
        if values:
            out[key] = max(values) if key.endswith("__h") else values[0]
    return out


def _alert(r: _Bytes, warnings: list[str], errors: list[str]) -> dict[str, Any]:
    header = r.u(1, "packet_type")
    second = r.u(1, "alert header")
    length = second >> 4
    if header == 0x80:
        if length == 2:
            return {"packet_type": "dig_input_alert", "dig_input_event_counter": r.u(2, "counter")}
        if length == 4:
            return {"packet_type": "dig_input_alert", "dig_input_on": bool(second & 1),
                    "dig_input_event_counter": r.u(4, "counter")}
        raise ValueError(f"dig_input_alert of length {length}")
    if header == 0x81:
        on = bool(r.u(1, "ldr state") & 1)
        return {"packet_type": "ldr_input_alert", "ldr_input_on": on, "ldr_input_value": r.u(1, "ldr value")}
    if header == 0x83:
        drivers = []
        while r.left:
            address = address_name(r.u(1, "driver.address"))
            drivers.append({"address": address, "status": _dali_status(r.u(1, "driver.status"), address, warnings)})
        out = {"packet_type": "dali_driver_alert", "drivers": drivers}
        statuses = [d["status"] for d in drivers if d["status"] is not None]
        out["lamp_failure"] = any(s["lamp_failure"] or s["driver_error"] for s in statuses)
        return out
    if header == 0x84:
        flags = dict(zip(("lamp_error_alert", "over_current_alert", "under_voltage_alert", "over_voltage_alert",
                          "low_power_factor_alert"), _bits(second, 5), strict=True))
        warnings.extend("metering_" + k.removesuffix("_alert") for k, on in flags.items() if on)
        return {"packet_type": "metering_alert", **flags, "power__W": r.u(2, "power"),
                "voltage__V": r.u(2, "voltage"), "power_factor": r.u(1, "power_factor") / 100,
                "lamp_failure": flags["lamp_error_alert"]}
    if header == 0x85:
        return {"packet_type": "light_sensor_notification", "active_dim_step": second}
    errors.append(f"unknown alert packet type 0x{header:02x}")
    return {}


def _system(r: _Bytes, warnings: list[str]) -> dict[str, Any]:
    header = r.u(1, "packet_type")
    if header == 0x13:
        port = r.u(1, "downlink_from_fport")
        reason = _DOWNLINK_ERRORS.get(r.u(1, "error_code"), "invalid_error_code")
        warnings.append(f"downlink_error {reason}")
        return {"packet_type": "invalid_downlink_packet", "downlink_from_fport": port, "error_reason": reason}
    if header != 0x00:
        raise ValueError(f"unknown system packet type 0x{header:02x}")
    serial = f"{r.u(4, 'device_serial'):08X}"
    version = ".".join(str(r.u(1, "firmware_version")) for _ in range(3))
    out: dict[str, Any] = {"packet_type": "boot_packet", "device_serial": serial, "firmware_version": version,
                           "device_unix_epoch": _epoch(r.u(4, "epoch"), warnings)}
    config = r.u(1, "device_config")
    out["device_config"] = _DEVICE_CONFIG[config] if config < len(_DEVICE_CONFIG) else "invalid_config"
    f = _bits(r.u(1, "optional_features"), 8)
    out["optional_features"] = {"dig_input": f[2], "ldr_input": f[3], "open_drain_output": f[4], "metering": f[5]}
    dali = r.u(1, "dali_supply")
    supply = dali & 0x7F
    if supply == 0x7F:
        warnings.append("dali_bus_error")
    out["dali_supply_state__V"] = supply if supply < 0x70 else {0x7E: "bus_high", 0x7F: "bus_error"}.get(
        supply, "invalid_value")
    out["dali_power_source_external"] = bool(dali & 0x80)
    drivers = r.u(1, "dali drivers")
    out["dali_addressed_driver_count"] = drivers & 0x7F
    out["dali_unaddressed_driver_found"] = bool(drivers & 0x80)
    if drivers & 0x80:
        warnings.append("unaddressed_dali_driver_on_bus")
    if r.left:
        reasons = _bits(r.u(1, "reset_reason"), 8)
        names = ["reset_0", "watchdog_reset", "soft_reset", "reset_3", "reset_4", "reset_5", "reset_6", "reset_7"]
        out["reset_reason"] = [n for n, on in zip(names, reasons, strict=True) if on]
        if reasons[1]:
            warnings.append("watchdog_reset")
    return out


def _command(r: _Bytes, errors: list[str]) -> dict[str, Any]:
    """fPort 60 in both directions: what we send, and the device's echo once applied."""
    header = r.u(1, "packet_type")
    if header in (0x01, 0x09):
        timed = header == 0x09
        destination = []
        while r.left:
            entry: dict[str, Any] = {"address": address_name(r.u(1, "address"), "all_devices")}
            level = r.u(1, "dimming_level")
            entry["dimming_level__percent"] = "resume" if level == 0xFF else level
            if timed:
                entry["duration__minutes"] = r.u(1, "duration")
            destination.append(entry)
        if not destination:
            errors.append("a dimming command needs at least one destination")
        out = {"packet_type": "manual_timed_dimming" if timed else "manual_dimming", "destination": destination}
        # The device echoes a command it applied (fPort 60 is bidirectional): the level every DALI driver now has.
        broadcast = [d["dimming_level__percent"] for d in destination if d["address"] == "dali_broadcast"
                     and isinstance(d["dimming_level__percent"], int)]
        if broadcast:
            out["dim_level__percent"] = broadcast[-1]
        return out
    if header == 0x05:
        b = _bits(r.u(1, "request flags"), 8)
        out: dict[str, Any] = {"packet_type": "status_usage_request", "usage_requested": b[0],
                               "status_requested": b[1], "dim_map_report_requested": b[2]}
        if b[2] and r.left:
            out["drivers"] = []
            while r.left:
                address = address_name(r.u(1, "address"))
                low, high = r.u(1, "dali_min_level"), r.u(1, "dali_max_level")
                curve = "logarithmic" if r.u(1, "dimming_curve") == 0 else "linear"
                out["drivers"].append({"address": address, "dali_min_level": low, "dali_max_level": high,
                                       "dimming_curve": curve})
        return out
    if header == 0x0C:
        return {"packet_type": "open_drain_output_control", "open_drain_output_on": bool(r.u(1, "state") & 1)}
    errors.append(f"unsupported command 0x{header:02x}")
    r.take(r.left, "rest")
    return {}


def _decode(f_port: int, payload: bytes, *, downlink: bool) -> dict[str, Any]:
    warnings: list[str] = []
    errors: list[str] = []
    if not payload:
        return {"data": None, "warnings": [], "errors": ["empty payload"]}
    r = _Bytes(payload)
    try:
        if f_port == DIM_PORT:
            data = _command(r, errors)
        elif downlink:
            return {"data": None, "warnings": [], "errors": [f"no downlink on fPort {f_port} is decoded"]}
        elif f_port == 23:
            data = _status(r, warnings, errors)
        elif f_port == 26:
            data = _usage(r)
        elif f_port == 61:
            data = _alert(r, warnings, errors)
        elif f_port == 99:
            data = _system(r, warnings)
        else:
            return {"data": None, "warnings": [], "errors": [f"unknown fPort {f_port}"]}
    except (_Short, ValueError) as exc:
        return {"data": None, "warnings": warnings, "errors": [str(exc)]}
    if r.left:
        errors.append(f"{r.left} unexpected trailing byte(s)")
    return {"data": data, "warnings": warnings, "errors": errors}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    return _decode(f_port, payload, downlink=False)


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    return _decode(f_port, payload, downlink=True)


# --- downlinks -------------------------------------------------------------------------------------------------

def _level(value: Any, field: str) -> int:
    if value == "resume":
        return 0xFF
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{field} must be a number from 0 to 100")
    if value != int(value) or not 0 <= value <= 100:
        raise ValueError(f"{field} must be a whole number from 0 to 100, got {value}")
    return int(value)


def _address(value: Any) -> int:
    addr = address_byte(value)
    if addr is None:
        raise ValueError(f"unknown address {value!r} (dali_broadcast, analog_0_10v, dali_single_0..63, "
                         "dali_group_0..15)")
    return addr


def _duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 255:
        raise ValueError("duration_minutes must be a whole number from 1 to 255")
    return value


def _encode(data: dict[str, Any]) -> bytes:
    kind = data.get("packet_type")
    if kind in ("manual_dimming", "manual_timed_dimming"):
        timed = kind == "manual_timed_dimming"
        destination = data.get("destination")
        if not isinstance(destination, list) or not destination:
            raise ValueError("destination must be a non-empty list")
        body = bytes((0x09 if timed else 0x01,))
        for entry in destination:
            if not isinstance(entry, dict):
                raise ValueError("each destination is an object")
            body += bytes((_address(entry.get("address")), _level(entry.get("dimming_level__percent"),
                                                                  "dimming_level__percent")))
            if timed:
                body += bytes((_duration(entry.get("duration__minutes")),))
        return body
    if kind == "status_usage_request":
        flags = (bool(data.get("usage_requested")) | bool(data.get("status_requested")) << 1
                 | bool(data.get("dim_map_report_requested")) << 2)
        return bytes((0x05, flags))
    if kind is not None:
        raise ValueError(f"unsupported packet_type {kind!r}")
    if "read" in data:
        flags = {"usage": 0x01, "status": 0x02, "both": 0x03}.get(data["read"])
        if flags is None:
            raise ValueError("read must be status, usage or both")
        return bytes((0x05, flags))
    given = [k for k in ("dim_level", "lamp", "resume") if k in data]
    if len(given) != 1:
        raise ValueError("give exactly one of dim_level (0..100), lamp (on/off) and resume (true)")
    if "lamp" in data:
        if data["lamp"] not in ("on", "off"):
            raise ValueError("lamp must be 'on' or 'off'")
        level = 100 if data["lamp"] == "on" else 0
    elif "resume" in data:
        if data["resume"] is not True:
            raise ValueError("resume must be true")
        level = 0xFF
    else:
        level = _level(data["dim_level"], "dim_level")
    addr = _address(data.get("address"))
    if "duration_minutes" in data:
        return bytes((0x09, addr, level, _duration(data["duration_minutes"])))
    return bytes((0x01, addr, level))


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {"errors": ["the command must be an object"]}
    try:
        payload = _encode(data)
    except ValueError as exc:
        return {"errors": [str(exc)]}
    return {"f_port": DIM_PORT, "bytes": payload, "warnings": [], "errors": []}
