"""A schedule's steps and the instants they fall on, night by night.

A step is ``{"at": ..., "offset_min": ..., "level": 0..100}`` where ``at`` is a local time ``HH:MM`` or a solar
event: ``dusk`` and ``dawn`` (civil twilight: the sun 6° below the horizon) or ``sunset`` and ``sunrise``,
computed by ``astral`` for the target's position. The level holds from the step until the next one.

Steps belong to *nights*: the night of local date D runs from D 12:00 to D+1 12:00. Sunset and dusk are D's,
sunrise and dawn D+1's; a fixed time from 12:00 is on D, before 12:00 on D+1. Each instant is computed in the
schedule's time zone (Europe/Paris) for its own date, so "23:00" is 22:00 UTC in winter and 21:00 UTC in
summer; on the night the clocks change, a local time the change skips (02:30 in late March) is taken one hour
later, and one it repeats (02:30 in late October) at its first occurrence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import dawn, dusk, sunrise, sunset
from pydantic import BaseModel, ConfigDict, Field, field_validator

SOLAR = ("dusk", "dawn", "sunset", "sunrise")
# What ``at`` takes, published as the schema's pattern so that the API's contract is the rule itself (issue 19):
# a local time H:MM or HH:MM from 00:00 to 23:59, or a solar event.
STEP_AT_PATTERN = rf"^(?:{'|'.join(SOLAR)}|(?:[01]?[0-9]|2[0-3]):[0-5][0-9])$"
NOON = time(12, 0)


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    at: str = Field(min_length=4, max_length=7, pattern=STEP_AT_PATTERN,
                    description="H:MM or HH:MM (local time, 00:00 to 23:59), dusk, dawn, sunset or sunrise")
    offset_min: int = Field(default=0, ge=-360, le=360, description="minutes after (negative: before) `at`")
    level: int = Field(ge=0, le=100, description="dimming level in %, 0 = off")

    @field_validator("at")
    @classmethod
    def _two_digit_hour(cls, value: str) -> str:
        """The pattern has checked the time; store it as HH:MM ("7:05" -> "07:05")."""
        if value in SOLAR:
            return value
        hour, minute = value.split(":")
        return f"{int(hour):02d}:{minute}"


def parse_steps(raw: Iterable[Any]) -> list[Step]:
    return [Step.model_validate(s) for s in raw]


@dataclass(frozen=True, slots=True)
class Place:
    latitude: float
    longitude: float
    timezone: str = "Europe/Paris"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class TimedStep:
    at: datetime  # UTC
    level: int
    label: str  # "dusk", "23:00", "dawn+15" …
    night: date


def _local(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    naive = datetime.combine(day, time(hour, minute))
    # A skipped local time (spring forward) is read with the offset before the change: 02:30 -> 03:30 summer time.
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _solar(event: str, night: date, place: Place) -> datetime:
    observer = Observer(place.latitude, place.longitude)
    if event == "dusk":
        return dusk(observer, night, tzinfo=UTC)
    if event == "sunset":
        return sunset(observer, night, tzinfo=UTC)
    if event == "dawn":
        return dawn(observer, night + timedelta(days=1), tzinfo=UTC)
    return sunrise(observer, night + timedelta(days=1), tzinfo=UTC)


def step_instant(step: Step, night: date, place: Place) -> datetime:
    if step.at in SOLAR:
        base = _solar(step.at, night, place)
    else:
        day = night if time.fromisoformat(step.at) >= NOON else night + timedelta(days=1)
        base = _local(day, step.at, place.zone)
    return (base + timedelta(minutes=step.offset_min)).replace(microsecond=0)


def _label(step: Step) -> str:
    if not step.offset_min:
        return step.at
    return f"{step.at}{step.offset_min:+d}min"


def night_of(t: datetime, zone: ZoneInfo) -> date:
    local = t.astimezone(zone)
    return local.date() if local.time() >= NOON else local.date() - timedelta(days=1)


def night_steps(steps: Sequence[Step], night: date, place: Place) -> list[TimedStep]:
    """The night's steps at their instants, in time order (solar events that do not happen, as in a polar
    summer, are left out)."""
    out = []
    for step in steps:
        try:
            at = step_instant(step, night, place)
        except ValueError:  # astral: the sun never reaches that depression on that date
            continue
        out.append(TimedStep(at, step.level, _label(step), night))
    return sorted(out, key=lambda s: s.at)


def current_step(steps_for: Callable[[date], list[TimedStep]], t: datetime, zone: ZoneInfo) -> TimedStep | None:
    """The step in force at ``t``: the last one at or before ``t`` of this night, else of the night before.
    ``steps_for(night)`` gives a night's timed steps (exceptions already applied)."""
    night = night_of(t, zone)
    for n in (night, night - timedelta(days=1)):
        past = [s for s in steps_for(n) if s.at <= t]
        if past:
            return past[-1]
    return None


def next_step(steps_for: Callable[[date], list[TimedStep]], t: datetime, zone: ZoneInfo) -> TimedStep | None:
    night = night_of(t, zone)
    for n in (night, night + timedelta(days=1)):
        later = [s for s in steps_for(n) if s.at > t]
        if later:
            return later[0]
    return None
