"""Tenants: the city, its services and lessee companies. Basic CRUD for the administrator; tenants/ extends it."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from lora_city.services.common import DB_INT_MAX, INPUT_CONFIG, NotNull, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.storage.bootstrap import CITY_SLUG
from lora_city.storage.models import Gateway, Tenant, utcnow

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
KINDS = ("city", "city_service", "lessee")
_NOT_NULL = {"name", "kind", "is_critical", "language", "description", "can_have_gateways", "max_gateway_count",
             "max_device_count", "private_gateways_up", "private_gateways_down", "tags"}


class TenantFields(BaseModel):
    model_config = INPUT_CONFIG

    name: Annotated[str, Field(min_length=1, max_length=200)] | NotNull = None
    kind: Annotated[str, Field(pattern="^(city_service|lessee)$")] | NotNull = None
    is_critical: bool | NotNull = None
    legal_name: str | None = Field(default=None, max_length=200)
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")
    vat_number: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=200)
    # The columns below hold no null: the schema says so (NotNull), as the update below refuses one (issue 19:
    # a published "null allowed" that the route refused was a broken contract).
    language: Literal["fr", "en"] | NotNull = None  # of the tenant's invoices and documents
    # ChirpStack's tenant settings (storage/limits.py enforces the limits; 0 = no limit)
    description: Annotated[str, Field(max_length=1000)] | NotNull = None
    can_have_gateways: bool | NotNull = None
    max_gateway_count: Annotated[int, Field(ge=0, le=DB_INT_MAX)] | NotNull = None
    max_device_count: Annotated[int, Field(ge=0, le=DB_INT_MAX)] | NotNull = None
    private_gateways_up: bool | NotNull = None
    private_gateways_down: bool | NotNull = None
    tags: dict[str, str] | NotNull = None


class TenantCreate(TenantFields):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=64, pattern=_SLUG.pattern)


def create_tenant(session: Session, principal: Principal, data: TenantCreate) -> Tenant:
    principal.require(Perm.TENANTS_WRITE)
    if not _SLUG.match(data.slug):
        raise InvalidInput("slug must be lowercase letters, digits and '-'", code="invalid_slug")
    if session.scalar(select(Tenant.id).where(Tenant.slug == data.slug)) is not None:
        raise AlreadyExists(f"tenant {data.slug!r} already exists")
    tenant = Tenant(slug=data.slug, **data.model_dump(exclude={"slug"}, exclude_none=True))
    session.add(tenant)
    session.commit()
    return tenant


def get_tenant(session: Session, principal: Principal, tenant_id: str) -> Tenant:
    principal.require(Perm.TENANTS_READ)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None or not principal.sees(tenant.id):
        raise NotFound("tenant not found")
    return tenant


def list_tenants(session: Session, principal: Principal) -> list[Tenant]:
    principal.require(Perm.TENANTS_READ)
    stmt = select(Tenant).order_by(Tenant.slug)
    stmt = visible_only(stmt, principal, Tenant.id)
    return list(session.scalars(stmt))


def update_tenant(session: Session, principal: Principal, tenant_id: str, data: TenantFields) -> Tenant:
    principal.require(Perm.TENANTS_WRITE)
    tenant = get_tenant(session, principal, tenant_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name in _NOT_NULL:
            raise InvalidInput(f"{name} may not be null")
        setattr(tenant, name, value)
    tenant.updated_at = utcnow()
    session.commit()
    return tenant


def delete_tenant(session: Session, principal: Principal, tenant_id: str) -> None:
    principal.require(Perm.TENANTS_WRITE)
    tenant = get_tenant(session, principal, tenant_id)
    if tenant.slug == CITY_SLUG:
        raise Conflict("the city's own tenant cannot be deleted", code="city_tenant")
    session.delete(tenant)
    session.commit()


def gateways_of(session: Session, tenant_id: str) -> list[str]:
    """The tenant's gateways: told to the network server when the tenant's private-gateway settings change."""
    return list(session.scalars(select(Gateway.gateway_id).where(Gateway.tenant_id == tenant_id)))
