"""The daily open-data export (CSV and GeoJSON), aggregated and non-personal by construction.

What is published, per local day (Europe/Paris):
- flood: water level per gauge (min, mean, max) with the gauge's position — public infrastructure;
- streetlight: energy consumed per district (sum over lamps of each lamp's index increase) and lamp count;
- water: consumption per district only, and only where the district has at least ``MIN_HOUSEHOLDS`` meters,
  so no figure can be traced to one household (never per meter, never with a position).
Devices of lessee companies are excluded: the city publishes only its own and its services' data.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from lora_city.storage.db import SessionFactory
from lora_city.storage.models import Device, Reading, Tenant

PARIS = ZoneInfo("Europe/Paris")
MIN_HOUSEHOLDS = 5
COLUMNS = ["date", "dataset", "area", "subject", "quantity", "unit", "min", "mean", "max", "total", "count",
           "latitude", "longitude"]


@dataclass(frozen=True, slots=True)
class Row:
    date: str
    dataset: str  # flood_levels | streetlight_energy | water_consumption
    area: str  # district, or the gauge's name for flood levels
    subject: str  # gauge DevEUI, or "" for district aggregates
    quantity: str
    unit: str
    min: float | None
    mean: float | None
    max: float | None
    total: float | None
    count: int
    latitude: float | None
    longitude: float | None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Local midnight to midnight, in UTC: 23 or 25 hours on daylight-saving days. UTC because stored times are
    UTC (SQLite keeps no offset) and because aware datetimes sharing one tzinfo subtract as wall-clock times."""
    start = datetime.combine(day, time(), PARIS).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), PARIS).astimezone(UTC)


def build_rows(sessions: SessionFactory, day: date) -> list[Row]:
    start, end = day_bounds(day)
    per_device: dict[str, list[tuple[datetime, dict[str, Any]]]] = defaultdict(list)
    with sessions() as s:
        public_tenants = set(s.scalars(select(Tenant.id).where(Tenant.kind.in_(("city", "city_service")))))
        devices = {d.dev_eui: d for d in s.scalars(select(Device).where(Device.tenant_id.in_(public_tenants)))}
        rows = s.execute(
            select(Reading.dev_eui, Reading.time, Reading.family, Reading.measurements)
            .where(Reading.time >= start, Reading.time < end, Reading.tenant_id.in_(public_tenants))
            .order_by(Reading.time)
        )
        families: dict[str, str] = {}
        for dev_eui, when, family, measurements in rows:
            per_device[dev_eui].append((when, measurements or {}))
            families[dev_eui] = family or "other"
    out: list[Row] = []
    out += _flood_levels(day, per_device, families, devices)
    out += _district_totals(day, per_device, families, devices, "streetlight", "energy", "Wh",
                            "streetlight_energy", min_count=1)
    out += _district_totals(day, per_device, families, devices, "water", "volume", "m³",
                            "water_consumption", min_count=MIN_HOUSEHOLDS)
    return out


def _value(m: dict[str, Any], name: str) -> float | None:
    item = m.get(name)
    if isinstance(item, dict):
        item = item.get("value")
    if isinstance(item, list | tuple):
        item = item[0]
    return float(item) if isinstance(item, int | float) and not isinstance(item, bool) else None


def _flood_levels(day: date, per_device: dict[str, list[tuple[datetime, dict[str, Any]]]], families: dict[str, str],
                  devices: dict[str, Device]) -> list[Row]:
    out = []
    for dev_eui, readings in sorted(per_device.items()):
        if families.get(dev_eui) != "flood":
            continue
        levels = [v for _, m in readings if (v := _value(m, "water_level")) is not None]
        if not levels:
            continue
        dev = devices.get(dev_eui)
        out.append(Row(day.isoformat(), "flood_levels", dev.name if dev else dev_eui, dev_eui, "water_level", "m",
                       min(levels), round(sum(levels) / len(levels), 3), max(levels), None, len(levels),
                       dev.latitude if dev else None, dev.longitude if dev else None))
    return out


def _district_totals(day: date, per_device: dict[str, list[tuple[datetime, dict[str, Any]]]],
                     families: dict[str, str], devices: dict[str, Device], family: str, quantity: str, unit: str,
                     dataset: str, *, min_count: int) -> list[Row]:
    totals: dict[str, list[float]] = defaultdict(list)
    for dev_eui, readings in per_device.items():
        if families.get(dev_eui) != family:
            continue
        index = [v for _, m in readings if (v := _value(m, quantity)) is not None]
        if len(index) < 2:
            continue
        used = index[-1] - index[0]  # cumulative index: the day's use is its increase
        if used < 0:
            continue  # meter replaced or reset: no reliable figure
        dev = devices.get(dev_eui)
        district = str((dev.tags or {}).get("district", "unknown")) if dev else "unknown"
        totals[district].append(used)
    out = []
    for district, values in sorted(totals.items()):
        if len(values) < min_count:
            continue  # too few meters: the figure could identify a household
        out.append(Row(day.isoformat(), dataset, district, "", quantity, unit, None, None, None,
                       round(sum(values), 3), len(values), None, None))
    return out


def to_csv(rows: list[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(["" if getattr(r, c) is None else getattr(r, c) for c in COLUMNS])
    return buf.getvalue()


def to_geojson(rows: list[Row]) -> str:
    """Only rows with a position (flood gauges) become features; district aggregates have none."""
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.longitude, r.latitude]},
         "properties": {c: getattr(r, c) for c in COLUMNS if c not in ("latitude", "longitude")}}
        for r in rows if r.latitude is not None and r.longitude is not None
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)
