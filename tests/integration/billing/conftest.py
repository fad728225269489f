"""A migrated database (SQLite and PostgreSQL) and the October 2026 scenario whose invoices are hand-computed
in test_run.py. Usage enters through the real meter, from UplinkEvents, as the pipeline feeds it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from billing.meter import UsageMeter
from billing.models import BillingConfig, PriceTable
from lora_city.metrics import Metrics
from lora_city.sinks.events import DeviceInfo, UplinkEvent
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory, transaction
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import Device, Tenant
from tenants.models import Plan
from tests.support.schema import all_migration_locations


@dataclass
class Db:
    url: str
    engine: Engine
    factory: SessionFactory


def migrated(url: str) -> Db:
    upgrade(url, all_migration_locations())
    engine = make_engine(url)
    return Db(url, engine, make_session_factory(engine))


@pytest.fixture()
def db(database_url: str) -> Iterator[Db]:
    d = migrated(database_url)
    yield d
    d.engine.dispose()


def uplink(tenant_id: str, dev_eui: str, iso: str, airtime_ms: float, *, phy_size: int = 20,
           copies: int = 1, critical: bool = False) -> UplinkEvent:
    return UplinkEvent(
        uplink_id=f"{dev_eui}-{iso}", time=datetime.fromisoformat(iso).astimezone(UTC),
        device=DeviceInfo(dev_eui=dev_eui, tenant_id=tenant_id, is_critical=critical), dev_addr="01020304",
        f_cnt=0, f_port=1, confirmed=False, adr=True, payload=b"", data=None, measurements={}, codec_errors=[],
        codec_warnings=[], rx=[], frequency=868_100_000, spreading_factor=7, bandwidth=125_000, dr=5,
        airtime_ms=airtime_ms, phy_size=phy_size, copies=copies,
    )


ISSUER = {"legal_name": "Ville de Rivebourg", "address": "1 place de l'Hôtel de Ville\n99000 Rivebourg",
          "siret": "21990001200018", "vat_number": "FR41219900012"}


def october_scenario(factory: SessionFactory) -> dict[str, str]:
    """Tenants, plans, prices and devices; returns tenant ids by slug."""
    with transaction(factory) as s:
        s.add(BillingConfig(id=1, **ISSUER))
        pro = Plan(name="pro", uplinks_per_device_day=3, airtime_s_per_device_day=1, over_quota_action="bill")
        basic = Plan(name="basic", uplinks_per_device_day=100, over_quota_action="drop")
        internal = Plan(name="city-internal")
        s.add_all([pro, basic, internal])
        s.flush()
        s.add_all([
            PriceTable(plan_id=pro.id, monthly_fee_cents=4900,
                       device_tiers=[{"from": 0, "millicents": 100_000}, {"from": 2, "millicents": 80_000}],
                       overage_uplink_millicents=2500, overage_airtime_s_millicents=10_000),
            PriceTable(plan_id=basic.id, monthly_fee_cents=1000, device_tiers=[{"from": 0, "millicents": 50_000}]),
            PriceTable(plan_id=internal.id, device_tiers=[{"from": 0, "millicents": 20_000}]),
        ])
        tenants = {
            "acme": Tenant(name="Acme", slug="acme", kind="lessee", plan_id=pro.id, legal_name="ACME Metering SAS",
                           siret="12345678900012", vat_number="FR32123456789", address="5 rue du Port\n99000 Rivebourg"),
            "beta": Tenant(name="Beta", slug="beta", kind="lessee", plan_id=basic.id, legal_name="Beta SARL",
                           siret="98765432100019", vat_number="FR83987654321", language="en"),
            "flood": Tenant(name="Flood cell", slug="flood", kind="city_service", is_critical=True,
                            plan_id=internal.id),
            "noplan": Tenant(name="No plan", slug="noplan", kind="lessee"),
            "city": Tenant(name="Ville", slug="city", kind="city", is_critical=True, plan_id=internal.id),
        }
        s.add_all(tenants.values())
        s.flush()
        ids = {slug: t.id for slug, t in tenants.items()}
        for dev, slug in [("00000000000000d1", "acme"), ("00000000000000d2", "acme"), ("00000000000000d3", "acme"),
                          ("00000000000000d4", "acme"), ("00000000000000d5", "acme"), ("00000000000000b1", "beta"),
                          ("00000000000000f1", "flood")]:
            s.add(Device(dev_eui=dev, tenant_id=ids[slug], name=dev))
    return ids


def feed_october(factory: SessionFactory, ids: dict[str, str]) -> UsageMeter:
    meter = UsageMeter(factory, Metrics())
    acme, beta, flood = ids["acme"], ids["beta"], ids["flood"]
    events = [
        # d1: 1 October 00:30 Paris (CEST) is still 30 September in UTC: 5 uplinks of 400 ms
        *(uplink(acme, "00000000000000d1", f"2026-09-30T22:30:0{i}+00:00", 400.0, copies=2) for i in range(5)),
        # d1: 30 September 23:30 Paris: September, not billed in October (10 uplinks)
        *(uplink(acme, "00000000000000d1", f"2026-09-30T21:30:{i:02d}+00:00", 400.0) for i in range(10)),
        # d2: 25 October (DST ends): 00:30 CEST and 23:30 CET are the same Paris day: 4 uplinks of 100 ms
        uplink(acme, "00000000000000d2", "2026-10-24T22:30:00+00:00", 100.0),
        uplink(acme, "00000000000000d2", "2026-10-24T22:31:00+00:00", 100.0),
        uplink(acme, "00000000000000d2", "2026-10-25T22:30:00+00:00", 100.0),
        uplink(acme, "00000000000000d2", "2026-10-25T22:31:00+00:00", 100.0),
        # d3: 31 October 23:30 CET (October), then 1 November 00:30 CET (November)
        uplink(acme, "00000000000000d3", "2026-10-31T22:30:00+00:00", 1500.0),
        uplink(acme, "00000000000000d3", "2026-10-31T23:30:00+00:00", 1500.0),
        # d5: heard in November only; d4 never: neither is billed for October
        uplink(acme, "00000000000000d5", "2026-10-31T23:45:00+00:00", 100.0),
        uplink(beta, "00000000000000b1", "2026-10-10T10:00:00+00:00", 60.0),
        uplink(flood, "00000000000000f1", "2026-10-12T10:00:00+00:00", 60.0, critical=True),
    ]
    for e in events:
        meter.submit(e)
    meter.flush()
    return meter
