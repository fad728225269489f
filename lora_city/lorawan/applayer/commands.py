"""The table engine shared by the three application-layer packages (TS003, TS004, TS005).

Each package message is a CID byte followed by a payload whose multi-byte fields are little-endian and whose bit
fields are numbered from bit 0 of the first byte (the conventions of TS001 §5, which the packages reuse). So a
fixed-size payload is read as one little-endian integer and every field is a ``(lowest bit, width)`` slice of it,
as for MAC commands (``lora_city.lorawan.mac``). Keys, MICs and descriptors are byte strings at an offset;
a DevAddr-like address (McAddr) is 32 bits exposed MSB-first hex as everywhere in this product.

A package payload on its FPort may carry several commands back to back (TS003 §3, TS004 §3, TS005 §3: "several
commands may be concatenated"). Three answers and one request have a length the table cannot state (McGroupStatusAns,
McClassCSessionAns, McClassBSessionAns, DataFragment): their specs carry a ``length_of`` function that reads the
length from the payload's first byte(s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lora_city.lorawan.errors import LoRaWANError

Value = int | bool | str


@dataclass(frozen=True, slots=True)
class Bits:
    """An unsigned (or two's complement) bit field; ``flag`` fields are exposed as bool."""

    name: str
    lsb: int
    width: int
    scale: int = 1  # wire value x scale = exposed value (frequencies: 100 Hz steps)
    signed: bool = False
    flag: bool = False


@dataclass(frozen=True, slots=True)
class Octets:
    """A byte string at ``offset`` (from the first payload byte), exposed as lowercase hex in wire order."""

    name: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Address:
    """A 32-bit little-endian address (McAddr) at ``offset``, exposed MSB-first hex like a DevAddr."""

    name: str
    offset: int


FieldSpec = Bits | Octets | Address


@dataclass(frozen=True, slots=True)
class Tail:
    """The variable part of a command after its fixed fields: what it is called, how it is read and built."""

    names: tuple[str, ...]
    parse: Callable[[bytes], dict[str, Any]]
    build: Callable[[Mapping[str, Any]], bytes]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    cid: int
    name: str
    uplink: bool  # sent by the end-device
    length: int  # payload bytes after the CID (the fixed part, for variable-length commands)
    fields: tuple[FieldSpec, ...] = ()
    spec: str = ""  # where the command is defined
    # Variable-length commands: the whole payload length, read from the bytes after the CID.
    length_of: Callable[[bytes], int] | None = None
    # Variable-length commands: the part after the fixed fields (a list of items, a fragment's data).
    tail: Tail | None = None


@dataclass(frozen=True, slots=True)
class AppCommand:
    """One application-layer command: its spec ``name`` and field values (missing numeric fields are 0)."""

    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.name, **self.fields}


class Package:
    """The commands of one package version, by name and by (CID, direction)."""

    def __init__(self, identifier: int, version: int, port: int, commands: Iterable[CommandSpec]) -> None:
        self.identifier = identifier
        self.version = version
        self.port = port
        self.commands = tuple(commands)
        self.by_name = {spec.name: spec for spec in self.commands}
        self._by_cid = {(spec.cid, spec.uplink): spec for spec in self.commands}
        if len(self.by_name) != len(self.commands) or len(self._by_cid) != len(self.commands):
            raise ValueError("duplicate command in a package table")

    def __repr__(self) -> str:
        return f"Package(id={self.identifier}, v{self.version}, port {self.port})"

    def encode(self, commands: Iterable[AppCommand]) -> bytes:
        """Concatenate commands into one FRMPayload for this package's FPort."""
        return b"".join(self.encode_one(command) for command in commands)

    def encode_one(self, command: AppCommand) -> bytes:
        spec = self.by_name.get(command.name)
        if spec is None:
            raise LoRaWANError("command", f"{command.name!r} is not a command of {self!r}")
        tail_names = set(spec.tail.names) if spec.tail else set()
        unknown = set(command.fields) - {f.name for f in spec.fields} - tail_names
        if unknown:
            raise LoRaWANError(command.name, f"unknown fields {sorted(unknown)}")
        body = bytearray(_encode_fixed(spec, command.fields))
        if spec.tail is not None:
            body += spec.tail.build(command.fields)
        return bytes([spec.cid]) + bytes(body)

    def decode(self, payload: bytes, uplink: bool) -> list[AppCommand]:
        """Parse every command of a FRMPayload sent ``uplink`` (by the device) or downlink."""
        commands: list[AppCommand] = []
        offset = 0
        while offset < len(payload):
            cid = payload[offset]
            spec = self._by_cid.get((cid, uplink))
            if spec is None:
                raise LoRaWANError("CID", f"0x{cid:02x} is not a {'uplink' if uplink else 'downlink'} "
                                          f"command of {self!r}", offset)
            rest = payload[offset + 1:]
            length = spec.length if spec.length_of is None else spec.length_of(rest)
            if len(rest) < length:
                raise LoRaWANError(spec.name, f"needs {length} bytes, {len(rest)} left", offset)
            body = rest[:length]
            fields = _decode_fixed(spec, body[:spec.length])
            if spec.tail is not None:
                fields.update(spec.tail.parse(body[spec.length:]))
            commands.append(AppCommand(spec.name, fields))
            offset += 1 + length
        return commands


def _encode_fixed(spec: CommandSpec, values: Mapping[str, Any]) -> bytes:
    raw = bytearray(spec.length)
    acc = 0
    for f in spec.fields:
        value = values.get(f.name)
        if isinstance(f, Bits):
            number = int(value or 0)
            if number % f.scale:
                raise LoRaWANError(f.name, f"{number} is not a multiple of {f.scale}")
            number //= f.scale
            lo, hi = (-(1 << (f.width - 1)), (1 << (f.width - 1)) - 1) if f.signed else (0, (1 << f.width) - 1)
            if not lo <= number <= hi:
                raise LoRaWANError(f.name, f"{value} out of range for {f.width} bits")
            acc |= (number & ((1 << f.width) - 1)) << f.lsb
        elif isinstance(f, Octets):
            data = _hex(value, f.name, f.length)
            raw[f.offset:f.offset + f.length] = data
        else:
            raw[f.offset:f.offset + 4] = _hex(value, f.name, 4)[::-1]
    merged = int.from_bytes(raw, "little") | acc
    return merged.to_bytes(spec.length, "little")


def _decode_fixed(spec: CommandSpec, body: bytes) -> dict[str, Any]:
    value = int.from_bytes(body, "little")
    fields: dict[str, Any] = {}
    for f in spec.fields:
        if isinstance(f, Bits):
            number = (value >> f.lsb) & ((1 << f.width) - 1)
            if f.signed and number >= 1 << (f.width - 1):
                number -= 1 << f.width
            fields[f.name] = bool(number) if f.flag else number * f.scale
        elif isinstance(f, Octets):
            fields[f.name] = body[f.offset:f.offset + f.length].hex()
        else:
            fields[f.name] = body[f.offset:f.offset + 4][::-1].hex()
    return fields


def _hex(value: Any, name: str, length: int) -> bytes:
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
    elif isinstance(value, str):
        try:
            data = bytes.fromhex(value)
        except ValueError:
            raise LoRaWANError(name, f"not valid hex: {value!r}") from None
    elif value is None:
        data = bytes(length)
    else:
        raise LoRaWANError(name, f"expected hex text or bytes, got {type(value).__name__}")
    if len(data) != length:
        raise LoRaWANError(name, f"expected {length} bytes, got {len(data)}")
    return data


def package_version_commands() -> tuple[CommandSpec, CommandSpec]:
    """PackageVersionReq/Ans: CID 0x00 in every package (TS003/TS004/TS005 §3.1)."""
    return (
        CommandSpec(0x00, "PackageVersionReq", False, 0, (), "PackageVersionReq"),
        CommandSpec(0x00, "PackageVersionAns", True, 2,
                    (Bits("package_identifier", 0, 8), Bits("package_version", 8, 8)), "PackageVersionAns"),
    )
