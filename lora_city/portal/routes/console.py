"""The city console (admin and operator): network overview, tenants, gateways on a map, open alerts, billing
runs. Plans and billing runs come from tenants/ and billing/ through ``PortalExtras`` when installed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, InvalidInput, NotFound
from lora_city.portal import traffic
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import assets, gateways, overview, tenants
from lora_city.services.common import as_utc
from lora_city.services.principal import Perm, Role

router = APIRouter(route_class=PortalRoute, prefix="/console")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
GATEWAY_PAGE = 1000
ASSET_PAGE = 1000  # the map of a city's fleet; the API pages through the rest
OFFLINE_AFTER = timedelta(minutes=5)


@router.get("")
def console_home(page: PageDep, user: StaffDep, db: DbDep) -> Response:
    now = page.ctx.clock()
    net = overview.overview(db, user.principal, now=now)
    hours = traffic.uplinks_per_hour(db, now)
    peak = max((n for _, n in hours), default=0)
    return page.render("console/overview.html", net=net, hours=hours, peak=peak)


def _tenants_page(page: Page, db: Session, user: PortalUser, status: int = 200, **values: object) -> Response:
    plans = list(page.ctx.extras.plans(db)) if page.ctx.extras.plans is not None else []
    return page.render("console/tenants.html", status=status, tenants=tenants.list_tenants(db, user.principal),
                       plans={p.id: p.name for p in plans},
                       can_create=user.principal.can(Perm.TENANTS_WRITE),
                       can_assign=page.ctx.extras.assign_plan is not None and user.principal.can(Perm.TENANTS_WRITE),
                       can_suspend=(page.ctx.extras.set_tenant_status is not None
                                    and user.principal.can(Perm.TENANTS_WRITE)),
                       **{"error": None, "created": None, **values})


@router.get("/tenants")
def tenants_page(page: PageDep, user: StaffDep, db: DbDep, created: str | None = None) -> Response:
    return _tenants_page(page, db, user, created=created)


@router.post("/tenants", dependencies=[CsrfChecked])
def create_tenant(
    page: PageDep, user: StaffDep, db: DbDep, name: Annotated[str, Form(max_length=200)],
    slug: Annotated[str, Form(max_length=64)], kind: Annotated[str, Form(max_length=20)] = "lessee",
    legal_name: Annotated[str, Form(max_length=200)] = "", siret: Annotated[str, Form(max_length=14)] = "",
    vat_number: Annotated[str, Form(max_length=20)] = "", email: Annotated[str, Form(max_length=200)] = "",
    address: Annotated[str, Form(max_length=500)] = "", plan_id: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    optional = {"legal_name": legal_name, "siret": siret, "vat_number": vat_number, "email": email,
                "address": address}
    try:
        data = tenants.TenantCreate.model_validate(
            {"name": name.strip(), "slug": slug.strip(), "kind": kind,
             **{k: v.strip() for k, v in optional.items() if v.strip()}})
        tenant = tenants.create_tenant(db, user.principal, data)
        if plan_id and page.ctx.extras.assign_plan is not None:
            page.ctx.extras.assign_plan(db, user.principal, tenant.id, plan_id)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        return _tenants_page(page, db, user, status=422, error=f"{where}: {exc.errors()[0]['msg']}")
    except (InvalidInput, AlreadyExists) as exc:
        return _tenants_page(page, db, user, status=422, error=exc.message)
    return page.redirect(f"/console/tenants?created={tenant.slug}")


@router.post("/tenants/{tenant_id}/plan", dependencies=[CsrfChecked])
def change_plan(
    page: PageDep, user: StaffDep, db: DbDep, tenant_id: str, plan_id: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    assign = page.ctx.extras.assign_plan
    if assign is None:
        raise NotFound("plans are not installed")
    tenant = tenants.get_tenant(db, user.principal, tenant_id)
    assign(db, user.principal, tenant.id, plan_id or None)
    return page.redirect("/console/tenants")


@router.post("/tenants/{tenant_id}/status", dependencies=[CsrfChecked])
def change_status(
    page: PageDep, user: StaffDep, db: DbDep, tenant_id: str, status: Annotated[str, Form(max_length=20)],
) -> Response:
    setter = page.ctx.extras.set_tenant_status
    if setter is None:
        raise NotFound("tenant lifecycle is not installed")
    if status not in ("active", "suspended"):
        raise InvalidInput("status must be active or suspended", code="invalid_status")
    tenant = tenants.get_tenant(db, user.principal, tenant_id)
    setter(db, user.principal, tenant.id, status)
    return page.redirect("/console/tenants")


@router.get("/gateways")
def gateways_page(page: PageDep, user: StaffDep, db: DbDep) -> Response:
    now = page.ctx.clock()
    rows = gateways.list_gateways(db, user.principal, limit=GATEWAY_PAGE)
    markers = []
    for gw in rows:
        last = as_utc(gw.last_seen_at)
        markers.append({
            "id": gw.gateway_id, "name": gw.name, "online": bool(gw.online),
            "lat": gw.latitude, "lon": gw.longitude, "last_seen": last.isoformat() if last else None,
            "stale": last is None or now - last > OFFLINE_AFTER,
        })
    placed = [{"name": a.name or a.external_ref or a.id, "kind": a.kind, "lat": a.latitude, "lon": a.longitude}
              for a in assets.list_assets(db, user.principal, limit=ASSET_PAGE) if a.latitude is not None]
    return page.render("console/gateways.html", gateways=rows, markers={"gateways": markers, "assets": placed},
                       tile_url=page.ctx.settings.map_tile_url)


@router.get("/alerts")
def alerts_page(page: PageDep, user: StaffDep) -> Response:
    rows = page.ctx.alerts.list_alerts(state="open", limit=500)
    return page.render("alerts.html", alerts=rows, can_ack=True)


@router.get("/billing")
def billing_page(page: PageDep, user: StaffDep) -> Response:
    return page.render("console/billing.html", available=page.ctx.extras.billing_run is not None, result=None,
                       period=(page.ctx.clock().replace(day=1) - timedelta(days=1)).strftime("%Y-%m"))


@router.post("/billing", dependencies=[CsrfChecked])
def billing_run(page: PageDep, user: StaffDep, db: DbDep, period: Annotated[str, Form(max_length=7)]) -> Response:
    runner = page.ctx.extras.billing_run
    if runner is None:
        raise NotFound("billing is not installed")
    if not _PERIOD.match(period):
        raise InvalidInput("period must be YYYY-MM", code="invalid_period")
    result = runner(db, period)
    return page.render("console/billing.html", available=True, result=result, period=period)
