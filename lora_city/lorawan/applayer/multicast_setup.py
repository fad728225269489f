"""TS005 Remote Multicast Setup, v1.0.0 and v2.0.0 (package identifier 2, FPort 200 by default), and the multicast
key hierarchy.

Keys (TS005 §3.3, McGroupSetupReq):
    McRootKey = aes128_encrypt(GenAppKey, 0x00 | pad16)   LoRaWAN 1.0.x end-devices
    McRootKey = aes128_encrypt(AppKey,    0x20 | pad16)   LoRaWAN 1.1 end-devices
    McKEKey   = aes128_encrypt(McRootKey, 0x00 | pad16)
    McKey_encrypted = aes128_decrypt(McKEKey, McKey)       sent in McGroupSetupReq; the device runs
    McKey           = aes128_encrypt(McKEKey, McKey_encrypted)   (only the encrypt direction on the device)
    McAppSKey = aes128_encrypt(McKey, 0x01 | McAddr | pad16)
    McNwkSKey = aes128_encrypt(McKey, 0x02 | McAddr | pad16)
McAddr is written little-endian inside the blocks, as every address on the wire.

v2.0.0 adds the StartMissed bit to McClassCSessionAns and McClassBSessionAns (TS005-2.0.0 §3.5/§3.6: the
session's start time had already passed when the request arrived); the rest of the wire format is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lora_city.lorawan._aes import keyed
from lora_city.lorawan.applayer.commands import (
    Address,
    AppCommand,
    Bits,
    CommandSpec,
    Octets,
    Package,
    Tail,
    package_version_commands,
)
from lora_city.lorawan.errors import LoRaWANError, eui_to_wire

IDENTIFIER = 2
PORT = 200
ERROR_BITS = 0x1C  # DR error, frequency error, group undefined: no TimeToStart follows (TS005 §3.5)


def _status_ans_length(rest: bytes) -> int:
    # Status: AnsGroupMask bits 3:0 (one 5-octet item per bit set), NbTotalGroups bits 6:4.
    if not rest:
        return 1
    return 1 + 5 * bin(rest[0] & 0x0F).count("1")


def _parse_status_items(tail: bytes) -> dict[str, Any]:
    items = [{"mc_group_id": tail[i] & 0x03, "mc_addr": tail[i + 1:i + 5][::-1].hex()} for i in range(0, len(tail), 5)]
    return {"items": items}


def _build_status_items(fields: Mapping[str, Any]) -> bytes:
    out = bytearray()
    for item in fields.get("items", ()):
        out.append(int(item["mc_group_id"]) & 0x03)
        out += eui_to_wire(str(item["mc_addr"]), "mc_addr", 4)
    return bytes(out)


def _session_ans_length(rest: bytes) -> int:
    return 1 if rest and rest[0] & ERROR_BITS else 4


def _parse_time_to_start(tail: bytes) -> dict[str, Any]:
    return {"time_to_start": int.from_bytes(tail, "little")} if tail else {}


def _build_time_to_start(fields: Mapping[str, Any]) -> bytes:
    errors = any(fields.get(name) for name in ("dr_error", "freq_error", "mc_group_undefined"))
    value = fields.get("time_to_start")
    if errors:
        if value is not None:
            raise LoRaWANError("time_to_start", "absent when an error bit is set (TS005 §3.5)")
        return b""
    value = int(value or 0)
    if not 0 <= value < 1 << 24:
        raise LoRaWANError("time_to_start", f"{value} out of range for 24 bits")
    return value.to_bytes(3, "little")


def _session_ans(cid: int, name: str, version: int) -> CommandSpec:
    flags = [Bits("mc_group_id", 0, 2), Bits("dr_error", 2, 1, flag=True), Bits("freq_error", 3, 1, flag=True),
             Bits("mc_group_undefined", 4, 1, flag=True)]
    if version >= 2:
        flags.append(Bits("start_missed", 5, 1, flag=True))
    return CommandSpec(cid, name, True, 1, tuple(flags), f"TS005 {name}", length_of=_session_ans_length,
                       tail=Tail(("time_to_start",), _parse_time_to_start, _build_time_to_start))


def _commands(version: int) -> tuple[CommandSpec, ...]:
    return (
        *package_version_commands(),
        CommandSpec(0x01, "McGroupStatusReq", False, 1, (Bits("req_group_mask", 0, 4),), "TS005 McGroupStatusReq"),
        CommandSpec(0x01, "McGroupStatusAns", True, 1,
                    (Bits("ans_group_mask", 0, 4), Bits("nb_total_groups", 4, 3)), "TS005 McGroupStatusAns",
                    length_of=_status_ans_length,
                    tail=Tail(("items",), _parse_status_items, _build_status_items)),
        # McGroupIDHeader (1) | McAddr (4) | McKey_encrypted (16) | minMcFCount (4) | maxMcFCount (4)
        CommandSpec(0x02, "McGroupSetupReq", False, 29,
                    (Bits("mc_group_id", 0, 2), Address("mc_addr", 1), Octets("mc_key_encrypted", 5, 16),
                     Bits("min_mc_fcount", 168, 32), Bits("max_mc_fcount", 200, 32)), "TS005 McGroupSetupReq"),
        CommandSpec(0x02, "McGroupSetupAns", True, 1, (Bits("mc_group_id", 0, 2), Bits("id_error", 2, 1, flag=True)),
                    "TS005 McGroupSetupAns"),
        CommandSpec(0x03, "McGroupDeleteReq", False, 1, (Bits("mc_group_id", 0, 2),), "TS005 McGroupDeleteReq"),
        CommandSpec(0x03, "McGroupDeleteAns", True, 1,
                    (Bits("mc_group_id", 0, 2), Bits("mc_group_undefined", 2, 1, flag=True)), "TS005 McGroupDeleteAns"),
        # McGroupIDHeader (1) | SessionTime (4) | SessionTimeOut (1) | DLFrequency (3) | DR (1)
        CommandSpec(0x04, "McClassCSessionReq", False, 10,
                    (Bits("mc_group_id", 0, 2), Bits("session_time", 8, 32), Bits("session_time_out", 40, 4),
                     Bits("dl_frequency", 48, 24, scale=100), Bits("dr", 72, 4)), "TS005 McClassCSessionReq"),
        _session_ans(0x04, "McClassCSessionAns", version),
        # as class C, with TimeOutPeriodicity: TimeOut bits 3:0, Periodicity bits 6:4 (ping every 2^P s)
        CommandSpec(0x05, "McClassBSessionReq", False, 10,
                    (Bits("mc_group_id", 0, 2), Bits("session_time", 8, 32), Bits("time_out", 40, 4),
                     Bits("periodicity", 44, 3), Bits("dl_frequency", 48, 24, scale=100), Bits("dr", 72, 4)),
                    "TS005 McClassBSessionReq"),
        _session_ans(0x05, "McClassBSessionAns", version),
    )


V1 = Package(IDENTIFIER, 1, PORT, _commands(1))
V2 = Package(IDENTIFIER, 2, PORT, _commands(2))
VERSIONS = {1: V1, 2: V2}


def _block(first: int, middle: bytes = b"") -> bytes:
    return (bytes([first]) + middle).ljust(16, b"\x00")


def mc_root_key(root: bytes, lorawan_11: bool) -> bytes:
    """McRootKey from the device's GenAppKey (LoRaWAN 1.0.x) or AppKey (1.1)."""
    return keyed(root).encrypt(_block(0x20 if lorawan_11 else 0x00))


def mc_ke_key(root_key: bytes) -> bytes:
    """McKEKey, the key-encryption key of McKey, from McRootKey."""
    return keyed(root_key).encrypt(_block(0x00))


def encrypt_mc_key(ke_key: bytes, mc_key: bytes) -> bytes:
    """McKey_encrypted as the server sends it: an AES *decryption* so that the device only needs encryption."""
    return keyed(ke_key).decrypt(mc_key)


def decrypt_mc_key(ke_key: bytes, mc_key_encrypted: bytes) -> bytes:
    """McKey as the end-device recovers it from McGroupSetupReq."""
    return keyed(ke_key).encrypt(mc_key_encrypted)


def mc_session_keys(mc_key: bytes, mc_addr: str) -> tuple[bytes, bytes]:
    """(McAppSKey, McNwkSKey) of a group, from McKey and the group's McAddr (MSB-first hex)."""
    addr = eui_to_wire(mc_addr, "mc_addr", 4)
    cipher = keyed(mc_key)
    return cipher.encrypt(_block(0x01, addr)), cipher.encrypt(_block(0x02, addr))


def group_setup_request(mc_group_id: int, mc_addr: str, mc_key: bytes, device_root_key: bytes, lorawan_11: bool,
                        min_fcount: int = 0, max_fcount: int = 0xFFFFFFFF) -> AppCommand:
    """The McGroupSetupReq that gives one device a group's McKey, encrypted under that device's McKEKey."""
    ke_key = mc_ke_key(mc_root_key(device_root_key, lorawan_11))
    return AppCommand("McGroupSetupReq", {
        "mc_group_id": mc_group_id, "mc_addr": mc_addr,
        "mc_key_encrypted": encrypt_mc_key(ke_key, mc_key).hex(),
        "min_mc_fcount": min_fcount, "max_mc_fcount": max_fcount,
    })
