"""Plans and their assignment to tenants, and the caps a plan puts on registration (devices, gateways, private
gateways), enforced on every flush of the sessions of one session factory (``enforce_caps``), so the core's
device and gateway services are limited without knowing this package."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied, QuotaExceeded
from lora_city.services.common import INPUT_CONFIG, NotNull
from lora_city.services.principal import Perm, Principal
from lora_city.storage.db import SessionFactory
from lora_city.storage.models import Device, Gateway, Tenant
from tenants.models import Plan

INT32 = 2_147_483_647  # the columns are 32-bit integers on PostgreSQL and SQLite's binding of Python ints


class PlanCreate(BaseModel):
    model_config = INPUT_CONFIG  # strict: true is not 1, "1" is not 1

    name: str = Field(min_length=1, max_length=100)
    max_devices: int | None = Field(default=None, ge=0, le=INT32)
    max_gateways: int | None = Field(default=None, ge=0, le=INT32)
    airtime_s_per_device_day: int | None = Field(default=None, ge=0, le=86_400)
    uplinks_per_device_day: int | None = Field(default=None, ge=0, le=INT32)
    downlinks_per_device_day: int | None = Field(default=None, ge=0, le=INT32)
    over_quota_action: str = Field(default="drop", pattern="^(drop|bill)$")
    private_up_allowed: bool = False
    private_down_allowed: bool = False
    api_requests_per_s: int | None = Field(default=None, ge=1, le=100_000)
    api_burst: int | None = Field(default=None, ge=1, le=1_000_000)


class PlanPatch(BaseModel):
    """Fields to change; a limit set to null becomes unlimited."""

    model_config = INPUT_CONFIG  # strict: true is not 1

    name: Annotated[str, Field(min_length=1, max_length=100)] | NotNull = None
    max_devices: int | None = Field(default=None, ge=0, le=INT32)
    max_gateways: int | None = Field(default=None, ge=0, le=INT32)
    airtime_s_per_device_day: int | None = Field(default=None, ge=0, le=86_400)
    uplinks_per_device_day: int | None = Field(default=None, ge=0, le=INT32)
    downlinks_per_device_day: int | None = Field(default=None, ge=0, le=INT32)
    over_quota_action: Annotated[str, Field(pattern="^(drop|bill)$")] | NotNull = None
    private_up_allowed: bool | NotNull = None
    private_down_allowed: bool | NotNull = None
    api_requests_per_s: int | None = Field(default=None, ge=1, le=100_000)
    api_burst: int | None = Field(default=None, ge=1, le=1_000_000)


def create_plan(session: Session, principal: Principal, data: PlanCreate) -> Plan:
    principal.require(Perm.TENANTS_WRITE)
    if session.scalar(select(Plan.id).where(Plan.name == data.name)) is not None:
        raise AlreadyExists(f"plan {data.name!r} already exists")
    plan = Plan(**data.model_dump())
    session.add(plan)
    session.commit()
    return plan


def update_plan(session: Session, principal: Principal, plan_id: str, data: PlanPatch) -> Plan:
    """Change a plan: its tenants' caps and allowances change with it (the quota policy reloads)."""
    plan = get_plan(session, principal, plan_id)  # another tenant's plan: 404 before any permission talk
    principal.require(Perm.TENANTS_WRITE)
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "over_quota_action", "private_up_allowed", "private_down_allowed"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} may not be null", code=f"invalid_{name}")
    if "name" in changes and session.scalar(
            select(Plan.id).where(Plan.name == changes["name"], Plan.id != plan.id)) is not None:
        raise AlreadyExists(f"plan {changes['name']!r} already exists")
    for name, value in changes.items():
        setattr(plan, name, value)
    session.commit()
    return plan


def tenants_on(session: Session, plan_id: str) -> list[Tenant]:
    return list(session.scalars(select(Tenant).where(Tenant.plan_id == plan_id).order_by(Tenant.slug)))


def delete_plan(session: Session, principal: Principal, plan_id: str) -> None:
    """Only a plan no tenant is on (move them first: a tenant without a plan is not invoiced)."""
    plan = get_plan(session, principal, plan_id)
    principal.require(Perm.TENANTS_WRITE)
    users = tenants_on(session, plan.id)
    if users:
        raise Conflict(f"plan {plan.name!r} is used by {len(users)} tenant(s): "
                       f"{', '.join(t.slug for t in users[:5])}", code="plan_in_use")
    session.delete(plan)
    session.commit()


def list_plans(session: Session, principal: Principal) -> list[Plan]:
    """Operators see every plan; a tenant sees the plan it is on (the others are the city's business)."""
    principal.require(Perm.TENANTS_READ)
    stmt = select(Plan).order_by(Plan.name)
    if (only := principal.tenant_filter()) is not None:
        stmt = stmt.where(Plan.id == select(Tenant.plan_id).where(Tenant.id == only).scalar_subquery())
    return list(session.scalars(stmt))


def get_plan(session: Session, principal: Principal, plan_id: str) -> Plan:
    for plan in list_plans(session, principal):
        if plan.id == plan_id:
            return plan
    raise NotFound("plan not found")


def assign_plan(session: Session, principal: Principal, tenant_id: str, plan_id: str | None) -> Tenant:
    principal.require(Perm.TENANTS_WRITE)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    if plan_id is not None and session.get(Plan, plan_id) is None:
        raise NotFound("plan not found", code="plan_not_found")
    tenant.plan_id = plan_id
    session.commit()
    return tenant


def enforce_caps(factory: SessionFactory) -> None:
    """Check every new device and gateway, and every gateway made private, against the tenant's plan before
    it is written. Raises QuotaExceeded (429) / PermissionDenied (403) from the flush; the caller's
    transaction is rolled back."""
    event.listen(factory, "before_flush", _check_caps)


def _check_caps(session: Session, _context: Any, _instances: Any) -> None:
    new_devices: dict[str, int] = {}
    new_gateways: dict[str, int] = {}
    private: list[Gateway] = []
    for obj in session.new:
        if isinstance(obj, Device):
            new_devices[obj.tenant_id] = new_devices.get(obj.tenant_id, 0) + 1
        elif isinstance(obj, Gateway):
            new_gateways[obj.tenant_id] = new_gateways.get(obj.tenant_id, 0) + 1
            private.append(obj)
    private += [o for o in session.dirty if isinstance(o, Gateway)]
    for tenant_id, added in new_devices.items():
        _check_count(session, tenant_id, added, Device, "max_devices", "devices")
    for tenant_id, added in new_gateways.items():
        _check_count(session, tenant_id, added, Gateway, "max_gateways", "gateways")
    for gateway in private:
        if not (gateway.private_up or gateway.private_down):
            continue
        plan = _plan_of(session, gateway.tenant_id)
        if plan is None:
            continue  # no plan: the city's own gateways
        if (gateway.private_up and not plan.private_up_allowed) or (
            gateway.private_down and not plan.private_down_allowed
        ):
            raise PermissionDenied(f"plan {plan.name!r} does not allow private gateways", code="plan_private")


def _plan_of(session: Session, tenant_id: str) -> Plan | None:
    with session.no_autoflush:
        plan_id = session.scalar(select(Tenant.plan_id).where(Tenant.id == tenant_id))
        return session.get(Plan, plan_id) if plan_id else None


def _check_count(session: Session, tenant_id: str, added: int, model: type[Device] | type[Gateway],
                 cap_name: str, what: str) -> None:
    plan = _plan_of(session, tenant_id)
    cap = getattr(plan, cap_name) if plan else None
    if cap is None:
        return
    with session.no_autoflush:
        existing = session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id)) or 0
    if existing + added > cap:
        raise QuotaExceeded(f"plan {plan.name!r} allows {cap} {what}", code=f"plan_{what}")  # type: ignore[union-attr]
