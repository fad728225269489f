"""Tenants in the city console: the list with a creation form, each tenant's page (identity and legal details,
the language of its invoices, plan, suspension, its data export, closing the lease). Every field's error is
shown beside it. Plans, suspension and lease closing are tenants/' functions, through ``PortalExtras``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from lora_city.portal import forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import tenants
from lora_city.services.principal import Perm, Role
from lora_city.storage.models import Device, Gateway, Tenant, User

router = APIRouter(route_class=PortalRoute, prefix="/console/tenants")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]

IDENTITY: dict[str, forms.Kind] = {
    "name": forms.REQUIRED_TEXT, "kind": forms.TEXT, "is_critical": forms.BOOL, "legal_name": forms.TEXT,
    "siret": forms.TEXT, "vat_number": forms.TEXT, "email": forms.TEXT, "address": forms.TEXT,
    "language": forms.TEXT,
}
CODES = {"invalid_slug": "slug", "already_exists": "slug", "plan_not_found": "plan_id"}
MESSAGES = {"invalid_slug": "tenants.slug_invalid", "already_exists": "tenants.slug_taken"}
FORMATS = {"siret": "form.siret"}


def _plans(page: Page, db: Session) -> dict[str, str]:
    found = page.ctx.extras.plans(db) if page.ctx.extras.plans is not None else []
    return {p.id: p.name for p in found}


def _list(page: Page, db: Session, user: PortalUser, *, status: int = 200, values: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, notice: str = "", created: str = "", file: str = "") -> Response:
    counts = dict(db.execute(select(Device.tenant_id, func.count()).group_by(Device.tenant_id)).all())
    return page.render(
        "console/tenants.html", status=status, tenants=tenants.list_tenants(db, user.principal),
        plans=_plans(page, db), counts=counts, can_create=user.principal.can(Perm.TENANTS_WRITE),
        values=values or {"kind": "lessee", "language": "fr"}, errors=errors or {}, notice=notice, created=created,
        file=file)


@router.get("")
def tenant_list(page: PageDep, user: StaffDep, db: DbDep, created: str = "", notice: str = "",
                file: str = "") -> Response:
    return _list(page, db, user, created=created, notice=notice, file=file)


@router.post("", dependencies=[CsrfChecked])
def create_tenant(page: PageDep, user: StaffDep, db: DbDep, posted: forms.PostedDep) -> Response:
    form = forms.read_form(posted, {**IDENTITY, "slug": forms.REQUIRED_TEXT, "plan_id": forms.TEXT}, page.t)
    plan_id = form.data.pop("plan_id", None)
    data = forms.validate(tenants.TenantCreate, form, page.t, formats=FORMATS)
    if data is None:
        return _list(page, db, user, status=422, values=form.values, errors=form.errors)
    try:
        tenant = tenants.create_tenant(db, user.principal, data)
        if plan_id and page.ctx.extras.assign_plan is not None:
            page.ctx.extras.assign_plan(db, user.principal, tenant.id, plan_id)
    except (InvalidInput, AlreadyExists, NotFound) as exc:
        db.rollback()
        forms.field_error(form, exc, CODES, page.t, MESSAGES)
        return _list(page, db, user, status=422, values=form.values, errors=form.errors)
    return page.redirect(f"/console/tenants?created={tenant.slug}")


def _values(tenant: Tenant) -> dict[str, str]:
    values: dict[str, str] = {name: "" if getattr(tenant, name) is None else str(getattr(tenant, name))
                              for name in IDENTITY if name != "is_critical"}
    values["is_critical"] = "true" if tenant.is_critical else ""
    values["plan_id"] = tenant.plan_id or ""
    return values


def _detail(page: Page, db: Session, user: PortalUser, tenant: Tenant, *, status: int = 200,
            values: dict[str, str] | None = None, errors: dict[str, str] | None = None, notice: str = "") -> Response:
    extras = page.ctx.extras
    facts: dict[str, Any] = {
        "devices": db.scalar(select(func.count()).select_from(Device).where(Device.tenant_id == tenant.id)),
        "gateways": db.scalar(select(func.count()).select_from(Gateway).where(Gateway.tenant_id == tenant.id)),
        "users": db.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant.id)),
    }
    return page.render(
        "console/tenant.html", status=status, tenant=tenant, values=values or _values(tenant), errors=errors or {},
        notice=notice, facts=facts, plans=_plans(page, db), can_assign=extras.assign_plan is not None,
        can_suspend=extras.set_tenant_status is not None, can_export=extras.export_tenant is not None,
        can_close=extras.close_lease is not None, is_city=tenant.kind == "city")


@router.get("/{tenant_id}")
def tenant_page(page: PageDep, user: StaffDep, db: DbDep, tenant_id: str, notice: str = "") -> Response:
    return _detail(page, db, user, tenants.get_tenant(db, user.principal, tenant_id), notice=notice)


@router.post("/{tenant_id}", dependencies=[CsrfChecked])
def update_tenant(page: PageDep, user: StaffDep, db: DbDep, tenant_id: str, posted: forms.PostedDep) -> Response:
    tenant = tenants.get_tenant(db, user.principal, tenant_id)
    spec = dict(IDENTITY)
    if tenant.kind == "city":
        spec.pop("kind")  # the city stays the city
    form = forms.read_form(posted, spec, page.t)
    for name in ("legal_name", "siret", "vat_number", "email", "address"):
        form.data.setdefault(name, None)  # a cleared field is cleared
    data = forms.validate(tenants.TenantFields, form, page.t, formats=FORMATS)
    if data is None:
        return _detail(page, db, user, tenant, status=422, values=form.values, errors=form.errors)
    tenants.update_tenant(db, user.principal, tenant.id, data)
    return page.redirect(f"/console/tenants/{tenant.id}?notice=saved")


@router.post("/{tenant_id}/plan", dependencies=[CsrfChecked])
def change_plan(
    page: PageDep, user: StaffDep, db: DbDep, tenant_id: str, plan_id: Annotated[str, Form(max_length=36)] = "",
    back: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    assign = page.ctx.extras.assign_plan
    if assign is None:
        raise NotFound("plans are not installed")
    tenant = tenants.get_tenant(db, user.principal, tenant_id)
    assign(db, user.principal, tenant.id, plan_id or None)
    return page.redirect(f"/console/tenants/{tenant.id}?notice=plan" if back == "detail" else "/console/tenants")


@router.post("/{tenant_id}/status", dependencies=[CsrfChecked])
def change_status(
    page: PageDep, user: StaffDep, db: DbDep, tenant_id: str, status: Annotated[str, Form(max_length=20)],
    back: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    setter = page.ctx.extras.set_tenant_status
    if setter is None:
        raise NotFound("tenant lifecycle is not installed")
    if status not in ("active", "suspended"):
        raise InvalidInput("status must be active or suspended", code="invalid_status")
    tenant = tenants.get_tenant(db, user.principal, tenant_id)
    setter(db, user.principal, tenant.id, status)
    return page.redirect(f"/console/tenants/{tenant.id}?notice={status}" if back == "detail" else "/console/tenants")


@router.get("/{tenant_id}/export.zip")
def export(page: PageDep, user: StaffDep, db: DbDep, tenant_id: str) -> Response:
    exporter = page.ctx.extras.export_tenant
    if exporter is None:
        raise NotFound("tenant export is not installed")
    tenant = tenants.get_tenant(db, user.principal, tenant_id)
    return Response(exporter(db, user.principal, tenant.id), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{tenant.slug}-export.zip"'})


@router.get("/{tenant_id}/close")
def confirm_close(page: PageDep, user: StaffDep, db: DbDep, tenant_id: str) -> Response:
    tenant = tenants.get_tenant(db, user.principal, tenant_id)
    return _confirm_close(page, tenant)


def _confirm_close(page: Page, tenant: Tenant, error: str | None = None, status: int = 200) -> Response:
    return page.render("confirm.html", status=status, title=page.t("tenants.close_title", name=tenant.name),
                       question=page.t("tenants.close_question", name=tenant.name), error=error,
                       action=page.url(f"/console/tenants/{tenant.id}/close"), confirm=page.t("tenants.close"),
                       cancel=page.url(f"/console/tenants/{tenant.id}"), allowed=tenant.kind != "city")


@router.post("/{tenant_id}/close", dependencies=[CsrfChecked])
def close_lease(page: PageDep, user: StaffDep, db: DbDep, tenant_id: str) -> Response:
    closer = page.ctx.extras.close_lease
    if closer is None:
        raise NotFound("lease closing is not installed")
    tenant = tenants.get_tenant(db, user.principal, tenant_id)
    try:
        saved = closer(db, user.principal, tenant.id)
    except Conflict as exc:
        return _confirm_close(page, tenant, page.error_text(exc), 409)
    return page.redirect(f"/console/tenants?notice=closed&file={quote(saved)}")
