from __future__ import annotations

from fastapi import APIRouter, Response

from lora_city.api.deps import ContextDep, CurrentPrincipal, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, TenantOut
from lora_city.services import tenants
from lora_city.services.tenants import TenantCreate, TenantFields

router = APIRouter(prefix="/tenants", tags=["tenants"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


@router.post("", status_code=201)
def create_tenant(session: SessionDep, principal: CurrentPrincipal, body: TenantCreate) -> TenantOut:
    return TenantOut.model_validate(tenants.create_tenant(session, principal, body))


@router.get("")
def list_tenants(session: SessionDep, principal: CurrentPrincipal) -> list[TenantOut]:
    return [TenantOut.model_validate(t) for t in tenants.list_tenants(session, principal)]


@router.get("/{tenant_id}")
def get_tenant(session: SessionDep, principal: CurrentPrincipal, tenant_id: str) -> TenantOut:
    return TenantOut.model_validate(tenants.get_tenant(session, principal, tenant_id))


@router.patch("/{tenant_id}")
def update_tenant(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, tenant_id: str,
                  body: TenantFields) -> TenantOut:
    out = TenantOut.model_validate(tenants.update_tenant(session, principal, tenant_id, body))
    if {"private_gateways_up", "private_gateways_down"} & body.model_fields_set:
        for gateway_id in tenants.gateways_of(session, out.id):  # the next frame obeys the tenant's setting
            ctx.gateway_changed(gateway_id)
    return out


@router.delete("/{tenant_id}", status_code=204)
def delete_tenant(session: SessionDep, principal: CurrentPrincipal, tenant_id: str) -> Response:
    tenants.delete_tenant(session, principal, tenant_id)
    return Response(status_code=204)
