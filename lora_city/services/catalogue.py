"""The device catalogue as the API and the console show it: vendors and models with search, a model's firmware
versions with their profiles and codec, a codec's versions with the import's check of its documented examples,
a TR005 ProfileID's models, and a preview decode with a catalogue codec."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lora_city.codec.batch import uplink_document
from lora_city.codec.catalogue.lookup import (
    EU868,
    ModelProfile,
    NoSuchModel,
    model_profile,
    models_for_profile_id,
    parse_profile_id,
)
from lora_city.codec.registry import CodecRegistry
from lora_city.errors import InvalidInput, NotFound
from lora_city.services.common import DB_INT_MAX, INPUT_CONFIG
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import CatalogueCodec, CatalogueModel, CatalogueProfile, CatalogueVendor

MAX_PAGE = 200


class VendorOut(BaseModel):
    id: str
    name: str
    vendor_id: int | None = Field(description="LoRa Alliance VendorID (TR005)")
    website: str | None
    models: int


class ModelSummary(BaseModel):
    id: str = Field(description="vendor/model")
    vendor: str
    vendor_name: str
    name: str
    description: str
    sensors: list[str]
    firmware: str | None = Field(description="The newest firmware with an EU868 profile")
    codec: str | None = Field(description="Its codec (vendor/codec, the latest version)")
    eu868: bool


class ProfileOut(BaseModel):
    id: str
    vendor_profile_id: int | None
    profile_id: str | None = Field(description="TR005 ProfileID VVVVPPPP a QR code would carry")
    mac_version: str
    regional_parameters_version: str
    supports_join: bool
    supports_class_b: bool
    supports_class_c: bool
    max_eirp: int | None


class FirmwareRegionOut(BaseModel):
    region: str
    profile: ProfileOut | None
    codec: str | None
    lorawan_certified: bool


class FirmwareOut(BaseModel):
    version: str
    hardware_versions: list[str]
    regions: list[FirmwareRegionOut]


class ModelDetail(ModelSummary):
    product_url: str | None
    datasheet_url: str | None
    firmware_versions: list[FirmwareOut]
    profile_fields: dict[str, Any] | None = Field(
        description="What a device profile made from this model holds (newest EU868 firmware)")


class CodecVersionOut(BaseModel):
    version: int
    created_at: str
    scripts: dict[str, Any]
    loaded: bool
    examples: dict[str, Any]
    report: dict[str, Any]


class CodecOut(BaseModel):
    codec_id: str
    vendor: str
    latest: int
    models: list[str]
    versions: list[CodecVersionOut]


class ProfileIdMatch(BaseModel):
    model: str
    model_name: str
    vendor_name: str
    firmware: str
    region: str
    profile: str
    codec: str | None


class ProfileIdOut(BaseModel):
    profile_id: str
    vendor_id: int
    vendor_profile_id: int
    selected: ProfileIdMatch | None = Field(description="The model when exactly one carries this profile")
    candidates: list[ProfileIdMatch]


class PreviewRequest(BaseModel):
    model_config = INPUT_CONFIG

    f_port: int = Field(ge=1, le=255)
    bytes_hex: str = Field(max_length=1024)
    version: int | None = Field(default=None, ge=1, le=DB_INT_MAX, description="A version; default the latest")


def _page(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", code="invalid_limit")
    if offset < 0:
        raise InvalidInput("offset must be 0 or more", code="invalid_offset")
    return limit, offset


def _words(q: str | None) -> list[str]:
    return [w for w in (q or "").lower().split() if w][:8]


def list_vendors(session: Session, principal: Principal, q: str | None, limit: int, offset: int) -> list[VendorOut]:
    principal.require(Perm.PROFILES_READ)
    limit, offset = _page(limit, offset)
    counts = (select(CatalogueModel.vendor, func.count().label("n")).group_by(CatalogueModel.vendor).subquery())
    stmt = (select(CatalogueVendor, counts.c.n).join(counts, counts.c.vendor == CatalogueVendor.id)
            .order_by(CatalogueVendor.name, CatalogueVendor.id))
    for word in _words(q):
        like = f"%{word}%"
        stmt = stmt.where(or_(func.lower(CatalogueVendor.name).like(like), CatalogueVendor.id.like(like)))
    rows = session.execute(stmt.limit(limit).offset(offset)).all()
    return [VendorOut(id=v.id, name=v.name, vendor_id=v.vendor_id, website=v.website, models=int(n)) for v, n in rows]


def _newest_eu868(model: CatalogueModel) -> tuple[str | None, str | None]:
    for fw in reversed(model.firmware or []):
        ref = (fw.get("profiles") or {}).get(EU868)
        if ref is not None:
            return str(fw["version"]), ref.get("codec")
    return None, None


def _summary(model: CatalogueModel, vendor_name: str) -> dict[str, Any]:
    firmware, codec = _newest_eu868(model)
    return {"id": model.id, "vendor": model.vendor, "vendor_name": vendor_name, "name": model.name,
            "description": model.description, "sensors": list(model.sensors or []), "firmware": firmware,
            "codec": codec, "eu868": firmware is not None}


def list_models(session: Session, principal: Principal, q: str | None, vendor: str | None, limit: int,
                offset: int) -> list[ModelSummary]:
    """Models whose vendor, name, description or sensors contain every word of ``q``."""
    principal.require(Perm.PROFILES_READ)
    limit, offset = _page(limit, offset)
    stmt = (select(CatalogueModel, CatalogueVendor.name).join(CatalogueVendor, CatalogueVendor.id == CatalogueModel.vendor)
            .order_by(CatalogueVendor.name, CatalogueModel.name, CatalogueModel.id))
    if vendor:
        stmt = stmt.where(CatalogueModel.vendor == vendor)
    for word in _words(q):
        stmt = stmt.where(CatalogueModel.search_text.like(f"%{word}%"))
    rows = session.execute(stmt.limit(limit).offset(offset)).all()
    return [ModelSummary(**_summary(m, name)) for m, name in rows]


def _profile_out(profile: CatalogueProfile, vendor: CatalogueVendor | None) -> ProfileOut:
    profile_id = None
    if vendor is not None and vendor.vendor_id is not None and profile.vendor_profile_id is not None:
        profile_id = f"{vendor.vendor_id:04X}{profile.vendor_profile_id:04X}"
    return ProfileOut(id=profile.id, vendor_profile_id=profile.vendor_profile_id, profile_id=profile_id,
                      mac_version=profile.mac_version, regional_parameters_version=profile.regional_parameters_version,
                      supports_join=profile.supports_join, supports_class_b=profile.supports_class_b,
                      supports_class_c=profile.supports_class_c, max_eirp=profile.max_eirp)


def get_model(session: Session, principal: Principal, model_id: str) -> ModelDetail:
    principal.require(Perm.PROFILES_READ)
    model = session.get(CatalogueModel, model_id)
    if model is None:
        raise NotFound(f"no catalogue model {model_id!r}", code="model_not_found")
    vendor = session.get(CatalogueVendor, model.vendor)
    firmware: list[FirmwareOut] = []
    for fw in model.firmware or []:
        regions = []
        for region, ref in (fw.get("profiles") or {}).items():
            profile = session.get(CatalogueProfile, ref.get("profile"))
            owner = session.get(CatalogueVendor, profile.vendor) if profile else None
            regions.append(FirmwareRegionOut(region=region, profile=_profile_out(profile, owner) if profile else None,
                                             codec=ref.get("codec"), lorawan_certified=bool(ref.get("lorawan_certified"))))
        firmware.append(FirmwareOut(version=str(fw["version"]), hardware_versions=list(fw.get("hardware_versions") or []),
                                    regions=regions))
    try:
        fields: dict[str, Any] | None = _profile_fields(model_profile(session, model_id))
    except NoSuchModel:
        fields = None
    return ModelDetail(**_summary(model, vendor.name if vendor else model.vendor), product_url=model.product_url,
                       datasheet_url=model.datasheet_url, firmware_versions=firmware, profile_fields=fields)


def _profile_fields(found: ModelProfile) -> dict[str, Any]:
    return {"name": found.name, "region": "EU868", "mac_version": found.mac_version,
            "device_class": found.device_class, "supports_otaa": found.supports_otaa, "codec_id": found.codec,
            "catalogue_model": found.model, "firmware_version": found.firmware,
            "reg_params_revision": found.regional_parameters_version}


def get_codec(session: Session, principal: Principal, codec_id: str) -> CodecOut:
    principal.require(Perm.PROFILES_READ)
    rows = list(session.scalars(select(CatalogueCodec).where(CatalogueCodec.codec_id == codec_id)
                                .order_by(CatalogueCodec.version)))
    if not rows:
        raise NotFound(f"no catalogue codec {codec_id!r}", code="codec_not_found")
    vendor = rows[0].vendor
    models = [m.id for m in session.scalars(select(CatalogueModel).where(CatalogueModel.vendor == vendor))
              if any(ref.get("codec") == codec_id for fw in m.firmware or [] for ref in (fw.get("profiles") or {}).values())]
    return CodecOut(codec_id=codec_id, vendor=vendor, latest=rows[-1].version, models=sorted(models), versions=[
        CodecVersionOut(version=r.version, created_at=r.created_at.isoformat(), scripts=r.scripts, loaded=r.loaded,
                        examples=r.examples, report=r.report) for r in rows])


def lookup_profile_id(session: Session, principal: Principal, profile_id: str) -> ProfileIdOut:
    principal.require(Perm.PROFILES_READ)
    try:
        vendor_id, vendor_profile_id = parse_profile_id(profile_id)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_profile_id") from None
    matches = [ProfileIdMatch(model=m.model, model_name=m.model_name, vendor_name=m.vendor_name, firmware=m.firmware,
                              region=m.region, profile=m.profile, codec=m.codec)
               for m in models_for_profile_id(session, vendor_id, vendor_profile_id)]
    return ProfileIdOut(profile_id=f"{vendor_id:04X}{vendor_profile_id:04X}", vendor_id=vendor_id,
                        vendor_profile_id=vendor_profile_id, selected=matches[0] if len(matches) == 1 else None,
                        candidates=matches)


def preview_decode(principal: Principal, codecs: CodecRegistry | None, codec_id: str,
                   data: PreviewRequest) -> dict[str, Any]:
    """Decode a payload with a catalogue codec, as the console shows a codec's example before choosing it."""
    principal.require(Perm.PROFILES_READ)
    if codecs is None or codecs.catalogue is None:
        raise NotFound("the catalogue is not available here", code="codec_not_found")
    ref = codec_id if data.version is None else f"{codec_id}@{data.version}"
    if ref not in codecs:
        raise NotFound(f"no catalogue codec {ref!r}", code="codec_not_found")
    text = data.bytes_hex.replace(" ", "").removeprefix("0x")
    try:
        payload = bytes.fromhex(text)
    except ValueError:
        raise InvalidInput("bytes_hex must be hex digits", code="invalid_bytes_hex") from None
    return {"codec": ref, **uplink_document(codecs.decode_uplink(ref, data.f_port, payload))}


def profile_from_model(session: Session, model_id: str, firmware: str | None) -> dict[str, Any]:
    """The device-profile fields a catalogue model fills (InvalidInput when it has no EU868 profile)."""
    try:
        return _profile_fields(model_profile(session, model_id, firmware))
    except NoSuchModel as exc:
        raise InvalidInput(str(exc), code="invalid_catalogue_model") from None
