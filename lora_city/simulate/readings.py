"""Believable sensor readings for the simulator and the demo, as functions of time.

Each source builds the payload a real device of its model would send at a given moment, in the vendor's format:
counters only grow, lamps burn from sunset to sunrise, a dry flood channel reads a steady level with a few
millimetres of noise, batteries stay where they are. Random values (the old simulator) made alert rules flap
(issue 21: a flood rule raised and cleared 29 times in 6 minutes) and counters run backwards.

Counters are computed from the time, not accumulated, so a restarted demo carries on from the same index and a
day of history seeded at start joins the live readings without a jump.
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import sunrise, sunset

PARIS = ZoneInfo("Europe/Paris")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # counters read their base index at this moment


class PayloadSource(Protocol):
    codec: str

    def payload(self, when: datetime) -> tuple[int, bytes]:
        """(FPort, FRMPayload) the device sends at ``when`` (timezone-aware)."""
        ...


def _daily_wave(when: datetime, peak_hour: float) -> float:
    """-1..1 over the local day, 1 at ``peak_hour`` (Europe/Paris)."""
    local = when.astimezone(PARIS)
    hour = local.hour + local.minute / 60 + local.second / 3600
    return math.cos(2 * math.pi * (hour - peak_hour) / 24)


@lru_cache(maxsize=4096)
def _sun(latitude: float, longitude: float, day: date) -> tuple[datetime, datetime]:
    place = Observer(latitude, longitude)
    return sunrise(place, date=day, tzinfo=UTC), sunset(place, date=day, tzinfo=UTC)


def is_dark(latitude: float, longitude: float, when: datetime) -> bool:
    """Between sunset and sunrise at the place (the streetlights' astronomical schedule)."""
    sunrise, sunset = _sun(latitude, longitude, when.astimezone(UTC).date())
    return when < sunrise or when >= sunset


_DARK: dict[tuple[float, float], list[float]] = {}  # place -> hours of darkness from EPOCH to each UTC day


def _dark_hours_before(latitude: float, longitude: float, day: date) -> float:
    """Hours of darkness from EPOCH to the start of ``day`` (UTC days), extended day by day and kept."""
    cumulative = _DARK.setdefault((latitude, longitude), [0.0])
    index = (day - EPOCH.date()).days
    while len(cumulative) <= index:
        previous = EPOCH.date() + timedelta(days=len(cumulative) - 1)
        sunrise, sunset = _sun(latitude, longitude, previous)
        cumulative.append(cumulative[-1] + 24.0 - (sunset - sunrise).total_seconds() / 3600)
    return cumulative[max(index, 0)]


def dark_hours(latitude: float, longitude: float, when: datetime) -> float:
    """Hours of darkness from EPOCH to ``when``: the hours the lamps have burnt."""
    when = max(when.astimezone(UTC), EPOCH)
    day = when.date()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    sunrise, sunset = _sun(latitude, longitude, day)
    elapsed = (when - start).total_seconds() / 3600
    before_sunrise = min(elapsed, (sunrise - start).total_seconds() / 3600)
    after_sunset = max(0.0, elapsed - (sunset - start).total_seconds() / 3600)
    return _dark_hours_before(latitude, longitude, day) + max(before_sunrise, 0.0) + after_sunset


@dataclass
class Streetlight:
    """Milesight WS558 (FPort 85): voltage, active power, power factor, energy index, current, lamp switches.
    ``lamps`` luminaires of ``watts`` each, switched on from sunset to sunrise at the pole's position."""

    latitude: float
    longitude: float
    lamps: int = 2
    watts: float = 70.0
    energy_base_wh: int = 1_250_000
    rng: random.Random = field(default_factory=random.Random)
    codec: str = "milesight-ws558"

    def payload(self, when: datetime) -> tuple[int, bytes]:
        on = is_dark(self.latitude, self.longitude, when)
        voltage = 230.0 + 1.8 * _daily_wave(when, 4.0) + self.rng.gauss(0.0, 0.3)
        power = self.lamps * self.watts * (1.0 + self.rng.gauss(0.0, 0.004)) if on else 0.0
        power_factor = 96 if on else 0
        current_ma = power / (voltage * power_factor / 100) * 1000 if on else 0.0
        energy = self.energy_base_wh + self.lamps * self.watts * dark_hours(self.latitude, self.longitude, when)
        switches = (1 << self.lamps) - 1 if on else 0
        body = (
            b"\x03\x74" + struct.pack("<H", round(voltage * 10)) + b"\x04\x80" + struct.pack("<I", round(power))
            + b"\x05\x81" + bytes((power_factor,)) + b"\x06\x83" + struct.pack("<I", round(energy))
            + b"\x07\xc9" + struct.pack("<H", round(current_ma)) + b"\x08\x31\x00" + bytes((switches,))
        )
        return 85, body


# Share of a household's daily water use reached at each local hour (cumulative; morning and evening peaks).
_WATER_DAY = (0.0, 0.01, 0.015, 0.02, 0.025, 0.03, 0.06, 0.16, 0.26, 0.31, 0.35, 0.39, 0.45, 0.51, 0.54, 0.57,
              0.60, 0.64, 0.70, 0.80, 0.88, 0.94, 0.98, 0.995, 1.0)


@dataclass
class WaterMeter:
    """Milesight EM300-DI counting a water meter's pulses (1 pulse = 1 litre; FPort 85: battery %, pulse count
    u32). ``litres_per_day`` spread over the day with morning and evening peaks."""

    litres_per_day: float = 320.0
    index_base: int = 84_000
    battery: int = 88
    codec: str = "milesight-em300-di"

    def pulses(self, when: datetime) -> int:
        local = when.astimezone(PARIS)
        whole_days = max((local.date() - EPOCH.date()).days, 0)  # local days: the use profile is local too
        hour = local.hour + local.minute / 60
        low = _WATER_DAY[int(hour)]
        share = low + (_WATER_DAY[int(hour) + 1] - low) * (hour - int(hour))
        return self.index_base + round(self.litres_per_day * (whole_days + share))

    def payload(self, when: datetime) -> tuple[int, bytes]:
        return 85, b"\x01\x75" + bytes((self.battery,)) + b"\x05\xc8" + struct.pack("<I", self.pulses(when))


@dataclass
class BuildingWaterMeter:
    """B METERS IWM-LR3 pulse reader on the water meter of a municipal building (FPort 1, per the IWM-LR3
    manual: application 0x2C, meter index u32 little-endian, reverse-flow counter u32, index K, medium, VIF 0x0D
    = litres, alarm code). The index grows by ``litres_per_day`` with the same daily profile as a household."""

    litres_per_day: float = 2_000.0
    index_base: int = 450_000
    codec: str = "bmeters-iwm-lr3"

    def payload(self, when: datetime) -> tuple[int, bytes]:
        litres = WaterMeter(self.litres_per_day, self.index_base).pulses(when)
        return 1, b"\x2c" + struct.pack("<II", litres, 0) + b"\x00\x00\x0d\x00"


@dataclass
class WaterLevel:
    """Milesight EM500-SWL submersible level sensor in a flood channel (FPort 85: battery %, level in cm)."""

    level_cm: float = 42.0
    battery: int = 91
    rng: random.Random = field(default_factory=random.Random)
    codec: str = "milesight-em500-swl"

    def payload(self, when: datetime) -> tuple[int, bytes]:
        level = self.level_cm + 0.6 * _daily_wave(when, 7.0) + self.rng.gauss(0.0, 0.3)
        return 85, b"\x01\x75" + bytes((self.battery,)) + b"\x03\x77" + struct.pack("<H", max(round(level), 0))


@dataclass
class DistanceGauge:
    """Dragino LDDS75 ultrasonic sensor above a dry channel (FPort 2): battery mV, distance mm to the bed,
    interrupt flag, temperature (0.1 °C), sensor flag."""

    distance_mm: float = 2350.0
    battery_mv: int = 3350
    rng: random.Random = field(default_factory=random.Random)
    codec: str = "dragino-ldds75"

    def payload(self, when: datetime) -> tuple[int, bytes]:
        distance = self.distance_mm + self.rng.gauss(0.0, 1.5)
        temperature = 13.0 + 5.0 * _daily_wave(when, 15.0) + self.rng.gauss(0.0, 0.1)
        return 2, struct.pack(">HHBhB", self.battery_mv, round(distance), 0, round(temperature * 10), 1)
