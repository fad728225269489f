"""Lighting schedules in the city console (issue 24): write a schedule step by step (a fixed local time or
dusk/dawn/sunset/sunrise with an offset, and a level), see tonight's steps at their times for the city, make
groups or single lamps follow it, add exceptions by date (a festival lit all night), edit and delete it.

Every write goes through ``services.lighting`` (the API's rules and tenant checks) and wakes the scheduler, so
the change applies to the next step in every process. Each problem is shown beside its step, in the page's
language; nothing is saved while one remains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlalchemy.orm import Session

from lora_city.errors import LoraCityError
from lora_city.lighting.steps import SOLAR, Place, Step, night_of, parse_steps
from lora_city.portal import forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.routes.console_lighting import lamp_states, place_of, wake_scheduler
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import lighting, multicast
from lora_city.services.principal import Role
from lora_city.storage.models.lighting import LightingSchedule

router = APIRouter(route_class=PortalRoute, prefix="/console/lighting/schedules")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
MIN_ROWS = 8  # empty step rows offered on a schedule's form (no script needed to add one)
EXCEPTION_ROWS = 4
# What a new schedule starts from: the example night, which the operator adapts.
TYPICAL_NIGHT = [{"at": "dusk", "level": 100}, {"at": "23:00", "level": 50}, {"at": "01:00", "level": 0},
                 {"at": "05:00", "level": 100}, {"at": "dawn", "level": 0}]
ALL_NIGHT = [{"at": "dusk", "level": 100}, {"at": "dawn", "level": 0}]
_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_LABEL = re.compile(r"^(?P<at>[a-z]+|[0-9]{2}:[0-9]{2})(?:(?P<offset>[+-][0-9]+)min)?$")


@dataclass
class StepRows:
    """The step rows as typed (to show them again) and the errors by row ("" = the steps as a whole)."""

    values: list[dict[str, str]]
    errors: dict[str, str]
    steps: list[Step]


def _row_values(step: dict[str, Any]) -> dict[str, str]:
    at = str(step.get("at", ""))
    solar = at in SOLAR
    offset = int(step.get("offset_min", 0) or 0)
    return {"at": at if solar else "time", "time": "" if solar else at,
            "offset": str(offset) if offset else "", "level": str(step.get("level", ""))}


def _rows(steps: list[dict[str, Any]], minimum: int) -> list[dict[str, str]]:
    rows = [_row_values(s) for s in steps]
    blank = {"at": "", "time": "", "offset": "", "level": ""}
    want = min(max(minimum, len(rows) + 3), lighting.MAX_STEPS)
    return rows + [dict(blank) for _ in range(want - len(rows))]


def read_steps(posted: dict[str, str], page: Page, prefix: str = "step") -> StepRows:
    """The posted rows ``{prefix}-{i}-at|time|offset|level`` as Steps; a row whose moment is empty is unused."""
    values: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    steps: list[Step] = []
    for i in range(lighting.MAX_STEPS):
        if f"{prefix}-{i}-at" not in posted:
            break
        row = {k: str(posted.get(f"{prefix}-{i}-{k}", "")).strip() for k in ("at", "time", "offset", "level")}
        values.append(row)
        if not row["at"]:
            continue
        key = f"{prefix}-{i}"
        if row["at"] == "time":
            if not _HHMM.match(row["time"]):
                errors[key] = page.t("lighting.step_time_invalid")
                continue
            at = row["time"]
        elif row["at"] in SOLAR:
            at = row["at"]
        else:
            errors[key] = page.t("form.invalid_choice")
            continue
        try:
            offset = int(row["offset"] or "0")
        except ValueError:
            offset = 9999
        if not -360 <= offset <= 360:
            errors[key] = page.t("lighting.offset_invalid")
            continue
        try:
            level = int(row["level"])
        except ValueError:
            level = -1
        if not 0 <= level <= 100:
            errors[key] = page.t("lighting.level_invalid")
            continue
        steps.append(Step(at=at, offset_min=offset, level=level))
    if not steps and not errors:
        errors[prefix] = page.t("lighting.steps_required")
    return StepRows(values, errors, steps)


def step_text(page: Page, label: str) -> str:
    """A timed step's label ("dusk", "dusk+15min", "23:00") in the page's language."""
    m = _LABEL.match(label)
    if m is None:
        return label
    at = page.t(f"lighting.at.{m['at']}") if m["at"] in SOLAR else m["at"]
    return f"{at} {m['offset']} min" if m["offset"] else at


def _form(page: Page, schedule: LightingSchedule | None, name: str, rows: list[dict[str, str]],
          errors: dict[str, str], status: int = 200) -> Response:
    return page.render("console/lighting_schedule_form.html", status=status, schedule=schedule, name=name,
                       rows=rows, errors=errors)


@router.get("/new")
def new_schedule(page: PageDep, user: StaffDep) -> Response:
    return _form(page, None, "", _rows(TYPICAL_NIGHT, MIN_ROWS), {})


def _name_error(page: Page, name: str) -> dict[str, str]:
    if not name:
        return {"name": page.t("form.required")}
    if len(name) > 200:
        return {"name": page.t("form.too_long", n=200)}
    return {}


@router.post("/new", dependencies=[CsrfChecked])
def create_schedule(page: PageDep, user: StaffDep, db: DbDep, posted: forms.PostedDep) -> Response:
    name = posted.get("name", "").strip()
    rows = read_steps(posted, page)
    errors = {**_name_error(page, name), **rows.errors}
    if errors:
        return _form(page, None, name, rows.values, errors, 422)
    try:
        schedule = lighting.create_schedule(db, user.principal, lighting.ScheduleCreate(name=name, steps=rows.steps),
                                            now=page.ctx.clock(), on_change=lambda: wake_scheduler(page))
    except LoraCityError as exc:
        db.rollback()
        return _form(page, None, name, rows.values, {"_form": page.error_text(exc)}, 422)
    return page.redirect(f"/console/lighting/schedules/{schedule.id}?done=created")


@router.get("/{schedule_id}/edit")
def edit_schedule(page: PageDep, user: StaffDep, db: DbDep, schedule_id: str) -> Response:
    schedule = lighting.get_schedule(db, user.principal, schedule_id)
    return _form(page, schedule, schedule.name, _rows(list(schedule.steps), MIN_ROWS), {})


@router.post("/{schedule_id}/edit", dependencies=[CsrfChecked])
def save_schedule(page: PageDep, user: StaffDep, db: DbDep, schedule_id: str, posted: forms.PostedDep) -> Response:
    schedule = lighting.get_schedule(db, user.principal, schedule_id)
    name = posted.get("name", "").strip()
    rows = read_steps(posted, page)
    errors = {**_name_error(page, name), **rows.errors}
    if errors:
        return _form(page, schedule, name, rows.values, errors, 422)
    lighting.update_schedule(db, user.principal, schedule.id, lighting.ScheduleFields(name=name, steps=rows.steps),
                             now=page.ctx.clock(), on_change=lambda: wake_scheduler(page))
    return page.redirect(f"/console/lighting/schedules/{schedule.id}?done=saved")


def _targets(page: Page, db: Session, user: PortalUser, tenant_id: str
             ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The groups and lamps that may follow a schedule: its owner's."""
    groups = [(f"group:{v.group.id}", v.group.name) for v in multicast.list_groups(db, user.principal, limit=1000)
              if v.group.tenant_id == tenant_id]
    lamps = [(f"device:{lamp.dev_eui}", f"{lamp.name} ({lamp.dev_eui})")
             for lamp in lamp_states(db, user, page) if lamp.tenant_id == tenant_id]
    return groups, lamps


def _page(page: Page, db: Session, user: PortalUser, schedule: LightingSchedule, status: int = 200,
          **values: Any) -> Response:
    place = place_of(page)
    now = page.ctx.clock()
    night = night_of(now, Place(0, 0, schedule.timezone).zone)
    exceptions = lighting.list_exceptions(db, user.principal, schedule.id)
    tonight = lighting.preview(db, user.principal, schedule.id, night, place)
    tonight_exception = next((e for e in exceptions if e.start_date <= night <= e.end_date), None)
    assignments = [a for a, _ in lighting.list_assignments(db, user.principal, schedule.id)]
    names = {(a.target_kind, a.target_id): lighting.target_name(db, a.target_kind, a.target_id)
             for a in assignments}
    groups, lamps = _targets(page, db, user, schedule.tenant_id)
    exception_values = values.pop("exception_values", None) or {
        "start_date": "", "end_date": "", "note": "", "rows": _rows(ALL_NIGHT, EXCEPTION_ROWS)}
    return page.render("console/lighting_schedule.html", status=status, schedule=schedule,
                       steps=parse_steps(schedule.steps), tonight=tonight, night=night,
                       tonight_exception=tonight_exception, exceptions=exceptions,
                       exception_steps={e.id: parse_steps(e.steps) for e in exceptions},
                       assignments=assignments, names=names, groups=groups, lamps=lamps,
                       exception_values=exception_values, label=lambda text: step_text(page, text), **{"errors": {}, "done": None, **values})


@router.get("/{schedule_id}")
def schedule_page(page: PageDep, user: StaffDep, db: DbDep, schedule_id: str, done: str | None = None) -> Response:
    schedule = lighting.get_schedule(db, user.principal, schedule_id)
    return _page(page, db, user, schedule, done=done if done in ("created", "saved", "assigned", "unassigned", "exception", "exception_deleted") else None)


@router.post("/{schedule_id}/assign", dependencies=[CsrfChecked])
def assign(page: PageDep, user: StaffDep, db: DbDep, schedule_id: str,
           target: Annotated[str, Form(max_length=60)] = "") -> Response:
    schedule = lighting.get_schedule(db, user.principal, schedule_id)
    kind, _, target_id = target.partition(":")
    if kind not in ("group", "device") or not target_id:
        return _page(page, db, user, schedule, 422, errors={"target": page.t("lighting.target_required")})
    try:
        lighting.assign(db, user.principal, schedule.id,
                        lighting.Target(**{"group_id" if kind == "group" else "dev_eui": target_id}),
                        now=page.ctx.clock(), on_change=lambda: wake_scheduler(page))
    except LoraCityError as exc:
        db.rollback()
        message = page.t("lighting.other_tenant") if exc.code == "tenant_mismatch" else page.error_text(exc)
        return _page(page, db, user, schedule, 422, errors={"target": message})
    return page.redirect(f"/console/lighting/schedules/{schedule.id}?done=assigned")


@router.post("/{schedule_id}/unassign/{assignment_id}", dependencies=[CsrfChecked])
def unassign(page: PageDep, user: StaffDep, db: DbDep, schedule_id: str, assignment_id: str) -> Response:
    schedule = lighting.get_schedule(db, user.principal, schedule_id)
    if assignment_id not in {a.id for a, _ in lighting.list_assignments(db, user.principal, schedule.id)}:
        return _page(page, db, user, schedule, 404, errors={"_form": page.t("lighting.assignment_not_found")})
    lighting.unassign(db, user.principal, assignment_id, on_change=lambda: wake_scheduler(page))
    return page.redirect(f"/console/lighting/schedules/{schedule.id}?done=unassigned")


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@router.post("/{schedule_id}/exceptions", dependencies=[CsrfChecked])
def add_exception(page: PageDep, user: StaffDep, db: DbDep, schedule_id: str, posted: forms.PostedDep) -> Response:
    schedule = lighting.get_schedule(db, user.principal, schedule_id)
    rows = read_steps(posted, page, "exc")
    values = {k: posted.get(k, "").strip() for k in ("start_date", "end_date", "note")}
    errors = dict(rows.errors)
    start, end = _date(values["start_date"]), _date(values["end_date"] or values["start_date"])
    if start is None:
        errors["start_date"] = page.t("lighting.date_invalid")
    if end is None:
        errors["end_date"] = page.t("lighting.date_invalid")
    elif start is not None and end < start:
        errors["end_date"] = page.t("lighting.end_before_start")
    elif start is not None and (end - start).days > 366:
        errors["end_date"] = page.t("lighting.range_too_long")
    if len(values["note"]) > 500:
        errors["note"] = page.t("form.too_long", n=500)
    if errors or start is None or end is None:
        return _page(page, db, user, schedule, 422, errors=errors,
                     exception_values={**values, "rows": rows.values})
    lighting.add_exception(db, user.principal, schedule.id, lighting.ExceptionCreate(
        start_date=start, end_date=end, steps=rows.steps, note=values["note"]),
        now=page.ctx.clock(), on_change=lambda: wake_scheduler(page))
    return page.redirect(f"/console/lighting/schedules/{schedule.id}?done=exception")


@router.post("/{schedule_id}/exceptions/{exception_id}/delete", dependencies=[CsrfChecked])
def delete_exception(page: PageDep, user: StaffDep, db: DbDep, schedule_id: str, exception_id: str) -> Response:
    schedule = lighting.get_schedule(db, user.principal, schedule_id)
    lighting.delete_exception(db, user.principal, schedule.id, exception_id, on_change=lambda: wake_scheduler(page))
    return page.redirect(f"/console/lighting/schedules/{schedule.id}?done=exception_deleted")


@router.get("/{schedule_id}/delete")
def confirm_delete(page: PageDep, user: StaffDep, db: DbDep, schedule_id: str) -> Response:
    schedule = lighting.get_schedule(db, user.principal, schedule_id)
    followers = len(lighting.list_assignments(db, user.principal, schedule.id))
    return page.render("confirm.html", title=page.t("lighting.delete_title", name=schedule.name),
                       question=page.t("lighting.delete_question", name=schedule.name, n=followers), error=None,
                       action=page.url(f"/console/lighting/schedules/{schedule.id}/delete"),
                       confirm=page.t("lighting.delete"), cancel=page.url(f"/console/lighting/schedules/{schedule.id}"),
                       allowed=True)


@router.post("/{schedule_id}/delete", dependencies=[CsrfChecked])
def delete_schedule(page: PageDep, user: StaffDep, db: DbDep, schedule_id: str) -> Response:
    schedule = lighting.get_schedule(db, user.principal, schedule_id)
    lighting.delete_schedule(db, user.principal, schedule.id, on_change=lambda: wake_scheduler(page))
    return page.redirect("/console/lighting?done=schedule_deleted")
