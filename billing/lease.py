"""A tenant's lease for its own pages: its plan (caps, per-device daily allowances, monthly fee) against what it
has registered, and a month of metered usage day by day with the busiest device of each day, so "usage against
the plan" reads from the same counters as the invoice and the usage CSV."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.models import PriceTable, UsageDaily
from billing.pages.money import money
from lora_city.portal import LeaseDay, LeaseSummary
from lora_city.storage.models import Device, Gateway, Tenant
from tenants.models import Plan


def lease_summary(session: Session, tenant_id: str, first: date, end: date, period: str,
                  language: str) -> LeaseSummary:
    tenant = session.get(Tenant, tenant_id)
    plan = session.get(Plan, tenant.plan_id) if tenant is not None and tenant.plan_id else None
    prices = session.get(PriceTable, plan.id) if plan is not None else None
    devices = session.scalar(select(func.count()).select_from(Device).where(Device.tenant_id == tenant_id)) or 0
    gateways = session.scalar(select(func.count()).select_from(Gateway).where(Gateway.tenant_id == tenant_id)) or 0
    up_limit = plan.uplinks_per_device_day if plan else None
    down_limit = plan.downlinks_per_device_day if plan else None
    air_limit = plan.airtime_s_per_device_day if plan else None
    per_day: dict[date, list[UsageDaily]] = defaultdict(list)
    for row in session.scalars(select(UsageDaily).where(UsageDaily.tenant_id == tenant_id, UsageDaily.day >= first,
                                                        UsageDaily.day < end)):
        per_day[row.day].append(row)
    days = []
    for day in sorted(per_day):
        rows = per_day[day]
        over = sum(1 for r in rows if (up_limit is not None and r.uplinks > up_limit)
                   or (down_limit is not None and r.downlinks > down_limit)
                   or (air_limit is not None and r.airtime_up_us > air_limit * 1_000_000))
        days.append(LeaseDay(day, sum(r.uplinks for r in rows), sum(r.downlinks for r in rows),
                             sum(r.airtime_up_us for r in rows) / 1000, max(r.uplinks for r in rows), over))
    return LeaseSummary(
        plan=plan.name if plan else None, devices=devices, max_devices=plan.max_devices if plan else None,
        gateways=gateways, max_gateways=plan.max_gateways if plan else None, uplinks_per_device_day=up_limit,
        downlinks_per_device_day=down_limit, airtime_s_per_device_day=air_limit,
        over_quota_action=plan.over_quota_action if plan else "drop",
        monthly_fee=money(prices.monthly_fee_cents, language) if prices is not None else None, period=period,
        days=days)
