"""Catalogue codecs for the registry: ``vendor/codec`` (the latest version) or ``vendor/codec@N`` (pinned),
loaded from the database when first asked for and kept.

Why lazily: a catalogue holds hundreds of codecs and a server decodes a handful; a codec costs its QuickJS
context only when a device uses it. The first uplink of a device on a codec not seen yet pays one database read;
later ones a dictionary lookup. A pinned version never changes, so it is kept for good; which version ``latest``
means is re-read by ``refresh`` (the importer and the API call it in their process at once; a running server
also calls it every ``Settings``-defined interval, so an import made by another process reaches it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lora_city.codec.catalogue.lookup import ProfileMatch, models_for_profile_id
from lora_city.codec.catalogue.refs import split_ref
from lora_city.codec.catalogue.runtime import CatalogueRuntime
from lora_city.codec.contract import Family, Manifest, MeasurementMapping
from lora_city.codec.js import JsLimits
from lora_city.codec.loader import CodecInfo
from lora_city.codec.mapping import EMPTY, MappingTable
from lora_city.storage.db import SessionFactory
from lora_city.storage.models import CatalogueCodec, CatalogueScript, CatalogueVendor

log = logging.getLogger(__name__)

REFRESH_S = 30.0



@dataclass(frozen=True, slots=True)
class CatalogueMapping:
    """What a mapping file gives a catalogue codec: its family and its measurements (catalogue/mappings.py)."""

    family: Family
    measurements: list[MeasurementMapping]
    table: MappingTable


MappingLookup = Callable[[str], CatalogueMapping | None]


class CatalogueCodecs:
    def __init__(self, factory: SessionFactory, limits: JsLimits, *, mappings: MappingLookup | None = None,
                 negative_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._factory = factory
        self._limits = limits
        self._mappings = mappings
        self._negative_seconds = negative_seconds
        self._clock = clock
        self._latest: dict[str, int] = {}
        self._infos: dict[tuple[str, int], CodecInfo] = {}
        self._unknown: dict[str, float] = {}  # ref -> when it was found absent
        self._lock = threading.RLock()
        self._loaded = False

    def refresh(self) -> None:
        """Re-read which version is the latest of every codec (one query)."""
        with self._factory() as session:
            rows = session.execute(select(CatalogueCodec.codec_id, func.max(CatalogueCodec.version))
                                   .group_by(CatalogueCodec.codec_id)).all()
        with self._lock:
            self._latest = {codec_id: int(version) for codec_id, version in rows}
            self._unknown.clear()
            self._loaded = True

    async def refresh_loop(self, every_s: float = REFRESH_S) -> None:
        """The fallback that brings an import made by another process (``lora-city codec import-repository``
        beside a running server) into this one: re-read the latest versions every ``every_s`` seconds."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:  # the database may be briefly away; the next turn tries again
                log.warning("catalogue refresh failed", exc_info=True)

    def latest_version(self, codec_id: str) -> int | None:
        if not self._loaded:
            self.refresh()
        return self._latest.get(codec_id)

    def get(self, ref: str) -> CodecInfo | None:
        """The codec a reference names, or None (unknown codec or version)."""
        codec_id, version = split_ref(ref)
        if version is None:
            version = self._latest.get(codec_id) if self._loaded else None
        if version is not None:
            info = self._infos.get((codec_id, version))
            if info is not None:
                return info
        seen_absent = self._unknown.get(ref)
        if seen_absent is not None and self._clock() - seen_absent < self._negative_seconds:
            return None
        return self._load(ref, codec_id, version)

    def for_profile(self, vendor_id: str, profile_id: str) -> list[tuple[ProfileMatch, CodecInfo | None]]:
        """The catalogue models a TR005 ProfileID names, each with its codec (None when it has none)."""
        try:
            vendor = int(vendor_id.strip().lower().removeprefix("0x"), 16)
            profile = int(profile_id.strip().lower().removeprefix("0x"), 16)
        except ValueError:
            return []
        with self._factory() as session:
            matches = models_for_profile_id(session, vendor, profile)
        return [(m, self.get(m.codec) if m.codec else None) for m in matches]

    def _load(self, ref: str, codec_id: str, version: int | None) -> CodecInfo | None:
        with self._lock, self._factory() as session:
            query = select(CatalogueCodec).where(CatalogueCodec.codec_id == codec_id)
            query = query.where(CatalogueCodec.version == version) if version is not None else \
                query.order_by(CatalogueCodec.version.desc()).limit(1)
            row = session.scalars(query).first()
            if row is None:
                self._unknown[ref] = self._clock()
                return None
            if version is None:  # an import since the last refresh: this codec's latest is now known
                self._latest[codec_id] = row.version
            info = self._infos.get((codec_id, row.version))
            if info is None:
                info = self._build(session, row)
                self._infos[(codec_id, row.version)] = info
            return info

    def _build(self, session: Session, row: CatalogueCodec) -> CodecInfo:
        scripts: dict[str, tuple[str, str]] = {}
        for role, ref in (row.scripts or {}).items():
            script = session.get(CatalogueScript, ref.get("sha256"))
            if script is not None:
                scripts[role] = (f"{row.vendor}/{ref.get('file')}", script.source)
        vendor = session.get(CatalogueVendor, row.vendor)
        mapping = self._mappings(row.codec_id) if self._mappings is not None else None
        family = mapping.family if mapping else Family.OTHER
        table = mapping.table if mapping else EMPTY
        manifest = Manifest(
            # The codec's id without its version: what a QR lookup hands out is the codec that follows updates.
            id=row.codec_id, vendor=vendor.name if vendor else row.vendor, model=row.codec_id,
            family=family, version=str(row.version), runtime="javascript", entry=None, f_ports=[],
            lora_alliance_vendor_id=None if vendor is None or vendor.vendor_id is None else f"{vendor.vendor_id:04x}",
            vendor_profile_ids=[], shared_vendor_profile_ids=[], description="", documentation_url=None,
            measurements=list(mapping.measurements) if mapping else [],
        )
        return CodecInfo(manifest, CatalogueRuntime(scripts, self._limits), table,
                         f"catalogue {row.codec_id}@{row.version}")
