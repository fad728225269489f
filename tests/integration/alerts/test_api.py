"""The alerts API: roles, tenant isolation, rule validation, acknowledgement with audit, open-data download."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lora_city.alerts.service import AlertService
from tests.integration.api.conftest import Api, build_api
from tests.unit.alerts.factories import device, uplink

FLOOD_RULE = {"name": "Vistre", "kind": "threshold", "service": "flood_cell", "scope_kind": "family",
              "scope_value": "flood", "measurement": "water_level", "hysteresis": 0.1,
              "levels": [{"name": "yellow", "value": 1.0, "severity": "warning"},
                         {"name": "red", "value": 2.0, "severity": "critical"}]}


@pytest.fixture()
def api(database_url: str) -> Iterator[Api]:
    yield from build_api(database_url)


def _raise_alert(api: Api, tenant_id: str, dev_eui: str) -> str:
    service = AlertService(api.factory, api.clock)
    [msg] = service.record(service.build_engine().on_uplink(uplink(device(dev_eui, tenant=tenant_id), 0, water_level=1.5)))
    return msg.alert_id


def test_rule_lifecycle_and_isolation(api: Api) -> None:
    a, b = api.tenant("aquanim"), api.tenant("lumisud")
    key_a, key_b = api.key("tenant_admin", a), api.key("tenant_admin", b)
    viewer_a = api.key("tenant_viewer", a)
    rule = api.call("POST", "/alert-rules", key_a, json=FLOOD_RULE, expect=201).json()
    assert rule["tenant_id"] == a and rule["params"]["levels"][1]["name"] == "red"
    assert [r["id"] for r in api.call("GET", "/alert-rules", key_b, expect=200).json()] == []
    api.call("DELETE", f"/alert-rules/{rule['id']}", key_b, expect=404)  # not 403: existence not revealed
    api.call("POST", "/alert-rules", viewer_a, json=FLOOD_RULE, expect=403)
    api.call("POST", "/alert-rules", key_a, json={**FLOOD_RULE, "tenant_id": b}, expect=404)

    alert_id = _raise_alert(api, a, "00000000000000a1")
    assert [x["id"] for x in api.call("GET", "/alerts?state=open", viewer_a, expect=200).json()] == [alert_id]
    assert api.call("GET", "/alerts", key_b, expect=200).json() == []
    api.call("POST", f"/alerts/{alert_id}/acknowledge", key_b, expect=404)
    api.call("POST", f"/alerts/{alert_id}/acknowledge", viewer_a, expect=403)
    assert api.call("POST", f"/alerts/{alert_id}/acknowledge", key_a, expect=200).json()["state"] == "acknowledged"
    api.call("POST", f"/alerts/{alert_id}/acknowledge", key_a, expect=409)
    audit = api.call("GET", f"/alerts/{alert_id}/audit", viewer_a, expect=200).json()
    assert [x["action"] for x in audit] == ["raised", "acknowledged"]
    api.call("DELETE", f"/alert-rules/{rule['id']}", key_a, expect=204)


@pytest.mark.parametrize("body", [
    {**FLOOD_RULE, "levels": []},
    {**FLOOD_RULE, "measurement": "not_a_measurement"},
    {"name": "rate", "kind": "rate", "measurement": "water_level", "delta": 0, "window_s": 600},
    {"name": "silent", "kind": "absence"},
    {"name": "x", "kind": "telepathy"},
    {**FLOOD_RULE, "hold_s": -1},  # delays: 0 to one day; the flap window: 0 to 7 days
    {**FLOOD_RULE, "clear_s": 86_401},
    {**FLOOD_RULE, "flap_window_s": 7 * 86_400 + 1},
])
def test_bad_rules_are_422_with_a_json_error(api: Api, body: dict[str, object]) -> None:
    tenant = api.tenant("lumisud")
    r = api.call("POST", "/alert-rules", api.key("tenant_admin", tenant), json=body, expect=422)
    assert r.json()["error"]["code"]


def test_feed_subscriptions_are_for_the_directorate(api: Api) -> None:
    tenant = api.tenant("aquanim")
    sub = {"service": "flood_cell", "kind": "mqtt", "target": "nimes", "families": ["flood"]}
    api.call("POST", "/feed-subscriptions", api.key("tenant_admin", tenant), json=sub, expect=403)
    created = api.call("POST", "/feed-subscriptions", api.key("operator", tenant), json=sub, expect=201).json()
    assert created["families"] == ["flood"] and "secret" not in created
    assert len(api.call("GET", "/feed-subscriptions", expect=200).json()) == 1


def test_opendata_download(api: Api) -> None:
    r = api.call("GET", "/opendata/daily?date=2026-11-21", expect=200)
    assert r.headers["content-type"].startswith("text/csv") and r.text.startswith("date,dataset,area")
    g = api.call("GET", "/opendata/daily?date=2026-11-21&format=geojson", expect=200).json()
    assert g == {"type": "FeatureCollection", "features": []}
    api.call("GET", "/opendata/daily?date=yesterday", expect=422)


def test_measurement_catalogue_names_units_and_the_families_that_write_them(database_url: str) -> None:
    """GET /measurements: what a rule form picks from. The families come from the shipped codecs' manifests
    (codecs/milesight-em500-swl writes water_level for the flood family, codecs/nas-ul20x2 lamp_failure for
    streetlights); every name is one a rule accepts."""
    from lora_city.codec.registry import CodecRegistry
    from lora_city.settings import Settings

    codecs = CodecRegistry.load(Settings().codecs_path, entry_points=False)
    for api in build_api(database_url, codecs=codecs):
        viewer = api.key("tenant_viewer", api.tenant("aquanim"))
        rows = {r["name"]: r for r in api.call("GET", "/measurements", viewer, expect=200).json()}
        assert rows["water_level"]["unit"] == "m" and rows["water_level"]["kind"] == "number"
        assert "flood" in rows["water_level"]["families"] and rows["water_level"]["codecs"] >= 1
        assert rows["lamp_failure"]["kind"] == "flag" and rows["lamp_failure"]["unit"] is None
        assert "streetlight" in rows["lamp_failure"]["families"]
        assert list(rows) == sorted(rows)
        admin_key = api.key("tenant_admin", api.tenant("lumisud"))
        for name in rows:  # each name is one the rule API takes
            kind = "flag" if rows[name]["kind"] == "flag" else "threshold"
            body = {"name": name, "kind": kind, "measurement": name,
                    "levels": [{"name": "high", "value": 1.0}] if kind == "threshold" else []}
            api.call("POST", "/alert-rules", admin_key, json=body, expect=201)
        api.call("GET", "/measurements", expect=200)  # the administrator too
        assert api.client.get("/api/v1/measurements").status_code == 401


def test_rules_take_the_tenant_as_other_routes_do(api: Api) -> None:
    """Like devices and gateways: the tenant by slug or id, the caller's own by default, the city's for the
    built-in administrator (it was a 422 "tenant_id is required" before)."""
    lessee = api.tenant("aquanim")
    by_slug = api.call("POST", "/alert-rules", json={**FLOOD_RULE, "tenant_id": "aquanim"}, expect=201).json()
    assert by_slug["tenant_id"] == lessee
    default = api.call("POST", "/alert-rules", json=FLOOD_RULE, expect=201).json()
    city = next(t for t in api.call("GET", "/tenants", expect=200).json() if t["slug"] == "city")
    assert default["tenant_id"] == city["id"]
    api.call("POST", "/alert-rules", json={**FLOOD_RULE, "tenant_id": "nobody"}, expect=404)
