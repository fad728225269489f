"""The lighting scheduler: every target (a multicast group or a lamp) gets the level its schedule gives for now,
once per step, through the one downlink queue (``CommandSender``).

    tick(now)
      ├─ for each assignment: the step in force now (exceptions by date applied), or the crisis override
      │    key = what is being sent ("step:<target>:<instant>:<level>", "override:<id>:<target>", …)
      │    a key already in lighting_commands was sent: nothing to do, unless the target was told something
      │      else since by the scheduler (an exception deleted, a step edited back): then sent again, once
      │    else: record the key (unique: two scheduler processes never both send it), then enqueue
      └─ for each command not yet confirmed: after ``confirm_after``, lamps whose readings since the command do
           not show the level get it again, one by one (at most ``max_retries`` times); then it is "confirmed"
           or "unconfirmed" (the lamps that never answered are named in ``detail``)

A command superseded by a newer one for the same target is no longer retried. The clock is injected so a test
runs a whole simulated night in a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lora_city.errors import LoraCityError
from lora_city.lighting.commands import CommandSender
from lora_city.lighting.steps import Place, Step, TimedStep, current_step, night_steps, parse_steps
from lora_city.storage.db import SessionFactory
from lora_city.storage.models import Device, MulticastGroup, MulticastGroupDevice, Reading
from lora_city.storage.models.lighting import (
    LightingAssignment,
    LightingCommand,
    LightingException,
    LightingOverride,
    LightingSchedule,
)

log = logging.getLogger(__name__)
CONFIRM_AFTER = timedelta(minutes=10)
MAX_RETRIES = 2


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # group | device
    id: str
    tenant_id: str
    schedule: LightingSchedule
    place: Place


@dataclass(slots=True)
class Plan:
    """What a schedule says for one target, night by night (cached for one tick)."""

    steps: list[Step]
    exceptions: list[tuple[date, date, list[Step]]]
    place: Place
    _cache: dict[date, list[TimedStep]] = field(default_factory=dict)

    def __call__(self, night: date) -> list[TimedStep]:
        found = self._cache.get(night)
        if found is None:
            steps = next((s for start, end, s in self.exceptions if start <= night <= end), self.steps)
            found = self._cache[night] = night_steps(steps, night, self.place)
        return found


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _centroid(rows: list[tuple[float | None, float | None]]) -> tuple[float, float] | None:
    pts = [(a, b) for a, b in rows if a is not None and b is not None]
    if not pts:
        return None
    return sum(a for a, _ in pts) / len(pts), sum(b for _, b in pts) / len(pts)


def target_place(db: Session, kind: str, target_id: str, schedule: LightingSchedule, default: Place) -> Place:
    """Where the sun is computed: the group's or lamp's own position, the members' centroid, the schedule's, the
    city's (Settings)."""
    position: tuple[float, float] | None = None
    if kind == "group":
        group = db.get(MulticastGroup, target_id)
        if group is not None and group.latitude is not None and group.longitude is not None:
            position = (group.latitude, group.longitude)
        else:
            position = _centroid([(d.latitude, d.longitude) for d in db.scalars(
                select(Device).join(MulticastGroupDevice, MulticastGroupDevice.dev_eui == Device.dev_eui)
                .where(MulticastGroupDevice.group_id == target_id))])
    else:
        device = db.get(Device, target_id)
        if device is not None and device.latitude is not None and device.longitude is not None:
            position = (device.latitude, device.longitude)
    if position is None and schedule.latitude is not None and schedule.longitude is not None:
        position = (schedule.latitude, schedule.longitude)
    lat, lon = position or (default.latitude, default.longitude)
    return Place(lat, lon, schedule.timezone)


def plan_for(schedule: LightingSchedule, exceptions: list[LightingException], place: Place) -> Plan:
    return Plan(parse_steps(schedule.steps), [(e.start_date, e.end_date, parse_steps(e.steps)) for e in exceptions],
                place)


def target_lamps(db: Session, kind: str, target_id: str) -> list[str]:
    if kind == "group":
        return list(db.scalars(select(MulticastGroupDevice.dev_eui)
                               .where(MulticastGroupDevice.group_id == target_id)))
    return [target_id]


def target_tenant(db: Session, kind: str, target_id: str) -> str | None:
    row: Any = db.get(MulticastGroup, target_id) if kind == "group" else db.get(Device, target_id)
    return None if row is None else str(row.tenant_id)


class LightingScheduler:
    def __init__(self, factory: SessionFactory, sender: CommandSender, *, clock: Callable[[], datetime],
                 default_place: Place, confirm_after: timedelta = CONFIRM_AFTER, max_retries: int = MAX_RETRIES
                 ) -> None:
        self._factory = factory
        self._sender = sender
        self._clock = clock
        self._default = default_place
        self._confirm_after = confirm_after
        self._max_retries = max_retries
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- the loop ----------------------------------------------------------------------------------------

    async def run(self, interval_s: float = 15.0) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while True:
            try:
                await asyncio.to_thread(self.tick)
            except Exception:
                log.exception("lighting scheduler pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval_s)
            self._wake.clear()

    def wake(self) -> None:
        """Called (from any thread) after a schedule, assignment, exception or override changed: act now."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # --- one pass ----------------------------------------------------------------------------------------

    def tick(self) -> list[LightingCommand]:
        now = utc(self._clock())
        sent: list[LightingCommand] = []
        with self._factory() as db:
            targets = self._targets(db)
            overrides = self._overrides(db)
            exceptions: dict[str, list[LightingException]] = {}
            for e in db.scalars(select(LightingException)):
                exceptions.setdefault(e.schedule_id, []).append(e)
        for target in targets:
            try:
                command = self._apply(target, exceptions.get(target.schedule.id, []), overrides, now)
            except Exception:
                log.exception("lighting target failed: kind=%s id=%s", target.kind, target.id)
                continue
            if command is not None:
                sent.append(command)
        self._check_confirmations(now)
        return sent

    def _targets(self, db: Session) -> list[Target]:
        out = []
        rows = db.execute(select(LightingAssignment, LightingSchedule)
                          .join(LightingSchedule, LightingSchedule.id == LightingAssignment.schedule_id)).all()
        for assignment, schedule in rows:
            tenant = target_tenant(db, assignment.target_kind, assignment.target_id)
            if tenant is None:
                continue  # the group or lamp was deleted
            place = target_place(db, assignment.target_kind, assignment.target_id, schedule, self._default)
            out.append(Target(assignment.target_kind, assignment.target_id, tenant, schedule, place))
        return out

    def _overrides(self, db: Session) -> dict[str, LightingOverride]:
        """The latest override of each tenant (active, or the last released)."""
        latest: dict[str, LightingOverride] = {}
        for o in db.scalars(select(LightingOverride).order_by(LightingOverride.started_at)):
            latest[o.tenant_id] = o
        return latest

    def desired(self, target: Target, exceptions: list[LightingException], override: LightingOverride | None,
                now: datetime) -> tuple[str, int, str, datetime | None] | None:
        """(key, level, reason, step instant) the target should have now, or None (no step yet)."""
        who = f"{target.kind}:{target.id}"
        if override is not None and override.released_at is None:
            return f"override:{override.id}:{who}", override.level, "override", None
        plan = plan_for(target.schedule, exceptions, target.place)
        step = current_step(plan, now, target.place.zone)
        if step is None:
            return None
        if override is not None and override.released_at is not None and utc(override.released_at) > step.at:
            # the override ended after this step began: the step's level must be restored once
            return f"release:{override.id}:{who}", step.level, "release", step.at
        return f"step:{target.schedule.id}:{who}:{step.at.isoformat()}:{step.level}", step.level, "step", step.at

    def _apply(self, target: Target, exceptions: list[LightingException],
               overrides: dict[str, LightingOverride], now: datetime) -> LightingCommand | None:
        wanted = self.desired(target, exceptions, overrides.get(target.tenant_id), now)
        if wanted is None:
            return None
        key, level, reason, step_at = wanted
        with self._factory() as db:
            if db.scalar(select(LightingCommand.id).where(LightingCommand.key == key)) is not None:
                again = self._restated(db, target, key)
                if again is None:
                    return None
                key = again
            command = LightingCommand(
                key=key, tenant_id=target.tenant_id, schedule_id=target.schedule.id, target_kind=target.kind,
                target_id=target.id, reason=reason, level=level, step_at=step_at, sent_at=now, state="sent",
                queue_ids=[], expected=len(target_lamps(db, target.kind, target.id)),
            )
            db.add(command)
            try:
                db.commit()  # claimed: from here on no other scheduler sends this key
            except IntegrityError:
                db.rollback()
                return None
            self._supersede(db, target, command.id)
            try:
                command.queue_ids = self._sender.send(db, target.kind, target.id, level, now)
            except LoraCityError as exc:
                command.state, command.detail = "failed", exc.message[:500]
                log.warning("lighting command failed: %s %s: %s", target.kind, target.id, exc.message)
            db.merge(command)
            db.commit()
            log.info("lighting: %s %s -> %d %% (%s)", target.kind, target.id, level, reason)
            return command

    @staticmethod
    def _latest(db: Session, target: Target) -> LightingCommand | None:
        """The last command the target was sent (among equal instants, the one not superseded)."""
        rows = list(db.scalars(select(LightingCommand).where(
            LightingCommand.target_kind == target.kind, LightingCommand.target_id == target.id)
            .order_by(LightingCommand.sent_at.desc()).limit(10)))
        if not rows:
            return None
        newest = [r for r in rows if r.sent_at == rows[0].sent_at]
        return next((r for r in newest if r.state != "superseded"), newest[0])

    def _restated(self, db: Session, target: Target, key: str) -> str | None:
        """``key`` went out before, but the target was told something else since by the scheduler (an exception
        or an edited step now undone, e.g. a festival night deleted while it ran): the key under which to send
        it again, the same in every scheduler process so it still goes once. None while it holds, or after an
        operator's "dim now", which holds until the next step."""
        latest = self._latest(db, target)
        if latest is None or latest.reason == "manual" or latest.key == key or latest.key.startswith(
                f"{key}:after:"):
            return None
        return f"{key}:after:{latest.id}"

    def _supersede(self, db: Session, target: Target, newest: str) -> None:
        db.execute(update(LightingCommand).where(
            LightingCommand.target_kind == target.kind, LightingCommand.target_id == target.id,
            LightingCommand.state == "sent", LightingCommand.id != newest).values(state="superseded"))
        db.commit()

    # --- confirmations and retries -------------------------------------------------------------------------

    def _check_confirmations(self, now: datetime) -> None:
        with self._factory() as db:
            pending = list(db.scalars(select(LightingCommand).where(LightingCommand.state == "sent")))
            for command in pending:
                last = utc(command.retried_at or command.sent_at)
                if now - last < self._confirm_after:
                    continue
                lamps = target_lamps(db, command.target_kind, command.target_id)
                missing = [lamp for lamp in lamps if not self._reported(db, lamp, command.level,
                                                                        utc(command.sent_at))]
                command.confirmed = len(lamps) - len(missing)
                command.expected = len(lamps)
                if not missing:
                    command.state = "confirmed"
                elif command.retries < self._max_retries:
                    self._retry(db, command, missing, now)
                else:
                    command.state = "unconfirmed"
                    command.detail = ("no report of the level from " + ", ".join(missing[:20])
                                      + (" …" if len(missing) > 20 else ""))[:500]
                db.commit()

    @staticmethod
    def _reported(db: Session, dev_eui: str, level: int, since: datetime) -> bool:
        for (measurements,) in db.execute(select(Reading.measurements).where(Reading.dev_eui == dev_eui,
                                                                             Reading.time >= since)):
            value = (measurements or {}).get("dim_level")
            if isinstance(value, dict):
                value = value.get("value")
            if isinstance(value, int | float) and not isinstance(value, bool) and round(value) == level:
                return True
        return False

    def _retry(self, db: Session, command: LightingCommand, lamps: list[str], now: datetime) -> None:
        """An unconfirmed command again, lamp by lamp (a multicast frame would wake the whole group again)."""
        ids = list(command.queue_ids or [])
        for lamp in lamps:
            try:
                ids += self._sender.send(db, "device", lamp, command.level, now)
            except LoraCityError as exc:
                log.warning("lighting retry failed: dev_eui=%s %s", lamp, exc.message)
        command.queue_ids = ids
        command.retries += 1
        command.retried_at = now
        command.detail = f"retry {command.retries}: {len(lamps)} lamp(s) had not reported {command.level} %"
