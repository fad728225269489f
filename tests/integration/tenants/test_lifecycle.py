"""A lessee's life through the API: a plan with caps, suspension (uplinks dropped, keys refused), resumption,
usage and invoices, and deletion only after an export."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from billing.meter import UsageMeter
from billing.models import BillingConfig, Invoice, PriceTable
from billing.run import run_billing
from lora_city.metrics import Metrics
from lora_city.sinks.events import DeviceInfo
from lora_city.storage.db import transaction
from lora_city.storage.models import Device, Reading, Tenant
from tests.integration.billing.conftest import ISSUER, uplink
from tests.integration.tenants.conftest import Env

PLAN = {"name": "starter", "max_devices": 2, "max_gateways": 1, "uplinks_per_device_day": 3,
        "downlinks_per_device_day": 1, "private_up_allowed": True}


def lessee(env: Env, slug: str = "acme") -> tuple[str, str]:
    plan = env.call("POST", "/plans", json=PLAN, expect=201).json()["id"]
    tenant = env.call("POST", "/tenants", json={"name": slug, "slug": slug}, expect=201).json()["id"]
    env.call("PUT", f"/tenants/{tenant}/plan", json={"plan_id": plan}, expect=200)
    return tenant, plan


def test_plan_caps_devices_and_private_gateways(env: Env) -> None:
    tenant, _ = lessee(env)
    admin = env.key("tenant_admin", tenant)
    for n in (1, 2):
        env.call("POST", "/devices", admin, json={"dev_eui": f"00000000000000a{n}", "name": "d"}, expect=201)
    third = env.call("POST", "/devices", admin, json={"dev_eui": "00000000000000a3", "name": "d"})
    assert third.status_code == 429 and third.json()["error"]["code"] == "plan_devices"
    env.call("POST", "/gateways", admin, json={"gateway_id": "aa00000000000001", "name": "g", "private_up": True},
             expect=201)  # private uplinks are in the plan
    second = env.call("POST", "/gateways", admin, json={"gateway_id": "aa00000000000002", "name": "g"})
    assert second.status_code == 429 and second.json()["error"]["code"] == "plan_gateways"
    down = env.call("PATCH", "/gateways/aa00000000000001", admin, json={"private_down": True})
    assert down.status_code == 403 and down.json()["error"]["code"] == "plan_private"
    with env.factory() as s:
        assert s.scalar(select(func.count()).select_from(Device).where(Device.tenant_id == tenant)) == 2


def test_suspension_drops_uplinks_and_refuses_keys_until_resumed(env: Env) -> None:
    tenant, _ = lessee(env)
    key = env.key("tenant_viewer", tenant)
    dev = DeviceInfo(dev_eui="00000000000000a1", tenant_id=tenant)
    with env.factory() as s:
        env.quota.load(s)
    assert env.quota.allow_uplink(dev, 20, 50.0)
    env.call("GET", "/quota", key, expect=200)
    suspended = env.call("POST", f"/tenants/{tenant}/suspend", expect=200).json()
    assert suspended["status"] == "suspended"
    refused = env.call("GET", "/quota", key)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "tenant_suspended"
    assert not env.quota.allow_uplink(dev, 20, 50.0)  # the live policy was reloaded by the route
    assert env.call("POST", f"/tenants/{tenant}/suspend", env.key("tenant_admin", tenant)).status_code == 401
    env.call("POST", f"/tenants/{tenant}/resume", expect=200)
    assert env.quota.allow_uplink(dev, 20, 50.0)
    gauges = env.call("GET", "/quota", key, expect=200).json()
    assert gauges["plan"]["name"] == "starter" and gauges["day"] == "2026-11-03"
    assert {g["kind"]: g["used"] for g in gauges["totals"]} == {"uplinks": 2, "airtime_ms": 100.0, "downlinks": 0}


def test_a_tenant_admin_cannot_suspend_its_own_tenant(env: Env) -> None:
    tenant, _ = lessee(env)
    r = env.call("POST", f"/tenants/{tenant}/suspend", env.key("tenant_admin", tenant))
    assert r.status_code == 403


def test_usage_and_invoice_downloads(env: Env) -> None:
    tenant, plan = lessee(env)
    env.call("POST", "/devices", json={"dev_eui": "00000000000000a1", "name": "d", "tenant_id": tenant}, expect=201)
    with transaction(env.factory) as s:
        s.add(BillingConfig(id=1, **ISSUER))
        s.add(PriceTable(plan_id=plan, monthly_fee_cents=2500, device_tiers=[{"from": 0, "millicents": 150_000}]))
    meter = UsageMeter(env.factory, Metrics())
    for iso in ("2026-10-01T08:00:00+00:00", "2026-10-01T09:00:00+00:00", "2026-10-31T23:10:00+00:00"):
        meter.submit(uplink(tenant, "00000000000000a1", iso, 61.7, copies=3))
    meter.flush()
    viewer = env.key("tenant_viewer", tenant)
    october = env.call("GET", "/usage?period=2026-10", viewer, expect=200).json()
    assert october["totals"]["uplinks"] == 2 and october["totals"]["duplicates"] == 4  # 31 Oct 23:10Z is 1 Nov
    assert october["totals"]["airtime_up_ms"] == 123.4 and october["totals"]["active_devices"] == 1
    assert [d["key"] for d in october["days"]] == ["2026-10-01"]
    november = env.call("GET", "/usage", viewer, expect=200).json()  # the clock says 3 November
    assert november["period"] == "2026-11" and november["totals"]["uplinks"] == 1
    csv_text = env.call("GET", "/usage/devices.csv?period=2026-10", viewer, expect=200).text
    assert csv_text.splitlines()[1] == "00000000000000a1,2,4,0,123.400,0.000,40,0,yes"
    env.call("POST", "/billing/runs", viewer, json={"period": "2026-10"}, expect=403)
    run = env.call("POST", "/billing/runs", json={"period": "2026-10"}, expect=200).json()
    assert run["created"] == ["F2026-000001"]
    invoices = env.call("GET", "/invoices", viewer, expect=200).json()
    # 25.00 fee + 1 device x 1.50 = 26.50; VAT 5.30; total 31.80
    assert [(i["number"], i["subtotal_cents"], i["vat_cents"], i["total_cents"]) for i in invoices] == [
        ("F2026-000001", 2650, 530, 3180)]
    pdf = env.call("GET", f"/invoices/{invoices[0]['id']}/pdf", viewer, expect=200)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert env.call("GET", f"/invoices/{invoices[0]['id']}/csv", viewer, expect=200).text.endswith(",31.80,\n")


def test_deletion_exports_first_then_deletes(env: Env) -> None:
    tenant, plan = lessee(env)
    env.call("POST", "/devices", json={"dev_eui": "00000000000000a1", "name": "meter", "tenant_id": tenant},
             expect=201)
    with transaction(env.factory) as s:
        s.add(BillingConfig(id=1, **ISSUER))
        s.add(PriceTable(plan_id=plan, monthly_fee_cents=1000))
        s.add(Reading(uplink_id="u1", dev_eui="00000000000000a1", tenant_id=tenant, f_cnt=7,
                      time=datetime(2026, 10, 2, tzinfo=UTC), measurements={"volume": {"value": 1.5, "unit": "m3"}}))
    run_billing(env.factory, "2026-10", today=date(2026, 11, 3))
    r = env.call("DELETE", f"/tenants/{tenant}/lease", expect=200)
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert {"tenant.json", "devices.json", "gateways.json", "applications.json", "readings.jsonl",
            "invoices/F2026-000001.pdf", "invoices/F2026-000001.csv", "invoices/index.json"} <= set(z.namelist())
    assert json.loads(z.read("devices.json"))[0]["name"] == "meter"
    assert json.loads(z.read("readings.jsonl").splitlines()[0])["f_cnt"] == 7
    assert (env.export_dir / f"acme-{tenant}.zip").read_bytes() == r.content  # kept on disk as well
    with env.factory() as s:
        assert s.get(Tenant, tenant) is None and s.get(Device, "00000000000000a1") is None
        assert s.scalar(select(func.count()).select_from(Reading).where(Reading.tenant_id == tenant)) == 0
        assert s.scalar(select(func.count()).select_from(Invoice).where(Invoice.tenant_id == tenant)) == 1


def test_refresh_loop_picks_up_changes_made_elsewhere(env: Env) -> None:
    import asyncio

    tenant, _ = lessee(env)
    dev = DeviceInfo(dev_eui="00000000000000a1", tenant_id=tenant)

    async def run() -> None:
        task = asyncio.create_task(env.quota.refresh_loop(env.factory, interval_s=0.05))
        await asyncio.sleep(0.2)
        for _ in range(4):  # within the plan's 3 a day, then dropped: the plan was loaded by the loop
            env.quota.allow_uplink(dev, 20, 10.0)
        with transaction(env.factory) as s:  # suspended directly in the database (not through the API)
            row = s.get(Tenant, tenant)
            assert row is not None
            row.status = "suspended"
        await asyncio.sleep(0.3)
        task.cancel()

    env.quota.set_tenants({})
    asyncio.run(run())
    assert env.quota.tenant_gauges(tenant)[0].used == 3
    assert env.quota.device_gauges(tenant, [dev.dev_eui])[dev.dev_eui][0].limit == 3
    assert not env.quota.allow_uplink(DeviceInfo(dev_eui="00000000000000a2", tenant_id=tenant), 20, 10.0)
