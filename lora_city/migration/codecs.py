"""ChirpStack device-profile JavaScript codecs as lora_city codec folders (``<dir>/<id>/manifest.json`` +
``codec.js``), the layout ``CodecRegistry.load`` reads (codecs/README.md). The script is written unmodified:
QuickJS runs ChirpStack's v4 ``decodeUplink``/``encodeDownlink`` and v3 ``Decode``/``Encode`` forms.

Where: the importer writes into ``Settings.codecs_path`` unless told otherwise (``--codecs-dir``), so the next
``lora-city serve`` loads the imported codecs with the shipped ones and nothing else needs wiring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lora_city.codec.js import JsCodec, JsLimits
from lora_city.codec.loader import validate_manifest
from lora_city.errors import ConfigurationError
from lora_city.grpc_api.convert import slugify

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class CodecFolder:
    codec_id: str
    manifest: str
    script: str


def codec_id_for(profile_id: str, profile_name: str) -> str:
    # The ChirpStack id keeps two profiles with one name apart and makes a re-run find the same folder.
    return f"chirpstack-{slugify(profile_name)[:40].strip('-')}-{profile_id.replace('-', '')[:8].lower()}"


def prepare(profile_id: str, profile_name: str, script: str, limits: JsLimits) -> CodecFolder:
    """Validate manifest and script (the script is evaluated once in QuickJS). Raises ConfigurationError."""
    codec_id = codec_id_for(profile_id, profile_name)
    raw = {
        "id": codec_id, "vendor": "ChirpStack import", "model": profile_name or profile_id, "family": "other",
        "runtime": "javascript",
        "description": f"Payload codec of ChirpStack device profile {profile_id} ({profile_name}), imported unmodified",
    }
    validate_manifest(raw, codec_id)
    JsCodec.from_source(script, codec_id, limits)
    return CodecFolder(codec_id, json.dumps(raw, indent=2, ensure_ascii=False) + "\n", script)


def outcome(root: Path, folder: CodecFolder) -> Outcome:
    target = root / folder.codec_id
    if not target.is_dir():
        return "created"
    try:
        same = ((target / "manifest.json").read_text(encoding="utf-8") == folder.manifest
                and (target / "codec.js").read_text(encoding="utf-8") == folder.script)
    except OSError:
        return "updated"
    return "unchanged" if same else "updated"


def write(root: Path, folder: CodecFolder) -> Outcome:
    result = outcome(root, folder)
    if result == "unchanged":
        return result
    target = root / folder.codec_id
    try:
        target.mkdir(parents=True, exist_ok=True)
        # codec.js first: a folder whose manifest exists always has its script.
        (target / "codec.js").write_text(folder.script, encoding="utf-8")
        (target / "manifest.json").write_text(folder.manifest, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot write codec folder {target}: {exc}") from exc
    return result
