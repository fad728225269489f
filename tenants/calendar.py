"""The city's calendar: quota days and billing months are Europe/Paris calendar days and months, whatever UTC
says. A Paris day is 23 or 25 hours long when the clocks change (last Sundays of March and October)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from lora_city.errors import InvalidInput

PARIS = ZoneInfo("Europe/Paris")
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def day_start(day: date) -> datetime:
    """Paris midnight of ``day``, as aware UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)


def next_midnight_epoch(epoch: float) -> float:
    """The POSIX time of the Paris midnight after ``epoch`` (when the daily counters start again)."""
    today = paris_day(datetime.fromtimestamp(epoch, UTC))
    return day_start(today + timedelta(days=1)).timestamp()


def parse_period(period: str) -> tuple[date, date]:
    """``YYYY-MM`` -> (first day, first day of the next month): the half-open range of Paris days billed."""
    match = _PERIOD.match(period)
    if match is None:
        raise InvalidInput("period must be YYYY-MM", code="invalid_period")
    year, month = int(match.group(1)), int(match.group(2))
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class DayCache:
    """``paris_day`` for event times, memoised per UTC hour: Paris is a whole number of hours off UTC, so every
    instant of one UTC hour falls on the same Paris day. Keeps the per-uplink cost a dict lookup."""

    def __init__(self) -> None:
        self._by_hour: dict[int, date] = {}

    def day(self, moment: datetime) -> date:
        hour = int(moment.timestamp()) // 3600
        found = self._by_hour.get(hour)
        if found is None:
            if len(self._by_hour) > 10_000:  # a long-running server: forget old hours
                self._by_hour.clear()
            found = self._by_hour[hour] = paris_day(moment)
        return found
