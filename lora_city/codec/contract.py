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
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lora_city.codec.measurements import CATALOGUE

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_HEX4 = re.compile(r"^(0[xX])?[0-9a-fA-F]{1,4}$")


class Family(str, Enum):  # noqa: UP042 -- str() of members stays as the lead wrote it
    STREETLIGHT = "streetlight"
    WATER = "water"
    FLOOD = "flood"
    OTHER = "other"


class MeasurementMapping(BaseModel):
    """Maps one field of the codec's ``data`` object to a catalogue measurement.

    ``path`` is dotted with optional list indexes (``"readings.0.level"``). ``unit`` is the unit the vendor uses;
    the runtime converts to the catalogue's unit. ``scale`` multiplies first (for vendor raw units).
    For flags, ``true_values`` lists the vendor values that mean True (default: truthy booleans and 1).
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    path: str
    unit: str | None = None
    scale: float = 1.0
    true_values: list[Any] | None = None
    # Tells apart several measurements of one name on one device (relay "1" and "2" of a two-channel switch).
    channel: str | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CATALOGUE:
            raise ValueError(f"{value!r} is not in the measurement catalogue")
        return value


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    vendor: str
    model: str
    family: Family
    version: str = "1.0.0"
    runtime: Literal["python", "javascript"] = "python"
    entry: str | None = None  # file name; default codec.py / codec.js
    f_ports: list[int] = Field(default_factory=list)
    # LoRa Alliance vendor ID (hex, as in TR005's ProfileID "VVVVPPPP") and the vendor's profile IDs.
    lora_alliance_vendor_id: str | None = None
    # Profile IDs that name this model alone: a QR code carrying one finds this codec.
    vendor_profile_ids: list[str] = Field(default_factory=list)
    # Profile IDs the vendor gives to many of its models (Milesight, Dragino, Netvox... use one profile per
    # region for every model): a QR code carrying one cannot tell which model it is, so it finds no codec.
    shared_vendor_profile_ids: list[str] = Field(default_factory=list)
    description: str = ""
    documentation_url: str | None = None
    measurements: list[MeasurementMapping] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id must be lowercase letters, digits, '-' or '_'")
        return value

    @field_validator("lora_alliance_vendor_id")
    @classmethod
    def _vendor_hex(cls, value: str | None) -> str | None:
        if value is not None and not _HEX4.match(value):
            raise ValueError("must be 1 to 4 hex digits (TR005 VendorID), optionally 0x-prefixed")
        return value

    @field_validator("vendor_profile_ids", "shared_vendor_profile_ids")
    @classmethod
    def _profiles_hex(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _HEX4.match(value):
                raise ValueError(f"{value!r} is not 1 to 4 hex digits (TR005 VendorProfileID)")
        return values


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
