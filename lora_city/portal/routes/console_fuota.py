"""Firmware updates in the city console: the campaigns with a creation form (image upload, devices or a multicast
group, fragmentation and radio settings, the plan's figures), and each campaign's page with its per-device
progress and start / pause / resume / cancel / delete. The page of a running campaign refreshes itself."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.applayer.profile import parse_app_layer
from lora_city.errors import Conflict, InvalidInput, LoraCityError, NotFound
from lora_city.fuota import service
from lora_city.fuota.steps import REQUIRED_PACKAGES
from lora_city.portal import forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import multicast
from lora_city.services.principal import Role
from lora_city.storage.models import Device, DeviceProfile

router = APIRouter(route_class=PortalRoute, prefix="/console/fuota")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
DEVICE_LIST = 500
FIELDS_BY_CODE = {"image_too_large": "image", "invalid_image": "image", "no_devices": "dev_euis",
                  "device_without_packages": "dev_euis", "device_in_campaign": "dev_euis",
                  "device_not_found": "dev_euis", "group_not_found": "multicast_group_id",
                  "invalid_fragmentation": "frag_size", "mixed_fragmentation_versions": "dev_euis"}
DEFAULTS = {"frag_size": "200", "redundancy_pct": "10", "group_class": "C", "dr": "5", "descriptor": "00000000"}


def _eligible(db: Session, user: PortalUser) -> list[Device]:
    """Devices whose profile runs TS005 and TS004: the ones a campaign can update."""
    stmt = (select(Device, DeviceProfile).join(DeviceProfile, DeviceProfile.id == Device.device_profile_id)
            .order_by(Device.name, Device.dev_eui).limit(DEVICE_LIST * 4))
    if (only := user.principal.tenant_filter()) is not None:
        stmt = stmt.where(Device.tenant_id == only)
    out = []
    for device, profile in db.execute(stmt).all():
        names = {e.name for e in parse_app_layer(profile.app_layer)} if profile.app_layer else set()
        if set(REQUIRED_PACKAGES) <= names:
            out.append(device)
    return out[:DEVICE_LIST]


def _list(page: Page, db: Session, user: PortalUser, *, status: int = 200, values: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None) -> Response:
    groups = [(v.group.id, f"{v.group.name} ({v.members})") for v in multicast.list_groups(db, user.principal)]
    return page.render("console/fuota.html", status=status, campaigns=service.list_campaigns(db, user.principal),
                       devices=_eligible(db, user), groups=groups, values=values or dict(DEFAULTS),
                       errors=errors or {})


@router.get("")
def campaigns_page(page: PageDep, user: StaffDep, db: DbDep) -> Response:
    return _list(page, db, user)


@router.post("", dependencies=[CsrfChecked])
async def create_campaign(
    page: PageDep, user: StaffDep, db: DbDep, image: Annotated[UploadFile | None, File()] = None,
    name: Annotated[str, Form()] = "", dev_euis: Annotated[list[str] | None, Form()] = None,
    multicast_group_id: Annotated[str, Form()] = "", frag_size: Annotated[str, Form()] = "",
    redundancy_pct: Annotated[str, Form()] = "", group_class: Annotated[str, Form()] = "C",
    dr: Annotated[str, Form()] = "", descriptor: Annotated[str, Form()] = "",
) -> Response:
    values: dict[str, Any] = {"name": name, "dev_euis": dev_euis or [], "multicast_group_id": multicast_group_id,
                              "frag_size": frag_size, "redundancy_pct": redundancy_pct, "group_class": group_class,
                              "dr": dr, "descriptor": descriptor}
    errors: dict[str, str] = {}
    content = await image.read() if image is not None else b""
    if not content:
        errors["image"] = page.t("fuota.image_required")
    numbers: dict[str, int] = {}
    for field in ("frag_size", "redundancy_pct", "dr"):
        try:
            numbers[field] = int(values[field] or DEFAULTS[field])
        except ValueError:
            errors[field] = page.t("form.integer")
    if not name.strip():
        errors["name"] = page.t("form.required")
    if errors:
        return _list(page, db, user, status=422, values=values, errors=errors)
    try:
        data = service.CampaignCreate.model_validate({
            "name": name.strip(), "image_base64": base64.b64encode(content).decode(),
            "dev_euis": [] if multicast_group_id else list(dev_euis or []),
            "multicast_group_id": multicast_group_id or None, "group_class": group_class,
            "descriptor": descriptor or DEFAULTS["descriptor"], **numbers,
        })
    except ValidationError as exc:
        for err in exc.errors():
            errors[str(err["loc"][0]) if err["loc"] else "_form"] = forms.pydantic_message(err, page.t)
        return _list(page, db, user, status=422, values=values, errors=errors)
    try:
        view = service.create_campaign(db, user.principal, data,
                                       max_image_bytes=page.ctx.settings.fuota_max_image_bytes, now=page.ctx.clock())
    except (InvalidInput, NotFound, Conflict) as exc:
        db.rollback()
        field = FIELDS_BY_CODE.get(exc.code, "_form")
        errors[field] = page.t(f"fuota.error.{exc.code}", detail=exc.message) if exc.code in FIELDS_BY_CODE \
            else exc.message
        return _list(page, db, user, status=422, values=values, errors=errors)
    return page.redirect(f"/console/fuota/{view.campaign.id}")


@router.get("/{campaign_id}")
def campaign_page(page: PageDep, user: StaffDep, db: DbDep, campaign_id: str, notice: str = "") -> Response:
    view = service.get_campaign(db, user.principal, campaign_id)
    names = dict(db.execute(select(Device.dev_eui, Device.name).where(
        Device.dev_eui.in_([d.dev_eui for d in view.devices]))).all())
    problems = {d.dev_eui: _problem(page, d.answers or {}, d.error) for d in view.devices if d.status == "failed"}
    return page.render("console/fuota_campaign.html", view=view, c=view.campaign, layout=view.layout, names=names,
                       notice=notice, refresh=view.campaign.state == "running", problems=problems)


def _problem(page: Page, answers: dict[str, Any], fallback: str) -> str:
    """A device's failure in the page's language, from the code the orchestrator recorded."""
    code = answers.get("error_code")
    if not code:
        return fallback
    params = dict(answers.get("error_params") or {})
    if "step" in params:
        params["step"] = page.t(f"fuota.device_step.{params['step']}")
    return page.t(f"fuota.fail.{code}", **params)


def _wake(page: Page) -> Any:
    context = getattr(page.request.app.state, "lora_city", None)  # the API's: the running orchestrator's hook
    return getattr(context, "fuota_wake", None)


@router.post("/{campaign_id}/{action}", dependencies=[CsrfChecked])
def campaign_action(page: PageDep, user: StaffDep, db: DbDep, campaign_id: str, action: str) -> Response:
    if action == "delete":
        try:
            service.delete_campaign(db, user.principal, campaign_id)
        except Conflict:
            return page.redirect(f"/console/fuota/{campaign_id}?notice=invalid_state")
        return page.redirect("/console/fuota")
    if action not in ("start", "pause", "resume", "cancel"):
        raise NotFound("no such action")
    try:
        service.transition(db, user.principal, campaign_id, action, now=page.ctx.clock(), wake=_wake(page))
    except LoraCityError as exc:
        if not isinstance(exc, Conflict):
            raise
        return page.redirect(f"/console/fuota/{campaign_id}?notice=invalid_state")
    return page.redirect(f"/console/fuota/{campaign_id}?notice={action}")
