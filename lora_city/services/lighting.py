"""Lighting schedules through the API (issue 24): schedules and their steps, which groups or lamps follow them,
exceptions by date, the crisis override, "dim now", what was sent, the next steps and the energy saved.

Tenant rules as for devices: a schedule belongs to a tenant and only that tenant's groups and lamps follow it;
another tenant's schedule, group or lamp is a 404. Every write calls ``on_change`` so the scheduler acts at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import Conflict, InvalidInput, NotFound
from lora_city.lighting.commands import CommandSender
from lora_city.lighting.energy import DistrictSaving, savings
from lora_city.lighting.scheduler import plan_for, target_lamps, target_place, utc
from lora_city.lighting.steps import Place, Step, TimedStep, current_step, next_step, night_steps, parse_steps
from lora_city.services.common import (
    INPUT_CONFIG,
    NotNull,
    hex_id,
    page_limit,
    require_same_tenant,
    target_tenant,
    visible_only,
)
from lora_city.services.devices import find_device
from lora_city.services.multicast import find_group
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import Device, MulticastGroup
from lora_city.storage.models.lighting import (
    LightingAssignment,
    LightingCommand,
    LightingException,
    LightingOverride,
    LightingSchedule,
)

OnChange = Callable[[], None] | None
MAX_STEPS = 24


def _no_op() -> None:
    return None


# The IANA time zones this machine's tz database holds, published as the field's enum: the schema names exactly
# the zones a schedule can be computed in (a name outside it is refused, as ZoneInfo would fail on it).
TIME_ZONES = sorted(z for z in available_timezones() if len(z) <= 64)  # the column is String(64)
_TIME_ZONE_SET = frozenset(TIME_ZONES)
TimeZoneName = Annotated[str, Field(max_length=64, json_schema_extra={"enum": TIME_ZONES},
                                    description="An IANA time zone, e.g. Europe/Paris")]


class ScheduleFields(BaseModel):
    """What PATCH takes: each field may be left out; only latitude and longitude may be null (the city's)."""

    model_config = INPUT_CONFIG

    name: Annotated[str, Field(min_length=1, max_length=200)] | NotNull = None
    steps: Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)] | NotNull = None
    timezone: TimeZoneName | NotNull = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in _TIME_ZONE_SET:
            raise ValueError(f"unknown time zone {value!r}")
        return value


class ScheduleCreate(ScheduleFields):
    name: str = Field(min_length=1, max_length=200)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    tenant_id: str | None = None


class Target(BaseModel):
    model_config = INPUT_CONFIG

    group_id: str | None = Field(default=None, max_length=36)
    dev_eui: str | None = Field(default=None, max_length=23)

    @model_validator(mode="after")
    def _one(self) -> Target:
        if (self.group_id is None) == (self.dev_eui is None):
            raise ValueError("give exactly one of group_id and dev_eui")
        return self


class DimNow(Target):
    level: int = Field(ge=0, le=100)


class ExceptionCreate(BaseModel):
    model_config = INPUT_CONFIG

    start_date: date = Field(strict=False)
    end_date: date = Field(strict=False)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _range(self) -> ExceptionCreate:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if self.end_date - self.start_date > timedelta(days=366):
            raise ValueError("an exception covers at most a year")
        return self


class OverrideStart(BaseModel):
    model_config = INPUT_CONFIG

    level: int = Field(default=100, ge=0, le=100)
    reason: str = Field(default="", max_length=500)
    tenant_id: str | None = None


# --- schedules ---------------------------------------------------------------------------------------------

def _steps_json(steps: list[Step]) -> list[dict[str, Any]]:
    return [s.model_dump() for s in steps]


def create_schedule(session: Session, principal: Principal, data: ScheduleCreate, *, now: datetime,
                    on_change: OnChange = None) -> LightingSchedule:
    principal.require(Perm.DEVICES_WRITE)
    schedule = LightingSchedule(
        tenant_id=target_tenant(session, principal, data.tenant_id), name=data.name, steps=_steps_json(data.steps),
        timezone=data.timezone or "Europe/Paris", latitude=data.latitude, longitude=data.longitude,
        created_at=now, updated_at=now,
    )
    session.add(schedule)
    session.commit()
    (on_change or _no_op)()
    return schedule


def find_schedule(session: Session, principal: Principal, schedule_id: str) -> LightingSchedule:
    schedule = session.get(LightingSchedule, schedule_id.strip())
    if schedule is None or not principal.sees(schedule.tenant_id):
        raise NotFound("schedule not found", code="schedule_not_found")
    return schedule


def get_schedule(session: Session, principal: Principal, schedule_id: str) -> LightingSchedule:
    principal.require(Perm.DEVICES_READ)
    return find_schedule(session, principal, schedule_id)


def list_schedules(session: Session, principal: Principal, *, tenant_id: str | None = None,
                   limit: int = 100) -> list[LightingSchedule]:
    principal.require(Perm.DEVICES_READ)
    stmt = select(LightingSchedule).order_by(LightingSchedule.name, LightingSchedule.id).limit(page_limit(limit))
    stmt = visible_only(stmt, principal, LightingSchedule.tenant_id, tenant_id)
    return list(session.scalars(stmt))


def update_schedule(session: Session, principal: Principal, schedule_id: str, data: ScheduleFields, *,
                    now: datetime, on_change: OnChange = None) -> LightingSchedule:
    principal.require(Perm.DEVICES_WRITE)
    schedule = find_schedule(session, principal, schedule_id)
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "steps", "timezone"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} may not be null")
    if data.steps is not None:
        changes["steps"] = _steps_json(data.steps)
    for name, value in changes.items():
        setattr(schedule, name, value)
    schedule.updated_at = now
    session.commit()
    (on_change or _no_op)()
    return schedule


def delete_schedule(session: Session, principal: Principal, schedule_id: str, *, on_change: OnChange = None) -> None:
    principal.require(Perm.DEVICES_WRITE)
    session.delete(find_schedule(session, principal, schedule_id))
    session.commit()
    (on_change or _no_op)()


# --- targets -----------------------------------------------------------------------------------------------

def _target(session: Session, principal: Principal, target: Target) -> tuple[str, str, str]:
    """(kind, id, tenant) of a group or lamp the principal sees."""
    if target.group_id is not None:
        group = find_group(session, principal, target.group_id)
        return "group", group.id, group.tenant_id
    assert target.dev_eui is not None
    device = find_device(session, principal, hex_id(target.dev_eui, 8, "dev_eui"))
    return "device", device.dev_eui, device.tenant_id


def assign(session: Session, principal: Principal, schedule_id: str, target: Target, *, now: datetime,
           on_change: OnChange = None) -> LightingAssignment:
    """The group or lamp follows this schedule from now on (moved from another schedule if it had one)."""
    principal.require(Perm.DEVICES_WRITE)
    schedule = find_schedule(session, principal, schedule_id)
    kind, target_id, tenant = _target(session, principal, target)
    require_same_tenant(tenant, schedule.tenant_id, "the schedule")
    row = session.scalar(select(LightingAssignment).where(LightingAssignment.target_kind == kind,
                                                          LightingAssignment.target_id == target_id))
    if row is None:
        row = LightingAssignment(schedule_id=schedule.id, target_kind=kind, target_id=target_id, created_at=now)
        session.add(row)
    else:
        row.schedule_id = schedule.id
    session.commit()
    (on_change or _no_op)()
    return row


def list_assignments(session: Session, principal: Principal, schedule_id: str | None = None
                     ) -> list[tuple[LightingAssignment, LightingSchedule]]:
    principal.require(Perm.DEVICES_READ)
    stmt = select(LightingAssignment, LightingSchedule).join(
        LightingSchedule, LightingSchedule.id == LightingAssignment.schedule_id).order_by(
        LightingSchedule.name, LightingAssignment.target_kind, LightingAssignment.target_id)
    stmt = visible_only(stmt, principal, LightingSchedule.tenant_id)
    if schedule_id is not None:
        stmt = stmt.where(LightingSchedule.id == find_schedule(session, principal, schedule_id).id)
    return [(a, s) for a, s in session.execute(stmt).all()]


def unassign(session: Session, principal: Principal, assignment_id: str, *, on_change: OnChange = None) -> None:
    principal.require(Perm.DEVICES_WRITE)
    row = session.get(LightingAssignment, assignment_id.strip())
    schedule = session.get(LightingSchedule, row.schedule_id) if row is not None else None
    if row is None or schedule is None or not principal.sees(schedule.tenant_id):
        raise NotFound("assignment not found", code="assignment_not_found")
    session.delete(row)
    session.commit()
    (on_change or _no_op)()


# --- exceptions --------------------------------------------------------------------------------------------

def add_exception(session: Session, principal: Principal, schedule_id: str, data: ExceptionCreate, *,
                  now: datetime, on_change: OnChange = None) -> LightingException:
    principal.require(Perm.DEVICES_WRITE)
    schedule = find_schedule(session, principal, schedule_id)
    row = LightingException(schedule_id=schedule.id, start_date=data.start_date, end_date=data.end_date,
                            steps=_steps_json(data.steps), note=data.note, created_at=now)
    session.add(row)
    session.commit()
    (on_change or _no_op)()
    return row


def list_exceptions(session: Session, principal: Principal, schedule_id: str) -> list[LightingException]:
    principal.require(Perm.DEVICES_READ)
    schedule = find_schedule(session, principal, schedule_id)
    return list(session.scalars(select(LightingException).where(LightingException.schedule_id == schedule.id)
                                .order_by(LightingException.start_date)))


def delete_exception(session: Session, principal: Principal, schedule_id: str, exception_id: str, *,
                     on_change: OnChange = None) -> None:
    principal.require(Perm.DEVICES_WRITE)
    schedule = find_schedule(session, principal, schedule_id)
    row = session.get(LightingException, exception_id.strip())
    if row is None or row.schedule_id != schedule.id:
        raise NotFound("exception not found", code="exception_not_found")
    session.delete(row)
    session.commit()
    (on_change or _no_op)()


# --- the crisis override -----------------------------------------------------------------------------------

def active_override(session: Session, tenant_id: str) -> LightingOverride | None:
    return session.scalar(select(LightingOverride).where(LightingOverride.tenant_id == tenant_id,
                                                         LightingOverride.released_at.is_(None)))


def start_override(session: Session, principal: Principal, data: OverrideStart, *, now: datetime,
                   on_change: OnChange = None) -> LightingOverride:
    """Every lamp of the tenant that follows a schedule goes to ``level`` (100: all on) until released."""
    principal.require(Perm.QUEUE_WRITE)
    tenant = target_tenant(session, principal, data.tenant_id)
    if active_override(session, tenant) is not None:
        raise Conflict("an override is already active; release it first", code="override_active")
    row = LightingOverride(tenant_id=tenant, level=data.level, reason=data.reason, started_at=now,
                           started_by=principal.identity)
    session.add(row)
    session.commit()
    (on_change or _no_op)()
    return row


def release_override(session: Session, principal: Principal, tenant_id: str | None, *, now: datetime,
                     on_change: OnChange = None) -> LightingOverride:
    principal.require(Perm.QUEUE_WRITE)
    tenant = target_tenant(session, principal, tenant_id)
    row = active_override(session, tenant)
    if row is None:
        raise NotFound("no active override", code="no_override")
    row.released_at, row.released_by = now, principal.identity
    session.commit()
    (on_change or _no_op)()
    return row


# --- dim now, what was sent, what comes next ---------------------------------------------------------------

def dim_now(session: Session, principal: Principal, data: DimNow, sender: CommandSender, *,
            now: datetime) -> LightingCommand:
    """An operator's "dim now": the same path as a schedule step, recorded with it. It holds until the next
    step (or override) of the target's schedule."""
    principal.require(Perm.QUEUE_WRITE)
    kind, target_id, tenant = _target(session, principal, data)
    queue_ids = sender.send(session, kind, target_id, data.level, now, principal)
    members = len(target_lamps(session, kind, target_id))
    command = LightingCommand(key=f"manual:{uuid.uuid4()}", tenant_id=tenant, target_kind=kind, target_id=target_id,
                              reason="manual", level=data.level, sent_at=now, state="sent", queue_ids=queue_ids,
                              expected=members, detail=f"by {principal.identity}")
    session.add(command)
    session.commit()
    return command


def list_commands(session: Session, principal: Principal, *, limit: int = 100, target_kind: str | None = None,
                  target_id: str | None = None) -> list[LightingCommand]:
    principal.require(Perm.DEVICES_READ)
    stmt = select(LightingCommand).order_by(LightingCommand.sent_at.desc(), LightingCommand.id)
    stmt = visible_only(stmt, principal, LightingCommand.tenant_id)
    if target_kind is not None:
        stmt = stmt.where(LightingCommand.target_kind == target_kind)
    if target_id is not None:
        stmt = stmt.where(LightingCommand.target_id == target_id)
    return list(session.scalars(stmt.limit(page_limit(limit))))


@dataclass(frozen=True, slots=True)
class TargetStatus:
    assignment: LightingAssignment
    schedule: LightingSchedule
    name: str
    current: TimedStep | None
    next: TimedStep | None
    override: LightingOverride | None
    last_command: LightingCommand | None


def target_name(session: Session, kind: str, target_id: str) -> str:
    row: Any = session.get(MulticastGroup, target_id) if kind == "group" else session.get(Device, target_id)
    return str(row.name) if row is not None else target_id


def statuses(session: Session, principal: Principal, *, now: datetime, default_place: Place) -> list[TargetStatus]:
    """Each target with the step in force, the next step, the active override and the last command sent."""
    out = []
    exceptions: dict[str, list[LightingException]] = {}
    for e in session.scalars(select(LightingException)):
        exceptions.setdefault(e.schedule_id, []).append(e)
    for assignment, schedule in list_assignments(session, principal):
        place = target_place(session, assignment.target_kind, assignment.target_id, schedule, default_place)
        plan = plan_for(schedule, exceptions.get(schedule.id, []), place)
        last = session.scalar(select(LightingCommand).where(
            LightingCommand.target_kind == assignment.target_kind, LightingCommand.target_id == assignment.target_id)
            .order_by(LightingCommand.sent_at.desc()).limit(1))
        out.append(TargetStatus(assignment, schedule, target_name(session, assignment.target_kind,
                                                                  assignment.target_id),
                                current_step(plan, utc(now), place.zone), next_step(plan, utc(now), place.zone),
                                active_override(session, schedule.tenant_id), last))
    return out


def preview(session: Session, principal: Principal, schedule_id: str, night: date, default_place: Place
            ) -> list[TimedStep]:
    """The steps of one night at the schedule's own position (else the city's)."""
    schedule = get_schedule(session, principal, schedule_id)
    place = Place(schedule.latitude if schedule.latitude is not None else default_place.latitude,
                  schedule.longitude if schedule.longitude is not None else default_place.longitude,
                  schedule.timezone)
    found = next((e for e in list_exceptions(session, principal, schedule_id)
                  if e.start_date <= night <= e.end_date), None)
    return night_steps(parse_steps(found.steps if found else schedule.steps), night, place)


def energy_saved(session: Session, principal: Principal, month: date, default_place: Place,
                 tenant_id: str | None = None) -> list[DistrictSaving]:
    principal.require(Perm.DEVICES_READ)
    only = principal.tenant_filter()
    if only is not None:
        tenant_id = only
    return savings(session, month, default_place, tenant_id)
