"""Isolation of the tenants/ and billing/ routes: a key of tenant A gets 404 for every object of tenant B, on
every route these packages add that takes an id. The routes are read from the app's OpenAPI document (minus the
core's, which the API's own isolation test walks), so a new route here is covered without anyone remembering it;
a route with a new kind of path parameter fails until the world below gets an object of that kind."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from billing.models import BillingConfig, PriceTable
from billing.run import run_billing
from lora_city.api import create_app
from lora_city.settings import Settings
from lora_city.storage.db import transaction
from lora_city.storage.keys import KeyVault
from tests.integration.billing.conftest import ISSUER, uplink
from tests.integration.tenants.conftest import ADMIN, SECRET, Env

from billing.meter import UsageMeter  # isort: skip
from lora_city.metrics import Metrics  # isort: skip

BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("put", "/api/v1/tenants/{tenant_id}/plan"): {"json": {"plan_id": None}},
    ("post", "/api/v1/invoices/{invoice_id}/credit-note"): {"json": {"reason": "test"}},
    ("patch", "/api/v1/plans/{plan_id}"): {"json": {"max_devices": 5}},
    ("put", "/api/v1/plans/{plan_id}/prices"): {"json": {"monthly_fee_cents": 100}},
    ("put", "/api/v1/invoices/{invoice_id}/payment"): {"json": {"paid_on": "2026-11-20"}},
}


@dataclass
class World:
    tenant_id: str
    plan_id: str
    dev_eui: str
    integration_id: str
    invoice_id: str


def populate(env: Env, slug: str, n: int) -> World:
    plan = env.call("POST", "/plans", json={"name": f"plan-{slug}"}, expect=201).json()["id"]
    tenant = env.call("POST", "/tenants", json={"name": slug, "slug": slug, "siret": f"1234567890001{n}"},
                      expect=201).json()["id"]
    env.call("PUT", f"/tenants/{tenant}/plan", json={"plan_id": plan}, expect=200)
    dev = f"00000000000000{n:02x}"
    env.call("POST", "/devices", json={"dev_eui": dev, "name": "d", "tenant_id": tenant}, expect=201)
    integration = env.call("POST", "/integrations", expect=201,
                           json={"kind": "webhook", "url": "https://example.org/hook", "tenant_id": tenant}).json()
    with transaction(env.factory) as s:
        s.add(PriceTable(plan_id=plan, monthly_fee_cents=1000 * n))
    meter = UsageMeter(env.factory, Metrics())
    meter.submit(uplink(tenant, dev, "2026-10-05T10:00:00+00:00", 50.0))
    meter.flush()
    return World(tenant, plan, dev, integration["id"], "")


def core_paths(tmp_path: Path, env: Env) -> set[str]:
    settings = Settings(database_url=env.url, admin_token=ADMIN, secret_key=SECRET)
    bare = create_app(settings, env.factory, KeyVault(SECRET))
    return set(bare.openapi()["paths"])


def test_every_id_route_of_tenants_and_billing_hides_other_tenants_objects(env: Env, tmp_path: Path) -> None:
    with transaction(env.factory) as s:
        s.add(BillingConfig(id=1, **ISSUER))
    a, b = populate(env, "lessee-a", 1), populate(env, "lessee-b", 2)
    run_billing(env.factory, "2026-10", today=date(2026, 11, 3))
    for world in (a, b):
        invoices = env.call("GET", f"/invoices?tenant_id={world.tenant_id}", expect=200).json()
        world.invoice_id = invoices[0]["id"]
    keys = {"tenant_admin": env.key("tenant_admin", a.tenant_id), "tenant_viewer": env.key("tenant_viewer", a.tenant_id)}
    spec = env.client.get("/api/v1/openapi.json").json()
    core = core_paths(tmp_path, env)
    ours = {p: ops for p, ops in spec["paths"].items() if p not in core}
    checked, problems = [], []
    for path, operations in ours.items():
        params = re.findall(r"{(\w+)}", path)
        if not params:
            continue
        for method, op in operations.items():
            unknown = [p for p in params if not hasattr(b, p)]
            if unknown:
                problems.append(f"{method.upper()} {path}: no tenant-B object for {unknown}; add one to World")
                continue
            if "requestBody" in op and (method, path) not in BODIES:
                problems.append(f"{method.upper()} {path}: add a valid body to BODIES")
                continue
            kwargs = BODIES.get((method, path), {})
            theirs, mine, missing = (_fill(path, params, w) for w in (b, a, None))
            for who, token in keys.items():
                r = env.call(method.upper(), theirs, token, **kwargs)
                nothing = env.call(method.upper(), missing, token, **kwargs)
                same = (r.status_code, r.json()["error"]["code"]) == (nothing.status_code,
                                                                        nothing.json()["error"]["code"]) \
                    if r.status_code >= 400 else False
                if r.status_code != 404 or not same or b.tenant_id in r.text:
                    problems.append(f"{who} {method.upper()} {theirs} -> {r.status_code} {r.text[:150]}")
                if method == "get":  # control: the same route answers for A's own object
                    own = env.call("GET", mine, token)
                    if own.status_code != 200:
                        problems.append(f"{who} GET {mine} (own object) -> {own.status_code} {own.text[:100]}")
            checked.append(f"{method.upper()} {path}")
    assert not problems, "\n".join(problems)
    # the walk really went over the routes (a renamed prefix would make it pass vacuously)
    assert {"GET /api/v1/invoices/{invoice_id}/pdf", "GET /api/v1/usage/devices/{dev_eui}",
            "GET /api/v1/plans/{plan_id}",
            "POST /api/v1/tenants/{tenant_id}/suspend", "DELETE /api/v1/tenants/{tenant_id}/lease"} <= set(checked)


def _fill(path: str, params: list[str], world: World | None) -> str:
    url = path.removeprefix("/api/v1")
    for p in params:
        value = getattr(world, p) if world is not None else ("ffffffffffffffff" if p == "dev_eui" else
                                                               "00000000-0000-4000-8000-000000000000")
        url = url.replace("{" + p + "}", value)
    return url
