"""Tenant isolation on every route that takes an id, with ids that EXIST in the other tenant.

The walk reads the OpenAPI document of the whole API as ``serve`` mounts it (core, tenants/, billing/), so a route
added tomorrow is walked without anyone remembering it. Each kind of path parameter has a fixture below that
makes a real object of that kind in a tenant; a parameter without one fails the test by name (add its fixture),
as does a route with a request body that is not in BODIES. For every route, tenant A's tenant_admin and
tenant_viewer keys aim at tenant B's existing object and at an id that exists nowhere: both must get the same
answer (404, or the same role-level 403), with nothing of B in it; A's own object answers 200 on the GETs (so the
route is really reached), and B's objects are intact at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from billing.meter import UsageMeter
from billing.models import BillingConfig, PriceTable
from billing.run import run_billing
from lora_city.metrics import Metrics
from lora_city.services.auth_throttle import ADDRESS
from lora_city.storage.db import transaction
from lora_city.storage.models import Alert, AlertRule
from tests.integration.billing.conftest import ISSUER, uplink
from tests.integration.tenants.conftest import Env

KEY = "2b7e151628aed2a6abf7158809cf4f3c"
MISSING = {"dev_eui": "ffffffffffffffff", "gateway_id": "ffffffffffffffff"}  # else a well-formed uuid
NOWHERE = "00000000-0000-4000-8000-000000000000"
# The device catalogue describes products every tenant shares (no tenant's object): test_catalogue.py covers it.
SHARED = {"vendor", "model", "codec", "qr_profile_id"}

# A valid body for each route that takes one: a 422 (body refused before the id is looked up) proves nothing.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/api/v1/tenants/{tenant_id}"): {"json": {"name": "renamed"}},
    ("put", "/api/v1/tenants/{tenant_id}/plan"): {"json": {"plan_id": None}},
    ("patch", "/api/v1/gateways/{gateway_id}"): {"json": {"name": "renamed"}},
    ("patch", "/api/v1/device-profiles/{profile_id}"): {"json": {"name": "renamed"}},
    ("patch", "/api/v1/applications/{application_id}"): {"json": {"name": "renamed"}},
    ("patch", "/api/v1/devices/{dev_eui}"): {"json": {"name": "renamed"}},
    ("post", "/api/v1/devices/{dev_eui}/activate"): {"json": {"dev_addr": "26000001", "nwk_s_key": KEY,
                                                              "app_s_key": KEY}},
    ("post", "/api/v1/devices/{dev_eui}/queue"): {"json": {"f_port": 1, "data_hex": "00"}},
    ("post", "/api/v1/devices/{dev_eui}/force-rejoin"): {"json": {"rejoin_type": 0}},
    ("patch", "/api/v1/multicast-groups/{group_id}"): {"json": {"name": "renamed"}},
    ("post", "/api/v1/multicast-groups/{group_id}/devices"): {"json": {"dev_euis": ["ffffffffffffff01"]}},
    ("post", "/api/v1/multicast-groups/{group_id}/queue"): {"json": {"f_port": 1, "data_hex": "00"}},
    ("patch", "/api/v1/assets/{asset_id}"): {"json": {"name": "renamed"}},
    ("put", "/api/v1/onboarding/assets/{asset_id}/photo"): {"files": {"photo": ("p.png", b"png", "image/png")}},
    ("patch", "/api/v1/integrations/{integration_id}"): {"json": {"enabled": False}},
    ("post", "/api/v1/invoices/{invoice_id}/credit-note"): {"json": {"reason": "test"}},
    ("put", "/api/v1/invoices/{invoice_id}/payment"): {"json": {"paid_on": "2026-11-20", "reference": "VIR-1"}},
    ("patch", "/api/v1/plans/{plan_id}"): {"json": {"name": "renamed"}},
    ("put", "/api/v1/plans/{plan_id}/prices"): {"json": {"monthly_fee_cents": 500}},
    ("patch", "/api/v1/lighting/schedules/{schedule_id}"): {"json": {"name": "renamed"}},
    # A's own device (world 1): only the schedule's tenant can make the answer 404
    ("post", "/api/v1/lighting/schedules/{schedule_id}/assignments"): {"json": {"dev_eui": "0000000000000001"}},
    ("post", "/api/v1/lighting/schedules/{schedule_id}/exceptions"): {"json": {
        "start_date": "2026-01-01", "end_date": "2026-01-01", "steps": [{"at": "dusk", "level": 1}]}},
    ("get", "/api/v1/lighting/schedules/{schedule_id}/preview"): {"params": {"night": "2026-01-01"}},
}


@dataclass
class World:
    """One tenant's objects, one per kind of path parameter (filled by FIXTURES)."""

    n: int
    ids: dict[str, str] = field(default_factory=dict)


Fixture = Callable[[Env, World], str]


def _tenant(env: Env, w: World) -> str:
    return str(env.call("POST", "/tenants", expect=201, json={
        "name": f"lessee {w.n}", "slug": f"lessee-{w.n}", "siret": f"1234567890001{w.n}"}).json()["id"])


def _plan(env: Env, w: World) -> str:
    plan = env.call("POST", "/plans", json={"name": f"plan-{w.n}"}, expect=201).json()["id"]
    env.call("PUT", f"/tenants/{w.ids['tenant_id']}/plan", json={"plan_id": plan}, expect=200)
    with transaction(env.factory) as s:
        s.add(PriceTable(plan_id=plan, monthly_fee_cents=1000 * w.n))
    return str(plan)


def _post(path: str, body: Callable[[World], dict[str, Any]], key: str = "id") -> Fixture:
    def make(env: Env, w: World) -> str:
        return str(env.call("POST", path, json=body(w), expect=201).json()[key])
    return make


def _device(env: Env, w: World) -> str:
    dev = f"00000000000000{w.n:02x}"
    env.call("POST", "/devices", expect=201, json={
        "dev_eui": dev, "name": "d", "tenant_id": w.ids["tenant_id"], "application_id": w.ids["application_id"],
        "device_profile_id": w.ids["profile_id"], "app_key": f"{w.n:032x}", "gen_app_key": f"{w.n + 100:032x}"})
    meter = UsageMeter(env.factory, Metrics())  # usage, for the month's invoice
    meter.submit(uplink(w.ids["tenant_id"], dev, "2026-10-05T10:00:00+00:00", 50.0))
    meter.flush()
    return dev


def _asset(env: Env, w: World) -> str:
    asset = env.call("POST", "/assets", expect=201, json={"external_ref": f"R{w.n}",
                                                           "tenant_id": w.ids["tenant_id"]}).json()["id"]
    env.call("POST", "/onboarding/bind", json={"dev_eui": w.ids["dev_eui"], "asset_id": asset}, expect=200)
    env.call("PUT", f"/onboarding/assets/{asset}/photo", expect=200,
             **BODIES[("put", "/api/v1/onboarding/assets/{asset_id}/photo")])
    return str(asset)


def _rule(env: Env, w: World) -> str:
    with transaction(env.factory) as s:
        rule = AlertRule(tenant_id=w.ids["tenant_id"], name="flood level", kind="threshold", measurement="level")
        s.add(rule)
        s.flush()
        return rule.id


def _alert(env: Env, w: World) -> str:
    with transaction(env.factory) as s:
        alert = Alert(tenant_id=w.ids["tenant_id"], rule_id=w.ids["rule_id"], cause=f"{w.ids['rule_id']}:x",
                      subject=w.ids["dev_eui"], service="supervision", severity="warning", message="high water")
        s.add(alert)
        s.flush()
        return alert.id


def _lock(env: Env, w: World) -> str:
    """Authentication locks belong to no tenant (an address): only the directorate may see them."""
    throttle = env.app.state.auth_throttle
    for _ in range(10):  # an address is delayed from its 10th failure
        throttle.failed("portal_login", [(ADDRESS, f"192.0.2.{w.n}")], "test")
    return str(next(lock.id for lock in throttle.locks() if lock.subject == f"192.0.2.{w.n}"))


def _assignment(env: Env, w: World) -> str:
    return str(env.call("POST", f"/lighting/schedules/{w.ids['schedule_id']}/assignments", expect=200,
                        json={"group_id": w.ids["group_id"]}).json()["id"])


def _exception(env: Env, w: World) -> str:
    return str(env.call("POST", f"/lighting/schedules/{w.ids['schedule_id']}/exceptions", expect=201, json={
        "start_date": "2026-07-14", "end_date": "2026-07-14", "steps": [{"at": "dusk", "level": 100}]}).json()["id"])


def _invoice(env: Env, w: World) -> str:
    with transaction(env.factory) as s:
        if s.get(BillingConfig, 1) is None:
            s.add(BillingConfig(id=1, **ISSUER))
    run_billing(env.factory, "2026-10", today=date(2026, 11, 3))
    invoices = env.call("GET", f"/invoices?tenant_id={w.ids['tenant_id']}", expect=200).json()
    return str(invoices[0]["id"])


# Path parameter -> how to make one in a tenant; in order (later ones use earlier ones).
FIXTURES: dict[str, Fixture] = {
    "tenant_id": _tenant,
    "plan_id": _plan,
    "key_id": _post("/api-keys", lambda w: {"name": "k", "role": "tenant_viewer", "tenant_id": w.ids["tenant_id"]}),
    "gateway_id": _post("/gateways", lambda w: {"gateway_id": f"aa000000000000{w.n:02x}", "name": "g",
                                                "tenant_id": w.ids["tenant_id"]}, key="gateway_id"),
    "profile_id": _post("/device-profiles", lambda w: {  # with the packages a FUOTA campaign needs
        "name": "p", "tenant_id": w.ids["tenant_id"], "app_layer": {"multicast_setup": 2, "fragmentation": 2}}),
    "application_id": _post("/applications", lambda w: {"name": "a", "tenant_id": w.ids["tenant_id"]}),
    "dev_eui": _device,
    "group_id": _post("/multicast-groups", lambda w: {"name": "lamps", "tenant_id": w.ids["tenant_id"],
                                                      "group_class": "C"}),
    "asset_id": _asset,
    "rule_id": _rule,
    "alert_id": _alert,
    "subscription_id": _post("/feed-subscriptions", lambda w: {"service": f"svc{w.n}", "kind": "webhook",
                                                               "target": "https://example.org/feed"}),
    "lock_id": _lock,
    "integration_id": _post("/integrations", lambda w: {"kind": "webhook", "url": "https://example.org/hook",
                                                        "tenant_id": w.ids["tenant_id"]}),
    "invoice_id": _invoice,
    "campaign_id": _post("/fuota/campaigns", lambda w: {"name": "fw", "tenant_id": w.ids["tenant_id"],
                                                        "dev_euis": [w.ids["dev_eui"]],
                                                        "image_base64": "AAECAwQFBgc="}),
    "schedule_id": _post("/lighting/schedules", lambda w: {
        "name": "s", "tenant_id": w.ids["tenant_id"], "steps": [{"at": "dusk", "level": 100}, {"at": "dawn", "level": 0}]}),
    "assignment_id": _assignment,
    "exception_id": _exception,
}


def populate(env: Env, n: int) -> World:
    world = World(n)
    for name, make in FIXTURES.items():
        world.ids[name] = make(env, world)
    return world


def _fill(path: str, params: list[str], world: World | None) -> str:
    url = path.removeprefix("/api/v1")
    for p in params:
        value = world.ids[p] if world is not None else MISSING.get(p, NOWHERE)
        url = url.replace("{" + p + "}", value)
    return url


def test_every_route_hides_the_other_tenants_existing_objects(env: Env, tmp_path: Path) -> None:
    a, b = populate(env, 1), populate(env, 2)
    keys = {"tenant_admin": env.key("tenant_admin", a.ids["tenant_id"]),
            "tenant_viewer": env.key("tenant_viewer", a.ids["tenant_id"])}
    spec = env.client.get("/api/v1/openapi.json").json()
    checked: list[str] = []
    problems: list[str] = []
    # writes that would spoil the GET controls of later routes run last (deletes after everything else)
    order = {"get": 0, "put": 1, "patch": 1, "post": 2, "delete": 3}
    routes = sorted(((m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items()),
                    key=lambda r: (order.get(r[0], 2), r[1]))
    for method, path, op in routes:
        params = re.findall(r"{(\w+)}", path)
        if not params or SHARED & set(params):
            continue
        unknown = [p for p in params if p not in FIXTURES]
        if unknown:
            problems.append(f"{method.upper()} {path}: no fixture makes a {unknown} in a tenant; add one to FIXTURES")
            continue
        if "requestBody" in op and (method, path) not in BODIES:
            problems.append(f"{method.upper()} {path}: add a valid body to BODIES")
            continue
        kwargs = BODIES.get((method, path), {})
        theirs, mine, missing = (_fill(path, params, w) for w in (b, a, None))
        for who, token in keys.items():
            r = env.call(method.upper(), theirs, token, **kwargs)
            nothing = env.call(method.upper(), missing, token, **kwargs)
            code = r.json().get("error", {}).get("code") if r.status_code >= 400 else None
            same = r.status_code >= 400 and (r.status_code, code) == (
                nothing.status_code, nothing.json().get("error", {}).get("code"))
            if r.status_code not in (403, 404) or not same or b.ids["tenant_id"] in r.text:
                problems.append(f"{who} {method.upper()} {theirs} -> {r.status_code} {r.text[:150]}")
            if who == "tenant_admin" and r.status_code == 422:
                problems.append(f"{method.upper()} {path}: 422 before the id was looked up; fix its BODIES entry")
            streams = "text/event-stream" in op.get("responses", {}).get("200", {}).get("content", {})
            # control: the route answers for A's own object (a live stream never ends: test_live_frames.py)
            if method == "get" and r.status_code == 404 and not streams:
                own = env.call("GET", mine, token, **kwargs)
                if own.status_code != 200:
                    problems.append(f"{who} GET {mine} (own object) -> {own.status_code} {own.text[:100]}")
        checked.append(f"{method.upper()} {path}")
    assert not problems, "\n".join(problems)
    # the walk went over every kind of object, the ones the outside run could not reach included
    for expected in ("GET /api/v1/invoices/{invoice_id}/pdf", "POST /api/v1/alerts/{alert_id}/acknowledge",
                     "GET /api/v1/assets/{asset_id}", "GET /api/v1/multicast-groups/{group_id}",
                     "DELETE /api/v1/alert-rules/{rule_id}", "PATCH /api/v1/integrations/{integration_id}",
                     "DELETE /api/v1/auth/locks/{lock_id}", "POST /api/v1/tenants/{tenant_id}/suspend",
                     "POST /api/v1/fuota/campaigns/{campaign_id}/start", "GET /api/v1/devices/{dev_eui}/frames",
                     "DELETE /api/v1/lighting/schedules/{schedule_id}/exceptions/{exception_id}"):
        assert expected in checked, expected
    assert len(checked) >= 55, checked
    # B's objects are still there and intact
    assert env.call("GET", f"/devices/{b.ids['dev_eui']}", expect=200).json()["name"] == "d"
    assert env.call("GET", f"/assets/{b.ids['asset_id']}", expect=200).json()["id"] == b.ids["asset_id"]
    assert env.call("GET", f"/multicast-groups/{b.ids['group_id']}", expect=200).json()["name"] == "lamps"
    assert env.call("GET", f"/invoices/{b.ids['invoice_id']}", expect=200).status_code == 200
