"""The codec contract, shaped like the LoRa Alliance payload codec API (TS013).

A codec plugin is a folder ``codecs/<id>/`` holding:

- ``manifest.json`` -- read and validated (``Manifest``) *before* any code is imported;
- ``codec.py`` (``runtime: python``) with module-level functions
  ``decode_uplink(f_port: int, payload: bytes) -> dict`` returning ``{"data": {...}, "warnings": [...], "errors": [...]}``
  and optionally ``encode_downlink(data: dict) -> {"f_port": int, "bytes": bytes|list[int], "warnings", "errors"}``
  and ``decode_downlink(f_port: int, payload: bytes) -> {"data", "warnings", "errors"}``;
  or ``codec.js`` (``runtime: javascript``) written to TS013 (``decodeUplink(input)`` …);
- ``examples.json`` -- fixtures the parametrised test walks: a list of
  ``{"kind": "uplink"|"downlink_encode"|"downlink_decode", "description", "f_port", "bytes_hex", "data",
  "warnings"?, "errors"?, "measurements"?: {name: value}}``.

A native codec never raises on bad input: it returns an ``errors`` result (the runtime also catches, as a last line).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Literal, NamedTuple, cast

from lora_city.codec.measurements import CATALOGUE

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_HEX4 = re.compile(r"^(0[xX])?[0-9a-fA-F]{1,4}$")


class Family(str, Enum):  # noqa: UP042 -- str() of members stays as the lead wrote it
    STREETLIGHT = "streetlight"
    WATER = "water"
    FLOOD = "flood"
    OTHER = "other"


class ContractError(ValueError):
    """A manifest or mapping that does not hold to the contract: every problem as (where, message), ``where``
    being the dotted path of the field (``measurements.0.name``). Plain dataclasses and these checks instead of
    pydantic models: the manifest is read on every ``lora-city codec decode``, and pydantic's import alone cost
    more than the decode (issue 15 §5). The messages keep pydantic's wording, which the tests and users know."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {message}" for where, message in problems))


class _Fields:
    """Reads one JSON object field by field, collecting problems instead of stopping at the first."""

    def __init__(self, raw: object, where: str, known: set[str]) -> None:
        self.where = where
        self.problems: list[tuple[str, str]] = []
        if not isinstance(raw, Mapping):
            self.problems.append((where or "value", "Input should be an object"))
            raw = {}
        self.raw: Mapping[Any, Any] = raw
        for key in raw:
            if key not in known:
                self.problems.append((self._at(str(key)), "Extra inputs are not permitted"))

    def _at(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def get(self, name: str, check: Callable[[Any, str], Any], default: Any = ...) -> Any:
        if name not in self.raw:
            if default is ...:
                self.problems.append((self._at(name), "Field required"))
            return None if default is ... else default
        try:
            return check(self.raw[name], self._at(name))
        except ContractError as exc:
            self.problems.extend(exc.problems)
            return default if default is not ... else None
        except ValueError as exc:
            self.problems.append((self._at(name), f"Value error, {exc}"))
            return default if default is not ... else None


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ContractError([(where, "Input should be a valid string")])
    return value


def _optional_str(value: Any, where: str) -> str | None:
    return None if value is None else _str(value, where)


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ContractError([(where, "Input should be a valid integer")])
    return value


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ContractError([(where, "Input should be a valid number")])
    return float(value)


def _list(item: Callable[[Any, str], Any]) -> Callable[[Any, str], list[Any]]:
    def check(value: Any, where: str) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise ContractError([(where, "Input should be a valid list")])
        items, problems = [], []
        for index, element in enumerate(value):
            try:
                items.append(item(element, f"{where}.{index}"))
            except ContractError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ContractError(problems)
        return items

    return check


def _family(value: Any, where: str) -> Family:
    try:
        return Family(value)
    except ValueError:
        expected = ", ".join(repr(f.value) for f in list(Family)[:-1]) + f" or {list(Family)[-1].value!r}"
        raise ContractError([(where, f"Input should be {expected}")]) from None


def _runtime(value: Any, where: str) -> str:
    if value not in ("python", "javascript"):
        raise ContractError([(where, "Input should be 'python' or 'javascript'")])
    return cast(str, value)


def _id(value: Any, where: str) -> str:
    if not _ID.match(_str(value, where)):
        raise ValueError("id must be lowercase letters, digits, '-' or '_'")
    return cast(str, value)


def _vendor_hex(value: Any, where: str) -> str | None:
    if value is not None and not _HEX4.match(_str(value, where)):
        raise ValueError("must be 1 to 4 hex digits (TR005 VendorID), optionally 0x-prefixed")
    return cast("str | None", value)


def _profile_hex(value: Any, where: str) -> str:
    if not _HEX4.match(_str(value, where)):
        raise ContractError([(where, f"Value error, {value!r} is not 1 to 4 hex digits (TR005 VendorProfileID)")])
    return cast(str, value)


def _any_list(value: Any, where: str) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise ContractError([(where, "Input should be a valid list")])
    return list(value)


@dataclass(frozen=True, slots=True)
class MeasurementMapping:
    """Maps one field of the codec's ``data`` object to a catalogue measurement.

    ``path`` is dotted with optional list indexes (``"readings.0.level"``). ``unit`` is the unit the vendor uses;
    the runtime converts to the catalogue's unit. ``scale`` multiplies first (for vendor raw units).
    For flags, ``true_values`` lists the vendor values that mean True (default: truthy booleans and 1).
    """

    name: str
    path: str
    unit: str | None = None
    scale: float = 1.0
    true_values: list[Any] | None = None
    # Tells apart several measurements of one name on one device (relay "1" and "2" of a two-channel switch).
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.name not in CATALOGUE:
            raise ValueError(f"{self.name!r} is not in the measurement catalogue")

    @classmethod
    def from_dict(cls, raw: object, where: str = "") -> MeasurementMapping:
        """One mapping from its JSON/YAML object; a ContractError lists every problem with its field."""
        read = _Fields(raw, where, _MAPPING_FIELDS)
        name = read.get("name", _str)
        if name is not None and name not in CATALOGUE:
            read.problems.append((read._at("name"), f"Value error, {name!r} is not in the measurement catalogue"))
        values = {
            "path": read.get("path", _str),
            "unit": read.get("unit", _optional_str, None),
            "scale": read.get("scale", _float, 1.0),
            "true_values": read.get("true_values", _any_list, None),
            "channel": read.get("channel", _optional_str, None),
        }
        if read.problems:
            raise ContractError(read.problems)
        return cls(name=name, **values)


def _mapping(value: Any, where: str) -> MeasurementMapping:
    return MeasurementMapping.from_dict(value, where)


@dataclass(frozen=True, slots=True)
class Manifest:
    id: str
    vendor: str
    model: str
    family: Family
    version: str = "1.0.0"
    runtime: Literal["python", "javascript"] = "python"
    entry: str | None = None  # file name; default codec.py / codec.js
    f_ports: list[int] = field(default_factory=list)
    # LoRa Alliance vendor ID (hex, as in TR005's ProfileID "VVVVPPPP") and the vendor's profile IDs.
    lora_alliance_vendor_id: str | None = None
    # Profile IDs that name this model alone: a QR code carrying one finds this codec.
    vendor_profile_ids: list[str] = field(default_factory=list)
    # Profile IDs the vendor gives to many of its models (Milesight, Dragino, Netvox... use one profile per
    # region for every model): a QR code carrying one cannot tell which model it is, so it finds no codec.
    shared_vendor_profile_ids: list[str] = field(default_factory=list)
    description: str = ""
    documentation_url: str | None = None
    measurements: list[MeasurementMapping] = field(default_factory=list)

    @classmethod
    def from_dict(cls, raw: object) -> Manifest:
        """The manifest from manifest.json (or an entry point's MANIFEST dict); a ContractError lists every
        problem with its field, as ``model: Field required`` or ``colour: Extra inputs are not permitted``."""
        read = _Fields(raw, "", _MANIFEST_FIELDS)
        values = {
            "id": read.get("id", _id),
            "vendor": read.get("vendor", _str),
            "model": read.get("model", _str),
            "family": read.get("family", _family),
            "version": read.get("version", _str, "1.0.0"),
            "runtime": read.get("runtime", _runtime, "python"),
            "entry": read.get("entry", _optional_str, None),
            "f_ports": read.get("f_ports", _list(_int), []),
            "lora_alliance_vendor_id": read.get("lora_alliance_vendor_id", _vendor_hex, None),
            "vendor_profile_ids": read.get("vendor_profile_ids", _list(_profile_hex), []),
            "shared_vendor_profile_ids": read.get("shared_vendor_profile_ids", _list(_profile_hex), []),
            "description": read.get("description", _str, ""),
            "documentation_url": read.get("documentation_url", _optional_str, None),
            "measurements": read.get("measurements", _list(_mapping), []),
        }
        if read.problems:
            raise ContractError(read.problems)
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The manifest as manifest.json holds it (family as its string)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["family"] = self.family.value
        out["measurements"] = [{f.name: getattr(m, f.name) for f in fields(m)} for m in self.measurements]
        return out


_MAPPING_FIELDS = {f.name for f in fields(MeasurementMapping)}
_MANIFEST_FIELDS = {f.name for f in fields(Manifest)}


class Measurement(NamedTuple):
    """One normalised reading. A named tuple, not a (frozen) dataclass: a decode makes one per mapped field, and a
    frozen dataclass costs ~1.5 µs to build (its __init__ goes through object.__setattr__) where a tuple costs
    a tenth of that; the runtime builds them with ``tuple.__new__`` directly (mapping.py)."""

    name: str
    value: float | bool
    unit: str | None
    channel: str | None = None

    @property
    def key(self) -> str:
        """``name`` or ``name:channel``: the key examples.json uses for its ``measurements``."""
        return self.name if self.channel is None else f"{self.name}:{self.channel}"


@dataclass(slots=True)
class UplinkResult:
    data: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(slots=True)
class DownlinkResult:
    f_port: int | None
    payload: bytes | None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors
