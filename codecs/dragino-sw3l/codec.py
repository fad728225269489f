"""Dragino SW3L outdoor water flow sensor (hall-effect flow meter with pulse output).

Payloads (Dragino "SW3L LoRaWAN Outdoor Flow Sensor User Manual", section 2.3 "Uplink Payload"; reference codec
TheThingsNetwork/lorawan-devices vendor/dragino/sw3l.js), all big-endian:

- fPort 2, real-time value, 11 B: ``flags`` (bits 7..2 calculate flag = pipe size, bit 1 flow alarm),
  pulse count u32, MOD (0 = total pulses since start, 1 = pulses since last uplink), 1 B reserved,
  Unix time i32.
- fPort 3, data log: records of 11 B: ``flags, MOD, reserved, pulse count u32, Unix time i32``.
- fPort 4, configuration: TDC u24 (s), 1 B reserved, stop timer u8 (min), alarm timer u16 (min).
- fPort 5, device status: model, firmware, frequency band, sub-band, battery u16 (mV).

The calculate flag picks the probe's pulses per litre. The vendor codec divides by 450 for flag 0 (DW-004,
1/2" probe: "450 pulse = 1 L", manual 1.6), 360 for flag 1 and 60 for flag 2 (the manual's table gives 390 for
the 3/4" probe; we follow the codec so values agree with what users already see), giving ``Water_flow_value`` in
litres rounded to 0.1 L with JavaScript's toFixed.
The vendor codec prints times in the server's local time zone; we print UTC, the time zone of TTN's servers.
"""

from __future__ import annotations

from typing import Any

from lora_city.codec.formats.js_compat import js_number, js_parse_fixed, js_to_fixed, utc_from_unix
from lora_city.codec.reader import PayloadTooShort, Reader

LOG_RECORD_LEN = 11
PULSES_PER_LITRE = {2: 60, 1: 360}
DEFAULT_PULSES_PER_LITRE = 450

FREQUENCY_BANDS = {
    0x01: "EU868",
    0x02: "US915",
    0x03: "IN865",
    0x04: "AU915",
    0x05: "KZ865",
    0x06: "RU864",
    0x07: "AS923",
    0x08: "AS923_1",
    0x09: "AS923_2",
    0x0A: "AS923_3",
    0x0B: "CN470",
    0x0C: "EU433",
    0x0D: "KR920",
    0x0E: "MA869",
}
SW3L_MODEL = 0x11


def _date_time(seconds: int) -> str:
    return utc_from_unix(seconds).strftime("%Y-%m-%d %H:%M:%S")


def _flags(flags: int) -> tuple[int, str]:
    return (flags & 0xFC) >> 2, "TRUE" if flags & 0x02 else "FALSE"


def _litres(pulses: int, calculate_flag: int) -> float:
    return pulses / PULSES_PER_LITRE.get(calculate_flag, DEFAULT_PULSES_PER_LITRE)


def _realtime(r: Reader) -> dict[str, Any]:
    calculate_flag, alarm = _flags(r.u8("flags"))
    pulses = r.uint(4, "pulse count")
    mod = r.u8("MOD")
    r.take(1, "reserved")
    timestamp = r.sint(4, "time")
    data: dict[str, Any] = {
        "MOD": mod,
        "Calculate_flag": calculate_flag,
        "Alarm": alarm,
        "Water_flow_value": js_parse_fixed(_litres(pulses, calculate_flag), 1),
    }
    # MOD 1 counts pulses since the previous uplink, MOD 0 since power-on (manual 2.3.2 "MOD").
    data["Last_pulse" if mod == 1 else "Total_pulse"] = pulses
    data["Data_time"] = _date_time(timestamp)
    return data


def _log_record(record: bytes) -> str:
    r = Reader(record)
    calculate_flag, alarm = _flags(r.u8("flags"))
    mod = r.u8("MOD")
    r.take(1, "reserved")
    pulses = r.uint(4, "pulse count")
    when = _date_time(r.sint(4, "time"))
    litres = js_to_fixed(_litres(pulses, calculate_flag), 1)
    # The vendor's DATALOG is one string of "[alarm,flag,MOD,pulses,litres,time]," records; kept as is.
    return f"[{alarm},{calculate_flag},{mod},{pulses},{litres},{when}],"


def _datalog(payload: bytes, warnings: list[str]) -> dict[str, Any]:
    whole = len(payload) - len(payload) % LOG_RECORD_LEN
    if whole < len(payload):
        warnings.append(f"data log: {len(payload) - whole} trailing byte(s) ignored (records are 11 bytes)")
    records = [_log_record(payload[i : i + LOG_RECORD_LEN]) for i in range(0, whole, LOG_RECORD_LEN)]
    return {"DATALOG": "".join(records)} if records else {}


def _config(r: Reader) -> dict[str, Any]:
    tdc = r.uint(3, "TDC")
    r.take(1, "reserved")
    return {"TDC": tdc, "Stop_Timer": r.u8("stop timer"), "Alarm_Timer": r.uint(2, "alarm timer")}


def _status(r: Reader) -> dict[str, Any]:
    model = r.u8("sensor model")
    firmware = r.take(2, "firmware version")
    band = r.u8("frequency band")
    sub_band = r.u8("sub-band")
    battery_mv = r.uint(2, "battery")
    data: dict[str, Any] = {}
    if model == SW3L_MODEL:
        data["SENSOR_MODEL"] = "SW3L"
    data["SUB_BAND"] = "NULL" if sub_band == 0xFF else sub_band
    if band in FREQUENCY_BANDS:
        data["FREQUENCY_BAND"] = FREQUENCY_BANDS[band]
    data["FIRMWARE_VERSION"] = f"{firmware[0] & 0x0F}.{firmware[1] >> 4}.{firmware[1] & 0x0F}"
    data["BAT"] = js_number(battery_mv / 1000)
    return data


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    warnings: list[str] = []
    r = Reader(payload)
    try:
        if f_port == 2:
            data = _realtime(r)
        elif f_port == 3:
            data = _datalog(payload, warnings)
        elif f_port == 4:
            data = _config(r)
        elif f_port == 5:
            data = _status(r)
        else:
            return {"data": None, "warnings": [], "errors": ["unknown FPort"]}
    except PayloadTooShort as exc:
        return {"data": None, "warnings": warnings, "errors": [str(exc)]}
    return {"data": data, "warnings": warnings, "errors": []}
