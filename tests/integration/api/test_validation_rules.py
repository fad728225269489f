"""Issue 21's validation fixes, through the API: a profile naming an unknown codec is refused as a device is
(POST and PATCH); every route taking a tenant accepts its slug as the CSV import does (one rule); a lessee
enrolling a DevEUI another tenant registered gets a clear conflict, not a quiet "not registered"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lora_city.codec.js import JsLimits
from lora_city.codec.loader import load_folder
from lora_city.codec.registry import CodecRegistry
from lora_city.settings import Settings
from tests.integration.api.conftest import Api, build_api

KEY = "2b7e151628aed2a6abf7158809cf4f3c"
DEV = "0004a30b001c0531"
QR = f"LW:D0:70B3D57ED0000000:{DEV.upper()}:00100005:SABC124"  # ProfileID 0010/0005: adeunis pulse


@pytest.fixture()
def api(database_url: str) -> Iterator[Api]:
    codecs = CodecRegistry([load_folder(Settings().codecs_path / name, JsLimits())
                            for name in ("adeunis-pulse", "milesight-ws558")])
    yield from build_api(database_url, codecs=codecs)


def test_a_profile_with_an_unknown_codec_is_refused_on_create_and_edit(api: Api) -> None:
    bad = api.call("POST", "/device-profiles", json={"name": "lamps", "codec_id": "milesight-ws55"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_codec"
    profile = api.call("POST", "/device-profiles", json={"name": "lamps", "codec_id": "milesight-ws558"},
                       expect=201).json()
    patched = api.call("PATCH", f"/device-profiles/{profile['id']}", json={"codec_id": "no-such"})
    assert patched.status_code == 422 and patched.json()["error"]["code"] == "unknown_codec"
    assert api.call("GET", f"/device-profiles/{profile['id']}", expect=200).json()["codec_id"] == "milesight-ws558"
    api.call("PATCH", f"/device-profiles/{profile['id']}", json={"codec_id": None}, expect=200)  # none: allowed


def test_routes_take_a_tenant_slug_as_the_csv_import_does(api: Api) -> None:
    tenant = api.call("POST", "/tenants", json={"name": "Régie", "slug": "regie"}, expect=201).json()
    other = api.call("POST", "/tenants", json={"name": "Autre", "slug": "autre"}, expect=201).json()
    device = api.call("POST", "/devices", json={"dev_eui": "00000000000000b1", "name": "m", "tenant_id": "regie"},
                      expect=201).json()
    assert device["tenant_id"] == tenant["id"]
    gateway = api.call("POST", "/gateways", json={"gateway_id": "aa000000000000b1", "name": "g",
                                                  "tenant_id": "regie"}, expect=201).json()
    assert gateway["tenant_id"] == tenant["id"]
    profile = api.call("POST", "/device-profiles", json={"name": "p", "tenant_id": "REGIE"}, expect=201).json()
    assert profile["tenant_id"] == tenant["id"]  # slugs are lowercase; any case finds it
    csv_text = "dev_eui,name,tenant\n00000000000000b2,m2,regie\n"
    api.call("POST", "/devices/import", files={"file": ("d.csv", csv_text, "text/csv")}, expect=200)
    assert api.call("GET", "/devices/00000000000000b2", expect=200).json()["tenant_id"] == tenant["id"]
    # another tenant's slug, from a lessee's key: not found, as an unknown one (no existence oracle)
    lessee = api.key("tenant_admin", tenant["id"])
    theirs = api.call("POST", "/devices", lessee, json={"dev_eui": "00000000000000b3", "name": "x",
                                                         "tenant_id": "autre"})
    unknown = api.call("POST", "/devices", lessee, json={"dev_eui": "00000000000000b3", "name": "x",
                                                          "tenant_id": "nobody"})
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["error"]["code"] == unknown.json()["error"]["code"] == "tenant_not_found"
    assert other["id"] not in theirs.text


def test_enrolling_a_device_another_tenant_registered_is_a_conflict(api: Api) -> None:
    api.call("POST", "/devices", json={"dev_eui": DEV, "name": "the city's meter", "app_key": KEY}, expect=201)
    tenant = api.call("POST", "/tenants", json={"name": "Acme", "slug": "acme"}, expect=201).json()
    lessee = api.key("tenant_admin", tenant["id"])
    scan = api.call("POST", "/onboarding/scan", lessee, json={"qr": QR}, expect=200).json()
    assert scan["known"] is False  # a plain scan still reveals nothing
    enrol = api.call("POST", "/onboarding/scan", lessee, json={"qr": QR, "enroll": {"app_key": KEY, "name": "mine"}})
    assert enrol.status_code == 409
    assert enrol.json()["error"]["code"] == "device_registered_elsewhere"
    assert "another tenant" in enrol.json()["error"]["message"]
    city = api.call("GET", f"/devices/{DEV}", expect=200).json()
    assert city["name"] == "the city's meter"  # untouched
