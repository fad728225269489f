"""Decentlab's generic uplink format (protocol version 2) and its downlink command format.

Uplink (Decentlab "Generic data format" in every device datasheet): ``version (1 B) = 2 | device id (uint16 BE) |
flags (uint16 BE) | sensor blocks``. Bit *i* of ``flags`` says whether sensor *i*'s block is present; a block is a
fixed number of big-endian uint16 words, turned into named values by device-specific conversions. Each value is
reported as ``{"displayName", "value", "unit"?}`` like Decentlab's published decoders.

Downlink (Decentlab "Remote configuration via downlink", ``dl-downlink-codec.js``): always 6 bytes on fPort 1,
``command (uint16 BE) | parameter (uint16 BE) | CRC-16/MODBUS of the first four bytes (BE)``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

PROTOCOL_VERSION = 2
DOWNLINK_F_PORT = 1
_HEADER = 5  # version, device id, flags

Words = Sequence[int]


@dataclass(frozen=True, slots=True)
class SensorValue:
    name: str
    display_name: str
    convert: Callable[[Words], float | int]
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Sensor:
    """One flag bit's block: ``length`` uint16 words and the values computed from them."""

    length: int
    values: tuple[SensorValue, ...] = field(default_factory=tuple)


def js_number(value: float | int) -> float | int:
    """Integral floats as ints, the way Decentlab's JavaScript decoders print them (``3000 / 1000`` is ``3``)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def battery_sensor() -> Sensor:
    """The last block of nearly every Decentlab device: battery voltage in mV."""
    return Sensor(1, (SensorValue("battery_voltage", "Battery voltage", lambda x: x[0] / 1000, "V"),))


@cache
def pressure_sensors(p_min: float, p_max: float) -> tuple[Sensor, ...]:
    """The DL-PR2x pressure / liquid level family: one layout, only the pressure range (bar) differs per variant."""

    def pressure(x: Words) -> float:
        return (x[0] - 16384) / 32768 * (p_max - p_min) + p_min

    def temperature(x: Words) -> float:
        return (x[1] - 384) * 0.003125 - 50

    return (
        Sensor(2, (SensorValue("pressure", "Pressure", pressure, "bar"),
                   SensorValue("temperature", "Temperature", temperature, "°C"))),
        battery_sensor(),
    )


def _words(count: int) -> struct.Struct:
    return struct.Struct(f">{count}H")


def _result(data: dict[str, Any] | None, errors: list[str]) -> dict[str, Any]:
    return {"data": data, "warnings": [], "errors": errors}


def decode_uplink(f_port: int, payload: bytes, sensors: Sequence[Sensor]) -> dict[str, Any]:
    """Decode a protocol-v2 uplink for a device whose blocks are ``sensors`` (in flag-bit order)."""
    # The uplink port is configurable ("set port", 1...223), so any application port is accepted.
    if not 1 <= f_port <= 223:
        return _result(None, ["unknown FPort"])
    if not payload:
        return _result(None, ["empty payload"])
    if payload[0] != PROTOCOL_VERSION:
        return _result(None, [f"protocol version {payload[0]} doesn't match v2"])
    if len(payload) < _HEADER:
        return _result(None, [f"header needs {_HEADER} bytes, payload has {len(payload)}"])
    flags = int.from_bytes(payload[3:5], "big")
    data: dict[str, Any] = {
        "protocol_version": payload[0],
        "device_id": int.from_bytes(payload[1:3], "big"),
    }
    pos = _HEADER
    for index, sensor in enumerate(sensors):
        if not flags >> index & 1:
            continue
        end = pos + 2 * sensor.length
        if end > len(payload):
            return _result(None, [f"sensor block {index} needs {2 * sensor.length} bytes at offset {pos}"])
        words = _words(sensor.length).unpack_from(payload, pos)
        pos = end
        for value in sensor.values:
            entry: dict[str, Any] = {
                "displayName": value.display_name,
                "value": js_number(value.convert(words)),
            }
            if value.unit is not None:
                entry["unit"] = value.unit
            data[value.name] = entry
    return _result(data, [])


# --- downlink commands ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    code: int
    name: str
    takes_parameter: bool = True


def _commands() -> tuple[Command, ...]:
    """The command table of Decentlab's downlink codec; most settings come as "set X" and "set X + save"."""
    settings = [
        (0x0001, "set period"),
        (0x0003, "set dr"),
        (0x0009, "set dr_min"),
        (0x000B, "set dr_max"),
        (0x000D, "set pwridx_min"),
        (0x000F, "set pwridx_max"),
        (0x0011, "set send_period"),
        (0x0013, "set join_period"),
        (0x0015, "set pwridx"),
        (0x0017, "set linkcheck_period"),
        (0x0019, "set linkcheck_tolerance"),
        (0x001B, "set linkcheck_limit"),
        (0x001D, "set port"),
    ]
    table = [Command(code, name) for code, name in settings]
    table += [Command(code + 1, f"{name} + save") for code, name in settings]
    table += [
        Command(0x0005, "set adr on", False),
        Command(0x0006, "set adr on + save", False),
        Command(0x0007, "set adr off", False),
        Command(0x0008, "set adr off + save", False),
    ]
    table += [Command(0x0020 + n, f"set param {n}") for n in range(16)]
    table += [Command(0x0030 + n, f"set param {n} + save") for n in range(16)]
    table += [Command(0x0050 + n, f"set sensor_period {n}") for n in range(10)]
    table += [Command(0x0060 + n, f"set sensor_period {n} + save") for n in range(10)]
    table += [
        Command(0xFEFE, "reset", False),
        Command(0xFEF0, "factory reset", False),
        Command(0xFEF1, "sleep", False),
    ]
    return tuple(table)


COMMANDS = _commands()
_BY_CODE = {command.code: command for command in COMMANDS}
_BY_NAME = {command.name: command for command in COMMANDS}


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (reflected poly 0xA001, init 0xFFFF), as Decentlab's downlink codec computes it."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _parameter(value: Any) -> int | None:
    """The command parameter as an int 0..65535 (JS ``parseInt`` also accepts numeric strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip(), 10)
        except ValueError:
            return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= 0xFFFF:
        return value
    return None


def _encode_error(message: str) -> dict[str, Any]:
    return {"f_port": None, "bytes": [], "warnings": [], "errors": [message]}


def encode_downlink(data: dict[str, Any]) -> dict[str, Any]:
    """``{"command": name, "parameter": n}`` -> the 6-byte command frame on fPort 1."""
    if not isinstance(data, dict):
        return _encode_error("invalid command")
    name = data.get("command")
    command = _BY_NAME.get(name) if isinstance(name, str) else None
    if command is None:
        return _encode_error("invalid command")
    parameter = 0
    if command.takes_parameter:
        value = _parameter(data.get("parameter"))
        if value is None:
            return _encode_error("invalid parameter")
        parameter = value
    body = command.code.to_bytes(2, "big") + parameter.to_bytes(2, "big")
    frame = body + crc16_modbus(body).to_bytes(2, "big")
    return {"f_port": DOWNLINK_F_PORT, "bytes": list(frame), "warnings": [], "errors": []}


def decode_downlink(f_port: int, payload: bytes) -> dict[str, Any]:
    if len(payload) != 6:
        return _result(None, ["invalid message length"])
    if f_port != DOWNLINK_F_PORT:
        return _result(None, ["invalid FPort"])
    command = _BY_CODE.get(int.from_bytes(payload[0:2], "big"))
    if command is None:
        return _result(None, ["invalid command"])
    if int.from_bytes(payload[4:6], "big") != crc16_modbus(payload[0:4]):
        return _result(None, ["invalid CRC"])
    data: dict[str, Any] = {"command": command.name}
    if command.takes_parameter:
        data["parameter"] = int.from_bytes(payload[2:4], "big")
    return _result(data, [])
