"""Schedule steps at their instants (issue 24): civil dusk and dawn for the place (checked against NOAA's
formulas, tests/unit/lighting/solar.py), fixed local times in Europe/Paris across the daylight-saving changes
(the expected UTC times written from the EU rule: last Sunday of March 01:00 UTC, last Sunday of October
01:00 UTC), and impossible times refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from lora_city.lighting.steps import Place, Step, current_step, next_step, night_steps, parse_steps
from tests.unit.lighting.solar import civil_twilight

NIMES = Place(43.8367, 4.3601)
SCHEDULE = parse_steps([{"at": "dusk", "level": 100}, {"at": "23:00", "level": 50}, {"at": "01:00", "level": 0},
                        {"at": "05:00", "level": 100}, {"at": "dawn", "level": 0}])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("night", "fixed"), [
    # winter: CET = UTC+1
    (date(2026, 1, 15), [utc(2026, 1, 15, 22), utc(2026, 1, 16, 0), utc(2026, 1, 16, 4)]),
    # summer: CEST = UTC+2
    (date(2026, 7, 1), [utc(2026, 7, 1, 21), utc(2026, 7, 1, 23), utc(2026, 7, 2, 3)]),
    # 2026-03-29 02:00 CET -> 03:00 CEST: 23:00 and 01:00 still in winter time, 05:00 already in summer time
    (date(2026, 3, 28), [utc(2026, 3, 28, 22), utc(2026, 3, 29, 0), utc(2026, 3, 29, 3)]),
    # 2026-10-25 03:00 CEST -> 02:00 CET: 05:00 is in winter time again
    (date(2026, 10, 24), [utc(2026, 10, 24, 21), utc(2026, 10, 24, 23), utc(2026, 10, 25, 4)]),
])
def test_fixed_times_follow_paris_time_and_the_sun_follows_the_place(night: date, fixed: list[datetime]) -> None:
    steps = night_steps(SCHEDULE, night, NIMES)
    by_label = {s.label: s for s in steps}
    assert [by_label[x].at for x in ("23:00", "01:00", "05:00")] == fixed
    dusk_noaa = civil_twilight(night, NIMES.latitude, NIMES.longitude, evening=True)
    dawn_noaa = civil_twilight(date.fromordinal(night.toordinal() + 1), NIMES.latitude, NIMES.longitude, False)
    # the simple series are good to a couple of minutes; sunset or nautical dusk would be ~30 min away
    assert abs((by_label["dusk"].at - dusk_noaa).total_seconds()) < 180
    assert abs((by_label["dawn"].at - dawn_noaa).total_seconds()) < 180
    assert [s.level for s in steps] == [s.level for s in sorted(steps, key=lambda s: s.at)]


def test_summer_dawn_before_a_fixed_step_keeps_time_order() -> None:
    # 1 July: dawn at 05:28 local, after the 05:00 step; in June 21 at 05:23. Sorted by instant, not by list.
    steps = night_steps(SCHEDULE, date(2026, 7, 1), NIMES)
    assert [s.label for s in steps] == ["dusk", "23:00", "01:00", "05:00", "dawn"]
    north = Place(59.91, 10.75, "Europe/Oslo")  # Oslo in June: civil dusk after 23:00 local
    labels = [s.label for s in night_steps(SCHEDULE, date(2026, 6, 10), north)]
    assert labels.index("23:00") < labels.index("dusk") or "dusk" not in labels


def test_offsets_and_level_in_force() -> None:
    steps = parse_steps([{"at": "sunset", "offset_min": -15, "level": 80}, {"at": "sunrise", "offset_min": 30,
                                                                               "level": 0}])
    plan = lambda n: night_steps(steps, n, NIMES)  # noqa: E731
    night = night_steps(steps, date(2026, 1, 15), NIMES)
    assert night[0].label == "sunset-15min" and night[1].label == "sunrise+30min"
    assert current_step(plan, night[0].at, NIMES.zone) == night[0]
    mid = night[0].at.replace(hour=23)
    assert current_step(plan, mid, NIMES.zone) == night[0]
    assert next_step(plan, mid, NIMES.zone) == night[1]
    # the afternoon before: the previous night's last step (off) is still in force
    afternoon = utc(2026, 1, 15, 13)
    before = current_step(plan, afternoon, NIMES.zone)
    assert before is not None and before.level == 0 and before.night == date(2026, 1, 14)


@pytest.mark.parametrize("bad", [
    {"at": "24:00", "level": 50}, {"at": "12:60", "level": 50}, {"at": "7h30", "level": 50},
    {"at": "noon", "level": 50}, {"at": "dusk", "level": 101}, {"at": "dusk", "level": -1},
    {"at": "dusk", "offset_min": 600, "level": 50}, {"at": "23:00", "level": 50.5}, {"at": "23:00"},
])
def test_impossible_steps_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Step.model_validate(bad)
