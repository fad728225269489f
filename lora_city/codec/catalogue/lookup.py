"""Questions asked of the stored catalogue: which models a TR005 ProfileID names, and what a device profile made
from a model should hold (codec, class, MAC version, regional parameters, join)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.storage.models import CatalogueModel, CatalogueProfile, CatalogueVendor

EU868 = "EU863-870"  # the repository's name for the region lora_city serves (RP002 EU863-870)


@dataclass(frozen=True, slots=True)
class ProfileMatch:
    model: str  # "vendor/model"
    model_name: str
    vendor_name: str
    firmware: str
    region: str
    profile: str  # "vendor/profile"
    codec: str | None  # "vendor/codec"


# A ProfileID as the API's path takes it, published as its pattern (8 hex digits, an optional 0x): exactly what
# parse_profile_id reads once surrounding blanks are gone (a path has none to strip).
PROFILE_ID_PATTERN = "^(?:0[xX])?[0-9A-Fa-f]{8}$"


def parse_profile_id(profile_id: str) -> tuple[int, int]:
    """TR005 ProfileID ``VVVVPPPP`` (hex): VendorID and VendorProfileID. Raises ValueError."""
    text = profile_id.strip().lower().removeprefix("0x")
    if len(text) != 8 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{profile_id!r} is not a TR005 ProfileID (8 hex digits VVVVPPPP)")
    return int(text[:4], 16), int(text[4:], 16)


def models_for_profile_id(session: Session, vendor_id: int, vendor_profile_id: int) -> list[ProfileMatch]:
    """Every (model, newest firmware) whose profile carries this VendorID and VendorProfileID, EU868 profiles
    first. One model means the QR code names it; several mean the vendor shares the profile between models."""
    vendors = {v.id: v for v in session.scalars(select(CatalogueVendor).where(CatalogueVendor.vendor_id == vendor_id))}
    if not vendors:
        return []
    profiles = set(session.scalars(select(CatalogueProfile.id).where(
        CatalogueProfile.vendor.in_(vendors), CatalogueProfile.vendor_profile_id == vendor_profile_id)))
    if not profiles:
        return []
    found: dict[str, ProfileMatch] = {}
    models = session.scalars(select(CatalogueModel).where(CatalogueModel.vendor.in_(vendors))
                             .order_by(CatalogueModel.id))
    for model in models:
        for fw in model.firmware or []:  # later firmware replaces earlier: the newest is kept
            for region, ref in (fw.get("profiles") or {}).items():
                if ref.get("profile") not in profiles:
                    continue
                current = found.get(model.id)
                if current is not None and current.region == EU868 and region != EU868:
                    continue
                found[model.id] = ProfileMatch(model.id, model.name, vendors[model.vendor].name, str(fw["version"]),
                                               region, ref["profile"], ref.get("codec"))
    return sorted(found.values(), key=lambda m: m.model)


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What a device profile made from a catalogue model holds."""

    model: str
    name: str
    firmware: str
    region: str
    codec: str | None
    device_class: str  # "A" or "C" (class B devices run as A here)
    mac_version: str  # as lora_city's profiles write it: 1.0.2 | 1.0.3 | 1.0.4 | 1.1.0
    regional_parameters_version: str
    supports_otaa: bool
    profile: dict[str, Any]


# The repository's macVersion values against lora_city's; 1.0 and 1.0.1 devices speak 1.0.2's MAC as far as
# the network server is concerned (no 1.0/1.0.1-only behaviour is implemented).
MAC_VERSIONS = {"1.0": "1.0.2", "1.0.0": "1.0.2", "1.0.1": "1.0.2", "1.0.2": "1.0.2", "1.0.3": "1.0.3",
                "1.0.4": "1.0.4", "1.1": "1.1.0", "1.1.0": "1.1.0"}


class NoSuchModel(LookupError):
    pass


def model_profile(session: Session, model_id: str, firmware: str | None = None,
                  region: str = EU868) -> ModelProfile:
    """The profile fields for ``model_id`` at ``firmware`` (default: the newest firmware with a ``region``
    profile). Raises NoSuchModel with a sentence saying what is missing."""
    model = session.get(CatalogueModel, model_id)
    if model is None:
        raise NoSuchModel(f"no catalogue model {model_id!r}")
    versions = [fw for fw in model.firmware or [] if region in (fw.get("profiles") or {})]
    if firmware is not None:
        versions = [fw for fw in versions if str(fw.get("version")) == firmware]
        if not versions:
            raise NoSuchModel(f"model {model_id!r} has no firmware {firmware!r} with a {region} profile")
    if not versions:
        raise NoSuchModel(f"model {model_id!r} has no {region} profile")
    fw = versions[-1]
    ref = fw["profiles"][region]
    profile = session.get(CatalogueProfile, ref["profile"])
    if profile is None:
        raise NoSuchModel(f"model {model_id!r}: profile {ref['profile']!r} is not in the catalogue")
    vendor = session.get(CatalogueVendor, model.vendor)
    return ModelProfile(
        model=model.id, name=f"{vendor.name if vendor else model.vendor} {model.name}"[:200],
        firmware=str(fw["version"]), region=region, codec=ref.get("codec"),
        device_class="C" if profile.supports_class_c else "A",
        mac_version=MAC_VERSIONS.get(profile.mac_version, "1.0.3"),
        regional_parameters_version=profile.regional_parameters_version,
        supports_otaa=profile.supports_join, profile=dict(profile.details or {}),
    )
