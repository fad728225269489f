"""Tenant isolation in lists, filters and references inside bodies. The walk over every route that takes an id
(with ids that exist in the other tenant, core, tenants/ and billing/ routes alike) is
tests/integration/tenants/test_isolation_walk.py."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api, populate


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
