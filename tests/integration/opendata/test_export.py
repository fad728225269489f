"""The daily open-data export on a real database: aggregated, positions only for public gauges, and never a
household's water consumption."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from lora_city.opendata.export import Reason, build_export, build_rows, day_bounds, to_csv, to_geojson
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory, transaction
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import Device, Reading, Tenant
from tests.support.schema import all_migration_locations

DAY = date(2026, 10, 25)  # daylight-saving change in Paris: a 25-hour local day


@pytest.fixture()
def sessions(database_url: str) -> Iterator[SessionFactory]:
    upgrade(database_url, all_migration_locations())
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def _reading(n: int, dev: str, tenant: str, family: str, when: datetime, **m: float) -> Reading:
    return Reading(uplink_id=f"u-{dev}-{n}", dev_eui=dev, tenant_id=tenant, family=family, time=when, f_cnt=n,
                   measurements={k: {"value": v, "unit": None} for k, v in m.items()})


def _populate(sessions: SessionFactory) -> None:
    start, end = day_bounds(DAY)
    hours = (end - start) / timedelta(hours=1)
    assert hours == 25  # the fixture really spans the DST change
    with transaction(sessions) as s:
        city = ensure_city_tenant(s).id
        lessee = Tenant(name="AquaPrivée SAS", slug="aquaprivee", kind="lessee")
        s.add(lessee)
        s.flush()
        s.add(Device(dev_eui="f100000000000001", tenant_id=city, name="Vistre — pont de la Servie",
                     latitude=43.8240, longitude=4.3790))
        for i in range(6):
            s.add(Device(dev_eui=f"a00000000000000{i}", tenant_id=city, name=f"meter {i}", tags={"district": "Écusson"}))
        for i in range(2):
            s.add(Device(dev_eui=f"b00000000000000{i}", tenant_id=city, name=f"meter b{i}", tags={"district": "Pissevin"}))
        for i in range(3):
            s.add(Device(dev_eui=f"c00000000000000{i}", tenant_id=city, name=f"lamp {i}", tags={"district": "Écusson"}))
        s.add(Device(dev_eui="d000000000000001", tenant_id=lessee.id, name="private gauge", latitude=43.8, longitude=4.3))
        # the city's devices a newcomer forgot something for: each left out, with its reason
        s.add(Device(dev_eui="e000000000000001", tenant_id=city, name="gauge without position"))
        s.add(Device(dev_eui="e000000000000002", tenant_id=city, name="lamp without district"))
        s.add(Device(dev_eui="e000000000000003", tenant_id=city, name="silent lamp", tags={"district": "Écusson"}))
        s.add(Device(dev_eui="e000000000000004", tenant_id=city, name="lamp heard once", tags={"district": "Écusson"}))
        s.flush()
        s.add(_reading(1, "e000000000000004", city, "streetlight", start + timedelta(hours=3), energy=5.0))
        for h in range(25):
            when = (start + timedelta(hours=h)).astimezone(UTC)
            n = h + 1
            s.add(_reading(n, "f100000000000001", city, "flood", when, water_level=0.5 + 0.1 * h))
            s.add(_reading(n, "d000000000000001", lessee.id, "flood", when, water_level=9.0))
            for i in range(6):
                s.add(_reading(n, f"a00000000000000{i}", city, "water", when, volume=100.0 + i + 0.01 * h))
            for i in range(2):
                s.add(_reading(n, f"b00000000000000{i}", city, "water", when, volume=50.0 + 0.02 * h))
            for i in range(3):
                s.add(_reading(n, f"c00000000000000{i}", city, "streetlight", when, energy=1000.0 + 40.0 * h))
            s.add(_reading(n, "e000000000000001", city, "flood", when, water_level=0.7))
            s.add(_reading(n, "e000000000000002", city, "streetlight", when, energy=10.0 + h))
        # a reading the next local day must not count
        s.add(_reading(999, "f100000000000001", city, "flood", end.astimezone(UTC), water_level=50.0))


def test_export_aggregates_and_protects_households(sessions: SessionFactory) -> None:
    _populate(sessions)
    rows = build_rows(sessions, DAY)
    by_dataset = {r.dataset: [x for x in rows if x.dataset == r.dataset] for r in rows}
    [flood] = by_dataset["flood_levels"]  # the lessee's gauge is not the city's to publish
    assert flood.subject == "f100000000000001" and flood.count == 25
    assert flood.min == pytest.approx(0.5) and flood.max == pytest.approx(2.9)  # 50.0 next day excluded
    [lights] = by_dataset["streetlight_energy"]
    assert lights.area == "Écusson" and lights.total == pytest.approx(3 * 24 * 40.0) and lights.count == 3
    [water] = by_dataset["water_consumption"]  # Pissevin has 2 meters only: suppressed
    assert water.area == "Écusson" and water.count == 6 and water.total == pytest.approx(6 * 0.24)
    assert water.subject == "" and water.latitude is None

    text = to_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 3
    for meter in [f"a00000000000000{i}" for i in range(6)] + ["b000000000000000", "b000000000000001"]:
        assert meter not in text  # no per-meter figure anywhere
    geo = json.loads(to_geojson(rows))
    assert [f["properties"]["subject"] for f in geo["features"]] == ["f100000000000001"]
    assert geo["features"][0]["geometry"]["coordinates"] == [4.379, 43.824]


def test_cli_writes_both_files(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from lora_city.cli.main import app

    upgrade(database_url, all_migration_locations())
    engine = make_engine(database_url)
    _populate(make_session_factory(engine))
    engine.dispose()
    monkeypatch.setenv("LORA_CITY_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["opendata", "export", "--date", DAY.isoformat(), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "3 rows" in result.output
    lines = result.output.splitlines()
    # who counts, who does not and why: the summary, then every device left out with its reasons
    assert "17 devices: 10 counted, 7 left out" in lines
    assert "  counted in flood_levels: 1" in lines and "  counted in streetlight_energy: 3" in lines
    assert "  counted in water_consumption: 6" in lines
    assert "  left out, fewer than 5 water meters in its district (privacy): 2" in lines
    assert "  left out, a lessee's device (only the city's and its services' data is published): 1" in lines
    assert "  left out, no position (a flood gauge is published as a point on the map): 1" in lines
    assert "  left out, no `district` tag (streetlight and water figures are per district): 1" in lines
    assert "  left out, no reading that day: 1" in lines
    assert any(line.startswith("  e000000000000004  lamp heard once (streetlight, ") and line.endswith(
        "fewer than 2 readings of its index that day (the use is the index's increase)") for line in lines)
    assert any(line.startswith("  b000000000000001  meter b1 (water, ") for line in lines)
    summary = CliRunner().invoke(app, ["opendata", "export", "--date", DAY.isoformat(), "--out", str(tmp_path),
                                       "--summary"])
    assert summary.exit_code == 0 and "Left out:" not in summary.output and "7 left out" in summary.output
    assert (tmp_path / f"opendata-{DAY}.csv").read_text().startswith("date,dataset,area")
    assert json.loads((tmp_path / f"opendata-{DAY}.geojson").read_text())["type"] == "FeatureCollection"


def test_every_device_has_a_verdict_with_all_its_reasons(sessions: SessionFactory) -> None:
    _populate(sessions)
    result = build_export(sessions, DAY)
    reasons = {v.dev_eui: v.reasons for v in result.devices}
    assert reasons["f100000000000001"] == () and reasons["a000000000000000"] == ()
    assert reasons["d000000000000001"] == (Reason.NOT_CITY,)
    assert reasons["e000000000000001"] == (Reason.NO_POSITION,)
    assert reasons["e000000000000002"] == (Reason.NO_DISTRICT,)
    assert reasons["e000000000000003"] == (Reason.NO_READINGS,)
    assert reasons["e000000000000004"] == (Reason.TOO_FEW_READINGS,)
    assert reasons["b000000000000000"] == (Reason.DISTRICT_TOO_SMALL,)
    assert result.left_out_by_reason() == {Reason.NOT_CITY: 1, Reason.NO_POSITION: 1, Reason.NO_DISTRICT: 1,
                                           Reason.NO_READINGS: 1, Reason.TOO_FEW_READINGS: 1,
                                           Reason.DISTRICT_TOO_SMALL: 2}
    # what is left out adds nothing to the published figures
    assert "e000000000000001" not in to_csv(result.rows)
    [lights] = [r for r in result.rows if r.dataset == "streetlight_energy"]
    assert lights.count == 3
