"""Gateways: the city's fleet and tenants' private gateways (location, private flags, health, stats)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from lora_city.services.common import INPUT_CONFIG, NotNull, hex_id, page_limit, target_tenant, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import Gateway, UnknownGateway, utcnow

Latitude = Field(default=None, ge=-90, le=90)
Longitude = Field(default=None, ge=-180, le=180)


class GatewayFields(BaseModel):
    model_config = INPUT_CONFIG

    name: Annotated[str, Field(min_length=1, max_length=200)] | NotNull = None
    description: str | None = Field(default=None, max_length=1000)  # null clears it
    latitude: float | None = Latitude
    longitude: float | None = Longitude
    altitude: float | None = Field(default=None, ge=-1000, le=10000)
    private_up: bool | NotNull = None
    private_down: bool | NotNull = None


class GatewayCreate(GatewayFields):
    gateway_id: str = Field(min_length=16, max_length=16, pattern="^[0-9a-fA-F]{16}$")
    name: str = Field(min_length=1, max_length=200)
    tenant_id: str | None = None


def create_gateway(session: Session, principal: Principal, data: GatewayCreate) -> Gateway:
    principal.require(Perm.GATEWAYS_WRITE)
    gateway_id = hex_id(data.gateway_id, 8, "gateway_id")
    tenant = target_tenant(session, principal, data.tenant_id)
    if session.get(Gateway, gateway_id) is not None:
        raise AlreadyExists(f"gateway {gateway_id} already exists")
    gw = Gateway(gateway_id=gateway_id, tenant_id=tenant, **data.model_dump(
        exclude={"gateway_id", "tenant_id"}, exclude_none=True))
    session.add(gw)
    session.execute(delete(UnknownGateway).where(UnknownGateway.gateway_id == gateway_id))  # registered now
    session.commit()
    return gw


def get_gateway(session: Session, principal: Principal, gateway_id: str) -> Gateway:
    principal.require(Perm.GATEWAYS_READ)
    gw = session.get(Gateway, gateway_id.lower())
    if gw is None or not principal.sees(gw.tenant_id):
        raise NotFound("gateway not found")
    return gw


def list_gateways(
    session: Session, principal: Principal, *, limit: int = 100, after: str | None = None,
    online: bool | None = None,
) -> list[Gateway]:
    principal.require(Perm.GATEWAYS_READ)
    stmt = select(Gateway).order_by(Gateway.gateway_id).limit(page_limit(limit))
    stmt = visible_only(stmt, principal, Gateway.tenant_id)
    if after is not None:
        stmt = stmt.where(Gateway.gateway_id > after.lower())
    if online is not None:
        stmt = stmt.where(Gateway.online.is_(online))
    return list(session.scalars(stmt))


def list_unknown_gateways(session: Session, principal: Principal, *, limit: int = 100,
                          after: str | None = None) -> list[UnknownGateway]:
    """Gateways heard but not registered, most recently heard first is not stable for paging, so by id. They
    belong to no tenant: only the operator (who registers gateways for every tenant) sees them."""
    principal.require(Perm.GATEWAYS_WRITE)
    if not principal.sees_all_tenants:
        raise PermissionDenied("only the operator sees the unknown gateways")
    stmt = select(UnknownGateway).order_by(UnknownGateway.gateway_id).limit(page_limit(limit))
    if after is not None:
        stmt = stmt.where(UnknownGateway.gateway_id > after.lower())
    return list(session.scalars(stmt))


def update_gateway(session: Session, principal: Principal, gateway_id: str, data: GatewayFields) -> Gateway:
    principal.require(Perm.GATEWAYS_WRITE)
    gw = get_gateway(session, principal, gateway_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name == "description":
            value = ""
        elif value is None and name in {"name", "private_up", "private_down"}:
            raise InvalidInput(f"{name} may not be null")
        setattr(gw, name, value)
    gw.updated_at = utcnow()
    session.commit()
    return gw


def delete_gateway(session: Session, principal: Principal, gateway_id: str) -> None:
    principal.require(Perm.GATEWAYS_WRITE)
    session.delete(get_gateway(session, principal, gateway_id))
    session.commit()
