"""Estimated energy saved by the schedules, per month and per district.

The reference is the lamp at full power from dusk to dawn every night (what a photocell does). A scheduled night
uses ``power x level`` through the night (LED drivers draw close to proportionally to the level; a fixed
fraction is the usual planning assumption), integrated over the night's steps from noon to noon, so early
switch-on or late switch-off count too. A lamp's power is its ``lamp_power_w`` tag, else the highest active
power it ever reported; lamps with neither are counted but add no energy.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.lighting.scheduler import Plan, plan_for, target_lamps, target_place
from lora_city.lighting.steps import Place, Step, current_step, night_steps
from lora_city.storage.models import Device, Reading
from lora_city.storage.models.lighting import LightingAssignment, LightingException, LightingSchedule

_FULL_NIGHT = [Step(at="dusk", level=100), Step(at="dawn", level=0)]


@dataclass(frozen=True, slots=True)
class DistrictSaving:
    district: str
    lamps: int
    lamps_with_power: int
    baseline_kwh: float
    scheduled_kwh: float

    @property
    def saved_kwh(self) -> float:
        return round(self.baseline_kwh - self.scheduled_kwh, 3)

    @property
    def saved_percent(self) -> float | None:
        return round(100 * self.saved_kwh / self.baseline_kwh, 1) if self.baseline_kwh else None


def level_hours(plan: Plan, night: date, place: Place) -> float:
    """∫ level/100 dt over the night (noon to noon), in hours."""
    zone = place.zone
    start = datetime.combine(night, time(12), zone)
    end = datetime.combine(night + timedelta(days=1), time(12), zone)
    first = current_step(plan, start, zone)
    level = first.level if first is not None else 0
    cursor, total = start, 0.0
    for step in plan(night):
        if step.at < start or step.at >= end:
            continue
        total += level * (step.at - cursor).total_seconds()
        cursor, level = step.at, step.level
    total += level * (end - cursor).total_seconds()
    return total / 100 / 3600


def full_night_hours(night: date, place: Place) -> float:
    steps = night_steps(_FULL_NIGHT, night, place)
    return (steps[-1].at - steps[0].at).total_seconds() / 3600 if len(steps) == 2 else 0.0


def lamp_powers(db: Session, lamps: Iterable[str]) -> dict[str, float | None]:
    lamps = list(lamps)
    out: dict[str, float | None] = {}
    devices = {d.dev_eui: d for d in db.scalars(select(Device).where(Device.dev_eui.in_(lamps)))}
    for lamp in lamps:
        tag = (devices[lamp].tags or {}).get("lamp_power_w") if lamp in devices else None
        try:
            out[lamp] = float(tag) if tag is not None else None
        except (TypeError, ValueError):
            out[lamp] = None
    unknown = [lamp for lamp, p in out.items() if p is None]
    for lamp in unknown:
        best = None
        for (measurements,) in db.execute(select(Reading.measurements).where(Reading.dev_eui == lamp)
                                          .order_by(Reading.time.desc()).limit(500)):
            value = (measurements or {}).get("power")
            value = value.get("value") if isinstance(value, dict) else value
            if isinstance(value, int | float) and not isinstance(value, bool):
                best = max(best or 0.0, float(value))
        out[lamp] = best
    return out


def savings(db: Session, month: date, default_place: Place, tenant_id: str | None = None) -> list[DistrictSaving]:
    first = month.replace(day=1)
    nights = [first + timedelta(days=i) for i in range(calendar.monthrange(first.year, first.month)[1])]
    exceptions: dict[str, list[LightingException]] = {}
    for e in db.scalars(select(LightingException)):
        exceptions.setdefault(e.schedule_id, []).append(e)
    seen: set[str] = set()
    per_district: dict[str, list[float]] = {}  # district -> [lamps, with power, baseline Wh, scheduled Wh]
    stmt = select(LightingAssignment, LightingSchedule).join(
        LightingSchedule, LightingSchedule.id == LightingAssignment.schedule_id)
    if tenant_id is not None:
        stmt = stmt.where(LightingSchedule.tenant_id == tenant_id)
    for assignment, schedule in db.execute(stmt).all():
        lamps = [lamp for lamp in target_lamps(db, assignment.target_kind, assignment.target_id) if lamp not in seen]
        if not lamps:
            continue
        seen.update(lamps)
        place = target_place(db, assignment.target_kind, assignment.target_id, schedule, default_place)
        plan = plan_for(schedule, exceptions.get(schedule.id, []), place)
        scheduled_h = sum(level_hours(plan, n, place) for n in nights)
        baseline_h = sum(full_night_hours(n, place) for n in nights)
        powers = lamp_powers(db, lamps)
        districts: dict[str, dict[str, Any]] = {
            eui: tags for eui, tags in db.execute(select(Device.dev_eui, Device.tags).where(Device.dev_eui.in_(lamps)))}
        for lamp in lamps:
            district = str((districts.get(lamp) or {}).get("district", "")) or "—"
            row = per_district.setdefault(district, [0, 0, 0.0, 0.0])
            row[0] += 1
            power = powers.get(lamp)
            if power:
                row[1] += 1
                row[2] += power * baseline_h
                row[3] += power * scheduled_h
    return [DistrictSaving(d, int(r[0]), int(r[1]), round(r[2] / 1000, 3), round(r[3] / 1000, 3))
            for d, r in sorted(per_district.items())]


