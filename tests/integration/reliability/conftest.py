"""What the readings store and victoria-metrics (InfluxDB ``/api/v2/write``) hold after a run; the server processes
and the devices come from tests/support/serve.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, text

from tests.integration.sinks.conftest import export
from tests.support.serve import ServerProcesses, provision, register_gateways

__all__ = ["InfluxPoints", "ServerProcesses", "influx_points", "provision", "register_gateways", "stored_readings"]


def stored_readings(database_url: str) -> dict[tuple[str, int], list[Any]]:
    """(dev_eui, f_cnt) -> the reading times stored for it (one each, when nothing is doubled)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT dev_eui, f_cnt, time FROM readings")).all()
    finally:
        engine.dispose()
    out: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for dev_eui, f_cnt, when in rows:
        out[(dev_eui, f_cnt)].append(when)
    return out


@dataclass
class InfluxPoints:
    points: dict[tuple[str, int], set[int]]  # (dev_eui, f_cnt) -> distinct timestamps (ms) of its points
    raw_samples: int  # samples as victoria-metrics stores them (a rewritten point counts twice here)


def influx_points(vm_url: str) -> InfluxPoints:
    """The ``f_cnt`` field of every uplink point. InfluxDB keeps one point per series and timestamp (a second
    write of the same point overwrites it); victoria-metrics keeps every write, so points are told apart by
    timestamp here, and a doubled uplink would show as one f_cnt with two timestamps."""
    points: dict[tuple[str, int], set[int]] = defaultdict(set)
    raw = 0
    for series in export(vm_url, '{__name__="other_f_cnt"}'):
        dev_eui = series["metric"]["dev_eui"]
        for value, ts in zip(series["values"], series["timestamps"], strict=True):
            points[(dev_eui, int(value))].add(int(ts))
            raw += 1
    return InfluxPoints(dict(points), raw)
