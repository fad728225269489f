"""The codec registry: every loaded codec by id, and the three TS013 calls with normalised measurements.

Built once at startup (``CodecRegistry.load(settings.codecs_path, js_limits=...)``) and passed to whoever
decodes. Decoding never raises for bad bytes or a broken codec: the result carries ``errors``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lora_city.codec.catalogue.refs import is_catalogue_ref
from lora_city.codec.contract import DownlinkResult, UplinkResult
from lora_city.codec.js import JsLimits
from lora_city.codec.loader import (
    CodecInfo,
    installed_entry_points,
    iter_folders,
    load_entry_point,
    load_folder,
)
from lora_city.codec.runtime import run_decode_downlink, run_decode_uplink, run_encode_downlink
from lora_city.errors import ConfigurationError, NotFound

if TYPE_CHECKING:  # the catalogue brings the database; a folder-only registry (the command line) does without
    from importlib.metadata import EntryPoint  # ~10 ms to import: only a full load scans entry points

    from lora_city.codec.catalogue.source import CatalogueCodecs


def js_limits_from(time_limit_ms: int, memory_limit_mb: int) -> JsLimits:
    """``JsLimits`` from the two settings (``settings.js_time_limit_ms``, ``settings.js_memory_limit_mb``)."""
    return JsLimits(time_limit_ms=time_limit_ms, memory_limit_mb=memory_limit_mb)


class CodecRegistry:
    """Every loaded codec by id.

    TR005 lookup (``find_by_profile``): a QR code's ProfileID ``VVVVPPPP`` names a codec only when exactly one
    codec lists it in ``vendor_profile_ids`` and no codec lists it in ``shared_vendor_profile_ids``. Many vendors
    give one profile per region to every model they make (Milesight, Dragino, Netvox, Decentlab), so such a
    ProfileID says "a Milesight device in EU868", not which one: picking any codec would decode a water meter
    with a lamp controller's codec. Those lookups return None, and ``codecs_for_profile`` lists the candidates
    for a person to choose from.
    """

    def __init__(self, codecs: Iterable[CodecInfo], catalogue: CatalogueCodecs | None = None) -> None:
        # Catalogue codecs (``vendor/codec`` or ``vendor/codec@N``) come from the database, on first use.
        self.catalogue = catalogue
        self._codecs: dict[str, CodecInfo] = {}
        own: dict[str, list[CodecInfo]] = {}
        shared: dict[str, list[CodecInfo]] = {}
        for info in codecs:
            other = self._codecs.get(info.id)
            if other is not None:
                raise ConfigurationError(
                    f"codec {info.source}: duplicate codec id {info.id!r} (also in {other.source})"
                )
            self._codecs[info.id] = info
            vendor = info.manifest.lora_alliance_vendor_id
            if vendor:
                for profile in info.manifest.vendor_profile_ids:
                    own.setdefault(_profile_key(vendor, profile), []).append(info)
                for profile in info.manifest.shared_vendor_profile_ids:
                    shared.setdefault(_profile_key(vendor, profile), []).append(info)
        self._by_profile = {
            key: infos[0] for key, infos in own.items() if len(infos) == 1 and key not in shared
        }
        self._candidates = {
            key: sorted({i.id: i for i in [*own.get(key, []), *shared.get(key, [])]}.values(), key=_by_id)
            for key in own.keys() | shared.keys()
        }

    @classmethod
    def load(
        cls,
        codecs_path: Path,
        *,
        entry_points: bool | Iterable[EntryPoint] = True,
        js_limits: JsLimits | None = None,
        catalogue: CatalogueCodecs | None = None,
    ) -> CodecRegistry:
        """Load every codec folder under ``codecs_path`` and, when ``entry_points`` is true, every installed
        entry point of ``lora_city.codecs`` (or exactly the entry points given). Raises ConfigurationError."""
        limits = js_limits or JsLimits()
        infos = [load_folder(folder, limits) for folder in iter_folders(codecs_path)]
        if entry_points is True:
            eps: Iterable[EntryPoint] = installed_entry_points()
        elif entry_points is False:
            eps = ()
        else:
            eps = entry_points
        infos.extend(load_entry_point(ep, limits) for ep in eps)
        return cls(infos, catalogue)

    def _find(self, codec_id: str) -> CodecInfo | None:
        info = self._codecs.get(codec_id)
        if info is None and self.catalogue is not None and is_catalogue_ref(codec_id):
            info = self.catalogue.get(codec_id)
        return info

    @classmethod
    def load_one(cls, codecs_path: Path, codec_id: str, *, js_limits: JsLimits | None = None) -> CodecRegistry:
        """A registry holding only ``codec_id`` when its folder is under ``codecs_path`` (the command line decodes
        one payload: loading the other codecs would triple its start-up); else the full registry."""
        folder = codecs_path / codec_id
        if codec_id and "/" not in codec_id and not codec_id.startswith((".", "_")) and folder.is_dir():
            return cls([load_folder(folder, js_limits or JsLimits())])
        return cls.load(codecs_path, js_limits=js_limits)

    def get(self, codec_id: str) -> CodecInfo:
        info = self._find(codec_id)
        if info is None:
            raise NotFound(f"no codec {codec_id!r}")
        return info

    def list(self) -> list[CodecInfo]:
        """The codec folders and entry points (the catalogue is listed by the catalogue API)."""
        return sorted(self._codecs.values(), key=lambda info: info.id)

    def __contains__(self, codec_id: object) -> bool:
        return isinstance(codec_id, str) and self._find(codec_id) is not None

    def find_by_profile(self, vendor_id: str, profile_id: str) -> CodecInfo | None:
        """The codec for a TR005 ProfileID (``VVVVPPPP``: 4 hex digits vendor id, 4 hex digits profile id).

        None when no codec knows the profile, and also when it is ambiguous: a profile the vendor shares between
        models, or one two codecs claim (see the class docstring). ``codecs_for_profile`` tells them apart.
        When no codec folder knows the profile at all, the catalogue answers: its model's codec when exactly one
        catalogue model carries the profile."""
        key = _profile_key(vendor_id, profile_id)
        found = self._by_profile.get(key)
        if found is None and key not in self._candidates and self.catalogue is not None:
            matches = self.catalogue.for_profile(vendor_id, profile_id)
            if len(matches) == 1:
                return matches[0][1]
        return found

    # builtins.list: inside the class, ``list`` is the method above.
    def codecs_for_profile(self, vendor_id: str, profile_id: str) -> builtins.list[CodecInfo]:
        """Every codec that lists the profile, own or shared, by id: one entry for an unambiguous profile, several
        (or one with a shared profile) when the ProfileID alone cannot name the device's model."""
        found = list(self._candidates.get(_profile_key(vendor_id, profile_id), ()))
        if not found and self.catalogue is not None:
            found = list({i.id: i for _, i in self.catalogue.for_profile(vendor_id, profile_id) if i}.values())
        return found

    def decode_uplink(
        self, codec_id: str, f_port: int, payload: bytes, *, recv_time: datetime | None = None
    ) -> UplinkResult:
        info = self._codecs.get(codec_id)  # per uplink: a dict lookup, not a method call and a try
        if info is None:
            info = self.get(codec_id)  # a catalogue codec (cached after its first uplink), or NotFound
        return run_decode_uplink(info.runtime, f_port, payload, info.mappings, recv_time)

    def decode_downlink(self, codec_id: str, f_port: int, payload: bytes) -> UplinkResult:
        info = self.get(codec_id)
        return run_decode_downlink(info.runtime, f_port, payload, info.mappings)

    def encode_downlink(self, codec_id: str, data: dict[str, Any]) -> DownlinkResult:
        return run_encode_downlink(self.get(codec_id).runtime, data)


def _by_id(info: CodecInfo) -> str:
    return info.id


def _profile_key(vendor_id: str, profile_id: str) -> str:
    # TR005 writes both as 4 hex digits; accept "0x" prefixes, any case and missing leading zeros.
    def norm(value: str) -> str:
        text = value.strip().lower().removeprefix("0x")
        return text.rjust(4, "0")

    return f"{norm(vendor_id)}{norm(profile_id)}"
