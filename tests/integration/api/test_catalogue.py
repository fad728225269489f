"""The device catalogue through the API (issue 20): vendors and models with search, a model's profile fields, a
codec's versions and example check, a preview decode, a TR005 ProfileID lookup, and profiles and devices made
from a model (codec, class, MAC version and regional parameters filled), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lora_city.codec.catalogue.importer import import_repository
from lora_city.codec.catalogue.source import CatalogueCodecs
from lora_city.codec.js import JsLimits
from lora_city.codec.registry import CodecRegistry
from lora_city.lorawan.tr005 import QRCode
from lora_city.storage.db import make_engine, make_session_factory
from tests.integration.api.conftest import Api, build_api
from tests.support.device_repository import sample_repository

APP_KEY = "2b7e151628aed2a6abf7158809cf4f3c"


@pytest.fixture()
def cat_api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    import_repository(sample_repository(tmp_path).save(), factory, limits=JsLimits(), now=datetime.now(UTC))
    registry = CodecRegistry([], CatalogueCodecs(factory, JsLimits()))
    yield from build_api(database_url, codecs=registry)
    engine.dispose()


def _get(api: Api, path: str, expect: int = 200, **kw: Any) -> Any:
    return api.call("GET", path, expect=expect, **kw).json()


def test_vendors_and_models_with_search(cat_api: Api) -> None:
    vendors = _get(cat_api, "/catalogue/vendors")
    assert [(v["id"], v["name"], v["vendor_id"], v["models"]) for v in vendors] == [
        ("aquameter", "Aqua Meters SA", 0x0A11, 1), ("citylevel", "City Level GmbH", 0x0B22, 3)]
    assert [v["id"] for v in _get(cat_api, "/catalogue/vendors", params={"q": "level"})] == ["citylevel"]
    level = _get(cat_api, "/catalogue/models", params={"q": "level"})  # the vendor's name counts
    assert [m["id"] for m in level] == ["citylevel/cl-gauge", "citylevel/cl-lamp", "citylevel/cl-level"]
    assert [m["id"] for m in _get(cat_api, "/catalogue/models", params={"q": "distance"})] == ["citylevel/cl-level"]
    lamp = _get(cat_api, "/catalogue/models", params={"q": "LAMP controller"})
    assert [(m["id"], m["codec"], m["firmware"], m["eu868"]) for m in lamp] == [
        ("citylevel/cl-lamp", "citylevel/lamp-codec", "3.1", True)]
    assert [m["id"] for m in _get(cat_api, "/catalogue/models", params={"vendor": "aquameter"})] == ["aquameter/am-100"]
    assert _get(cat_api, "/catalogue/models", params={"q": "no such thing"}) == []
    page = _get(cat_api, "/catalogue/models", params={"limit": 2, "offset": 2})
    assert [m["id"] for m in page] == ["citylevel/cl-lamp", "citylevel/cl-level"]
    cat_api.call("GET", "/catalogue/models", params={"limit": 0}, expect=422)


def test_model_detail_with_firmware_profiles_and_profile_fields(cat_api: Api) -> None:
    model = _get(cat_api, "/catalogue/models/aquameter/am-100")
    assert model["name"] == "AM-100 Water Meter" and model["sensors"] == ["water", "battery"]
    assert [fw["version"] for fw in model["firmware_versions"]] == ["1.0", "1.2"]
    eu = {r["region"]: r for r in model["firmware_versions"][1]["regions"]}["EU863-870"]
    assert eu["codec"] == "aquameter/meter-codec" and eu["profile"]["profile_id"] == "0A110007"
    assert eu["profile"]["mac_version"] == "1.0.4" and eu["profile"]["regional_parameters_version"] == "RP002-1.0.1"
    assert model["profile_fields"] == {
        "name": "Aqua Meters SA AM-100 Water Meter", "region": "EU868", "mac_version": "1.0.4", "device_class": "A",
        "supports_otaa": True, "codec_id": "aquameter/meter-codec", "catalogue_model": "aquameter/am-100",
        "firmware_version": "1.2", "reg_params_revision": "RP002-1.0.1"}
    cat_api.call("GET", "/catalogue/models/aquameter/nothing", expect=404)


def test_codec_versions_with_the_example_check_and_a_preview_decode(cat_api: Api) -> None:
    codec = _get(cat_api, "/catalogue/codecs/citylevel/level-codec")
    assert codec["latest"] == 1 and codec["models"] == ["citylevel/cl-gauge", "citylevel/cl-level"]
    report = codec["versions"][0]["report"]
    assert (report["loaded"], report["examples"], report["passed"]) == (True, 2, 1)
    assert report["failed"][0]["differences"] == ["data.distance_mm: expected 15, got 16"]
    example = codec["versions"][0]["examples"]["uplink"][0]
    preview = cat_api.call("POST", "/catalogue/codecs/citylevel/level-codec/decode", expect=200, json={
        "f_port": example["input"]["fPort"], "bytes_hex": bytes(example["input"]["bytes"]).hex()}).json()
    assert preview["codec"] == "citylevel/level-codec" and preview["data"] == example["output"]["data"]
    cat_api.call("POST", "/catalogue/codecs/citylevel/level-codec/decode", expect=404,
                 json={"f_port": 1, "bytes_hex": "00", "version": 7})
    cat_api.call("POST", "/catalogue/codecs/citylevel/level-codec/decode", expect=422,
                 json={"f_port": 1, "bytes_hex": "zz"})


def test_a_profile_id_selects_the_model_only_when_unambiguous(cat_api: Api) -> None:
    one = _get(cat_api, "/catalogue/profile-ids/0A110007")
    assert one["selected"]["model"] == "aquameter/am-100" and one["selected"]["codec"] == "aquameter/meter-codec"
    assert one["selected"]["firmware"] == "1.2"
    shared = _get(cat_api, "/catalogue/profile-ids/0b220001")  # the vendor's region profile: two models
    assert shared["selected"] is None
    assert [c["model"] for c in shared["candidates"]] == ["citylevel/cl-gauge", "citylevel/cl-level"]
    assert _get(cat_api, "/catalogue/profile-ids/0B220009")["candidates"] == []
    cat_api.call("GET", "/catalogue/profile-ids/not-hex!", expect=422)


def test_a_qr_scan_finds_the_catalogue_codec(cat_api: Api) -> None:
    qr = QRCode("70b3d57ed0000000", "647fda0000001234", "0A110007", serial_number="SN1").to_string(with_checksum=True)
    found = cat_api.call("POST", "/onboarding/scan", json={"qr": qr}, expect=200).json()
    assert found["codec"] == "aquameter/meter-codec" and found["known"] is False
    shared = QRCode("70b3d57ed0000000", "647fda0000001235", "0B220001").to_string(with_checksum=True)
    assert cat_api.call("POST", "/onboarding/scan", json={"qr": shared}, expect=200).json()["codec"] is None


def test_profile_and_device_from_a_model(cat_api: Api) -> None:
    lamp = cat_api.call("POST", "/device-profiles", json={"catalogue_model": "citylevel/cl-lamp"}, expect=201).json()
    assert {k: lamp[k] for k in ("name", "region", "mac_version", "device_class", "supports_otaa", "codec_id",
                                 "catalogue_model", "firmware_version")} == {
        "name": "City Level GmbH CL Lamp Controller", "region": "EU868", "mac_version": "1.0.3", "device_class": "C",
        "supports_otaa": True, "codec_id": "citylevel/lamp-codec", "catalogue_model": "citylevel/cl-lamp",
        "firmware_version": "3.1"}
    named = cat_api.call("POST", "/device-profiles", expect=201, json={
        "catalogue_model": "aquameter/am-100", "firmware_version": "1.0", "name": "Compteurs rue Haute",
        "codec_id": "aquameter/meter-codec@1"}).json()
    assert (named["name"], named["firmware_version"], named["codec_id"]) == (
        "Compteurs rue Haute", "1.0", "aquameter/meter-codec@1")  # given fields win over the model's
    bad = cat_api.call("POST", "/device-profiles", json={"catalogue_model": "aquameter/am-100",
                                                         "firmware_version": "9.9"}, expect=422).json()
    assert "no firmware '9.9'" in str(bad)
    cat_api.call("POST", "/device-profiles", json={"catalogue_model": "nobody/nothing"}, expect=422)
    first = cat_api.call("POST", "/devices", expect=201, json={
        "dev_eui": "0011223344556677", "name": "Compteur 1", "app_key": APP_KEY,
        "catalogue_model": "aquameter/am-100"}).json()
    second = cat_api.call("POST", "/devices", expect=201, json={
        "dev_eui": "0011223344556678", "name": "Compteur 2", "app_key": APP_KEY,
        "catalogue_model": "aquameter/am-100"}).json()
    assert first["device_profile_id"] is not None and first["device_profile_id"] == second["device_profile_id"]
    assert first["codec"] == "aquameter/meter-codec"  # from the profile the model made
    profile = _get(cat_api, f"/device-profiles/{first['device_profile_id']}")
    assert (profile["catalogue_model"], profile["firmware_version"], profile["mac_version"]) == (
        "aquameter/am-100", "1.2", "1.0.4")
    cat_api.call("POST", "/devices", expect=422, json={
        "dev_eui": "0011223344556679", "name": "x", "catalogue_model": "aquameter/am-100",
        "device_profile_id": first["device_profile_id"]})
