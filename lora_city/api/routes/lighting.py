"""Street-lighting schedules (issue 24): schedules, assignments to groups or lamps, exceptions by date, the crisis
override, "dim now", what was sent, the next steps, and the energy saved per district."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from lora_city.api.deps import ContextDep, CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, ErrorBody, UtcTime
from lora_city.errors import InvalidInput
from lora_city.lighting.commands import CommandSender
from lora_city.lighting.steps import Place, TimedStep
from lora_city.services import lighting
from lora_city.services.lighting import (
    DimNow,
    ExceptionCreate,
    OverrideStart,
    ScheduleCreate,
    ScheduleFields,
    Target,
)
from lora_city.storage.models.lighting import (
    LightingAssignment,
    LightingCommand,
    LightingException,
    LightingOverride,
    LightingSchedule,
)

router = APIRouter(prefix="/lighting", tags=["lighting"], responses=ERROR_RESPONSES, dependencies=[SingleQueryValues])

# The dates a night or a month may name: years 1900 to 2999, as patterns the published schema states (JSON Schema
# has no bounds for a date). They also keep the day after a night within what Python's dates hold (9999-12-31
# has none, and used to be a 500).
_YEAR = "(?:19|2[0-9])[0-9]{2}"
_MONTH = "(?:0[1-9]|1[0-2])"
NIGHT_PATTERN = f"^{_YEAR}-{_MONTH}-(?:0[1-9]|[12][0-9]|3[01])$"
MONTH_PATTERN = f"^{_YEAR}-{_MONTH}$"
# A rule JSON Schema cannot state (it compares two fields): said in the operation's published 422.
_EXCEPTION_422: dict[int | str, dict[str, Any]] = {422: {
    "model": ErrorBody,
    "description": "validation_error: a field breaks the schema, or end_date is before start_date or more than "
                   "366 days after it"}}


@dataclass(frozen=True, slots=True)
class LightingContext:
    sender: CommandSender
    wake: Callable[[], None]
    place: Place


def get_lighting(request: Request, ctx: ContextDep) -> LightingContext:
    wake = getattr(request.app.state, "lighting_wake", None) or (lambda: None)
    return LightingContext(CommandSender(ctx.codecs, ctx.notifier, ctx.group_notifier), wake,
                           Place(ctx.settings.lighting_latitude, ctx.settings.lighting_longitude))


LightingDep = Annotated[LightingContext, Depends(get_lighting)]


class StepOut(BaseModel):
    at: str
    offset_min: int
    level: int


class ScheduleOut(BaseModel):
    id: str
    tenant_id: str
    name: str
    steps: list[StepOut]
    timezone: str
    latitude: float | None
    longitude: float | None
    created_at: UtcTime
    updated_at: UtcTime


class TimedStepOut(BaseModel):
    at: UtcTime
    local_time: str
    level: int
    label: str


class AssignmentOut(BaseModel):
    id: str
    schedule_id: str
    target_kind: str
    target_id: str
    created_at: UtcTime


class ExceptionOut(BaseModel):
    id: str
    schedule_id: str
    start_date: date
    end_date: date
    steps: list[StepOut]
    note: str


class OverrideOut(BaseModel):
    id: str
    tenant_id: str
    level: int
    reason: str
    started_at: UtcTime
    started_by: str
    released_at: UtcTime | None
    released_by: str | None


class CommandOut(BaseModel):
    id: str
    target_kind: str
    target_id: str
    reason: str
    level: int
    step_at: UtcTime | None
    sent_at: UtcTime
    state: str
    retries: int
    confirmed: int
    expected: int
    detail: str


class StatusOut(BaseModel):
    assignment_id: str
    schedule_id: str
    schedule_name: str
    target_kind: str
    target_id: str
    target_name: str
    current: TimedStepOut | None
    next: TimedStepOut | None
    override_level: int | None
    last_command: CommandOut | None


class DistrictSavingOut(BaseModel):
    district: str
    lamps: int
    lamps_with_power: int
    baseline_kwh: float
    scheduled_kwh: float
    saved_kwh: float
    saved_percent: float | None


def schedule_out(s: LightingSchedule) -> ScheduleOut:
    return ScheduleOut(id=s.id, tenant_id=s.tenant_id, name=s.name, steps=[StepOut(**_step(x)) for x in s.steps],
                       timezone=s.timezone, latitude=s.latitude, longitude=s.longitude, created_at=s.created_at,
                       updated_at=s.updated_at)


def _step(raw: dict[str, Any]) -> dict[str, Any]:
    return {"at": raw["at"], "offset_min": raw.get("offset_min", 0), "level": raw["level"]}


def timed_out(step: TimedStep | None, zone: str = "Europe/Paris") -> TimedStepOut | None:
    if step is None:
        return None
    return TimedStepOut(at=step.at, local_time=step.at.astimezone(ZoneInfo(zone)).isoformat(), level=step.level,
                        label=step.label)


def command_out(c: LightingCommand) -> CommandOut:
    return CommandOut(id=c.id, target_kind=c.target_kind, target_id=c.target_id, reason=c.reason, level=c.level,
                      step_at=c.step_at, sent_at=c.sent_at, state=c.state, retries=c.retries, confirmed=c.confirmed,
                      expected=c.expected, detail=c.detail)


def assignment_out(a: LightingAssignment) -> AssignmentOut:
    return AssignmentOut(id=a.id, schedule_id=a.schedule_id, target_kind=a.target_kind, target_id=a.target_id,
                         created_at=a.created_at)


def exception_out(e: LightingException) -> ExceptionOut:
    return ExceptionOut(id=e.id, schedule_id=e.schedule_id, start_date=e.start_date, end_date=e.end_date,
                        steps=[StepOut(**_step(x)) for x in e.steps], note=e.note)


def override_out(o: LightingOverride) -> OverrideOut:
    return OverrideOut(id=o.id, tenant_id=o.tenant_id, level=o.level, reason=o.reason, started_at=o.started_at,
                       started_by=o.started_by, released_at=o.released_at, released_by=o.released_by)


@router.post("/schedules", status_code=201)
def create_schedule(session: SessionDep, principal: CurrentPrincipal, now: NowDep, lit: LightingDep,
                    body: ScheduleCreate) -> ScheduleOut:
    return schedule_out(lighting.create_schedule(session, principal, body, now=now, on_change=lit.wake))


@router.get("/schedules")
def list_schedules(session: SessionDep, principal: CurrentPrincipal, tenant_id: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ScheduleOut]:
    return [schedule_out(s) for s in lighting.list_schedules(session, principal, tenant_id=tenant_id, limit=limit)]


@router.get("/schedules/{schedule_id}")
def get_schedule(session: SessionDep, principal: CurrentPrincipal, schedule_id: str) -> ScheduleOut:
    return schedule_out(lighting.get_schedule(session, principal, schedule_id))


@router.patch("/schedules/{schedule_id}")
def update_schedule(session: SessionDep, principal: CurrentPrincipal, now: NowDep, lit: LightingDep,
                    schedule_id: str, body: ScheduleFields) -> ScheduleOut:
    return schedule_out(lighting.update_schedule(session, principal, schedule_id, body, now=now, on_change=lit.wake))


@router.delete("/schedules/{schedule_id}", status_code=204)
def delete_schedule(session: SessionDep, principal: CurrentPrincipal, lit: LightingDep, schedule_id: str) -> Response:
    lighting.delete_schedule(session, principal, schedule_id, on_change=lit.wake)
    return Response(status_code=204)


@router.get("/schedules/{schedule_id}/preview")
def preview(session: SessionDep, principal: CurrentPrincipal, lit: LightingDep, schedule_id: str,
            night: Annotated[str, Query(description="The night's local date, YYYY-MM-DD (years 1900 to 2999)",
                                        pattern=NIGHT_PATTERN, json_schema_extra={"format": "date"})]
            ) -> list[TimedStepOut]:
    try:
        day = date.fromisoformat(night)
    except ValueError:  # the pattern's shape but no such day (2026-02-30): not a "date" (RFC 3339 full-date)
        raise InvalidInput("night must be a date YYYY-MM-DD", code="invalid_date") from None
    schedule = lighting.get_schedule(session, principal, schedule_id)
    steps = lighting.preview(session, principal, schedule_id, day, lit.place)
    return [s for s in (timed_out(x, schedule.timezone) for x in steps) if s is not None]


@router.post("/schedules/{schedule_id}/assignments")
def assign(session: SessionDep, principal: CurrentPrincipal, now: NowDep, lit: LightingDep, schedule_id: str,
           body: Target) -> AssignmentOut:
    return assignment_out(lighting.assign(session, principal, schedule_id, body, now=now, on_change=lit.wake))


@router.get("/assignments")
def list_assignments(session: SessionDep, principal: CurrentPrincipal,
                     schedule_id: str | None = None) -> list[AssignmentOut]:
    return [assignment_out(a) for a, _ in lighting.list_assignments(session, principal, schedule_id)]


@router.delete("/assignments/{assignment_id}", status_code=204)
def unassign(session: SessionDep, principal: CurrentPrincipal, lit: LightingDep, assignment_id: str) -> Response:
    lighting.unassign(session, principal, assignment_id, on_change=lit.wake)
    return Response(status_code=204)


@router.post("/schedules/{schedule_id}/exceptions", status_code=201, responses=_EXCEPTION_422)
def add_exception(session: SessionDep, principal: CurrentPrincipal, now: NowDep, lit: LightingDep, schedule_id: str,
                  body: ExceptionCreate) -> ExceptionOut:
    return exception_out(lighting.add_exception(session, principal, schedule_id, body, now=now, on_change=lit.wake))


@router.get("/schedules/{schedule_id}/exceptions")
def list_exceptions(session: SessionDep, principal: CurrentPrincipal, schedule_id: str) -> list[ExceptionOut]:
    return [exception_out(e) for e in lighting.list_exceptions(session, principal, schedule_id)]


@router.delete("/schedules/{schedule_id}/exceptions/{exception_id}", status_code=204)
def delete_exception(session: SessionDep, principal: CurrentPrincipal, lit: LightingDep, schedule_id: str,
                     exception_id: str) -> Response:
    lighting.delete_exception(session, principal, schedule_id, exception_id, on_change=lit.wake)
    return Response(status_code=204)


@router.post("/override", status_code=201)
def start_override(session: SessionDep, principal: CurrentPrincipal, now: NowDep, lit: LightingDep,
                   body: OverrideStart) -> OverrideOut:
    """The supervision centre's crisis override: every scheduled lamp of the tenant at ``level`` (all on)."""
    return override_out(lighting.start_override(session, principal, body, now=now, on_change=lit.wake))


@router.delete("/override")
def release_override(session: SessionDep, principal: CurrentPrincipal, now: NowDep, lit: LightingDep,
                     tenant_id: str | None = None) -> OverrideOut:
    return override_out(lighting.release_override(session, principal, tenant_id, now=now, on_change=lit.wake))


@router.post("/dim", status_code=201)
def dim_now(session: SessionDep, principal: CurrentPrincipal, now: NowDep, lit: LightingDep,
            body: DimNow) -> CommandOut:
    """Dim a group or a lamp now (until its schedule's next step)."""
    return command_out(lighting.dim_now(session, principal, body, lit.sender, now=now))


@router.get("/commands")
def list_commands(session: SessionDep, principal: CurrentPrincipal,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100, target_kind: str | None = None,
                  target_id: str | None = None) -> list[CommandOut]:
    return [command_out(c) for c in lighting.list_commands(session, principal, limit=limit, target_kind=target_kind,
                                                           target_id=target_id)]


@router.get("/status")
def status(session: SessionDep, principal: CurrentPrincipal, now: NowDep, lit: LightingDep) -> list[StatusOut]:
    """Every group and lamp on a schedule: the step in force, the next one, the override, the last command."""
    out = []
    for st in lighting.statuses(session, principal, now=now, default_place=lit.place):
        zone = st.schedule.timezone
        out.append(StatusOut(
            assignment_id=st.assignment.id, schedule_id=st.schedule.id, schedule_name=st.schedule.name,
            target_kind=st.assignment.target_kind, target_id=st.assignment.target_id, target_name=st.name,
            current=timed_out(st.current, zone), next=timed_out(st.next, zone),
            override_level=st.override.level if st.override else None,
            last_command=command_out(st.last_command) if st.last_command else None))
    return out


@router.get("/energy-saved")
def energy_saved(session: SessionDep, principal: CurrentPrincipal, lit: LightingDep,
                 month: Annotated[str, Query(description="YYYY-MM (years 1900 to 2999)", pattern=MONTH_PATTERN)],
                 tenant_id: str | None = None) -> list[DistrictSavingOut]:
    first = date(int(month[:4]), int(month[5:7]), 1)  # the pattern has checked it
    return [DistrictSavingOut(district=d.district, lamps=d.lamps, lamps_with_power=d.lamps_with_power,
                              baseline_kwh=d.baseline_kwh, scheduled_kwh=d.scheduled_kwh, saved_kwh=d.saved_kwh,
                              saved_percent=d.saved_percent)
            for d in lighting.energy_saved(session, principal, first, lit.place, tenant_id)]
