"""API-key guessing is throttled like passwords (per address, per key prefix, audited), and requests are rate
limited per API key and per tenant with token buckets: 429 with a Retry-After after which the request passes
again, the other tenants untouched, a plan's own limit, the built-in administrator never limited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lora_city.api import create_app
from lora_city.api.rate_limit import Limit, RateLimiter
from lora_city.services.principal import Principal, Role
from lora_city.settings import Settings
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from tests.integration.api.conftest import ADMIN, SECRET, Api
from tests.support.schema import all_migration_locations


def test_guessing_api_keys_is_throttled_and_audited(api: Api) -> None:
    tenant = api.tenant("acme")
    good = api.key("tenant_viewer", tenant)
    for n in range(10):  # random guesses: a new prefix each time
        r = api.call("GET", "/devices", f"lck_{n:08x}_{'x' * 43}")
        assert r.status_code == 401, r.text
    # the address is now delayed: even a valid key from it waits, so a guess made meanwhile says nothing
    r = api.call("GET", "/devices", good)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1, r.text
    assert r.json()["error"]["code"] == "too_many_attempts"
    assert api.call("GET", "/auth/failures").status_code == 429  # the administrator's token comes from there too
    locks = _as_admin_elsewhere(api, "GET", "/auth/locks")
    address = next(x for x in locks if x["scope"] == "api-address")
    assert address["failures"] == 10 and address["locked"] is False
    audit = _as_admin_elsewhere(api, "GET", "/auth/failures")
    assert sum(1 for f in audit if f["kind"] == "api_key" and f["address"] == address["subject"]) == 10
    _as_admin_elsewhere(api, "DELETE", f"/auth/locks/{address['id']}")
    assert api.call("GET", "/devices", good).status_code == 200
    # guesses at one key (its public prefix known): the prefix is throttled like an account
    for _ in range(3):
        assert api.call("GET", "/devices", f"lck_deadbeef_{'y' * 43}").status_code == 401
    assert api.call("GET", "/devices", f"lck_deadbeef_{'z' * 43}").status_code == 429
    assert api.call("GET", "/devices", good).status_code == 200  # another key from the same address passes
    locks = _as_admin_elsewhere(api, "GET", "/auth/locks")
    assert any(x["scope"] == "api-key" and x["subject"] == "deadbeef" for x in locks)


def _as_admin_elsewhere(api: Api, method: str, path: str) -> Any:
    """The administrator from another address (the throttled one is this test client's)."""
    client = TestClient(api.client.app, client=("203.0.113.7", 50000), raise_server_exceptions=False)
    r = client.request(method, "/api/v1" + path, headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code in (200, 204), r.text
    return r.json() if r.status_code == 200 else None


@pytest.fixture()
def limited(tmp_path: Any) -> Iterator[tuple[TestClient, Any]]:
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    upgrade(url, all_migration_locations())
    engine = make_engine(url)
    factory = make_session_factory(engine)
    # a refill too slow to matter during the test: the bursts decide
    settings = Settings(database_url=url, admin_token=ADMIN, secret_key=SECRET, api_rate_per_key=0.01,
                        api_burst_per_key=3, api_rate_per_tenant=0.01, api_burst_per_tenant=5)
    app = create_app(settings, factory, KeyVault(SECRET))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app
    engine.dispose()


def _key(client: TestClient, tenant_id: str) -> str:
    r = client.post("/api/v1/api-keys", headers={"Authorization": f"Bearer {ADMIN}"},
                    json={"name": "k", "role": "tenant_viewer", "tenant_id": tenant_id})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def _tenant(client: TestClient, slug: str) -> str:
    r = client.post("/api/v1/tenants", headers={"Authorization": f"Bearer {ADMIN}"}, json={"name": slug, "slug": slug})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_per_key_and_per_tenant_buckets(limited: tuple[TestClient, Any]) -> None:
    client, _app = limited
    a, b = _tenant(client, "lessee-a"), _tenant(client, "lessee-b")
    a1, a2, b1 = _key(client, a), _key(client, a), _key(client, b)

    def get(key: str) -> Any:
        return client.get("/api/v1/devices", headers={"Authorization": f"Bearer {key}"})

    assert [get(a1).status_code for _ in range(3)] == [200, 200, 200]
    r = get(a1)  # the key's burst of 3 is spent
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert 90 <= int(r.headers["retry-after"]) <= 101  # one token at 0.01/s: 100 s
    assert [get(a2).status_code for _ in range(2)] == [200, 200]
    assert get(a2).status_code == 429  # the tenant's burst of 5 is spent, though a2 had tokens left
    assert get(b1).status_code == 200  # another tenant is untouched
    for _ in range(5):  # the built-in administrator is never limited
        assert client.get("/api/v1/devices", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200


def test_a_plan_sets_its_tenants_limit_and_tokens_come_back() -> None:
    now = [1000.0]
    limiter = RateLimiter(Limit(100.0, 500), Limit(200.0, 1000),
                          limits_for=lambda tenant: Limit(2.0, 2) if tenant == "small" else None, clock=lambda: now[0])
    small, big = Principal(Role.TENANT_ADMIN, "small", "k1"), Principal(Role.TENANT_ADMIN, "big", "k2")
    limiter.admit(small)
    limiter.admit(small)
    with pytest.raises(Exception) as refused:
        limiter.admit(small)
    assert getattr(refused.value, "retry_after_s", None) == pytest.approx(0.5)  # 1 token at 2/s
    for _ in range(400):
        limiter.admit(big)  # the default limits: generous
    now[0] += 0.5  # Retry-After later, the request passes
    limiter.admit(small)


def test_plan_limits_reach_the_running_api(limited: tuple[TestClient, Any]) -> None:
    """tenants/ installs the plan lookup; here the lookup is set as tenants.api.install does."""
    client, app = limited
    slow = _tenant(client, "slow")
    key = _key(client, slow)
    limiter: RateLimiter = app.state.rate_limiter
    limiter.limits_for = lambda tenant: Limit(0.01, 1) if tenant == slow else None
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/devices", headers=headers).status_code == 200
    assert client.get("/api/v1/devices", headers=headers).status_code == 429  # nothing refills at 0.01/s
