"""Gateways in the city console: register one (typed, or from the list of gateways heard but not registered),
edit it with its position picked on the map (or typed: the keyboard way), delete it. A change reaches the
network server at once, as through the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied, QuotaExceeded
from lora_city.portal import forms, i18n
from lora_city.portal.formatting import Formatter
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.traffic_chart import traffic_chart
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import gateways, network_health
from lora_city.services.principal import Role
from lora_city.storage.bootstrap import CITY_SLUG
from lora_city.storage.models import Gateway, Tenant

router = APIRouter(route_class=PortalRoute, prefix="/console/gateways")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
FIELDS: dict[str, forms.Kind] = {
    "name": forms.REQUIRED_TEXT, "description": forms.TEXT, "latitude": forms.FLOAT, "longitude": forms.FLOAT,
    "altitude": forms.FLOAT, "private_up": forms.BOOL, "private_down": forms.BOOL,
}
CODES = {"invalid_gateway_id": "gateway_id", "already_exists": "gateway_id", "tenant_not_found": "tenant_id",
         "plan_gateways": "tenant_id", "plan_private": "private_up"}
MESSAGES = {"invalid_gateway_id": "gateways.bad_id", "already_exists": "gateways.id_taken",
            "plan_gateways": "gateways.plan_full", "plan_private": "gateways.plan_private"}
FORMATS = {"gateway_id": "gateways.bad_id"}


def _owners(db: Session) -> list[tuple[str, str]]:
    return [(t.id, t.name) for t in db.scalars(select(Tenant).order_by(Tenant.kind != "city", Tenant.name))]


def _form(page: Page, db: Session, gateway: Gateway | None, values: dict[str, str], errors: dict[str, str],
          status: int = 200) -> Response:
    return page.render("console/gateway_form.html", status=status, gateway=gateway, values=values, errors=errors,
                       owners=_owners(db), tile_url=page.ctx.settings.map_tile_url)


@router.get("/new")
def new_gateway(page: PageDep, user: StaffDep, db: DbDep, gateway_id: str = "") -> Response:
    city = db.scalar(select(Tenant.id).where(Tenant.slug == CITY_SLUG)) or ""
    return _form(page, db, None, {"gateway_id": gateway_id, "tenant_id": city}, {})


@router.post("/new", dependencies=[CsrfChecked])
def create_gateway(page: PageDep, user: StaffDep, db: DbDep, posted: forms.PostedDep) -> Response:
    form = forms.read_form(posted, {**FIELDS, "gateway_id": forms.REQUIRED_TEXT, "tenant_id": forms.TEXT}, page.t)
    if "gateway_id" in form.data:
        form.data["gateway_id"] = form.data["gateway_id"].replace(":", "").replace("-", "").replace(" ", "")
    data = forms.validate(gateways.GatewayCreate, form, page.t, formats=FORMATS)
    if data is None:
        return _form(page, db, None, form.values, form.errors, 422)
    try:
        gw = gateways.create_gateway(db, user.principal, data)
    except (InvalidInput, AlreadyExists, NotFound, QuotaExceeded, PermissionDenied) as exc:
        db.rollback()
        forms.field_error(form, exc, CODES, page.t, MESSAGES)
        return _form(page, db, None, form.values, form.errors, 422)
    page.gateway_changed(gw.gateway_id)
    return page.redirect(f"/console/gateways/{gw.gateway_id}?notice=created")


def _values(gw: Gateway) -> dict[str, str]:
    def text(value: float | None) -> str:
        return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")

    return {"name": gw.name, "description": gw.description, "latitude": text(gw.latitude),
            "longitude": text(gw.longitude), "altitude": text(gw.altitude),
            "private_up": "true" if gw.private_up else "", "private_down": "true" if gw.private_down else ""}


@router.get("/{gateway_id}/edit")
def edit_gateway(page: PageDep, user: StaffDep, db: DbDep, gateway_id: str) -> Response:
    gw = gateways.get_gateway(db, user.principal, gateway_id)
    return _form(page, db, gw, _values(gw), {})


@router.post("/{gateway_id}/edit", dependencies=[CsrfChecked])
def save_gateway(page: PageDep, user: StaffDep, db: DbDep, gateway_id: str, posted: forms.PostedDep) -> Response:
    gw = gateways.get_gateway(db, user.principal, gateway_id)
    form = forms.read_form(posted, FIELDS, page.t)
    for name in ("latitude", "longitude", "altitude"):
        form.data.setdefault(name, None)  # a cleared position is cleared
    data = forms.validate(gateways.GatewayFields, form, page.t)
    if data is None:
        return _form(page, db, gw, form.values, form.errors, 422)
    try:
        gateways.update_gateway(db, user.principal, gw.gateway_id, data)
    except (InvalidInput, PermissionDenied) as exc:
        db.rollback()
        forms.field_error(form, exc, CODES, page.t, MESSAGES)
        return _form(page, db, gw, form.values, form.errors, 422)
    page.gateway_changed(gw.gateway_id)
    return page.redirect(f"/console/gateways/{gw.gateway_id}?notice=saved")


@router.get("/{gateway_id}/delete")
def confirm_delete(page: PageDep, user: StaffDep, db: DbDep, gateway_id: str) -> Response:
    gw = gateways.get_gateway(db, user.principal, gateway_id)
    return page.render("confirm.html", title=page.t("gateways.delete_title", name=gw.name),
                       question=page.t("gateways.delete_question", name=gw.name, id=gw.gateway_id), error=None,
                       action=page.url(f"/console/gateways/{gw.gateway_id}/delete"),
                       confirm=page.t("gateways.delete"), cancel=page.url(f"/console/gateways/{gw.gateway_id}"),
                       allowed=True)


@router.post("/{gateway_id}/delete", dependencies=[CsrfChecked])
def delete_gateway(page: PageDep, user: StaffDep, db: DbDep, gateway_id: str) -> Response:
    gw = gateways.get_gateway(db, user.principal, gateway_id)
    gateways.delete_gateway(db, user.principal, gw.gateway_id)
    page.gateway_changed(gw.gateway_id)
    return page.redirect("/console/gateways?notice=deleted")


@router.get("/{gateway_id}")
def gateway_page(page: PageDep, user: StaffDep, db: DbDep, gateway_id: str, notice: str = "") -> Response:
    gw = gateways.get_gateway(db, user.principal, gateway_id)
    owner = db.get(Tenant, gw.tenant_id)
    return page.render("console/gateway.html", gateway=gw, owner=owner, notice=notice,
                       **health_view(page, db, gw))


def health_view(page: Page, db: Session, gw: Gateway) -> dict[str, Any]:
    """The gateway's traffic over 7 days (hourly chart, per channel, per DR), its TX acknowledgements by status
    (from ``traffic_counts``) and its duty-cycle use per sub-band over the last hour (the network server writes
    it with the gateway's status)."""
    traffic = network_health.gateway_traffic(db, gw.gateway_id, page.ctx.clock())
    chart = traffic_chart(traffic.hours, Formatter(page.language), page.t("health.uplinks").lower(),
                          page.t("health.downlinks").lower())
    stats = gw.stats or {}
    duty = [row for row in stats.get("duty_cycle", ()) if isinstance(row, dict)]
    acked = sum(n for _, n in traffic.tx_acks)
    known = i18n.catalogue(page.language)
    ack_labels = {status: known.get(f"health.ack.{status}", "") for status, _ in traffic.tx_acks}
    return {"traffic": traffic, "chart": chart, "duty_cycle": duty, "acked": acked, "ack_labels": ack_labels,
            "busy_hours": [h for h in reversed(traffic.hours) if h[1] or h[2]]}
