"""The device catalogue: vendors, device models, their LoRaWAN profiles and payload codecs, imported from a
checkout of the LoRaWAN device repository format (``lora-city codec import-repository``).

Catalogue rows are shared by every tenant (they describe products, not anyone's devices). Codecs are versioned:
a re-import that changes a codec's scripts adds a version and keeps the old ones, so a device or profile pinned
to ``vendor/codec@2`` keeps decoding with version 2 while ``vendor/codec`` follows the latest. Scripts are stored
once per content (sha256), since many codecs of a vendor share a file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, utcnow


class CatalogueVendor(Base):
    __tablename__ = "catalogue_vendors"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the repository's vendor id, e.g. "decentlab"
    name: Mapped[str] = mapped_column(String(200))
    # TR005 VendorID (LoRa Alliance); a QR code's ProfileID starts with it.
    vendor_id: Mapped[int | None] = mapped_column(default=None, index=True)
    website: Mapped[str | None] = mapped_column(String(300), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogueModel(Base):
    """An end device model and its firmware versions, each with a profile and a codec per region."""

    __tablename__ = "catalogue_models"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # "vendor/model"
    vendor: Mapped[str] = mapped_column(ForeignKey("catalogue_vendors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    sensors: Mapped[list[Any]] = mapped_column(default=list)
    # [{"version", "numeric", "hardware_versions", "profiles": {"EU863-870": {"profile", "codec",
    #   "lorawan_certified"}}}] in the repository's order (the last is usually the newest).
    firmware: Mapped[list[Any]] = mapped_column(default=list)
    hardware: Mapped[list[Any]] = mapped_column(default=list)
    product_url: Mapped[str | None] = mapped_column(String(500), default=None)
    datasheet_url: Mapped[str | None] = mapped_column(String(500), default=None)
    # Lower-case text searched by the API and the console (vendor, names, description, sensors).
    search_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogueProfile(Base):
    """A LoRaWAN end-device profile (class, MAC and regional parameters versions, join) of a vendor."""

    __tablename__ = "catalogue_profiles"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # "vendor/profile-id"
    vendor: Mapped[str] = mapped_column(ForeignKey("catalogue_vendors.id", ondelete="CASCADE"), index=True)
    vendor_profile_id: Mapped[int | None] = mapped_column(default=None)  # TR005 VendorProfileID
    mac_version: Mapped[str] = mapped_column(String(8))
    regional_parameters_version: Mapped[str] = mapped_column(String(32))
    supports_join: Mapped[bool] = mapped_column(default=True)
    supports_class_b: Mapped[bool] = mapped_column(default=False)
    supports_class_c: Mapped[bool] = mapped_column(default=False)
    max_eirp: Mapped[int | None] = mapped_column(default=None)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the whole profile document
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogueScript(Base):
    """A codec script's text, stored once per content."""

    __tablename__ = "catalogue_scripts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(Text)


class CatalogueCodec(Base):
    """One version of a codec: its scripts per function, documented examples and the import's check of them."""

    __tablename__ = "catalogue_codecs"
    __table_args__ = (Index("ix_catalogue_codecs_codec_id_version", "codec_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    codec_id: Mapped[str] = mapped_column(String(80))  # "vendor/codec"
    version: Mapped[int]
    vendor: Mapped[str] = mapped_column(ForeignKey("catalogue_vendors.id", ondelete="CASCADE"), index=True)
    # What identifies a version: the scripts' content per function (not the examples, which only document).
    content_hash: Mapped[str] = mapped_column(String(64))
    # {"uplink": {"file": "x.js", "sha256": "..."}, "downlink_encoder": {...}, "downlink_decoder": {...}}
    scripts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    examples: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"uplink": [...], ...} as documented
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)  # passed, failed (with differences), load errors
    loaded: Mapped[bool] = mapped_column(default=True)  # every script evaluated in QuickJS at import
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
