"""Adeunis Pulse 4 (two-channel pulse counter for water, gas and electricity meters).

Frames start with a frame code and a status byte, then big-endian fields (Adeunis "PULSE 4 LoRaWAN Technical
Reference Manual", sections "Uplink frames" and "Status byte"; reference codec TheThingsNetwork/lorawan-devices
vendor/adeunis/pulse_lib.js). The device's optional time stamp is a u32 of seconds since 2013-01-01 00:00 UTC,
appended when status bit 2 is set.

====  =============================================================
0x10  product configuration (28 bytes on LoRaWAN EU868)
0x11  leakage thresholds          0x12  leakage periods and tamper
0x20  network configuration       0x30  keep-alive (daily flow min/max, alarms)
0x33  set-register answer         0x46  counters of channels A and B
0x47  flow alarm                  0x5a / 0x5b  counter history, channel A / B
====  =============================================================

The output mirrors the vendor codec's ``bytes`` object (``type``, ``status``, then the frame's fields), so data
decoded here looks the same as data decoded by the vendor's JavaScript.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lora_city.codec.formats.js_compat import utc_from_unix
from lora_city.codec.reader import PayloadTooShort, Reader

# Seconds from the Unix epoch to 2013-01-01T00:00:00Z, the Adeunis time base.
ADEUNIS_EPOCH = 1356998400
TIMESTAMP_BIT = 0x04
LORA868_CONFIG_LEN = 28
SIGFOX_CONFIG_LEN = 11
PARTIAL_MISSING_NETWORK = 1

PRODUCT_MODES = {0: "PARK", 1: "PRODUCTION", 2: "TEST", 3: "DEAD"}
# Debouncing period codes -> ms (manual, register 321/322).
DEBOUNCE_MS = [0, 1, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
REQUEST_STATUS = {
    1: "success",
    2: "successNoUpdate",
    3: "errorCoherency",
    4: "errorInvalidRegister",
    5: "errorInvalidValue",
    6: "errorTruncatedValue",
    7: "errorAccesNotAllowed",
}


def _u16(p: bytes, offset: int) -> int:
    return Reader(p, offset).uint(2, f"u16 at {offset}")


def _u32(p: bytes, offset: int) -> int:
    return Reader(p, offset).uint(4, f"u32 at {offset}")


def _need(p: bytes, length: int, what: str) -> None:
    if len(p) < length:
        raise PayloadTooShort(f"{what}: needs {length} bytes, payload has {len(p)}")


def _timestamp(p: bytes, offset: int) -> str:
    when = utc_from_unix(ADEUNIS_EPOCH) + timedelta(seconds=_u32(p, offset))
    return when.strftime("%Y-%m-%dT%H:%M:%S.000")


def _has_timestamp(p: bytes) -> bool:
    return bool(p[1] & TIMESTAMP_BIT)


def _status(p: bytes) -> dict[str, Any]:
    return {
        "frameCounter": (p[1] & 0xE0) >> 5,
        "hardwareError": False,
        "lowBattery": bool(p[1] & 0x02),
        "configurationDone": bool(p[1] & 0x01),
        "timestamp": _has_timestamp(p),
    }


def _debounce(code: int) -> dict[str, Any]:
    return {"unit": "ms", "value": DEBOUNCE_MS[code] if code < len(DEBOUNCE_MS) else 0}


def _config_channel(p: bytes, name: str, shift: int, network: str) -> dict[str, Any]:
    """One channel of the 0x10 frame; A uses the low nibble of the flag bytes, B the high one (shift 4)."""
    flags = p[5] >> shift
    channel: dict[str, Any] = {
        "name": name,
        "state": "enabled" if flags & 0x01 else "disabled",
        "type": "gasPullUpOn" if flags & 0x02 else "otherPullUpOff",
        "debouncingPeriod": _debounce((p[8] >> shift) & 0x0F),
    }
    b = 1 if shift else 0
    if network == "lora868":
        channel["leakageDetection"] = {
            "overflowAlarmTriggerThreshold": _u16(p, 11 + 2 * b),
            "threshold": _u16(p, 15 + 2 * b),
            "dailyPeriodsBelowWhichLeakageAlarmTriggered": _u16(p, 19 + 2 * b),
        }
        channel["tamper"] = {
            "activated": bool(flags & 0x08),
            "samplePeriodForDetection": {"unit": "s", "value": p[23 + 2 * b] * 10},
            "threshold": p[24 + 2 * b],
        }
    elif network == "sigfox":
        channel["tamper"] = {"activated": bool(flags & 0x08)}
    return channel


def _frame_0x10(p: bytes) -> dict[str, Any]:
    _need(p, SIGFOX_CONFIG_LEN, "0x10 configuration")
    network = {LORA868_CONFIG_LEN: "lora868", SIGFOX_CONFIG_LEN: "sigfox"}.get(len(p), "unknown")
    histories, sampling = _u16(p, 3), _u16(p, 6)
    out: dict[str, Any] = {
        "type": "0x10 Pulse 4 configuration",
        "productMode": PRODUCT_MODES.get(p[2], ""),
        "numberOfHistorizationBeforeSending": histories,
        "samplingPeriod": {"unit": "s", "value": sampling * 2},
        "calculatedSendingPeriod": {"unit": "s", "value": histories * sampling * 2},
    }
    # In TEST mode the flow period counts 20 s steps, otherwise minutes (manual, register 306).
    if p[2] == 2:
        out["flowCalculationPeriod"] = {"unit": "s", "value": _u16(p, 9) * 20}
    else:
        out["flowCalculationPeriod"] = {"unit": "m", "value": _u16(p, 9)}
    if network == "lora868":
        out["redundantSamples"] = p[27]
    out["channels"] = [
        _config_channel(p, "channel A", 0, network),
        _config_channel(p, "channel B", 4, network),
    ]
    return out


def _frame_0x11(p: bytes) -> dict[str, Any]:
    _need(p, 10, "0x11 configuration")
    return {
        "type": "0x11 Pulse 4 configuration",
        "channels": [
            {
                "name": f"channel {ch}",
                "leakageDetection": {
                    "overflowAlarmTriggerThreshold": _u16(p, 2 + 2 * i),
                    "threshold": _u16(p, 6 + 2 * i),
                },
            }
            for i, ch in enumerate("AB")
        ],
    }


def _frame_0x12(p: bytes) -> dict[str, Any]:
    _need(p, 10, "0x12 configuration")
    return {
        "type": "0x12 Pulse 4 configuration",
        "channels": [
            {
                "name": f"channel {ch}",
                "leakageDetection": {"dailyPeriodsBelowWhichLeakageAlarmTriggered": _u16(p, 2 + 2 * i)},
                "tamper": {
                    "samplePeriodForDetection": {"unit": "s", "value": p[6 + 2 * i] * 10},
                    "threshold": p[7 + 2 * i],
                },
            }
            for i, ch in enumerate("AB")
        ],
    }


def _frame_0x20(p: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "0x20 Configuration"}
    if len(p) == 4:
        out["loraAdr"] = bool(p[2] & 0x01)
        out["loraProvisioningMode"] = "ABP" if p[3] == 0 else "OTAA"
        out["loraDutycyle"] = "activated" if p[2] & 0x04 else "deactivated"
        out["loraClassMode"] = "CLASS C" if p[2] & 0x20 else "CLASS A"
    elif len(p) in (3, 5):
        out["sigfoxRetry"] = p[2] & 0x03
        if len(p) == 5:
            out["sigfoxDownlinkPeriod"] = {"unit": "m", "value": Reader(p, 3).sint(2, "downlink period")}
    else:
        out["partialDecoding"] = PARTIAL_MISSING_NETWORK
    return out


def _frame_0x30(p: bytes) -> dict[str, Any]:
    _need(p, 11, "0x30 keep alive")
    out: dict[str, Any] = {"type": "0x30 Pulse 4 keep alive"}
    if _has_timestamp(p):
        out["timestamp"] = _timestamp(p, 11)
    alarms = p[2]
    out["channels"] = [
        {
            "name": f"channel {ch}",
            "flow": {
                "alarm": bool(alarms & (0x01 << i)),
                "last24hMin": _u16(p, 7 + 2 * i),
                "last24hMax": _u16(p, 3 + 2 * i),
            },
            "tamperAlarm": bool(alarms & (0x04 << i)),
            "leakageAlarm": bool(alarms & (0x10 << i)),
        }
        for i, ch in enumerate("AB")
    ]
    return out


def _frame_0x33(p: bytes) -> dict[str, Any]:
    _need(p, 5, "0x33 set register status")
    return {
        "type": "0x33 Set register status",
        "requestStatus": REQUEST_STATUS.get(p[2], "errorOtherReason"),
        "registerId": _u16(p, 3),
    }


def _frame_0x46(p: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "0x46 Pulse 4 data"}
    if _has_timestamp(p):
        out["timestamp"] = _timestamp(p, 10)
    out["decodingInfo"] = "counterValues: [Channel A, Channel B]"
    out["counterValues"] = [_u32(p, 2), _u32(p, 6)]
    return out


def _frame_0x47(p: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "0x47 Pulse 4 alarm"}
    if _has_timestamp(p):
        out["timestamp"] = _timestamp(p, 6)
    out["decodingInfo"] = "flowValues: [Channel A, Channel B]"
    out["flowValues"] = [_u16(p, 2), _u16(p, 4)]
    return out


def _history(p: bytes, channel: str, warnings: list[str]) -> dict[str, Any]:
    """0x5a / 0x5b: the current counter, then u16 decrements back in time: value(t-1) = value(t) - delta."""
    counter = _u32(p, 2)
    out: dict[str, Any] = {"type": f"0x{p[0]:02x} Pulse 4 data - channel {channel}"}
    end = len(p)
    if _has_timestamp(p):
        _need(p, 10, "history time stamp")
        end -= 4
        out["timestamp"] = _timestamp(p, end)
    values = [counter]
    offset = 6
    while offset + 2 <= end:
        counter -= _u16(p, offset)
        values.append(counter)
        offset += 2
    if offset < end:
        warnings.append(f"history: trailing byte at offset {offset} ignored")
    out["decodingInfo"] = "counterValues: [t=0, t-1, t-2, ...]"
    out["counterValues"] = values
    return out


def _frame(p: bytes, warnings: list[str]) -> dict[str, Any]:
    code = p[0]
    if code == 0x5A:
        return _history(p, "A", warnings)
    if code == 0x5B:
        return _history(p, "B", warnings)
    simple = {
        0x10: _frame_0x10,
        0x11: _frame_0x11,
        0x12: _frame_0x12,
        0x20: _frame_0x20,
        0x30: _frame_0x30,
        0x33: _frame_0x33,
        0x46: _frame_0x46,
        0x47: _frame_0x47,
    }
    return simple[code](p)


KNOWN_CODES = {0x10, 0x11, 0x12, 0x20, 0x30, 0x33, 0x46, 0x47, 0x5A, 0x5B}


def decode_uplink(f_port: int, payload: bytes) -> dict[str, Any]:
    # The vendor codec ignores the fPort: Adeunis products send every frame type on the same port.
    warnings: list[str] = []
    if not payload:
        return {"data": None, "warnings": [], "errors": ["empty payload"]}
    if payload[0] not in KNOWN_CODES:
        return {"data": {"bytes": {"type": "Unsupported"}}, "warnings": [], "errors": []}
    try:
        _need(payload, 2, "status byte")
        content = _frame(payload, warnings)
        decoded = {"type": content.pop("type"), "status": _status(payload), **content}
    except PayloadTooShort as exc:
        return {"data": None, "warnings": warnings, "errors": [str(exc)]}
    return {"data": {"bytes": decoded}, "warnings": warnings, "errors": []}
