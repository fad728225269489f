"""HTTP routes of tenants/: plans, tenant lifecycle (plan, suspend, resume, export, delete) and live quota gauges
(a tenant's integrations are the core's: lora_city/api/routes/integrations.py). The composition root calls ``install(app, …)`` after ``create_app``; the routes use the
core's auth dependencies, so a key of one tenant gets 404 for another tenant's objects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel

from lora_city.api.deps import CurrentPrincipal, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, Out, TenantOut
from lora_city.errors import ConfigurationError, NotFound
from lora_city.services import tenants as core_tenants
from lora_city.services.common import INPUT_CONFIG
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import Device
from tenants import lifecycle, plans
from tenants.lifecycle import ExportPart, OnChange
from tenants.quota import PlanQuotaPolicy

router = APIRouter(prefix="/api/v1", tags=["tenancy"], responses=ERROR_RESPONSES, dependencies=[SingleQueryValues])


@dataclass(frozen=True, slots=True)
class TenancyContext:
    quota: PlanQuotaPolicy | None
    export_dir: Path | None
    export_parts: tuple[ExportPart, ...]

    def reload(self, request: Request) -> OnChange:
        def on_change() -> None:
            if self.quota is not None:
                with request.app.state.lora_city.session_factory() as session:
                    self.quota.load(session)
        return on_change


def install(app: FastAPI, *, quota: PlanQuotaPolicy | None = None, export_dir: Path | None = None,
            export_parts: tuple[ExportPart, ...] = ()) -> None:
    """Add the routes. ``quota`` is the network server's live policy (gauges, reload after a status change);
    ``export_dir`` receives the export written before a tenant is deleted; ``export_parts`` add files to it."""
    app.state.tenancy = TenancyContext(quota, export_dir, export_parts)
    limiter = getattr(app.state, "rate_limiter", None)
    if quota is not None and limiter is not None:
        limiter.limits_for = quota.api_limit  # a plan's own API rate limit, live with the plan reloads
    app.include_router(router)


def _tenancy(request: Request) -> TenancyContext:
    ctx: TenancyContext = request.app.state.tenancy
    return ctx


TenancyDep = Annotated[TenancyContext, Depends(_tenancy)]


class PlanOut(Out):
    id: str
    name: str
    max_devices: int | None
    max_gateways: int | None
    airtime_s_per_device_day: int | None
    uplinks_per_device_day: int | None
    downlinks_per_device_day: int | None
    over_quota_action: str
    private_up_allowed: bool
    private_down_allowed: bool
    api_requests_per_s: int | None
    api_burst: int | None


class PlanAssign(BaseModel):
    model_config = INPUT_CONFIG  # strict: true is not 1, "1" is not 1
    plan_id: str | None


class GaugeOut(BaseModel):
    kind: str
    used: float
    limit: float | None
    percent: float | None


class QuotaOut(BaseModel):
    tenant_id: str
    day: str | None
    plan: PlanOut | None
    totals: list[GaugeOut]


# --- plans ---------------------------------------------------------------------------------------------

@router.post("/plans", status_code=201)
def create_plan(session: SessionDep, principal: CurrentPrincipal, body: plans.PlanCreate) -> PlanOut:
    return PlanOut.model_validate(plans.create_plan(session, principal, body))


@router.get("/plans")
def list_plans(session: SessionDep, principal: CurrentPrincipal) -> list[PlanOut]:
    return [PlanOut.model_validate(p) for p in plans.list_plans(session, principal)]


@router.get("/plans/{plan_id}")
def get_plan(session: SessionDep, principal: CurrentPrincipal, plan_id: str) -> PlanOut:
    return PlanOut.model_validate(plans.get_plan(session, principal, plan_id))


@router.patch("/plans/{plan_id}")
def update_plan(session: SessionDep, principal: CurrentPrincipal, tenancy: TenancyDep, request: Request,
                plan_id: str, body: plans.PlanPatch) -> PlanOut:
    """Change a plan's caps and allowances; its tenants' quotas follow at once."""
    plan = plans.update_plan(session, principal, plan_id, body)
    tenancy.reload(request)()
    return PlanOut.model_validate(plan)


@router.delete("/plans/{plan_id}", status_code=204)
def delete_plan(session: SessionDep, principal: CurrentPrincipal, plan_id: str) -> Response:
    """Delete a plan no tenant is on (409 ``plan_in_use`` otherwise)."""
    plans.delete_plan(session, principal, plan_id)
    return Response(status_code=204)


# --- lifecycle -----------------------------------------------------------------------------------------

@router.put("/tenants/{tenant_id}/plan")
def assign_plan(session: SessionDep, principal: CurrentPrincipal, tenancy: TenancyDep, request: Request,
                tenant_id: str, body: PlanAssign) -> TenantOut:
    core_tenants.get_tenant(session, principal, tenant_id)  # another tenant's: 404 before any permission talk
    tenant = plans.assign_plan(session, principal, tenant_id, body.plan_id)
    tenancy.reload(request)()
    return TenantOut.model_validate(tenant)


@router.post("/tenants/{tenant_id}/suspend")
def suspend(session: SessionDep, principal: CurrentPrincipal, tenancy: TenancyDep, request: Request,
            tenant_id: str) -> TenantOut:
    core_tenants.get_tenant(session, principal, tenant_id)
    return TenantOut.model_validate(
        lifecycle.set_status(session, principal, tenant_id, "suspended", tenancy.reload(request)))


@router.post("/tenants/{tenant_id}/resume")
def resume(session: SessionDep, principal: CurrentPrincipal, tenancy: TenancyDep, request: Request,
           tenant_id: str) -> TenantOut:
    core_tenants.get_tenant(session, principal, tenant_id)
    return TenantOut.model_validate(
        lifecycle.set_status(session, principal, tenant_id, "active", tenancy.reload(request)))


@router.get("/tenants/{tenant_id}/export", response_class=Response,
            responses={200: {"content": {"application/zip": {}}}})
def export(session: SessionDep, principal: CurrentPrincipal, tenancy: TenancyDep, tenant_id: str) -> Response:
    data = lifecycle.export_tenant(session, principal, tenant_id, tenancy.export_parts)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="tenant-{tenant_id}.zip"'})


@router.delete("/tenants/{tenant_id}/lease", response_class=Response,
               responses={200: {"content": {"application/zip": {}}}})
def close_lease(session: SessionDep, principal: CurrentPrincipal, tenancy: TenancyDep, request: Request,
                tenant_id: str) -> Response:
    """Export the tenant's data, then delete the tenant. Answers with the export."""
    core_tenants.get_tenant(session, principal, tenant_id)
    principal.require(Perm.TENANTS_WRITE)
    if tenancy.export_dir is None:
        raise ConfigurationError("no export directory configured: tenants cannot be deleted")
    path = lifecycle.delete_tenant(session, principal, tenant_id, tenancy.export_dir, tenancy.export_parts,
                                   tenancy.reload(request))
    return Response(path.read_bytes(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{path.name}"'})


# --- quota gauges --------------------------------------------------------------------------------------

def _tenant_of(session: SessionDep, principal: Principal, tenant_id: str | None) -> str:
    if tenant_id is None:
        if principal.tenant_id is None:
            raise NotFound("tenant not found")
        return principal.tenant_id
    return core_tenants.get_tenant(session, principal, tenant_id).id


@router.get("/quota")
def quota(session: SessionDep, principal: CurrentPrincipal, tenancy: TenancyDep,
          tenant_id: str | None = None) -> QuotaOut:
    """Today's usage of the tenant (Paris day) from the network server's live counters."""
    principal.require(Perm.TENANTS_READ)
    tid = _tenant_of(session, principal, tenant_id)
    tenant = core_tenants.get_tenant(session, principal, tid)
    plan = plans.get_plan(session, principal, tenant.plan_id) if tenant.plan_id else None
    policy = _policy(tenancy)
    return QuotaOut(tenant_id=tid, day=str(policy.day) if policy.day else None,
                    plan=PlanOut.model_validate(plan) if plan else None,
                    totals=[_gauge(g) for g in policy.tenant_gauges(tid)])


@router.get("/quota/devices/{dev_eui}")
def device_quota(session: SessionDep, principal: CurrentPrincipal, tenancy: TenancyDep,
                 dev_eui: str) -> list[GaugeOut]:
    principal.require(Perm.DEVICES_READ)
    device = session.get(Device, dev_eui.lower())
    if device is None or not principal.sees(device.tenant_id):
        raise NotFound("device not found")
    gauges = _policy(tenancy).device_gauges(device.tenant_id, [device.dev_eui])[device.dev_eui]
    return [_gauge(g) for g in gauges]


def _policy(tenancy: TenancyContext) -> PlanQuotaPolicy:
    if tenancy.quota is None:
        raise ConfigurationError("quota gauges need the network server's quota policy")
    return tenancy.quota


def _gauge(g: Any) -> GaugeOut:
    return GaugeOut(kind=g.kind, used=g.used, limit=g.limit, percent=g.percent)
