"""TS003 Application Layer Clock Synchronization, v1.0.0 and v2.0.0 (package identifier 1, FPort 202 by default).

The end-device sends its clock (GPS seconds modulo 2^32) in AppTimeReq; the server answers AppTimeAns with the
signed correction to add (TS003 §3.2: ``TimeCorrection = server GPS time at reception - DeviceTime``), echoing the
device's 4-bit token. The wire format is the same in both versions; v2.0.0 renames ForceDeviceResyncReq to
ForceDeviceResyncCmd (TS003-2.0.0 §3.4) and raises the package version to 2.
"""

from __future__ import annotations

from lora_city.lorawan.applayer.commands import (
    AppCommand,
    Bits,
    CommandSpec,
    Package,
    package_version_commands,
)

IDENTIFIER = 1
PORT = 202


def _commands(version: int) -> tuple[CommandSpec, ...]:
    resync = "ForceDeviceResyncReq" if version == 1 else "ForceDeviceResyncCmd"
    return (
        *package_version_commands(),
        # TS003 §3.2: DeviceTime (4 octets) | Param (TokenReq bits 3:0, AnsRequired bit 4)
        CommandSpec(0x01, "AppTimeReq", True, 5,
                    (Bits("device_time", 0, 32), Bits("token_req", 32, 4), Bits("ans_required", 36, 1, flag=True)),
                    "TS003 §3.2 AppTimeReq"),
        # TS003 §3.2: TimeCorrection (4 octets, signed) | Param (TokenAns bits 3:0)
        CommandSpec(0x01, "AppTimeAns", False, 5,
                    (Bits("time_correction", 0, 32, signed=True), Bits("token_ans", 32, 4)),
                    "TS003 §3.2 AppTimeAns"),
        # TS003 §3.3: Period bits 3:0, the device should resync every 128 x 2^Period s
        CommandSpec(0x02, "DeviceAppTimePeriodicityReq", False, 1, (Bits("period", 0, 4),),
                    "TS003 §3.3 DeviceAppTimePeriodicityReq"),
        CommandSpec(0x02, "DeviceAppTimePeriodicityAns", True, 5,
                    (Bits("not_supported", 0, 1, flag=True), Bits("device_time", 8, 32)),
                    "TS003 §3.3 DeviceAppTimePeriodicityAns"),
        # TS003 §3.4: ForceConf NbTransmissions bits 2:0; no answer
        CommandSpec(0x03, resync, False, 1, (Bits("nb_transmissions", 0, 3),), f"TS003 §3.4 {resync}"),
    )


V1 = Package(IDENTIFIER, 1, PORT, _commands(1))
V2 = Package(IDENTIFIER, 2, PORT, _commands(2))
VERSIONS = {1: V1, 2: V2}


def time_correction(device_time: int, server_gps_seconds: int) -> int:
    """TS003 §3.2: the signed correction (seconds) that brings DeviceTime to the server's GPS time.

    Both clocks are carried modulo 2^32, so the difference is taken modulo 2^32 and read as a signed 32-bit number:
    a device whose counter wrapped (or will soon) still gets the short way round.
    """
    diff = (server_gps_seconds - device_time) & 0xFFFFFFFF
    return diff - (1 << 32) if diff >= 1 << 31 else diff


def app_time_answer(request: AppCommand, server_gps_seconds: int) -> AppCommand:
    """The AppTimeAns for an AppTimeReq received when the server's GPS clock read ``server_gps_seconds``."""
    return AppCommand("AppTimeAns", {
        "time_correction": time_correction(request["device_time"], server_gps_seconds),
        "token_ans": request["token_req"],
    })
