"""Readings of one device as columns for uPlot: one time axis (Unix seconds, ascending) and one column per
numeric measurement, ``None`` where a reading lacks that measurement (uPlot draws a gap)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput
from lora_city.portal import measures
from lora_city.services.common import as_utc
from lora_city.services.principal import Principal
from lora_city.services.readings import TimeRange, device_readings
from lora_city.storage.models import Reading

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
}
MAX_POINTS = 10_000  # beyond this a phone's browser struggles; the table and the API give the rest
PAGE = 1000


@dataclass(frozen=True, slots=True)
class Series:
    times: list[float]
    columns: dict[str, list[float | None]]
    units: dict[str, str | None]
    truncated: bool

    def as_json(self, t: measures.Translate | None = None) -> dict[str, Any]:
        """``series``: every numeric column. With ``t`` (the page's language), also ``families``: the numeric
        series grouped by measurement family (one chart each) with translated labels, and ``states``: the
        flags as on/off segments (a state timeline, not a line between 0 and 1)."""
        out: dict[str, Any] = {
            "t": self.times,
            "series": [{"name": n, "unit": self.units.get(n), "values": v} for n, v in sorted(self.columns.items())],
            "points": len(self.times),
            "truncated": self.truncated,
        }
        if t is not None:
            out["families"], out["states"] = self._grouped(t)
        return out

    def _grouped(self, t: measures.Translate) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        families: dict[str, list[dict[str, Any]]] = {}
        states = []
        for name, values in sorted(self.columns.items()):
            if measures.is_flag(name):
                states.append({"name": name, "label": measures.label(t, name), "segments": segments(self.times, values)})
                continue
            unit = self.units.get(name)
            families.setdefault(measures.family(name), []).append({
                "name": name, "label": measures.label(t, name), "unit": unit,
                "unit_label": measures.unit_label(t, unit) or "", "values": values})
        ordered = [{"key": key, "label": t(f"measure_family.{key}"), "series": families[key]}
                   for key in measures.FAMILY_ORDER if key in families]
        return ordered, states


def segments(times: list[float], values: list[float | None]) -> list[list[float | bool]]:
    """A flag's readings as [start, end, on] runs: each state lasts until the next reading of the flag (the
    last one until the last reading of the device)."""
    runs: list[list[float | bool]] = []
    for when, value in zip(times, values, strict=True):
        if value is None:
            continue
        on = value >= 0.5
        if runs and runs[-1][2] == on:
            runs[-1][1] = when
        else:
            if runs:
                runs[-1][1] = when
            runs.append([when, when, on])
    if runs and times:
        runs[-1][1] = times[-1]
    return runs


def span_for(range_name: str | None, start: datetime | None, end: datetime | None, now: datetime) -> TimeRange:
    """A preset range ending now, or an explicit [start, end) chosen by the user."""
    if start is not None or end is not None:
        if start is not None and end is not None and end <= start:
            raise InvalidInput("the end of the range must come after its start", code="invalid_range")
        return TimeRange(as_utc(start), as_utc(end))
    delta = RANGES.get(range_name or "24h")
    if delta is None:
        raise InvalidInput(f"range must be one of {', '.join(RANGES)}", code="invalid_range")
    return TimeRange(now - delta, None)


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0  # flags (lamp failure, leak) plot as steps between 0 and 1
    if isinstance(value, int | float):
        return float(value)
    return None


def device_series(session: Session, principal: Principal, dev_eui: str, span: TimeRange) -> Series:
    rows: list[Reading] = []
    cursor: str | None = None
    while True:
        page = device_readings(session, principal, dev_eui, span=span, limit=PAGE, cursor=cursor)
        rows.extend(page.items)
        cursor = page.next_cursor
        if cursor is None or len(rows) >= MAX_POINTS:
            break
    truncated = cursor is not None
    rows.reverse()  # the service pages newest first; a chart reads left to right
    times: list[float] = []
    columns: dict[str, list[float | None]] = {}
    units: dict[str, str | None] = {}
    for i, row in enumerate(rows):
        when = as_utc(row.time)
        assert when is not None
        times.append(when.timestamp())
        for name, item in (row.measurements or {}).items():
            value = _numeric(item.get("value") if isinstance(item, dict) else item)
            if value is None:
                continue
            if name not in columns:
                columns[name] = [None] * i
                units[name] = item.get("unit") if isinstance(item, dict) else None
            column = columns[name]
            column.extend([None] * (i - len(column)))
            column.append(value)
    for column in columns.values():
        column.extend([None] * (len(times) - len(column)))
    return Series(times, columns, units, truncated)
