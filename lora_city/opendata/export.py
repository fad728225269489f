"""The daily open-data export (CSV and GeoJSON), aggregated and non-personal by construction.

What is published, per local day (Europe/Paris):
- flood: water level per gauge (min, mean, max) with the gauge's position — public infrastructure; a gauge
  without a position is left out (the row is a point on the map);
- streetlight: energy consumed per district (sum over lamps of each lamp's index increase) and lamp count;
- water: consumption per district only, and only where the district has at least ``MIN_HOUSEHOLDS`` meters,
  so no figure can be traced to one household (never per meter, never with a position).
District figures need the device's ``district`` tag; an index needs two readings in the day to show its increase.
Devices of lessee companies are excluded: the city publishes only its own and its services' data.

``build_export`` says, for every device, whether it counts and, if not, every reason why (``Reason``), so a
newcomer whose export is empty sees what to fix; the CLI and the console's open-data page print it.
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
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


class Reason(StrEnum):
    """Why a device is left out of the day's export (the portal words each in the page's language)."""

    NOT_CITY = "not_city"  # a lessee's device: only the city's and its services' data is published
    FAMILY = "family"  # its family has no open dataset (only flood, streetlight, water)
    NO_POSITION = "no_position"  # a flood gauge is published as a point: it needs a position
    NO_DISTRICT = "no_district"  # streetlight and water figures are per district: it needs a `district` tag
    NO_READINGS = "no_readings"  # nothing heard from it that day
    NO_MEASUREMENT = "no_measurement"  # readings, but none of the dataset's measurement
    TOO_FEW_READINGS = "too_few_readings"  # an index needs two readings in the day to show its increase
    INDEX_WENT_BACK = "index_went_back"  # the index fell (meter replaced or reset): no reliable figure
    DISTRICT_TOO_SMALL = "district_too_small"  # fewer than MIN_HOUSEHOLDS water meters in its district


REASON_TEXT = {  # the CLI's words (English, as the CLI's other output)
    Reason.NOT_CITY: "a lessee's device (only the city's and its services' data is published)",
    Reason.FAMILY: "its family has no open dataset (only flood, streetlight, water)",
    Reason.NO_POSITION: "no position (a flood gauge is published as a point on the map)",
    Reason.NO_DISTRICT: "no `district` tag (streetlight and water figures are per district)",
    Reason.NO_READINGS: "no reading that day",
    Reason.NO_MEASUREMENT: "no reading of the dataset's measurement that day",
    Reason.TOO_FEW_READINGS: "fewer than 2 readings of its index that day (the use is the index's increase)",
    Reason.INDEX_WENT_BACK: "its index went back (meter replaced or reset)",
    Reason.DISTRICT_TOO_SMALL: f"fewer than {MIN_HOUSEHOLDS} water meters in its district (privacy)",
}


@dataclass(frozen=True, slots=True)
class Dataset:
    family: str
    name: str
    quantity: str
    unit: str


DATASETS = {d.family: d for d in (Dataset("flood", "flood_levels", "water_level", "m"),
                                  Dataset("streetlight", "streetlight_energy", "energy", "Wh"),
                                  Dataset("water", "water_consumption", "volume", "m³"))}


@dataclass(frozen=True, slots=True)
class Verdict:
    """One device's place in the day's export: counted in ``dataset``, or left out for ``reasons``."""

    dev_eui: str
    name: str
    tenant: str
    family: str | None  # from the day's readings (None: nothing heard)
    dataset: str | None
    measurement: str | None  # the dataset's measurement (water_level, energy, volume)
    readings: int  # readings of that measurement that day
    reasons: tuple[Reason, ...] = ()

    @property
    def counted(self) -> bool:
        return not self.reasons


@dataclass(frozen=True, slots=True)
class Export:
    day: date
    rows: list[Row]
    devices: list[Verdict]

    @property
    def counted(self) -> list[Verdict]:
        return [v for v in self.devices if v.counted]

    @property
    def left_out(self) -> list[Verdict]:
        return [v for v in self.devices if not v.counted]

    def counted_by_dataset(self) -> dict[str, int]:
        return dict(sorted(Counter(v.dataset for v in self.counted if v.dataset).items()))

    def left_out_by_reason(self) -> dict[Reason, int]:
        """How many devices each reason leaves out (a device with two problems counts under both)."""
        counts = Counter(r for v in self.left_out for r in v.reasons)
        return {r: counts[r] for r in Reason if counts[r]}


def build_rows(sessions: SessionFactory, day: date) -> list[Row]:
    return build_export(sessions, day).rows


def build_export(sessions: SessionFactory, day: date) -> Export:
    start, end = day_bounds(day)
    per_device: dict[str, list[dict[str, Any]]] = defaultdict(list)
    families: dict[str, str] = {}
    with sessions() as s:
        tenants = {t.id: t for t in s.scalars(select(Tenant))}
        public = {tid for tid, t in tenants.items() if t.kind in ("city", "city_service")}
        devices = list(s.scalars(select(Device).order_by(Device.name, Device.dev_eui)))
        # the family of every device heard that day; the values of the city's devices only
        for dev_eui, family in s.execute(select(Reading.dev_eui, Reading.family).distinct()
                                         .where(Reading.time >= start, Reading.time < end)):
            families[dev_eui] = family or "other"
        rows = s.execute(
            select(Reading.dev_eui, Reading.measurements)
            .where(Reading.time >= start, Reading.time < end, Reading.tenant_id.in_(public))
            .order_by(Reading.time)
        )
        for dev_eui, measurements in rows:
            per_device[dev_eui].append(measurements or {})
    verdicts: list[Verdict] = []
    values: dict[str, list[float]] = {}
    for dev in devices:
        tenant = tenants.get(dev.tenant_id)
        family = families.get(dev.dev_eui)
        dataset = DATASETS.get(family or "")
        heard = per_device.get(dev.dev_eui, [])
        series = [v for m in heard if dataset and (v := _value(m, dataset.quantity)) is not None]
        reasons = _reasons(dev, dev.tenant_id in public, family, dataset, len(heard), series)
        values[dev.dev_eui] = series
        verdicts.append(Verdict(dev.dev_eui, dev.name, tenant.name if tenant else dev.tenant_id, family,
                                dataset.name if dataset else None, dataset.quantity if dataset else None,
                                len(series), reasons))
    verdicts = _privacy(verdicts, {d.dev_eui: d for d in devices}, values)
    by_eui = {d.dev_eui: d for d in devices}
    counted = [v for v in verdicts if v.counted]
    out = _flood_levels(day, [v for v in counted if v.dataset == "flood_levels"], by_eui, values)
    for family in ("streetlight", "water"):
        dataset = DATASETS[family]
        out += _district_totals(day, dataset, [v for v in counted if v.dataset == dataset.name], by_eui, values)
    return Export(day, out, verdicts)


def _reasons(dev: Device, public: bool, family: str | None, dataset: Dataset | None, heard: int,
             series: list[float]) -> tuple[Reason, ...]:
    """Every reason ``dev`` is left out (empty: it counts), the device's own settings first, then the day's data."""
    if not public:
        return (Reason.NOT_CITY,)  # a lessee's data is not looked at
    if heard == 0:
        return (Reason.NO_READINGS,)  # its family is not even known: nothing else to say
    if dataset is None:
        return (Reason.FAMILY,)
    reasons: list[Reason] = []
    if dataset.family == "flood" and (dev.latitude is None or dev.longitude is None):
        reasons.append(Reason.NO_POSITION)
    if dataset.family != "flood" and not str((dev.tags or {}).get("district") or "").strip():
        reasons.append(Reason.NO_DISTRICT)
    if not series:
        reasons.append(Reason.NO_MEASUREMENT)
    elif dataset.family != "flood" and len(series) < 2:
        reasons.append(Reason.TOO_FEW_READINGS)
    elif dataset.family != "flood" and series[-1] < series[0]:
        reasons.append(Reason.INDEX_WENT_BACK)
    return tuple(reasons)


def _district(dev: Device) -> str:
    return str((dev.tags or {}).get("district")).strip()


def _privacy(verdicts: list[Verdict], devices: dict[str, Device], values: dict[str, list[float]]
             ) -> list[Verdict]:
    """Water meters of a district with fewer than MIN_HOUSEHOLDS counted meters are left out: the district's
    figure could be traced to a household."""
    water = DATASETS["water"].name
    per_district = Counter(_district(devices[v.dev_eui]) for v in verdicts if v.counted and v.dataset == water)
    return [replace(v, reasons=(Reason.DISTRICT_TOO_SMALL,))
            if v.counted and v.dataset == water and per_district[_district(devices[v.dev_eui])] < MIN_HOUSEHOLDS
            else v for v in verdicts]


def _value(m: dict[str, Any], name: str) -> float | None:
    item = m.get(name)
    if isinstance(item, dict):
        item = item.get("value")
    if isinstance(item, list | tuple):
        item = item[0]
    return float(item) if isinstance(item, int | float) and not isinstance(item, bool) else None


def _flood_levels(day: date, gauges: list[Verdict], devices: dict[str, Device], values: dict[str, list[float]]
                  ) -> list[Row]:
    out = []
    for v in sorted(gauges, key=lambda g: g.dev_eui):
        dev, levels = devices[v.dev_eui], values[v.dev_eui]
        out.append(Row(day.isoformat(), "flood_levels", dev.name, dev.dev_eui, "water_level", "m",
                       min(levels), round(sum(levels) / len(levels), 3), max(levels), None, len(levels),
                       dev.latitude, dev.longitude))
    return out


def _district_totals(day: date, dataset: Dataset, counted: list[Verdict], devices: dict[str, Device],
                     values: dict[str, list[float]]) -> list[Row]:
    totals: dict[str, list[float]] = defaultdict(list)
    for v in counted:
        index = values[v.dev_eui]
        totals[_district(devices[v.dev_eui])].append(index[-1] - index[0])  # cumulative: the day's increase
    return [Row(day.isoformat(), dataset.name, district, "", dataset.quantity, dataset.unit, None, None, None,
                round(sum(used), 3), len(used), None, None) for district, used in sorted(totals.items())]


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
