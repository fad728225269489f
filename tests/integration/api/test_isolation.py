"""Tenant isolation: a tenant_admin key of tenant A gets 404 (never 403, never the object) for tenant B's
objects, on every route that takes an id. The routes come from the OpenAPI document, so a new endpoint is
covered without anyone remembering it; a new kind of path parameter fails the test until it gets a B object."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.api.conftest import Api, TenantWorld, populate

# Path parameters of routes other engineers own, covered by their own isolation tests.
NOT_COVERED_HERE = {"alert_id", "rule_id", "subscription_id"}
# The device catalogue describes products every tenant shares (no tenant's object): test_catalogue.py covers it.
NOT_COVERED_HERE |= {"vendor", "model", "codec", "qr_profile_id"}
KEY = "2b7e151628aed2a6abf7158809cf4f3c"

BODIES: dict[tuple[str, str], Any] = {
    ("post", "/api/v1/devices/{dev_eui}/activate"): {"json": {"dev_addr": "26000001", "nwk_s_key": KEY,
                                                              "app_s_key": KEY}},
    ("post", "/api/v1/devices/{dev_eui}/queue"): {"json": {"f_port": 1, "data_hex": "00"}},
    ("post", "/api/v1/multicast-groups/{group_id}/devices"): {"json": {"dev_euis": ["0000000000000001"]}},
    ("post", "/api/v1/multicast-groups/{group_id}/queue"): {"json": {"f_port": 1, "data_hex": "00"}},
    ("post", "/api/v1/lighting/schedules/{schedule_id}/assignments"): {"json": {"dev_eui": "0000000000000001"}},
    ("post", "/api/v1/lighting/schedules/{schedule_id}/exceptions"): {"json": {
        "start_date": "2026-01-01", "end_date": "2026-01-01", "steps": [{"at": "dusk", "level": 1}]}},
    ("get", "/api/v1/lighting/schedules/{schedule_id}/preview"): {"params": {"night": "2026-01-01"}},
    ("put", "/api/v1/onboarding/assets/{asset_id}/photo"): {"files": {"photo": ("p.png", b"png", "image/png")}},
}


def _param_value(name: str, world: TenantWorld) -> str:
    return str(getattr(world, {"tenant_id": "tenant_id"}.get(name, name)))


def test_every_id_route_hides_other_tenants_objects(api: Api) -> None:
    a = populate(api, "lessee-a", 1)
    b = populate(api, "lessee-b", 2)
    key_a = api.key("tenant_admin", a.tenant_id)
    viewer_a = api.key("tenant_viewer", a.tenant_id)
    spec = api.client.get("/api/v1/openapi.json").json()
    checked, problems = [], []
    for path, operations in spec["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if not params or NOT_COVERED_HERE & set(params):
            continue
        for method in operations:
            unknown = [p for p in params if not hasattr(b, p)]
            if unknown:
                problems.append(f"{method.upper()} {path}: no tenant-B object for {unknown}; add one to populate()")
                continue
            url = path.removeprefix("/api/v1")
            missing = url
            for p in params:
                url = url.replace("{" + p + "}", _param_value(p, b))
                missing = missing.replace("{" + p + "}", "ffffffffffffffff")
            kwargs = BODIES.get((method, path), {"json": {}} if method in ("post", "patch", "put") else {})
            for who, token in (("tenant_admin", key_a), ("tenant_viewer", viewer_a)):
                r = api.call(method.upper(), url, token, **kwargs)
                # B's object must look exactly like an object that does not exist: 404 (or the same role-level
                # 403 a missing object gets), and nothing of B in the body.
                nothing = api.call(method.upper(), missing, token, **kwargs)
                same = (r.status_code, r.json()["error"]["code"]) == (nothing.status_code,
                                                                        nothing.json()["error"]["code"])
                if r.status_code not in (403, 404) or not same or b.tenant_id in r.text:
                    problems.append(f"{who} {method.upper()} {url} -> {r.status_code} {r.text[:150]}")
                if who == "tenant_admin" and method == "get" and r.status_code != 404:
                    problems.append(f"{who} GET {url} -> {r.status_code}: expected 404")
            checked.append(f"{method} {path}")
    assert not problems, "\n".join(problems)
    assert len(checked) >= 20, checked
    # B's objects are still there and intact
    assert api.call("GET", f"/devices/{b.dev_eui}", expect=200).json()["name"] == "d"


def test_lists_filters_and_references_stay_inside_the_tenant(api: Api) -> None:
    a = populate(api, "lessee-a", 1)
    b = populate(api, "lessee-b", 2)
    key_a = api.key("tenant_admin", a.tenant_id)
    for path in ("/devices", "/gateways", "/device-profiles", "/applications", "/assets", "/tenants", "/api-keys"):
        text = api.call("GET", path, key_a, expect=200).text
        assert b.tenant_id not in text and a.tenant_id in text, path
    assert api.call("GET", "/devices", key_a, params={"tenant_id": b.tenant_id}, expect=200).json()["items"] == []
    overview = api.call("GET", "/overview", key_a, expect=200).json()
    assert overview["devices_total"] == 1 and overview["gateways_offline"] == 1
    # naming B's objects inside a body is a 404 too, never a way in
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/devices", {"dev_eui": "cc00000000000001", "name": "x", "tenant_id": b.tenant_id}),
        ("POST", "/devices", {"dev_eui": "cc00000000000002", "name": "x", "application_id": b.application_id}),
        ("POST", "/devices", {"dev_eui": "cc00000000000003", "name": "x", "device_profile_id": b.profile_id}),
        ("POST", "/gateways", {"gateway_id": "cc00000000000004", "name": "x", "tenant_id": b.tenant_id}),
        ("POST", "/api-keys", {"name": "x", "role": "tenant_viewer", "tenant_id": b.tenant_id}),
        ("POST", "/onboarding/bind", {"dev_eui": a.dev_eui, "asset_id": b.asset_id}),
        ("POST", "/onboarding/bind", {"dev_eui": b.dev_eui, "asset_id": a.asset_id}),
        ("POST", "/onboarding/swap", {"asset_id": a.asset_id, "old_dev_eui": a.dev_eui, "new_dev_eui": b.dev_eui}),
        ("POST", "/onboarding/swap", {"asset_id": b.asset_id, "old_dev_eui": b.dev_eui, "new_dev_eui": a.dev_eui}),
    ]
    for method, path, body in cases:
        r = api.call(method, path, key_a, json=body)
        assert r.status_code == 404, (path, body, r.text)
    scan = api.call("POST", "/onboarding/scan", key_a, expect=200,
                    json={"qr": f"LW:D0:0000000000000000:{b.dev_eui.upper()}:00000000"}).json()
    assert scan["known"] is False and scan["tenant_id"] is None
