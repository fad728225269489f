"""``lora-city codec import-repository`` on a real database (SQLite and PostgreSQL): what the report says per
codec (examples passed, failed with the difference, scripts that did not load), versions kept across
re-imports for devices pinned to them, and catalogue codecs decoding through the registry and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lora_city.cli.main import app
from lora_city.codec.catalogue.importer import ImportReport, import_repository
from lora_city.codec.catalogue.source import CatalogueCodecs
from lora_city.codec.js import JsLimits
from lora_city.codec.registry import CodecRegistry
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory
from lora_city.storage.models import CatalogueCodec, CatalogueModel, Device, Tenant
from tests.support.device_repository import sample_repository

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
LIMITS = JsLimits(time_limit_ms=200)
METER_1000L = bytes([0xE8, 0x03, 0, 0, 1, 0x01, 0x68])  # 1000 l, leak, 3.6 V


@pytest.fixture()
def factory(database_url: str) -> Iterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def _import(root: Path, factory: SessionFactory, **kw: object) -> ImportReport:
    return import_repository(root, factory, limits=LIMITS, now=NOW, **kw)  # type: ignore[arg-type]


def _by_id(report: ImportReport) -> dict[str, object]:
    return {c.codec_id: c for c in report.codecs}


def test_the_report_says_per_codec_what_passed_what_failed_and_why(tmp_path: Path, factory: SessionFactory) -> None:
    repo = sample_repository(tmp_path)
    repo.vendor("badjs", "Bad Scripts Ltd", 0x0D44)
    repo.profile("badjs", "p-eu868", vendor_profile_id=1)
    repo.script("badjs", "broken.js", "function decodeUplink(input) { return { data: { x: 1 }; }\n")  # syntax
    repo.codec("badjs", "broken-codec", uplink="broken.js",
               uplink_examples=[{"input": {"fPort": 1, "bytes": [1]}, "output": {"data": {"x": 1}}}])
    repo.device("badjs", "thing", "Thing", firmware=[("1", {"EU863-870": ("p-eu868", "broken-codec")})])
    report = _import(repo.save(), factory)
    codecs = _by_id(report)
    meter, level, broken = codecs["aquameter/meter-codec"], codecs["citylevel/level-codec"], codecs["badjs/broken-codec"]
    assert (meter.status, meter.version, meter.loaded, meter.examples, meter.passed, meter.failed) == (  # type: ignore[attr-defined]
        "new", 1, True, 4, 4, [])
    assert level.passed == 1 and level.failed == [  # type: ignore[attr-defined]
        {"role": "uplink", "description": "Documented wrong", "passed": False,
         "differences": ["data.distance_mm: expected 15, got 16"]}]
    assert broken.loaded is False and broken.passed == 0  # type: ignore[attr-defined]
    assert broken.load_errors[0].startswith("uplink: JavaScript codec badjs/broken.js: SyntaxError")  # type: ignore[attr-defined]
    assert meter.models == ["aquameter/am-100"] and sorted(level.models) == ["citylevel/cl-gauge", "citylevel/cl-level"]  # type: ignore[attr-defined]
    assert (report.vendors, report.models, report.profiles) == (3, 5, 4)
    assert "4 codecs (4 new, 0 updated, 0 unchanged); 1 did not load; examples 5/7 passed (2 codecs with failures)" in report.summary()
    with factory() as session:
        model = session.get(CatalogueModel, "aquameter/am-100")
        assert model is not None and model.firmware[-1]["profiles"]["EU863-870"]["codec"] == "aquameter/meter-codec"


def test_reimport_keeps_old_versions_for_pinned_devices(tmp_path: Path, factory: SessionFactory) -> None:
    repo = sample_repository(tmp_path)
    _import(repo.save(), factory)
    again = _by_id(_import(repo.save(), factory))
    assert again["aquameter/meter-codec"].status == "unchanged" and again["aquameter/meter-codec"].version == 1  # type: ignore[attr-defined]
    with factory() as session:  # a device pinned to version 1, one following the latest
        tenant = Tenant(name="City", slug="city-test")
        session.add(tenant)
        session.flush()
        session.add_all([Device(dev_eui="0000000000000001", tenant_id=tenant.id, name="pinned",
                                codec_id="aquameter/meter-codec@1"),
                         Device(dev_eui="0000000000000002", tenant_id=tenant.id, name="floating",
                                codec_id="aquameter/meter-codec")])
        session.commit()
    # The vendor fixes its battery formula (mV instead of 10 mV units): a new version.
    repo.script("aquameter", "meter.js", (tmp_path / "vendor/aquameter/meter.js").read_text()
                .replace("((b[5] << 8) | b[6]) / 100", "((b[5] << 8) | b[6]) / 1000"))
    third = _by_id(_import(repo.save(), factory))
    meter = third["aquameter/meter-codec"]
    assert (meter.status, meter.version, meter.pinned_to_older) == ("updated", 2, 1)  # type: ignore[attr-defined]
    assert meter.failed[0]["differences"] == ["data.battery_v: expected 3.6, got 0.36"]  # type: ignore[attr-defined]
    with factory() as session:
        versions = session.scalars(select(CatalogueCodec.version).where(
            CatalogueCodec.codec_id == "aquameter/meter-codec").order_by(CatalogueCodec.version)).all()
        assert versions == [1, 2]
    registry = CodecRegistry([], CatalogueCodecs(factory, LIMITS))
    pinned = registry.decode_uplink("aquameter/meter-codec@1", 1, METER_1000L)
    latest = registry.decode_uplink("aquameter/meter-codec", 1, METER_1000L)
    assert pinned.data == {"index_l": 1000, "leak": True, "battery_v": 3.6}
    assert latest.data == {"index_l": 1000, "leak": True, "battery_v": 0.36}
    assert registry.decode_uplink("aquameter/meter-codec@2", 1, METER_1000L).data == latest.data


def test_catalogue_codecs_through_the_registry(tmp_path: Path, factory: SessionFactory) -> None:
    catalogue = CatalogueCodecs(factory, LIMITS)
    registry = CodecRegistry([], catalogue)
    assert "aquameter/meter-codec" not in registry  # nothing imported yet
    _import(sample_repository(tmp_path).save(), factory)
    catalogue.refresh()  # what the importer's process and the server's refresh loop do
    assert "aquameter/meter-codec" in registry and "aquameter/meter-codec@1" in registry
    assert "aquameter/meter-codec@9" not in registry and "aquameter/nothing" not in registry
    assert registry.decode_uplink("aquameter/meter-codec", 9, b"\x00").errors == ["unknown fPort 9"]
    down = registry.encode_downlink("aquameter/meter-codec", {"interval_min": 15})
    assert (down.f_port, down.payload) == (2, bytes([1, 15]))
    assert registry.decode_downlink("aquameter/meter-codec", 2, bytes([1, 30])).data == {"interval_min": 30}
    lamp = registry.decode_downlink("citylevel/lamp-codec", 10, b"\x01")  # the lamp codec has no downlink decoder
    assert lamp.errors == ["this codec has no downlink decoder"]
    # A ProfileID carried by one model names its codec; one shared by two models names none.
    assert registry.find_by_profile("0a11", "0007") is registry.get("aquameter/meter-codec")
    assert registry.find_by_profile("0b22", "0001") is None
    assert [c.id for c in registry.codecs_for_profile("0b22", "0001")] == ["citylevel/level-codec"]


def test_import_and_decode_from_the_command_line(tmp_path: Path, database_url: str) -> None:
    root = sample_repository(tmp_path / "repo").save()
    env = {"LORA_CITY_DATABASE_URL": database_url}
    runner = CliRunner()
    result = runner.invoke(app, ["codec", "import-repository", str(root)], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "aquameter/meter-codec@1  new  examples 4/4 passed" in lines
    assert "citylevel/level-codec@1  new  examples 1/2 passed" in lines
    assert '    FAILED uplink example "Documented wrong":' in lines
    assert "      data.distance_mm: expected 15, got 16" in lines
    as_json = runner.invoke(app, ["codec", "import-repository", "--json", str(root)], env=env)
    assert {c["status"] for c in json.loads(as_json.stdout)["codecs"]} == {"unchanged"}
    decoded = runner.invoke(app, ["codec", "decode", "aquameter/meter-codec", METER_1000L.hex()], env=env)
    assert decoded.exit_code == 0, decoded.output
    assert json.loads(decoded.stdout)["data"] == {"index_l": 1000, "leak": True, "battery_v": 3.6}
    unknown = runner.invoke(app, ["codec", "decode", "aquameter/other-codec", "00"], env=env)
    assert unknown.exit_code == 2 and "no codec 'aquameter/other-codec'" in unknown.output
