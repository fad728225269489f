"""The role matrix, table-driven: each operation lists the roles allowed; every other role gets 403."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.conftest import Api, TenantWorld, populate

ALL = {"admin", "operator", "technician", "tenant_admin", "tenant_viewer"}
MANAGE = {"admin", "operator", "tenant_admin"}
READ_TENANT = {"admin", "operator", "tenant_admin", "tenant_viewer"}
ONBOARD = {"admin", "operator", "technician", "tenant_admin"}

# (method, path with {placeholders} from TenantWorld, body, roles allowed)
MATRIX: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/tenants", None, READ_TENANT),
    ("GET", "/tenants/{tenant_id}", None, READ_TENANT),
    ("POST", "/tenants", {"name": "N", "slug": "new-{role}"}, {"admin", "operator"}),
    ("PATCH", "/tenants/{tenant_id}", {"email": "a@b.fr"}, {"admin", "operator"}),
    ("GET", "/api-keys", None, MANAGE),
    ("POST", "/api-keys", {"name": "k", "role": "tenant_viewer", "tenant_id": "{tenant_id}"}, MANAGE),
    ("GET", "/gateways", None, ALL),
    ("GET", "/gateways/{gateway_id}", None, ALL),
    ("POST", "/gateways", {"gateway_id": "{new_eui}", "name": "g", "tenant_id": "{tenant_id}"}, MANAGE),
    ("PATCH", "/gateways/{gateway_id}", {"private_up": True}, MANAGE),
    ("GET", "/device-profiles", None, ALL),
    ("POST", "/device-profiles", {"name": "p", "tenant_id": "{tenant_id}"}, MANAGE),
    ("PATCH", "/device-profiles/{profile_id}", {"uplink_interval_s": 600}, MANAGE),
    ("GET", "/applications", None, READ_TENANT),
    ("GET", "/applications/{application_id}", None, READ_TENANT),
    ("POST", "/applications", {"name": "a", "tenant_id": "{tenant_id}"}, MANAGE),
    ("GET", "/devices", None, ALL),
    ("GET", "/devices/{dev_eui}", None, ALL),
    ("POST", "/devices", {"dev_eui": "{new_eui}", "name": "d", "tenant_id": "{tenant_id}"}, MANAGE),
    ("PATCH", "/devices/{dev_eui}", {"name": "renamed"}, MANAGE),
    ("DELETE", "/devices/ffffffffffffffff", None, MANAGE),  # allowed roles get 404: nothing to delete
    ("POST", "/devices/{dev_eui}/deactivate", None, MANAGE),
    ("GET", "/devices/{dev_eui}/readings", None, READ_TENANT),
    ("GET", "/devices/{dev_eui}/events", None, READ_TENANT),
    ("GET", "/devices/{dev_eui}/queue", None, ALL),
    ("POST", "/devices/{dev_eui}/queue", {"f_port": 1, "data_hex": "00"}, MANAGE),
    ("DELETE", "/devices/{dev_eui}/queue", None, MANAGE),
    ("GET", "/assets", None, ALL),
    ("GET", "/assets/{asset_id}", None, ALL),
    ("GET", "/assets/{asset_id}/readings", None, READ_TENANT),
    ("POST", "/assets", {"external_ref": "X-{role}", "tenant_id": "{tenant_id}"}, ONBOARD),
    ("POST", "/onboarding/scan", {"qr": "LW:D0:0000000000000000:{dev_eui}:00000000"}, ONBOARD),
    ("POST", "/onboarding/bind", {"dev_eui": "{dev_eui}", "asset_id": "{asset_id}"}, ONBOARD),
    ("GET", "/onboarding/devices/{dev_eui}/status", None, ONBOARD),
    ("GET", "/overview", None, READ_TENANT),
]


def _fill(value: Any, world: TenantWorld, role: str, n: int) -> Any:
    if isinstance(value, str):
        return value.format(role=role.replace("_", "-"), new_eui=f"bb{n:014x}", **vars(world))
    if isinstance(value, dict):
        return {k: _fill(v, world, role, n) for k, v in value.items()}
    return value


@pytest.fixture()
def keys_and_world(api: Api) -> tuple[dict[str, str], TenantWorld]:
    world = populate(api, "lessee-a", 1)
    keys = {  # without a tenant, the directorate's keys belong to the city's own tenant
        "admin": api.key("admin"), "operator": api.key("operator"),
        "technician": api.key("technician"), "tenant_admin": api.key("tenant_admin", world.tenant_id),
        "tenant_viewer": api.key("tenant_viewer", world.tenant_id),
    }
    return keys, world


def test_role_matrix(api: Api, keys_and_world: tuple[dict[str, str], TenantWorld]) -> None:
    keys, world = keys_and_world
    failures = []
    n = 0
    for method, path, body, allowed in MATRIX:
        for role in sorted(ALL):
            n += 1
            url = _fill(path, world, role, n)
            r = api.call(method, url, keys[role], json=_fill(body, world, role, n))
            ok = (r.status_code != 403) if role in allowed else (
                r.status_code == 403 and r.json()["error"]["code"] == "permission_denied")
            if not ok or r.status_code >= 500:
                failures.append(f"{role:13} {method} {url} -> {r.status_code} {r.text[:120]}")
    assert not failures, "\n".join(failures)


def test_key_grants_never_exceed_the_granter(api: Api, keys_and_world: tuple[dict[str, str], TenantWorld]) -> None:
    keys, world = keys_and_world
    for role, target, status in [
        ("operator", "admin", 403), ("operator", "operator", 201), ("tenant_admin", "operator", 403),
        ("tenant_admin", "technician", 403), ("tenant_admin", "tenant_admin", 201),
    ]:
        r = api.call("POST", "/api-keys", keys[role], json={"name": "x", "role": target})
        assert r.status_code == status, (role, target, r.text)
        if status == 201:
            expected_tenant = world.tenant_id if role == "tenant_admin" else r.json()["tenant_id"]
            assert r.json()["tenant_id"] == expected_tenant


def test_keys_shown_once_hashed_revocable_and_last_used(api: Api) -> None:
    from datetime import timedelta

    from lora_city.storage.models import ApiKey

    created = api.call("POST", "/api-keys", json={"name": "ci", "role": "operator"}, expect=201).json()
    secret = created["key"]
    assert secret.startswith(f"lck_{created['prefix']}_") and len(secret) > 40
    listed = api.call("GET", "/api-keys", expect=200).json()
    assert all("key" not in k for k in listed) and secret not in str(listed)
    with api.factory() as s:
        row = s.get(ApiKey, created["id"])
        assert row is not None and secret not in (row.key_hash, row.prefix) and row.last_used_at is None
    api.call("GET", "/devices", secret, expect=200)
    first_use = next(k for k in api.call("GET", "/api-keys").json() if k["id"] == created["id"])["last_used_at"]
    assert first_use is not None
    api.clock.now += timedelta(minutes=5)
    api.call("GET", "/devices", secret, expect=200)
    later = next(k for k in api.call("GET", "/api-keys").json() if k["id"] == created["id"])["last_used_at"]
    assert later > first_use
    api.call("GET", "/devices", secret[:-1] + ("A" if secret[-1] != "A" else "B"), expect=401)
    revoked = api.call("DELETE", f"/api-keys/{created['id']}", expect=200).json()
    assert revoked["revoked_at"] is not None
    r = api.call("GET", "/devices", secret, expect=401)
    assert r.json()["error"]["code"] == "unauthenticated" and r.headers["www-authenticate"] == "Bearer"
    expiring = api.call("POST", "/api-keys", json={"name": "e", "role": "operator",
                                                   "expires_at": (api.clock.now + timedelta(hours=1)).isoformat()},
                        expect=201).json()["key"]
    api.call("GET", "/devices", expiring, expect=200)
    api.clock.now += timedelta(hours=2)
    api.call("GET", "/devices", expiring, expect=401)


def test_unauthenticated_and_error_shapes(api: Api) -> None:
    r = api.client.get("/api/v1/devices")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert api.call("GET", "/devices", "not-a-key", expect=401).json()["error"]["code"] == "unauthenticated"
    assert api.call("GET", "/nowhere", expect=404).json()["error"]["code"] == "not_found"
    assert api.call("PUT", "/devices", expect=405).json()["error"]["code"] == "method_not_allowed"
    r = api.call("POST", "/devices", json={"dev_eui": 5}, expect=422).json()
    assert r["error"]["code"] == "validation_error" and "dev_eui" in r["error"]["message"]
    r = api.call("POST", "/devices", content=b"{not json", headers={"content-type": "application/json"},
                 expect=422).json()
    assert r["error"]["code"] == "validation_error"
    r = api.call("POST", "/devices", json={"dev_eui": "zz" * 8, "name": "x"}, expect=422).json()
    assert r["error"]["code"] == "invalid_dev_eui"
    assert api.client.get("/api/v1/openapi.json").status_code == 200
    assert "swagger" in api.client.get("/api/v1/docs").text.lower()
