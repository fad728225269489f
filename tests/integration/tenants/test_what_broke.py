"""Issue 21's "What breaks today", replayed through the API on a fresh database, each with the answer a new user
should get now: a billing run before the issuer is set is a clear 409 (it was a 500), a plan created with a
cap no database column can hold is a 422 (it was a 500: SQLite integer overflow), and a run that leaves
tenants out says why, tenant by tenant (it said "3 skipped" and nothing more)."""

from __future__ import annotations

from billing.cli import SKIP_TEXT
from tests.integration.tenants.conftest import Env
from tests.integration.tenants.test_lifecycle import lessee

ISSUER = {"legal_name": "Ville de Rivebourg", "address": "1 place de l'Hôtel de Ville", "siret": "21990001200018",
          "vat_number": "FR41219900012", "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPP"}


def test_a_run_before_the_issuer_is_set_says_what_to_do(env: Env) -> None:
    lessee(env)
    early = env.call("POST", "/billing/runs", json={"period": "2026-10"})
    assert early.status_code == 409, early.text
    assert "issuer" in early.json()["error"]["message"]
    env.call("PUT", "/billing/issuer", json=ISSUER, expect=200)
    env.call("POST", "/billing/runs", json={"period": "2026-10"}, expect=200)


def test_a_plan_created_with_an_impossible_cap_is_refused_not_a_500(env: Env) -> None:
    # SQLite stores 64-bit integers, PostgreSQL's integer column 32 bits: both values used to reach the database.
    for cap in (10**30, 2**40, -1):
        r = env.call("POST", "/plans", json={"name": f"huge-{cap}", "max_devices": cap})
        assert r.status_code == 422, (cap, r.text)
        assert "max_devices" in r.text
    assert env.call("GET", "/plans", expect=200).json() == []  # nothing half-created
    env.call("POST", "/plans", json={"name": "big", "max_devices": 2**31 - 1}, expect=201)


def test_every_skipped_tenant_has_a_reason(env: Env) -> None:
    lessee(env)  # a plan with no prices
    env.call("POST", "/tenants", json={"name": "Zeta", "slug": "zeta"}, expect=201)  # no plan at all
    env.call("PUT", "/billing/issuer", json=ISSUER, expect=200)
    run = env.call("POST", "/billing/runs", json={"period": "2026-10"}, expect=200).json()
    reasons = {k["slug"]: k["reason"] for k in run["skips"]}
    assert reasons["acme"] == "no_prices" and reasons["zeta"] == "no_plan"
    assert run["skipped"] == len(run["skips"]) and run["created"] == []
    assert set(reasons.values()) <= set(SKIP_TEXT)  # the CLI has a sentence for each reason it can get
