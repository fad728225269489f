"""JavaScript codecs given with a device profile (ChirpStack's ``payload_codec_script``, runtime JS): stored in
the database as codec versions of the device catalogue (vendor ``device-profiles``, codec
``device-profiles/<profile id>``), run by the same QuickJS runtime as every catalogue codec.

The profile names the exact version (``device-profiles/<id>@N``): a pinned version is read from the database by
any process on its first use, so a script created or changed through the API decodes the next uplink
everywhere, without waiting for a catalogue refresh. An unchanged script keeps its version.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.codec.catalogue.refs import split_ref
from lora_city.codec.js import JsCodec, JsLimits
from lora_city.errors import ConfigurationError, InvalidInput
from lora_city.storage.models import CatalogueCodec, CatalogueScript, CatalogueVendor

VENDOR = "device-profiles"
FILE = "codec.js"
ROLES = ("uplink", "downlink_encoder", "downlink_decoder")  # a ChirpStack script holds them all


def codec_id_for(profile_id: str) -> str:
    return f"{VENDOR}/{profile_id}"


def is_profile_codec(ref: str | None) -> bool:
    return bool(ref) and str(ref).startswith(VENDOR + "/")


def profile_of(ref: str | None) -> str | None:
    """The profile a profile codec reference belongs to (None for any other codec)."""
    if ref is None or not is_profile_codec(ref):
        return None
    return split_ref(ref)[0].removeprefix(VENDOR + "/")


def store_script(session: Session, profile_id: str, script: str, limits: JsLimits | None = None) -> str:
    """Check the script loads in QuickJS (INVALID_ARGUMENT with the JavaScript error if not), store it, and
    return the pinned reference the profile's ``codec_id`` takes. Runs in the caller's transaction."""
    try:
        JsCodec.from_source(script, f"device profile {profile_id}", limits)
    except ConfigurationError as exc:
        raise InvalidInput(f"payload_codec_script does not load: {exc.message}", code="invalid_codec_script") from None
    if session.get(CatalogueVendor, VENDOR) is None:
        session.add(CatalogueVendor(id=VENDOR, name="Device profile scripts (ChirpStack API)"))
    digest = hashlib.sha256(script.encode()).hexdigest()
    if session.get(CatalogueScript, digest) is None:
        session.add(CatalogueScript(sha256=digest, source=script))
    codec_id = codec_id_for(profile_id)
    latest = session.scalars(select(CatalogueCodec).where(CatalogueCodec.codec_id == codec_id)
                             .order_by(CatalogueCodec.version.desc()).limit(1)).first()
    if latest is not None and latest.content_hash == digest:
        return f"{codec_id}@{latest.version}"
    version = latest.version + 1 if latest is not None else 1
    session.add(CatalogueCodec(
        codec_id=codec_id, version=version, vendor=VENDOR, content_hash=digest,
        scripts={role: {"file": FILE, "sha256": digest} for role in ROLES}, examples={}, report={}, loaded=True,
    ))
    session.flush()
    return f"{codec_id}@{version}"


def script_of(session: Session, ref: str | None) -> str | None:
    """The script of a profile codec reference, for ChirpStack's Get (None for any other codec)."""
    if ref is None or not is_profile_codec(ref):
        return None
    codec_id, version = split_ref(ref)
    query = select(CatalogueCodec).where(CatalogueCodec.codec_id == codec_id)
    query = query.where(CatalogueCodec.version == version) if version is not None else \
        query.order_by(CatalogueCodec.version.desc()).limit(1)
    row = session.scalars(query).first()
    if row is None:
        return None
    script = session.get(CatalogueScript, (row.scripts.get("uplink") or {}).get("sha256"))
    return script.source if script is not None else None
