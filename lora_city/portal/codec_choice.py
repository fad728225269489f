"""Codecs as a person picks them: the registry's codec folders (vendor, model, family) and the device
catalogue's codecs, and for the chosen one its first documented uplink example decoded live, so the operator
sees what the devices' readings will look like before saving a profile.

A codec folder documents its examples in ``examples.json`` (the vendor's own); a catalogue codec in the device
repository's codec YAML (``uplink`` examples with ``input.fPort`` and ``input.bytes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import LoraCityError
from lora_city.storage.models import CatalogueCodec

CATALOGUE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class CodecOption:
    id: str
    label: str
    group: str  # the vendor


@dataclass
class Example:
    codec_id: str
    description: str
    f_port: int
    payload_hex: str
    data: Any = None
    measurements: list[tuple[str, Any, str | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def options(codecs: CodecRegistry | None, session: Session) -> list[CodecOption]:
    found: list[CodecOption] = []
    if codecs is not None:
        for info in codecs.list():
            m = info.manifest
            found.append(CodecOption(info.id, f"{m.vendor} {m.model} ({info.id})", m.vendor))
    ids = session.scalars(select(CatalogueCodec.codec_id).distinct().order_by(CatalogueCodec.codec_id)
                          .limit(CATALOGUE_LIMIT))
    for codec_id in ids:
        vendor = codec_id.split("/", 1)[0]
        found.append(CodecOption(codec_id, codec_id, vendor))
    return sorted(found, key=lambda o: (o.group.lower(), o.label.lower()))


def _folder_example(codecs: CodecRegistry, codec_id: str) -> tuple[str, int, str] | None:
    info = codecs.get(codec_id)
    if info.examples_path is None or not info.examples_path.exists():
        return None
    for item in json.loads(info.examples_path.read_text(encoding="utf-8")):
        if item.get("kind", "uplink") == "uplink" and item.get("bytes_hex") is not None:
            return str(item.get("description", "")), int(item["f_port"]), str(item["bytes_hex"])
    return None


def _catalogue_example(session: Session, codec_id: str) -> tuple[str, int, str] | None:
    row = session.scalars(select(CatalogueCodec).where(CatalogueCodec.codec_id == codec_id.split("@", 1)[0])
                          .order_by(CatalogueCodec.version.desc())).first()
    if row is None:
        return None
    for item in (row.examples or {}).get("uplink", []) or []:
        given = item.get("input") or {}
        if given.get("bytes") is not None:
            payload = bytes(int(b) & 0xFF for b in given["bytes"])
            return str(item.get("description", "")), int(given.get("fPort") or 1), payload.hex()
    return None


def documented_example(codecs: CodecRegistry | None, session: Session, codec_id: str) -> Example | None:
    """The codec's first documented uplink example, decoded now by the registry (None: none documented)."""
    if codecs is None or codec_id not in codecs:
        return None
    try:
        found = _folder_example(codecs, codec_id) if "/" not in codec_id else _catalogue_example(session, codec_id)
    except (LoraCityError, OSError, ValueError, KeyError, TypeError):
        found = None
    if found is None:
        return None
    description, f_port, payload_hex = found
    example = Example(codec_id, description, f_port, payload_hex.lower())
    try:
        result = codecs.decode_uplink(codec_id, f_port, bytes.fromhex(payload_hex))
    except (LoraCityError, ValueError) as exc:
        example.errors = [str(exc)]
        return example
    example.data, example.errors, example.warnings = result.data, list(result.errors), list(result.warnings)
    example.measurements = [(m.key, m.value, m.unit) for m in result.measurements]
    return example
