"""Downlinks as a form built from the device's codec: each command the codec documents (its ``downlink_encode``
examples, the vendor's own) is offered with its fields, prefilled with the documented values and the other values
the examples show as suggestions; the codec's encoder turns the filled form into bytes and chooses the FPort
(the WS558's relay commands go on 85, not 1). Raw hex stays available to experts.

A field's type is the documented value's: a number, true/false, or text. Values are read back in that type, so
"600" becomes 600 for ``delay_time`` and "on" stays "on" for ``switch_1``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import LoraCityError
from lora_city.storage.models import CatalogueCodec, DeviceQueueItem

MAX_COMMANDS = 40


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: str  # number | bool | text
    value: str  # the documented value, as the form shows it
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Command:
    index: int
    description: str
    fields: tuple[Field, ...]


@dataclass
class Encoded:
    f_port: int | None
    payload_hex: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class QueuedItem:
    item: DeviceQueueItem
    decoded: Any  # the codec's reading of the bytes, when it can decode downlinks


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and value is not None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "text"


def _documented(codecs: CodecRegistry, session: Session, codec_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(description, data) of each documented downlink the encoder accepts (examples expecting errors left out)."""
    found: list[tuple[str, dict[str, Any]]] = []
    if "/" not in codec_id:
        info = codecs.get(codec_id)
        if info.examples_path is not None and info.examples_path.exists():
            for item in json.loads(info.examples_path.read_text(encoding="utf-8")):
                if item.get("kind") == "downlink_encode" and not item.get("errors") and isinstance(item.get("data"), dict):
                    found.append((str(item.get("description", "")), item["data"]))
    else:
        row = session.scalars(select(CatalogueCodec).where(CatalogueCodec.codec_id == codec_id.split("@", 1)[0])
                              .order_by(CatalogueCodec.version.desc())).first()
        for item in ((row.examples or {}).get("downlink_encoder", []) if row is not None else []) or []:
            data = (item.get("input") or {}).get("data")
            if isinstance(data, dict) and not (item.get("output") or {}).get("errors"):
                found.append((str(item.get("description", "")), data))
    return [(d, data) for d, data in found if data and all(_scalar(v) for v in data.values())][:MAX_COMMANDS]


def commands(codecs: CodecRegistry | None, session: Session, codec_id: str | None) -> list[Command]:
    if codecs is None or codec_id is None or codec_id not in codecs:
        return []
    try:
        documented = _documented(codecs, session, codec_id)
    except (LoraCityError, OSError, ValueError, TypeError, KeyError):
        return []
    seen: dict[str, list[str]] = {}
    for _d, data in documented:
        for name, value in data.items():
            values = seen.setdefault(name, [])
            if _text(value) not in values:
                values.append(_text(value))
    return [Command(i, description or f"#{i + 1}", tuple(
        Field(name, _kind(value), _text(value), tuple(seen.get(name, ()))) for name, value in data.items()))
        for i, (description, data) in enumerate(documented)]


def read_values(command: Command, posted: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The object for the encoder from the posted ``field.<name>`` values, and the fields that do not parse."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in command.fields:
        raw = posted.get(f"field.{f.name}", "").strip()
        if f.kind == "number":
            try:
                number = float(raw.replace(",", "."))
            except ValueError:
                errors[f.name] = "number"
                continue
            data[f.name] = int(number) if number.is_integer() and "." not in f.value else number
        elif f.kind == "bool":
            if raw not in ("true", "false"):
                errors[f.name] = "bool"
                continue
            data[f.name] = raw == "true"
        else:
            data[f.name] = raw
    return data, errors


def encode(codecs: CodecRegistry, codec_id: str, data: dict[str, Any]) -> Encoded:
    result = codecs.encode_downlink(codec_id, data)
    return Encoded(result.f_port, result.payload.hex() if result.payload else "", list(result.errors),
                   list(result.warnings))


def queued(codecs: CodecRegistry | None, codec_id: str | None, items: list[DeviceQueueItem]) -> list[QueuedItem]:
    out = []
    for item in items:
        decoded: Any = None
        if item.f_port and codecs is not None and codec_id is not None and codec_id in codecs:  # 0: MAC
            try:
                result = codecs.decode_downlink(codec_id, item.f_port, item.payload)
                decoded = result.data if result.ok else None
            except (LoraCityError, ValueError, TypeError):
                decoded = None
        out.append(QueuedItem(item, decoded))
    return out
