"""The demo's open-data export (issue 21: "the demo's daily export writes 0 rows and nothing says why"): the demo
fleet of ``serve --demo`` satisfies the export's rules, so the day's files have rows for every family (flood
levels, streetlight energy, water consumption), and the export names what it left out and why."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lora_city.codec.registry import CodecRegistry
from lora_city.opendata.export import MIN_HOUSEHOLDS, Reason, build_export
from lora_city.settings import Settings
from lora_city.simulate.demo import DEVICES, seed_demo
from lora_city.simulate.readings import BuildingWaterMeter
from lora_city.storage import migrate
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault

pytestmark = pytest.mark.slow
NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # 00:30 in Nîmes: the demo's day of history covers 24 November
DAY = date(2026, 11, 24)


def test_the_demo_export_has_rows_for_each_family(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        codecs = CodecRegistry.load(Settings().codecs_path, entry_points=False)
        seed_demo(factory, KeyVault("demo-export-test"), codecs, now=NOW)
        result = build_export(factory, DAY)
    finally:
        engine.dispose()
    assert {r.dataset for r in result.rows} == {"flood_levels", "streetlight_energy", "water_consumption"}
    [water] = [r for r in result.rows if r.dataset == "water_consumption"]
    buildings = [d for d in DEVICES if d.owner == "city" and d.asset_kind == "meter"]
    assert water.area == "Écusson" and water.count == len(buildings) >= MIN_HOUSEHOLDS
    # the meters' daily use as the demo simulates it, in m³ (a day of 15-minute readings: almost all of it)
    sources = [d.source(random.Random(0)) for d in buildings]
    assert all(isinstance(m, BuildingWaterMeter) for m in sources)
    expected = sum(m.litres_per_day for m in sources if isinstance(m, BuildingWaterMeter)) / 1000
    assert water.total is not None and 0.9 * expected < water.total <= expected
    lights = [r for r in result.rows if r.dataset == "streetlight_energy"]
    assert {r.area for r in lights} == {"Écusson", "Feuchères"} and all(r.total and r.total > 0 for r in lights)
    [gauge] = [r for r in result.rows if r.dataset == "flood_levels"]
    assert gauge.area == "Limnimètre cadereau d'Uzès" and gauge.latitude is not None and gauge.count >= 90

    # every device left out says why: the lessee's meters are not the city's to publish; the ultrasonic gauge
    # reports a distance to the channel's bed, not a water level
    left = {v.name: v.reasons for v in result.left_out}
    assert left == {
        "Compteur rue de la Madeleine": (Reason.NOT_CITY,), "Compteur quai de la Fontaine": (Reason.NOT_CITY,),
        "Compteur avenue Jean-Jaurès": (Reason.NOT_CITY,),
        "Capteur de hauteur cadereau de Valdegour": (Reason.NO_MEASUREMENT,),
    }
    assert len(result.counted) == len(DEVICES) - 4
