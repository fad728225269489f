"""Everything the console's billing journey does, through the API alone: a plan's prices (issue 21: nothing wrote
``billing_price_tables``), the issuer's legal details and payment instructions, a run that says why each tenant
was left out, payments recorded and removed, an overdue invoice, the plan's edits and deletion."""

from __future__ import annotations

from datetime import UTC, datetime

from billing.meter import UsageMeter
from lora_city.metrics import Metrics
from tests.integration.billing.conftest import uplink
from tests.integration.tenants.conftest import Env
from tests.integration.tenants.test_lifecycle import lessee

ISSUER = {"legal_name": "Ville de Rivebourg", "address": "1 place de l'Hôtel de Ville", "siret": "21990001200018",
          "vat_number": "FR41219900012", "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPP"}
PRICES = {"monthly_fee_cents": 4900, "vat_rate_bp": 550,
          "device_tiers": [{"from": 10, "millicents": 80_000}, {"from": 0, "millicents": 150_000}],
          "overage_uplink_tiers": [{"from": 0, "millicents": 1000}]}


def test_prices_issuer_run_and_payments(env: Env) -> None:
    tenant, plan = lessee(env)
    no_prices = env.call("GET", f"/plans/{plan}/prices")
    assert no_prices.status_code == 404 and no_prices.json()["error"]["code"] == "no_prices"

    # Prices: refused with a reason, then stored (tiers in order) and read back.
    bad = env.call("PUT", f"/plans/{plan}/prices", json={**PRICES, "monthly_fee_cents": -1})
    assert bad.status_code == 422
    twice = env.call("PUT", f"/plans/{plan}/prices", json={
        **PRICES, "device_tiers": [{"from": 0, "millicents": 1}, {"from": 0, "millicents": 2}]})
    assert twice.status_code == 422
    stored = env.call("PUT", f"/plans/{plan}/prices", json=PRICES, expect=200).json()
    assert [t["from"] for t in stored["device_tiers"]] == [0, 10]
    assert env.call("GET", f"/plans/{plan}/prices", expect=200).json() == stored
    viewer = env.key("tenant_viewer", tenant)
    assert env.call("GET", f"/plans/{plan}/prices", viewer, expect=200).json()["monthly_fee_cents"] == 4900
    env.call("PUT", f"/plans/{plan}/prices", viewer, json=PRICES, expect=403)

    # The issuer: a wrong IBAN check digit is refused; the right one is kept, grouped-free and upper case.
    wrong = env.call("PUT", "/billing/issuer", json={**ISSUER, "iban": "FR76 3000 6000 0112 3456 7890 180"})
    assert wrong.status_code == 422
    accountant = env.call("PUT", "/billing/issuer", json={**ISSUER, "iban": "", "payment_method": "public_accountant"})
    assert accountant.status_code == 422  # the public accountant must be named
    assert env.call("PUT", "/billing/issuer", json=ISSUER, expect=200).json()["iban"] == "FR7630006000011234567890189"
    env.call("PUT", "/billing/issuer", viewer, json=ISSUER, expect=403)

    meter = UsageMeter(env.factory, Metrics())
    for n in range(5):  # 5 uplinks one day: 2 over the plan's 3 per device per day
        meter.submit(uplink(tenant, "00000000000000a1", f"2026-10-02T08:0{n}:00+00:00", 50.0))
    meter.flush()
    env.call("PATCH", f"/plans/{plan}", json={"over_quota_action": "bill"}, expect=200)
    env.call("POST", "/tenants", json={"name": "Zeta", "slug": "zeta"}, expect=201)
    run = env.call("POST", "/billing/runs", json={"period": "2026-10"}, expect=200).json()
    assert run["created"] == ["F2026-000001"]
    assert [(k["slug"], k["reason"]) for k in run["skips"]] == [("zeta", "no_plan")]
    invoice = env.call("GET", "/invoices", viewer, expect=200).json()[0]
    # 49.00 + 1 device x 1.50 + 2 excess x 0.01 = 50.52; VAT 5.5 % = 2.7786 -> 2.78; total 53.30
    assert (invoice["subtotal_cents"], invoice["vat_rate_bp"], invoice["vat_cents"], invoice["total_cents"]) == (
        5052, 550, 278, 5330)
    assert invoice["status"] == "unpaid" and invoice["paid_on"] is None

    env.call("PUT", f"/invoices/{invoice['id']}/payment", viewer, json={"paid_on": "2026-11-20"}, expect=403)
    paid = env.call("PUT", f"/invoices/{invoice['id']}/payment", json={"paid_on": "2026-11-20", "reference": "VIR 42"},
                    expect=200).json()
    assert (paid["status"], paid["paid_on"], paid["reference"]) == ("paid", "2026-11-20", "VIR 42")
    assert env.call("GET", f"/invoices/{invoice['id']}", viewer, expect=200).json()["status"] == "paid"
    env.call("DELETE", f"/invoices/{invoice['id']}/payment", expect=200)
    env.app.state.lora_city.clock.now = datetime(2027, 1, 5, tzinfo=UTC)  # past the due date (3 December)
    assert env.call("GET", f"/invoices/{invoice['id']}", viewer, expect=200).json()["status"] == "overdue"
    note = env.call("POST", f"/invoices/{invoice['id']}/credit-note", json={"reason": "geste commercial"},
                    expect=201).json()
    assert note["status"] == "credit_note"
    assert env.call("GET", f"/invoices/{invoice['id']}", viewer, expect=200).json()["status"] == "credited"
    again = env.call("POST", f"/invoices/{invoice['id']}/credit-note", json={"reason": "twice"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_credited"
    unpayable = env.call("PUT", f"/invoices/{note['id']}/payment", json={"paid_on": "2027-01-05"})
    assert unpayable.status_code == 409 and unpayable.json()["error"]["code"] == "not_payable"


def test_plan_edit_bounds_and_deletion(env: Env) -> None:
    tenant, plan = lessee(env)
    huge = env.call("PATCH", f"/plans/{plan}", json={"max_devices": 10**30})
    assert huge.status_code == 422
    assert env.call("PATCH", f"/plans/{plan}", json={"max_devices": None}, expect=200).json()["max_devices"] is None
    other = env.call("POST", "/plans", json={"name": "other"}, expect=201).json()["id"]
    clash = env.call("PATCH", f"/plans/{other}", json={"name": "starter"})
    assert clash.status_code == 409
    in_use = env.call("DELETE", f"/plans/{plan}")
    assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "plan_in_use"
    env.call("PUT", f"/plans/{other}/prices", json={"monthly_fee_cents": 100}, expect=200)
    env.call("DELETE", f"/plans/{other}", expect=204)  # its prices go with it
    env.call("GET", f"/plans/{other}/prices", expect=404)
    env.call("DELETE", f"/plans/{plan}", env.key("tenant_admin", tenant), expect=403)
