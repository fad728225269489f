"""The leasing side of ``lora-city serve --demo`` (a ``lora_city.simulate.demo.LeasingSeed``, wired by the
composition root): the demo lessee's plan with its prices, the city as issuer, the lessee's metered usage since
the first day of last month, and last month's invoice, issued by the ordinary billing run. So the lessee's
usage and invoice pages and the operator's billing page have something real to show on a fresh demo.

Idempotent: a second start changes nothing that is there (the run itself is idempotent).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from billing.issuer import IssuerIn, save_issuer
from billing.meter import UsageMeter
from billing.models import BillingConfig, PriceTable, UsageDaily
from billing.prices import PricesIn, set_prices
from billing.run import run_billing
from lora_city.lorawan.airtime import time_on_air
from lora_city.metrics import Metrics
from lora_city.services.principal import Principal, Role
from lora_city.simulate.demo import DemoWorld
from lora_city.sinks.events import DeviceInfo, UplinkEvent
from lora_city.storage.db import SessionFactory
from lora_city.storage.models import Tenant
from tenants.calendar import PARIS, paris_day
from tenants.models import Plan
from tenants.plans import PlanCreate, assign_plan, create_plan

log = logging.getLogger(__name__)

ROOT = Principal(Role.ADMIN, None)
PLAN = PlanCreate(name="Réseau Pro (démo)", max_devices=500, uplinks_per_device_day=2880,
                  airtime_s_per_device_day=120, downlinks_per_device_day=20, over_quota_action="bill")
# 49.00 € a month, 1.20 € per active device up to 100 then 0.90 €; beyond the daily allowances 0.02 € per
# uplink and 0.10 € per started second of airtime (amounts in cents and millicents, as billing stores them).
PRICES = PricesIn.model_validate({
    "monthly_fee_cents": 4900,
    "device_tiers": [{"from": 0, "millicents": 120_000}, {"from": 100, "millicents": 90_000}],
    "overage_uplink_millicents": 2000, "overage_airtime_s_millicents": 10_000})
# A French commune is paid through its public accountant (the DGFiP's service de gestion comptable).
ISSUER = IssuerIn(
    legal_name="Ville de Nîmes (démo)", address="Place de l'Hôtel de Ville\n30000 Nîmes", siret="21300189700019",
    vat_number="FR33213001897", email="reseau-lora@ville-nimes.example", vat_rate_bp=2000, payment_days=30,
    payment_method="public_accountant",
    payment_details="Service de gestion comptable de Nîmes (démo), à l'ordre du Trésor public, en rappelant le "
                    "numéro de la facture")
UPLINK_EVERY = timedelta(minutes=15)  # a water meter's usual reporting period
PAYLOAD_BYTES = 7  # EM300-DI battery + pulse count


def seed_leasing(factory: SessionFactory, world: DemoWorld, now: datetime) -> None:
    today = paris_day(now)
    first_of_last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    with factory() as s:
        plan = s.scalar(select(Plan).where(Plan.name == PLAN.name)) or create_plan(s, ROOT, PLAN)
        if s.get(PriceTable, plan.id) is None:
            set_prices(s, ROOT, plan.id, PRICES)
        if s.get(BillingConfig, 1) is None:
            save_issuer(s, ISSUER)
            s.commit()
        lessee = s.get(Tenant, world.lessee_id)
        if lessee is not None and lessee.plan_id is None:
            assign_plan(s, ROOT, world.lessee_id, plan.id)
        metered = s.scalar(select(func.count()).select_from(UsageDaily).where(
            UsageDaily.tenant_id == world.lessee_id, UsageDaily.day >= first_of_last_month, UsageDaily.day < today))
    if not metered:
        _meter_past_days(factory, world, first_of_last_month, today)
    period = f"{first_of_last_month:%Y-%m}"
    result = run_billing(factory, period, today=today)
    log.info("demo: billing %s: %d created, %d already there", period, len(result.created), result.existing)


def _meter_past_days(factory: SessionFactory, world: DemoWorld, first: date, end: date) -> None:
    """The lessee's meters reported every 15 minutes from ``first`` to yesterday: counted by the real meter."""
    meter = UsageMeter(factory, Metrics())
    airtime_ms = time_on_air(13 + PAYLOAD_BYTES, 7, 125_000) * 1000
    with factory() as s:
        tenant_name = s.get_one(Tenant, world.lessee_id).name
    start = datetime.combine(first, time(), PARIS).astimezone(UTC)
    stop = datetime.combine(end, time(), PARIS).astimezone(UTC)
    for dev_eui in world.lessee_devices:
        info = DeviceInfo(dev_eui=dev_eui, tenant_id=world.lessee_id, tenant_name=tenant_name,
                          codec_id="milesight-em300-di", family="water")
        when, f_cnt = start, 0
        while when < stop:
            meter.submit(UplinkEvent(
                uplink_id=str(uuid.uuid4()), time=when, device=info, dev_addr="00000000", f_cnt=f_cnt, f_port=85,
                confirmed=False, adr=True, payload=b"", data=None, measurements={}, codec_errors=[],
                codec_warnings=[], rx=[], frequency=868_100_000, spreading_factor=7, bandwidth=125_000, dr=5,
                airtime_ms=airtime_ms, phy_size=13 + PAYLOAD_BYTES, copies=2))
            when += UPLINK_EVERY
            f_cnt += 1
    meter.flush()
