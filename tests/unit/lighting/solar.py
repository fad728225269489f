"""An independent civil-twilight calculation for the tests: NOAA's "General Solar Position Calculations"
(fractional-year series for the equation of time and the declination; hour angle at a zenith of 96° for civil
dusk and dawn). Accurate to a minute or two at mid-latitudes, which is what the tests ask of the product's
astral-based times (to 3 minutes: the series are NOAA's low-accuracy ones)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta


def _eqtime_decl(day: date, hour: float) -> tuple[float, float]:
    n = day.timetuple().tm_yday
    days = 366 if day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0) else 365
    g = 2 * math.pi / days * (n - 1 + (hour - 12) / 24)
    eqtime = 229.18 * (0.000075 + 0.001868 * math.cos(g) - 0.032077 * math.sin(g)
                       - 0.014615 * math.cos(2 * g) - 0.040849 * math.sin(2 * g))
    decl = (0.006918 - 0.399912 * math.cos(g) + 0.070257 * math.sin(g) - 0.006758 * math.cos(2 * g)
            + 0.000907 * math.sin(2 * g) - 0.002697 * math.cos(3 * g) + 0.00148 * math.sin(3 * g))
    return eqtime, decl


def civil_twilight(day: date, latitude: float, longitude: float, evening: bool) -> datetime:
    """Civil dusk (evening) or dawn of ``day`` in UTC, longitude positive east. Two passes: the series are
    evaluated at the event's own hour once it is roughly known."""
    hour = 18.0 if evening else 6.0
    minutes = 0.0
    for _ in range(2):
        eqtime, decl = _eqtime_decl(day, hour)
        lat = math.radians(latitude)
        ha = math.degrees(math.acos(math.cos(math.radians(96.0)) / (math.cos(lat) * math.cos(decl))
                                    - math.tan(lat) * math.tan(decl)))
        minutes = 720 - 4 * (longitude - ha if evening else longitude + ha) - eqtime
        hour = minutes / 60
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes)
