"""Things in the street that carry devices (poles, water meters, flood gauges), the history of which device was
on which asset, and the stored answers of idempotent API writes (technicians retry on flaky connections)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("tenant_id", "external_ref", name="uq_assets_tenant_external_ref"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="other")  # pole | meter | gauge | other
    # The city's own identifier (lamp-post number, meter serial): what a technician reads on the asset.
    external_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    name: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(default=None)
    longitude: Mapped[float | None] = mapped_column(default=None)
    address: Mapped[str | None] = mapped_column(String(500), default=None)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    photo_content_type: Mapped[str | None] = mapped_column(String(100), default=None)
    notes: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssetDevice(Base):
    """Which device was on which asset, when: an asset's readings are its devices' readings inside these spans."""

    __tablename__ = "asset_devices"
    __table_args__ = (Index("ix_asset_devices_dev_eui_unbound", "dev_eui", "unbound_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    # No foreign key to devices: the history outlives a deleted device.
    dev_eui: Mapped[str] = mapped_column(String(16))
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)
    unbound_at: Mapped[datetime | None] = mapped_column(default=None)
    # Who made the binding (``Principal.identity``: an API key's id or a portal user's): the technician who
    # installed or swapped a unit may read that asset's readings for a while (services/field_access.py).
    bound_by: Mapped[str | None] = mapped_column(String(64), default=None)


class IdempotencyKey(Base):
    """The stored outcome of a write made with an ``Idempotency-Key`` header, per principal."""

    __tablename__ = "idempotency_keys"

    principal: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method_path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
