"""MAC commands as the emulated device sees them (TS001-1.0.4 §5, TS001-1.1 §5): CID and payload lengths.

``UP`` lists what a device sends (name -> (CID, payload length)), ``DOWN`` what it receives; the device stops
at the first CID it does not know (1.0.4 §5: the rest cannot be delimited).
"""

from __future__ import annotations

from dataclasses import dataclass

UP: dict[str, tuple[int, int]] = {
    "ResetInd": (0x01, 1), "LinkCheckReq": (0x02, 0), "LinkADRAns": (0x03, 1), "DutyCycleAns": (0x04, 0),
    "RXParamSetupAns": (0x05, 1), "DevStatusAns": (0x06, 2), "NewChannelAns": (0x07, 1),
    "RXTimingSetupAns": (0x08, 0), "TxParamSetupAns": (0x09, 0), "DlChannelAns": (0x0A, 1),
    "RekeyInd": (0x0B, 1), "ADRParamSetupAns": (0x0C, 0), "DeviceTimeReq": (0x0D, 0),
    "RejoinParamSetupAns": (0x0F, 1), "PingSlotInfoReq": (0x10, 1), "PingSlotChannelAns": (0x11, 1),
    "BeaconFreqAns": (0x13, 1), "DeviceModeInd": (0x20, 1),
}
DOWN: dict[str, tuple[int, int]] = {
    "ResetConf": (0x01, 1), "LinkCheckAns": (0x02, 2), "LinkADRReq": (0x03, 4), "DutyCycleReq": (0x04, 1),
    "RXParamSetupReq": (0x05, 4), "DevStatusReq": (0x06, 0), "NewChannelReq": (0x07, 5),
    "RXTimingSetupReq": (0x08, 1), "TxParamSetupReq": (0x09, 1), "DlChannelReq": (0x0A, 4),
    "RekeyConf": (0x0B, 1), "ADRParamSetupReq": (0x0C, 1), "DeviceTimeAns": (0x0D, 5),
    "ForceRejoinReq": (0x0E, 2), "RejoinParamSetupReq": (0x0F, 1), "PingSlotInfoAns": (0x10, 0),
    "PingSlotChannelReq": (0x11, 4), "BeaconFreqReq": (0x13, 3), "DeviceModeConf": (0x20, 1),
}
_DOWN_BY_CID = {cid: (name, n) for name, (cid, n) in DOWN.items()}
_UP_BY_CID = {cid: (name, n) for name, (cid, n) in UP.items()}


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    payload: bytes = b""

    def to_bytes(self, *, uplink: bool) -> bytes:
        cid, length = (UP if uplink else DOWN)[self.name]
        assert len(self.payload) == length, f"{self.name} takes {length} bytes, got {len(self.payload)}"
        return bytes((cid,)) + self.payload


def encode(commands: list[Command], *, uplink: bool) -> bytes:
    return b"".join(c.to_bytes(uplink=uplink) for c in commands)


def decode(data: bytes, *, uplink: bool) -> list[Command]:
    """Commands in ``data``; raises ValueError at an unknown CID or a truncated command."""
    table = _UP_BY_CID if uplink else _DOWN_BY_CID
    out: list[Command] = []
    i = 0
    while i < len(data):
        entry = table.get(data[i])
        if entry is None:
            raise ValueError(f"unknown CID 0x{data[i]:02x} at {i}")
        name, length = entry
        if i + 1 + length > len(data):
            raise ValueError(f"{name} truncated")
        out.append(Command(name, data[i + 1:i + 1 + length]))
        i += 1 + length
    return out


def freq_hz(payload: bytes) -> int:
    """A 24-bit little-endian frequency in 100 Hz steps (1.0.4 §5.5, §5.7, §5.10)."""
    return int.from_bytes(payload[:3], "little") * 100
