"""A catalogue codec in the running server (issue 20): a device registered on ``vendor/codec`` joins, its uplink is
decoded by the vendor's JavaScript in QuickJS, and the city's mapping file turns the vendor's object into catalogue
measurements with units, which reach the readings store and InfluxDB's line protocol like a native codec's."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lora_city.codec.catalogue.importer import import_repository
from lora_city.codec.catalogue.mappings import CITY_FOLDER, catalogue_mappings
from lora_city.codec.catalogue.source import CatalogueCodecs
from lora_city.codec.js import JsLimits
from lora_city.codec.registry import CodecRegistry
from lora_city.simulate.devices import VirtualDevice
from lora_city.sinks.events import UplinkEvent
from lora_city.sinks.line_protocol import format_uplink
from lora_city.storage.db import make_engine, make_session_factory
from tests.integration.network.harness import Harness, join
from tests.support.device_repository import sample_repository
from tests.support.services import Service

pytestmark = pytest.mark.integration

MAPPING = """
description: Aqua Meters AM-100 (a city mapping file)
family: water
codecs: [aquameter/meter-codec]
measurements:
  - {name: volume, path: index_l, unit: L}
  - {name: leak, path: leak}
  - {name: battery, path: battery_v, unit: V}
"""


def test_a_catalogue_codec_decodes_uplinks_into_measurements(database_url: str, mosquitto: Service,
                                                              tmp_path: Path) -> None:
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    import_repository(sample_repository(tmp_path / "repo").save(), factory, limits=JsLimits(), now=datetime.now(UTC))
    codecs_path = tmp_path / "codecs"
    (codecs_path / CITY_FOLDER).mkdir(parents=True)
    (codecs_path / CITY_FOLDER / "aquameter.yaml").write_text(MAPPING)
    registry = CodecRegistry.load(codecs_path, entry_points=False, catalogue=CatalogueCodecs(
        factory, JsLimits(), mappings=catalogue_mappings(codecs_path)))

    async def run() -> None:
        h = Harness(database_url, mosquitto.url, registry=registry)
        await h.start()
        try:
            gws = [await h.gateway()]
            dev = VirtualDevice.generate("aquameter/meter-codec")
            await h.register(dev)
            await join(h, dev, gws)
            # 12,345 litres, a leak, 3.6 V
            await gws[0].send_uplink(dev.uplink(1, bytes([0x39, 0x30, 0, 0, 1, 0x01, 0x68])))
            deadline = time.monotonic() + 10
            items: list[dict[str, object]] = []
            while not items and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                r = await h.api.get(f"/api/v1/devices/{dev.dev_eui}/readings", params={"limit": 5})
                items = list(r.json()["items"])
            assert items, "no reading stored"
            assert items[0]["data"] == {"index_l": 12345, "leak": True, "battery_v": 3.6}
            event = h.recording.of(UplinkEvent)[0]
            assert event.device.family == "water" and not event.codec_errors
            assert event.measurements == {"volume": (12.345, "m³"), "leak": (True, None), "battery": (3.6, "V")}
            line = format_uplink(event)
            assert line.startswith("water,") and "volume=12.345" in line and "leak=true" in line
            await h.stop()
        finally:
            await h.close()

    try:
        asyncio.run(run())
    finally:
        engine.dispose()


def test_shipped_mapping_files_load_and_cover_the_three_families() -> None:
    lookup = catalogue_mappings(None)
    families = {}
    for codec in ("decentlab/dl-mbx-codec", "decentlab/dl-pr26-0-1-codec", "milesight-iot/em310-udl-codec",
                  "milesight-iot/em500-swl-codec", "dragino/ldds75-codec", "decentlab/dl-dlr2-002-codec",
                  "milesight-iot/em300-di-codec", "milesight-iot/ws558-codec"):
        found = lookup(codec)
        assert found is not None, codec
        families[codec] = found.family.value
    assert set(families.values()) == {"flood", "water", "streetlight"}
    assert lookup("unknown/codec") is None
