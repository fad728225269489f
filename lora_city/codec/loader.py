"""Finds codecs: folders under ``codecs/`` (loaded by path) and entry points of the group ``lora_city.codecs``.

The manifest is read and validated *before* any codec code is imported (as Home Assistant does for its
integrations): a broken manifest cannot run code, and every startup problem names its folder.
``codecs/`` is never a package: ``codec.py`` is imported from its file under a unique module name.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from lora_city.codec.contract import ContractError, Manifest
from lora_city.codec.js import JsCodec, JsLimits
from lora_city.codec.mapping import MappingTable, compile_mappings
from lora_city.codec.runtime import CodecRuntime, PythonCodec
from lora_city.errors import ConfigurationError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

ENTRY_POINT_GROUP = "lora_city.codecs"
MODULE_PREFIX = "lora_city_codec_plugin_"


@dataclass(frozen=True, slots=True)
class CodecInfo:
    manifest: Manifest
    runtime: CodecRuntime
    mappings: MappingTable
    source: str  # folder path, or "entry point NAME = VALUE"
    examples_path: Path | None = None

    @property
    def id(self) -> str:
        return self.manifest.id


def read_manifest(folder: Path) -> Manifest:
    path = folder / "manifest.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"codec folder {folder}: no manifest.json") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"codec folder {folder}: manifest.json is not valid JSON: {exc}") from exc
    return validate_manifest(raw, str(folder))


def validate_manifest(raw: Any, where: str) -> Manifest:
    if isinstance(raw, Manifest):
        raw = raw.as_dict()
    try:
        return Manifest.from_dict(raw)
    except ContractError as exc:
        raise ConfigurationError(f"codec {where}: invalid manifest: {exc}") from exc


def _compile(manifest: Manifest, where: str) -> MappingTable:
    try:
        return compile_mappings(manifest.measurements)
    except ValueError as exc:
        raise ConfigurationError(f"codec {where}: invalid measurement mapping: {exc}") from exc


def _import_file(module_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"codec {path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    # Registered before exec so dataclasses and pickling inside the codec can find their module.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # any import failure of a plugin is a startup error naming the plugin
        del sys.modules[module_name]
        raise ConfigurationError(f"codec {path}: import failed: {type(exc).__name__}: {exc}") from exc
    return module


def load_folder(folder: Path, js_limits: JsLimits) -> CodecInfo:
    manifest = read_manifest(folder)
    if manifest.id != folder.name:
        raise ConfigurationError(
            f"codec folder {folder}: manifest id {manifest.id!r} must equal the folder name"
        )
    mappings = _compile(manifest, str(folder))
    entry = folder / (manifest.entry or ("codec.js" if manifest.runtime == "javascript" else "codec.py"))
    if not entry.is_file():
        raise ConfigurationError(f"codec folder {folder}: {entry.name} is missing")
    runtime: CodecRuntime
    if manifest.runtime == "javascript":
        runtime = JsCodec.from_file(entry, js_limits)
    else:
        module = _import_file(MODULE_PREFIX + manifest.id.replace("-", "_"), entry)
        try:
            runtime = PythonCodec(module)
        except TypeError as exc:
            raise ConfigurationError(f"codec folder {folder}: {exc}") from exc
    examples = folder / "examples.json"
    return CodecInfo(manifest, runtime, mappings, str(folder), examples if examples.is_file() else None)


def iter_folders(codecs_path: Path) -> Iterator[Path]:
    if not codecs_path.is_dir():
        raise ConfigurationError(f"codecs path {codecs_path} is not a directory")
    for child in sorted(codecs_path.iterdir()):
        # Hidden folders, __pycache__ and loose files (README.md) are not codecs.
        if child.is_dir() and not child.name.startswith((".", "_")):
            yield child


def load_entry_point(ep: EntryPoint, js_limits: JsLimits) -> CodecInfo:
    """An entry point resolves to an object (often a module) with a ``MANIFEST`` (dict or Manifest) and the
    codec functions; or, for a JavaScript codec, with ``MANIFEST`` and ``JS_SOURCE``."""
    where = f"entry point {ep.name} = {ep.value}"
    try:
        target = ep.load()
    except Exception as exc:
        raise ConfigurationError(f"codec {where}: cannot be loaded: {type(exc).__name__}: {exc}") from exc
    raw = getattr(target, "MANIFEST", None)
    if raw is None:
        raise ConfigurationError(f"codec {where}: no MANIFEST")
    manifest = validate_manifest(raw, where)
    mappings = _compile(manifest, where)
    runtime: CodecRuntime
    if manifest.runtime == "javascript":
        source = getattr(target, "JS_SOURCE", None)
        if not isinstance(source, str):
            raise ConfigurationError(f"codec {where}: a javascript codec needs JS_SOURCE")
        runtime = JsCodec.from_source(source, where, js_limits)
    else:
        try:
            runtime = PythonCodec(target)
        except TypeError as exc:
            raise ConfigurationError(f"codec {where}: {exc}") from exc
    return CodecInfo(manifest, runtime, mappings, where)


def installed_entry_points() -> Iterable[EntryPoint]:
    # ~10 ms to import: paid when entry points are scanned, not by a one-codec decode
    from importlib.metadata import entry_points

    return entry_points(group=ENTRY_POINT_GROUP)
