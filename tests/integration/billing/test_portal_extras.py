"""The portal adapters (billing/portal_extras.py, wired by lora_city/main.py) answer from the same data as the
API, and refuse another tenant's invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from billing.portal_extras import billing_extras
from billing.run import run_billing
from lora_city.errors import NotFound
from lora_city.metrics import Metrics
from tenants.quota import PlanQuotaPolicy
from tests.integration.billing.conftest import Db, feed_october, october_scenario


def test_portal_extras(db: Db) -> None:
    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    run_billing(db.factory, "2026-10", today=date(2026, 11, 3))
    extras = billing_extras(db.factory, lambda: datetime(2026, 11, 3, 9, tzinfo=UTC),
                            PlanQuotaPolicy(Metrics(), lambda _e: None))
    assert extras.invoices and extras.invoice_file and extras.usage_export and extras.plans and extras.quotas
    with db.factory() as s:
        listed = extras.invoices(s, ids["acme"])
        assert [(i.number, i.total, i.period, i.status) for i in listed] == [
            ("F2026-000001", "62,50 EUR", "2026-10", "unpaid")]
        document = extras.invoice_file(s, ids["acme"], listed[0].id, "pdf")
        assert document.body.startswith(b"%PDF") and document.name == "F2026-000001.pdf"
        with pytest.raises(NotFound):
            extras.invoice_file(s, ids["beta"], listed[0].id, "csv")
        # per device and per Paris day (1 October 00:30 Paris is 30 September in UTC), with the device's name
        # (the scenario names its devices after their DevEUI), as the lessee's usage page promises
        lines = extras.usage_export(s, ids["acme"], "2026-10").splitlines()
        assert lines[0] == "day,dev_eui,name,uplinks,duplicates,downlinks,airtime_up_ms,airtime_down_ms,bytes_up,bytes_down"
        assert lines[1] == "2026-10-01,00000000000000d1,00000000000000d1,5,5,0,2000.000,0.000,100,0"
        assert extras.lease is not None
        lease = extras.lease(s, ids["acme"], "2026-10", "fr")
        assert lease.plan == "pro" and lease.days[0].day.isoformat() == "2026-10-01"
        assert [p.name for p in extras.plans(s)] == ["basic", "city-internal", "pro"]
        assert [(g.label, g.used) for g in extras.quotas(s, ids["acme"])] == [
            ("uplinks", 0), ("airtime_ms", 0.0), ("downlinks", 0)]
