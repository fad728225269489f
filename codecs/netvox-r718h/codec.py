"""Netvox R718H / R718H2 pulse counter (one or two dry-contact / reed inputs, used on water meters).

Netvox frames are 11 bytes (Netvox "R718H User Manual", section "Data Report" and "Example of
ConfigureCmd"; reference codec TheThingsNetwork/lorawan-devices vendor/netvox/payload/r718h.js):

- fPort 6, report: ``version, device_type, report_type, ...``. Report type 0x00 is the startup version report
  (SW version /10, HW version, date code as 4 BCD bytes); any other type is the status report
  (battery in 0.1 V with bit 7 = low battery, pulse count(s) uint16 BE).
- fPort 7, configuration: ``cmd_id, device_type, ...``; requests (1..6) go down, responses (0x81..0x86) come up.
"""

from __future__ import annotations

import math
from typing import Any

from lora_city.codec.formats.js_compat import js_number
from lora_city.codec.reader import PayloadTooShort, Reader

PORT_REPORT = 6
PORT_CONFIG = 7
FRAME_LEN = 11

DEVICES = {0x1F: "R718H", 0x3F: "R718H2"}
DEVICE_IDS = {name: dev for dev, name in DEVICES.items()}

COMMANDS = {
    0x01: "ConfigReportReq",
    0x81: "ConfigReportRsp",
    0x02: "ReadConfigReportReq",
    0x82: "ReadConfigReportRsp",
    0x03: "SetFiltertimeReq",
    0x83: "SetFiltertimeRsp",
    0x04: "GetFiltertimeReq",
    0x84: "GetFiltertimeRsp",
    0x05: "SetPulseCounterClearModeReq",
    0x85: "SetPulseCounterClearModeRsp",
    0x06: "GetPulseCounterClearModeReq",
    0x86: "GetPulseCounterClearModeRsp",
}
COMMAND_IDS = {name: cmd for cmd, name in COMMANDS.items()}

# Filter time travels in 5 ms steps (manual: "FilterTime unit 5 ms").
FILTER_STEP_MS = 5
LOW_BATTERY_BIT = 0x80


class _BadFrame(ValueError):
    pass


def _result(data: dict[str, Any] | None, errors: list[str] | None = None) -> dict[str, Any]:
    return {"data": data, "warnings": [], "errors": errors or []}


def _device(r: Reader) -> str:
    dev = r.u8("device type")
    if dev not in DEVICES:
        raise _BadFrame(f"unknown Netvox device type 0x{dev:02x} (R718H is 0x1f, R718H2 0x3f)")
    return DEVICES[dev]


def _status(status: int) -> str:
    return "Success" if status == 0 else "Failure"


def _decode_report(r: Reader) -> dict[str, Any]:
    r.u8("version")
    data: dict[str, Any] = {"Device": _device(r)}
    report_type = r.u8("report type")
    if report_type == 0x00:
        data["SWver"] = js_number(r.u8("software version") / 10)
        data["HWver"] = r.u8("hardware version")
        data["Datecode"] = r.take(4, "date code").hex()
        return data
    volt = r.u8("battery")
    # The vendor codec turns a low-battery reading into a string ("3.2(low battery)"); we keep Volt a number
    # and add a LowBattery flag, so the reading stays usable and the alarm is a flag.
    data["Volt"] = js_number((volt & ~LOW_BATTERY_BIT) / 10)
    if volt & LOW_BATTERY_BIT:
        data["LowBattery"] = True
    if data["Device"] == "R718H":
        data["PulseCount"] = r.uint(2, "pulse count")
    else:
        data["PulseCount1"] = r.uint(2, "pulse count 1")
        data["PulseCount2"] = r.uint(2, "pulse count 2")
    return data


def _command(r: Reader) -> tuple[int, dict[str, Any]]:
    cmd = r.u8("command id")
    if cmd not in COMMANDS:
        raise _BadFrame(f"unknown command id 0x{cmd:02x}")
    return cmd, {"Cmd": COMMANDS[cmd], "Device": _device(r)}


def _decode_config_response(r: Reader) -> dict[str, Any]:
    cmd, data = _command(r)
    name = COMMANDS[cmd]
    if name in ("ConfigReportRsp", "SetFiltertimeRsp", "SetPulseCounterClearModeRsp"):
        data["Status"] = _status(r.u8("status"))
    elif name == "ReadConfigReportRsp":
        data["MinTime"] = r.uint(2, "min time")
        data["MaxTime"] = r.uint(2, "max time")
        data["BatteryChange"] = js_number(r.u8("battery change") / 10)
    elif name == "GetFiltertimeRsp":
        data["FilterTime"] = r.u8("filter time") * FILTER_STEP_MS
    elif name == "GetPulseCounterClearModeRsp":
        mode = r.u8("clear mode")
        data["PulseCounterClearMode"] = "Clear when send" if mode == 0 else "Clear when Roll-Over"
    return data


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port not in (PORT_REPORT, PORT_CONFIG):
        return _result(None, ["unknown FPort"])
    r = Reader(payload)
    try:
        data = _decode_report(r) if f_port == PORT_REPORT else _decode_config_response(r)
    except (PayloadTooShort, _BadFrame) as exc:
        return _result(None, [str(exc)])
    return _result(data)


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != PORT_CONFIG:
        return _result(None, ["invalid FPort"])
    r = Reader(payload)
    try:
        cmd, data = _command(r)
        name = COMMANDS[cmd]
        if name == "ConfigReportReq":
            data["MinTime"] = r.uint(2, "min time")
            data["MaxTime"] = r.uint(2, "max time")
            data["BatteryChange"] = js_number(r.u8("battery change") / 10)
        elif name == "SetFiltertimeReq":
            data["FilterTime"] = r.u8("filter time") * FILTER_STEP_MS
        elif name == "SetPulseCounterClearModeReq":
            data["PulseCounterClearMode"] = r.u8("clear mode")
    except (PayloadTooShort, _BadFrame) as exc:
        return _result(None, [str(exc)])
    return _result(data)


def _int_field(data: dict[str, Any], key: str, scale: float, limit: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _BadFrame(f"{key} must be a number")
    raw = round(value * scale)
    if not 0 <= raw <= limit or abs(raw - value * scale) > 1e-6:
        raise _BadFrame(f"{key}={value} does not fit the frame (needs a whole raw value in 0..{limit})")
    return raw


def _encode_body(name: str, data: dict[str, Any]) -> list[int]:
    if name == "ConfigReportReq":
        min_time = _int_field(data, "MinTime", 1, 0xFFFF)
        max_time = _int_field(data, "MaxTime", 1, 0xFFFF)
        change = _int_field(data, "BatteryChange", 10, 0xFF)
        return [min_time >> 8, min_time & 0xFF, max_time >> 8, max_time & 0xFF, change]
    if name == "SetFiltertimeReq":
        return [_int_field(data, "FilterTime", 1 / FILTER_STEP_MS, 0xFF)]
    if name == "SetPulseCounterClearModeReq":
        return [_int_field(data, "PulseCounterClearMode", 1, 0xFF)]
    if name in ("ReadConfigReportReq", "GetFiltertimeReq", "GetPulseCounterClearModeReq"):
        return []
    raise _BadFrame(f"Cmd {name!r} is not a request this device accepts")


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    try:
        if not isinstance(data, dict):
            raise _BadFrame("downlink data must be an object")
        name = data.get("Cmd")
        device = data.get("Device")
        if name not in COMMAND_IDS:
            raise _BadFrame(f"unknown Cmd {name!r}")
        if device not in DEVICE_IDS:
            raise _BadFrame(f"unknown Device {device!r} (R718H or R718H2)")
        frame = [COMMAND_IDS[name], DEVICE_IDS[device], *_encode_body(name, data)]
    except _BadFrame as exc:
        return {"f_port": None, "bytes": None, "warnings": [], "errors": [str(exc)]}
    # Every Netvox frame is padded with zeros to 11 bytes (manual, "ConfigureCmd" table).
    frame += [0] * (FRAME_LEN - len(frame))
    return {"f_port": PORT_CONFIG, "bytes": bytes(frame), "warnings": [], "errors": []}
