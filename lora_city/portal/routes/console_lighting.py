"""The city console's street lighting (issue 24): the groups with their schedule, the step in force and the next
one; "dim now" for a group or a single lamp; the crisis override; each lamp's state (level, last status, fault)
on the map and in a table; the schedules with their steps. Every action goes through the same services as the
API (``services.lighting``), so the same rules and the same queues apply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import LoraCityError
from lora_city.lighting.commands import CommandSender
from lora_city.lighting.steps import Place, parse_steps
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import lighting, multicast
from lora_city.services.common import as_utc
from lora_city.services.principal import Role
from lora_city.storage.models import Device, MulticastGroupDevice, Reading

router = APIRouter(route_class=PortalRoute, prefix="/console/lighting")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
LAMPS = 2000  # lamps shown on the map; the API pages through the rest
READINGS = 20_000
COMMANDS_SHOWN = 30
# why a "dim now" was refused, in the page's language (the services' codes)
DIM_ERRORS = {"no_codec": "lighting.no_codec", "mixed_codecs": "lighting.mixed_codecs",
              "encode_failed": "lighting.encode_failed", "group_not_found": "lighting.target_gone",
              "not_found": "lighting.target_gone"}


@dataclass(frozen=True, slots=True)
class LampState:
    dev_eui: str
    name: str
    tenant_id: str
    district: str
    latitude: float | None
    longitude: float | None
    level: float | None
    lamp_on: bool | None
    fault: bool | None
    seen_at: datetime | None

    @property
    def state(self) -> str:
        if self.fault:
            return "fault"
        if self.lamp_on is None and self.level is None:
            return "unknown"
        return "on" if (self.lamp_on or (self.level or 0) > 0) else "off"


def _value(measurements: dict[str, Any], name: str) -> Any:
    item = (measurements or {}).get(name)
    return item.get("value") if isinstance(item, dict) else item


def lamp_states(db: Session, user: PortalUser, page: Page) -> list[LampState]:
    """Streetlight lamps (their codec's family, or members of a multicast group) with their latest reported
    level, on/off state and fault."""
    codec_family = family_of(page)
    only = user.principal.tenant_filter()
    stmt = select(Device).order_by(Device.name, Device.dev_eui).limit(LAMPS)
    if only is not None:
        stmt = stmt.where(Device.tenant_id == only)
    members = set(db.scalars(select(MulticastGroupDevice.dev_eui)))
    devices = [d for d in db.scalars(stmt) if d.dev_eui in members or codec_family(d.codec_id) == "streetlight"]
    latest: dict[str, dict[str, Any]] = {d.dev_eui: {} for d in devices}
    if devices:
        rows = db.execute(select(Reading.dev_eui, Reading.time, Reading.measurements)
                          .where(Reading.dev_eui.in_(list(latest))).order_by(Reading.time.desc()).limit(READINGS))
        for dev_eui, when, measurements in rows:
            seen = latest[dev_eui]
            seen.setdefault("time", as_utc(when))
            for name in ("dim_level", "lamp_on", "lamp_failure"):
                value = _value(measurements, name)
                if value is not None:
                    seen.setdefault(name, value)
    out = []
    for d in devices:
        seen = latest[d.dev_eui]
        out.append(LampState(d.dev_eui, d.name, d.tenant_id, str((d.tags or {}).get("district", "")), d.latitude, d.longitude,
                             seen.get("dim_level"), seen.get("lamp_on"), seen.get("lamp_failure"), seen.get("time")))
    return out


def family_of(page: Page) -> Any:
    codecs = page.ctx.codecs

    def family(codec_id: str | None) -> str | None:
        if codecs is None or codec_id is None or codec_id not in codecs:
            return None
        return str(codecs.get(codec_id).manifest.family.value)

    return family


def place_of(page: Page) -> Place:
    return Place(page.ctx.settings.lighting_latitude, page.ctx.settings.lighting_longitude)


def _render(page: Page, db: Session, user: PortalUser, status: int = 200, **values: Any) -> Response:
    now = page.ctx.clock()
    statuses = {(s.assignment.target_kind, s.assignment.target_id): s
                for s in lighting.statuses(db, user.principal, now=now, default_place=place_of(page))}
    groups = multicast.list_groups(db, user.principal, limit=1000)
    lamps = lamp_states(db, user, page)
    schedules = [(s, parse_steps(s.steps)) for s in lighting.list_schedules(db, user.principal, limit=1000)]
    override = None
    if user.principal.tenant_id is not None:
        override = lighting.active_override(db, user.principal.tenant_id)
    local = now.astimezone(Place(0, 0).zone)
    savings = lighting.energy_saved(db, user.principal, local.date().replace(day=1), place_of(page))
    commands = [(c, lighting.target_name(db, c.target_kind, c.target_id))
                for c in lighting.list_commands(db, user.principal, limit=COMMANDS_SHOWN)]
    markers = [{"id": lamp.dev_eui, "name": lamp.name, "lat": lamp.latitude, "lon": lamp.longitude,
                "state": lamp.state, "level": lamp.level} for lamp in lamps if lamp.latitude is not None]
    shown = {f"group:{v.group.id}" for v in groups} | {f"device:{lamp.dev_eui}" for lamp in lamps}
    if values.get("error_target") not in shown:
        values["error_target"] = None  # no form on the page for it: the error goes at the top
    return page.render("console/lighting.html", status=status, groups=groups, statuses=statuses, lamps=lamps,
                       schedules=schedules, override=override, markers=markers, savings=savings, commands=commands,
                       month=local.date().replace(day=1),
                       tile_url=page.ctx.settings.map_tile_url, **{"error": None, "error_target": None,
                                                                    "done": None, **values})


@router.get("")
def lighting_page(page: PageDep, user: StaffDep, db: DbDep, done: str | None = None) -> Response:
    known = done in ("override", "released", "schedule_deleted", "group_deleted") or (
        done is not None and done.startswith("dim:") and done[4:].isdigit())
    return _render(page, db, user, done=done if known else None)


def _sender(page: Page) -> CommandSender:
    api = getattr(page.request.app.state, "lora_city", None)  # the API's context on the same app: its notifiers
    return CommandSender(page.ctx.codecs, getattr(api, "notifier", None) or page.ctx.notifier,
                         getattr(api, "group_notifier", None))


def wake_scheduler(page: Page) -> None:
    wake = getattr(page.request.app.state, "lighting_wake", None)
    if wake is not None:
        wake()


@router.post("/dim", dependencies=[CsrfChecked])
def dim_now(page: PageDep, user: StaffDep, db: DbDep, target: Annotated[str, Form(max_length=60)],
            level: Annotated[str, Form(max_length=10)] = "") -> Response:
    kind, _, target_id = target.partition(":")
    try:
        value = int(level.strip())
    except ValueError:
        return _render(page, db, user, 422, error=page.t("lighting.level_invalid"), error_target=target)
    try:
        body = lighting.DimNow.model_validate({"level": value, "group_id" if kind == "group" else "dev_eui": target_id})
        lighting.dim_now(db, user.principal, body, _sender(page), now=page.ctx.clock())
    except ValidationError:
        return _render(page, db, user, 422, error=page.t("lighting.level_invalid"), error_target=target)
    except LoraCityError as exc:
        db.rollback()
        key = DIM_ERRORS.get(exc.code)
        return _render(page, db, user, 422, error=page.t(key) if key else page.error_text(exc), error_target=target)
    return page.redirect(f"/console/lighting?done=dim:{value}")


@router.post("/override", dependencies=[CsrfChecked])
def start_override(page: PageDep, user: StaffDep, db: DbDep,
                   reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        lighting.start_override(db, user.principal, lighting.OverrideStart(reason=reason.strip()),
                                now=page.ctx.clock(), on_change=lambda: wake_scheduler(page))
    except LoraCityError as exc:
        return _render(page, db, user, 409, error=page.error_text(exc))
    return page.redirect("/console/lighting?done=override")


@router.post("/override/release", dependencies=[CsrfChecked])
def release_override(page: PageDep, user: StaffDep, db: DbDep) -> Response:
    try:
        lighting.release_override(db, user.principal, None, now=page.ctx.clock(),
                                  on_change=lambda: wake_scheduler(page))
    except LoraCityError as exc:
        return _render(page, db, user, 404, error=page.error_text(exc))
    return page.redirect("/console/lighting?done=released")
