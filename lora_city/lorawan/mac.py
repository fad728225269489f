"""MAC commands of LoRaWAN 1.0.4 (§5) and 1.1 (§5) that apply to EU868, parsed and built in both directions.

The commands are described by one table: each payload is read as a little-endian integer (multi-byte fields are
little-endian on the wire and bit fields are numbered from bit 0 of the first byte), so every field is a
``(name, lowest bit, width)`` slice of it. Frequencies are carried in units of 100 Hz and exposed in Hz.
A CID means a different command in each direction (``LinkADRReq`` down, ``LinkADRAns`` up), so parsing needs the
direction. CIDs 0x80-0xFF are proprietary with unknown lengths; they and unknown CIDs raise LoRaWANError, since
the rest of the buffer cannot be delimited (1.0.4 §5: the device must stop processing at the first unknown CID).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lora_city.lorawan.errors import LoRaWANError


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    lsb: int
    width: int
    scale: int = 1  # wire value x scale = exposed value (100 for frequencies in Hz)
    signed: bool = False  # two's complement (DevStatusAns margin, 6 bits)


@dataclass(frozen=True, slots=True)
class CommandSpec:
    cid: int
    name: str
    uplink: bool  # sent by the device
    length: int  # payload bytes after the CID
    fields: tuple[Field, ...] = ()
    spec: str = ""  # where it is defined


def _f(name: str, lsb: int, width: int, scale: int = 1, signed: bool = False) -> Field:
    return Field(name, lsb, width, scale, signed)


_FREQ = 100
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(0x01, "ResetInd", True, 1, (_f("minor", 0, 4),), "1.1 §5.1"),
    CommandSpec(0x01, "ResetConf", False, 1, (_f("minor", 0, 4),), "1.1 §5.1"),
    CommandSpec(0x02, "LinkCheckReq", True, 0, (), "1.0.4 §5.2"),
    CommandSpec(0x02, "LinkCheckAns", False, 2, (_f("margin", 0, 8), _f("gw_cnt", 8, 8)), "1.0.4 §5.2"),
    CommandSpec(
        0x03,
        "LinkADRReq",
        False,
        4,
        (
            _f("tx_power", 0, 4),
            _f("data_rate", 4, 4),
            _f("ch_mask", 8, 16),
            _f("nb_trans", 24, 4),
            _f("ch_mask_cntl", 28, 3),
        ),
        "1.0.4 §5.3",
    ),
    CommandSpec(
        0x03,
        "LinkADRAns",
        True,
        1,
        (_f("channel_mask_ack", 0, 1), _f("data_rate_ack", 1, 1), _f("power_ack", 2, 1)),
        "1.0.4 §5.3",
    ),
    CommandSpec(0x04, "DutyCycleReq", False, 1, (_f("max_duty_cycle", 0, 4),), "1.0.4 §5.4"),
    CommandSpec(0x04, "DutyCycleAns", True, 0, (), "1.0.4 §5.4"),
    CommandSpec(
        0x05,
        "RXParamSetupReq",
        False,
        4,
        (_f("rx2_data_rate", 0, 4), _f("rx1_dr_offset", 4, 3), _f("frequency", 8, 24, _FREQ)),
        "1.0.4 §5.5",
    ),
    CommandSpec(
        0x05,
        "RXParamSetupAns",
        True,
        1,
        (_f("channel_ack", 0, 1), _f("rx2_data_rate_ack", 1, 1), _f("rx1_dr_offset_ack", 2, 1)),
        "1.0.4 §5.5",
    ),
    CommandSpec(0x06, "DevStatusReq", False, 0, (), "1.0.4 §5.6"),
    CommandSpec(
        0x06, "DevStatusAns", True, 2, (_f("battery", 0, 8), _f("margin", 8, 6, signed=True)), "1.0.4 §5.6"
    ),
    CommandSpec(
        0x07,
        "NewChannelReq",
        False,
        5,
        (_f("ch_index", 0, 8), _f("frequency", 8, 24, _FREQ), _f("min_dr", 32, 4), _f("max_dr", 36, 4)),
        "1.0.4 §5.7",
    ),
    CommandSpec(
        0x07,
        "NewChannelAns",
        True,
        1,
        (_f("channel_frequency_ok", 0, 1), _f("data_rate_range_ok", 1, 1)),
        "1.0.4 §5.7",
    ),
    CommandSpec(0x08, "RXTimingSetupReq", False, 1, (_f("delay", 0, 4),), "1.0.4 §5.8"),
    CommandSpec(0x08, "RXTimingSetupAns", True, 0, (), "1.0.4 §5.8"),
    CommandSpec(
        0x09,
        "TxParamSetupReq",
        False,
        1,
        (_f("max_eirp", 0, 4), _f("uplink_dwell_time", 4, 1), _f("downlink_dwell_time", 5, 1)),
        "1.0.4 §5.9 (not used in EU868)",
    ),
    CommandSpec(0x09, "TxParamSetupAns", True, 0, (), "1.0.4 §5.9"),
    CommandSpec(
        0x0A, "DlChannelReq", False, 4, (_f("ch_index", 0, 8), _f("frequency", 8, 24, _FREQ)), "1.0.4 §5.10"
    ),
    CommandSpec(
        0x0A,
        "DlChannelAns",
        True,
        1,
        (_f("channel_frequency_ok", 0, 1), _f("uplink_frequency_exists", 1, 1)),
        "1.0.4 §5.10",
    ),
    CommandSpec(0x0B, "RekeyInd", True, 1, (_f("minor", 0, 4),), "1.1 §5.10"),
    CommandSpec(0x0B, "RekeyConf", False, 1, (_f("minor", 0, 4),), "1.1 §5.10"),
    CommandSpec(
        0x0C, "ADRParamSetupReq", False, 1, (_f("delay_exp", 0, 4), _f("limit_exp", 4, 4)), "1.1 §5.11"
    ),
    CommandSpec(0x0C, "ADRParamSetupAns", True, 0, (), "1.1 §5.11"),
    CommandSpec(0x0D, "DeviceTimeReq", True, 0, (), "1.0.4 §5.11"),
    CommandSpec(
        0x0D, "DeviceTimeAns", False, 5, (_f("seconds", 0, 32), _f("fractional_second", 32, 8)), "1.0.4 §5.11"
    ),
    CommandSpec(
        0x0E,
        "ForceRejoinReq",
        False,
        2,
        (_f("data_rate", 0, 4), _f("rejoin_type", 4, 3), _f("max_retries", 8, 3), _f("period", 11, 3)),
        "1.1 §5.13",
    ),
    CommandSpec(
        0x0F, "RejoinParamSetupReq", False, 1, (_f("max_count_n", 0, 4), _f("max_time_n", 4, 4)), "1.1 §5.14"
    ),
    CommandSpec(0x0F, "RejoinParamSetupAns", True, 1, (_f("time_ok", 0, 1),), "1.1 §5.14"),
    # Class B (1.0.4 §13 / 1.1 §14) and class C (1.1 §18) commands also apply in EU868.
    CommandSpec(0x10, "PingSlotInfoReq", True, 1, (_f("periodicity", 0, 3),), "1.0.4 §13.1"),
    CommandSpec(0x10, "PingSlotInfoAns", False, 0, (), "1.0.4 §13.1"),
    CommandSpec(
        0x11,
        "PingSlotChannelReq",
        False,
        4,
        (_f("frequency", 0, 24, _FREQ), _f("data_rate", 24, 4)),
        "1.0.4 §13.2",
    ),
    CommandSpec(
        0x11,
        "PingSlotChannelAns",
        True,
        1,
        # Status bit 0 "Channel frequency ok", bit 1 "Data rate ok" (TS001-1.0.4 Table 71)
        (_f("channel_frequency_ok", 0, 1), _f("data_rate_ok", 1, 1)),
        "1.0.4 §13.2",
    ),
    CommandSpec(0x12, "BeaconTimingReq", True, 0, (), "1.0.3 §13.3 (deprecated)"),
    CommandSpec(0x12, "BeaconTimingAns", False, 3, (_f("delay", 0, 16), _f("channel", 16, 8)), "1.0.3 §13.3"),
    CommandSpec(0x13, "BeaconFreqReq", False, 3, (_f("frequency", 0, 24, _FREQ),), "1.0.4 §13.4"),
    CommandSpec(0x13, "BeaconFreqAns", True, 1, (_f("beacon_frequency_ok", 0, 1),), "1.0.4 §13.4"),
    CommandSpec(0x20, "DeviceModeInd", True, 1, (_f("device_class", 0, 8),), "1.1 §18.1"),
    CommandSpec(0x20, "DeviceModeConf", False, 1, (_f("device_class", 0, 8),), "1.1 §18.1"),
)

BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in COMMANDS}
_BY_CID: dict[tuple[int, bool], CommandSpec] = {(spec.cid, spec.uplink): spec for spec in COMMANDS}


@dataclass(frozen=True, slots=True)
class MacCommand:
    """One MAC command: its spec ``name`` (e.g. ``LinkADRReq``) and its field values (missing fields are 0)."""

    name: str
    fields: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        spec = BY_NAME.get(self.name)
        if spec is None:
            raise LoRaWANError("MAC command", f"unknown command name {self.name!r}")
        known = {f.name for f in spec.fields}
        unknown = set(self.fields) - known
        if unknown:
            raise LoRaWANError(self.name, f"unknown field(s) {sorted(unknown)}; expected {sorted(known)}")

    @property
    def spec(self) -> CommandSpec:
        return BY_NAME[self.name]

    @property
    def cid(self) -> int:
        return self.spec.cid

    @property
    def uplink(self) -> bool:
        return self.spec.uplink

    def __getitem__(self, name: str) -> int:
        return self.fields.get(name, 0)

    def to_bytes(self) -> bytes:
        spec = self.spec
        value = 0
        for f in spec.fields:
            raw = self.fields.get(f.name, 0)
            if not isinstance(raw, int) or (isinstance(raw, bool) and f.width != 1):
                raise LoRaWANError(f"{self.name}.{f.name}", f"must be an integer, got {raw!r}")
            if raw % f.scale:
                raise LoRaWANError(f"{self.name}.{f.name}", f"must be a multiple of {f.scale}, got {raw}")
            wire = raw // f.scale
            low, high = (
                (-(1 << (f.width - 1)), (1 << (f.width - 1)) - 1) if f.signed else (0, (1 << f.width) - 1)
            )
            if not low <= wire <= high:
                raise LoRaWANError(
                    f"{self.name}.{f.name}", f"out of range [{low * f.scale}, {high * f.scale}]: {raw}"
                )
            value |= (wire & ((1 << f.width) - 1)) << f.lsb
        return bytes((spec.cid,)) + value.to_bytes(spec.length, "little")

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"cid": 3, "name": "LinkADRReq", <every field>}``."""
        return {"cid": self.cid, "name": self.name, **{f.name: self[f.name] for f in self.spec.fields}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MacCommand:
        """Inverse of :meth:`to_dict` (``cid`` optional, checked against ``name`` when given)."""
        name = data.get("name")
        if not isinstance(name, str):
            raise LoRaWANError("MAC command", "missing 'name'")
        command = cls(name, {k: v for k, v in data.items() if k not in ("cid", "name")})
        if "cid" in data and data["cid"] != command.cid:
            raise LoRaWANError(name, f"cid {data['cid']!r} does not match {name} (0x{command.cid:02x})")
        return command


def _decode(spec: CommandSpec, payload: bytes) -> MacCommand:
    value = int.from_bytes(payload, "little")
    fields: dict[str, int] = {}
    for f in spec.fields:
        wire = (value >> f.lsb) & ((1 << f.width) - 1)
        if f.signed and wire >> (f.width - 1):
            wire -= 1 << f.width
        fields[f.name] = wire * f.scale
    return MacCommand(spec.name, fields)


def parse_mac_commands(data: bytes, uplink: bool) -> list[MacCommand]:
    """Parse FOpts or an FPort-0 FRMPayload (plaintext) sent ``uplink`` (by the device) or downlink."""
    commands: list[MacCommand] = []
    offset = 0
    while offset < len(data):
        cid = data[offset]
        spec = _BY_CID.get((cid, uplink))
        if spec is None:
            direction = "uplink" if uplink else "downlink"
            raise LoRaWANError("MAC command CID", f"unknown {direction} CID 0x{cid:02x}", offset)
        end = offset + 1 + spec.length
        if end > len(data):
            raise LoRaWANError(spec.name, f"truncated: needs {spec.length} payload bytes", offset)
        commands.append(_decode(spec, data[offset + 1 : end]))
        offset = end
    return commands


def encode_mac_commands(commands: Iterable[MacCommand]) -> bytes:
    """Concatenate commands into FOpts / FRMPayload bytes."""
    return b"".join(command.to_bytes() for command in commands)
