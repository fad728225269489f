"""Who owns what: tenants (the city, its services, lessee companies), their users, API keys and applications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    # "city" (the network owner), "city_service" (flood cell, lighting …), "lessee" (a company renting capacity)
    kind: Mapped[str] = mapped_column(String(20), default="lessee")
    # Critical tenants (flood) are never dropped by quotas (issue 7).
    is_critical: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | suspended | deleted
    plan_id: Mapped[str | None] = mapped_column(String(36), default=None)  # tenants/ owns the plans table
    legal_name: Mapped[str | None] = mapped_column(String(200), default=None)
    siret: Mapped[str | None] = mapped_column(String(14), default=None)
    vat_number: Mapped[str | None] = mapped_column(String(20), default=None)
    address: Mapped[str | None] = mapped_column(String(500), default=None)
    email: Mapped[str | None] = mapped_column(String(200), default=None)
    language: Mapped[str] = mapped_column(String(5), default="fr")  # of its invoices and documents: fr | en
    # ChirpStack's tenant settings, kept for its API's clients and enforced (storage/limits.py): 0 = no limit.
    description: Mapped[str] = mapped_column(String(1000), default="")
    can_have_gateways: Mapped[bool] = mapped_column(default=True)
    max_gateway_count: Mapped[int] = mapped_column(default=0)
    max_device_count: Mapped[int] = mapped_column(default=0)
    private_gateways_up: Mapped[bool] = mapped_column(default=False)
    private_gateways_down: Mapped[bool] = mapped_column(default=False)
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)  # set by the services on every change


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    # admin | operator | technician | tenant_admin | tenant_viewer
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Carried in every portal session cookie of this user; logging out or disabling the user bumps it, which
    # ends every session issued before at once (the cookies are signed, not stored).
    session_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserInvitation(Base):
    """A link that lets an invited person choose their first password. Only the token's SHA-256 is stored; the
    link is shown once to whoever invited. Used once, valid until ``expires_at``; a new one replaces the old."""

    __tablename__ = "user_invitations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiKey(Base):
    """Bearer API keys: only a hash is stored; the key is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), index=True)  # shown in lists, used to find the row
    key_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[str] = mapped_column(String(500), default="")  # space-separated; empty = the role's default
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
