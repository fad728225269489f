"""How a catalogue codec is named: ``vendor/codec`` (the latest version) or ``vendor/codec@N`` (pinned). Kept apart
from the catalogue's database code so the registry and the command line can tell names apart without loading it."""

from __future__ import annotations


def split_ref(ref: str) -> tuple[str, int | None]:
    """``vendor/codec@3`` -> ("vendor/codec", 3); ``vendor/codec`` -> ("vendor/codec", None)."""
    codec_id, at, version = ref.partition("@")
    if at and version.isdigit():
        return codec_id, int(version)
    return ref, None


def is_catalogue_ref(ref: str) -> bool:
    """Folder codec ids never hold a slash (manifest id rule); catalogue ids always do."""
    return "/" in ref
