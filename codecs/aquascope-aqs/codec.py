"""Aqua-Scope Monitor (AQS): water consumption, pressure and leak (pipe-check) monitor with a valve output.

An uplink on fPort 1 is a sequence of commands, each a command byte and its fixed-size body (Aqua-Scope
"Aqua-Scope Monitor Access - Developers Manual", section "LoRaWan Payload Commands"; reference codec
TheThingsNetwork/lorawan-devices vendor/aquascope/aqs.js). 16-bit values are big-endian.

====  ==========================  =========================================================
0x03  hw, capabilities u16         hardware version report
0x04  idx, value u16               configuration parameter report
0x06  id, value u16                sensor report: 0x01 temperature (0.1 °C), 0x03 uptime (s),
                                   0x10 water pressure (mbar), 0x11 consumption since last report (L),
                                   0x13 battery
0x07  state [, val1 u16, val2 u16] device status: valve, water flow and pipe-check results
0x08  level, log text              log message; takes the rest of the frame
0x0a  version u32                  firmware version
0x0b  state, type, value u16       alarm report (state 1 = active)
====  ==========================  =========================================================

Values are reported raw, as the vendor codec does; the manifest scales temperature. Field names follow the vendor
codec, including its spellings (``conumption_time``), so existing dashboards keep working.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.reader import PayloadTooShort, Reader

PORT = 1

CONFIG_PARAMETERS = {
    0x01: "c_system",
    0x02: "c_algo",
    0x03: "c_lora",
    0x04: "c_valveaction",
    0x05: "c_normpressure",
    0x06: "c_overpressure_th",
    0x07: "c_underpressure_th",
    0x09: "c_jamming",
    0x0A: "c_flow_th",
    0x0B: "c_frost_th",
    0x0D: "c_pc_duration",
    0x0E: "c_pc_abort_th",
    0x0F: "c_pc_alarm_th_th",
    19: "c_alarm",
    29: "c_report_interval",
    30: "c_heartbeat_interval",
}
SENSORS = {0x01: "temperature", 0x03: "uptime", 0x10: "pressure", 0x11: "consumption", 0x13: "batterylevel"}
PIPE_CHECK_STATES = {
    2: "ok",
    4: "abort/flow",
    5: "abort/heat",
    6: "abort/valve",
    7: "abort/flow",
    8: "pending",
}
STATE_VALVE_CLOSED = 0x00
STATE_FLOW_DONE = 0x01
STATE_PIPE_CHECK_ALARM = 0x03
STATE_FLOW_START = 0x0F
VALVE_OPEN = 0xFF


def _unknown(data: dict[str, Any], warnings: list[str], message: str) -> None:
    # The vendor codec records what it did not understand in data.error and carries on; we also warn.
    data["error"] = message
    warnings.append(message)


def _config(r: Reader, data: dict[str, Any], warnings: list[str]) -> None:
    parameter = r.u8("config parameter")
    value = r.uint(2, "config value")
    if parameter in CONFIG_PARAMETERS:
        data[CONFIG_PARAMETERS[parameter]] = value
    else:
        # The vendor codec prints the value's low byte here; the parameter number is what helps.
        _unknown(data, warnings, f"config parameter? {parameter}")


def _sensor(r: Reader, data: dict[str, Any], warnings: list[str]) -> None:
    sensor = r.u8("sensor type")
    value = r.uint(2, "sensor value")
    if sensor in SENSORS:
        data[SENSORS[sensor]] = value
    else:
        _unknown(data, warnings, f"sensor type? {sensor}")


def _device_status(r: Reader, data: dict[str, Any]) -> None:
    state = r.u8("status state")
    if state == STATE_VALVE_CLOSED:
        data["valve"] = 0
    elif state == STATE_FLOW_DONE:
        # Water flow complete: duration in s and amount consumed (manual, "Device Status Report").
        data["flow"] = 0
        data["conumption_time"] = r.uint(2, "flow duration")
        data["conumption_liter"] = r.uint(2, "flow amount")
    elif state == STATE_PIPE_CHECK_ALARM:
        # Pipe-check alarm: pressure difference (mbar) and leak elevation (cm).
        data["pc"] = "alarm"
        data["diff"] = r.uint(2, "pipe-check pressure difference")
        data["elevation"] = r.uint(2, "pipe-check elevation")
    elif state in PIPE_CHECK_STATES:
        data["pc"] = PIPE_CHECK_STATES[state]
    elif state == STATE_FLOW_START:
        data["flow"] = 1
    else:
        data["valve"] = VALVE_OPEN


def _decode_commands(payload: bytes, data: dict[str, Any], warnings: list[str]) -> None:
    r = Reader(payload)
    while r.remaining > 0:
        command = r.u8("command")
        if command == 0x03:
            data["hw_version"] = r.u8("hardware version")
            data["capabilities"] = r.uint(2, "capabilities")
        elif command == 0x04:
            _config(r, data, warnings)
        elif command == 0x06:
            _sensor(r, data, warnings)
        elif command == 0x07:
            _device_status(r, data)
        elif command == 0x08:
            data["loglevel"] = r.u8("log level")
            data["log"] = list(payload)
            r.take(r.remaining, "log text")
        elif command == 0x0A:
            # Unsigned: the vendor's ``b << 24`` turns versions >= 0x80000000 negative.
            data["fw_version"] = r.uint(4, "firmware version")
        elif command == 0x0B:
            data["alarm_status"] = r.u8("alarm state")
            data["alarm_type"] = r.u8("alarm type")
            data["alarm_value"] = r.uint(2, "alarm value")
        else:
            _unknown(data, warnings, f"command? {command}")


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != PORT:
        return {"data": None, "warnings": [], "errors": ["invalid FPort"]}
    data: dict[str, Any] = {}
    warnings: list[str] = []
    try:
        _decode_commands(payload, data, warnings)
    except PayloadTooShort as exc:
        return {"data": None, "warnings": warnings, "errors": [str(exc)]}
    return {"data": data, "warnings": warnings, "errors": []}


# Downlink commands (manual, "Downlink Command ..."): name -> (command byte, fixed argument or None).
SYSTEM_COMMANDS = {"reset": 0x01, "factory default": 0x02, "pipecheck start": 0x03}
SIMPLE_DOWNLINKS = {
    "set valve on": [0x07, 0xFF],
    "set valve off": [0x07, 0x00],
    "clear alarm": [0x0B, 0x00],
    "get valve": [0x17],
    "get hw": [0x03],
    "get fw": [0x1A],
}


class _BadCommand(ValueError):
    pass


def _byte_arg(data: dict[str, Any], key: str, limit: int = 0xFF) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise _BadCommand(f"{key} must be an integer 0..{limit}")
    return value


def _encode(data: dict[str, Any]) -> list[int]:
    cmd = str(data.get("cmd"))
    if cmd in SYSTEM_COMMANDS:
        return [0x01, SYSTEM_COMMANDS[cmd]]
    if cmd in SIMPLE_DOWNLINKS:
        return list(SIMPLE_DOWNLINKS[cmd])
    if cmd == "get sensor":
        return [0x06, _byte_arg(data, "sensor")]
    if cmd == "get config":
        return [0x14, _byte_arg(data, "parameter")]
    if cmd == "set config":
        value = _byte_arg(data, "value", 0xFFFF)
        return [0x04, _byte_arg(data, "parameter"), value >> 8, value & 0xFF]
    raise _BadCommand(f"unknown cmd {data.get('cmd')!r}")


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    try:
        if not isinstance(data, dict):
            raise _BadCommand("downlink data must be an object")
        frame = _encode(data)
    except _BadCommand as exc:
        return {"f_port": None, "bytes": None, "warnings": [], "errors": [str(exc)]}
    return {"f_port": PORT, "bytes": bytes(frame), "warnings": [], "errors": []}


def _decode_downlink_command(r: Reader) -> dict[str, Any]:
    command = r.u8("command")
    if command == 0x01:
        code = r.u8("system command")
        names = {v: k for k, v in SYSTEM_COMMANDS.items()}
        return {"cmd": names[code]} if code in names else {}
    if command == 0x06:
        return {"cmd": "get sensor", "sensor": r.u8("sensor")}
    if command == 0x03:
        return {"cmd": "get hw"}
    if command == 0x1A:
        return {"cmd": "get fw"}
    if command == 0x17:
        return {"cmd": "get valve"}
    if command == 0x07:
        return {"cmd": "set valve on" if r.u8("valve") == VALVE_OPEN else "set valve off"}
    if command == 0x0B:
        return {"cmd": "clear alarm"} if r.u8("alarm") == 0 else {}
    if command == 0x14:
        return {"cmd": "get config", "parameter": r.u8("parameter")}
    if command == 0x04:
        return {"cmd": "set config", "parameter": r.u8("parameter"), "value": r.uint(2, "value")}
    return {}


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    if f_port != PORT:
        return {"data": None, "warnings": [], "errors": ["invalid FPort"]}
    try:
        data = _decode_downlink_command(Reader(payload))
    except PayloadTooShort as exc:
        return {"data": None, "warnings": [], "errors": [str(exc)]}
    return {"data": data, "warnings": [], "errors": []}
