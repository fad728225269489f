from __future__ import annotations

from fastapi import APIRouter, Response

from lora_city.api.deps import CurrentPrincipal, SessionDep, SingleQueryValues
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
def update_tenant(session: SessionDep, principal: CurrentPrincipal, tenant_id: str, body: TenantFields) -> TenantOut:
    return TenantOut.model_validate(tenants.update_tenant(session, principal, tenant_id, body))


@router.delete("/{tenant_id}", status_code=204)
def delete_tenant(session: SessionDep, principal: CurrentPrincipal, tenant_id: str) -> Response:
    tenants.delete_tenant(session, principal, tenant_id)
    return Response(status_code=204)
