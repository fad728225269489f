"""Reading metered usage back: a month per tenant (for the rating, in one aggregate query for every tenant),
per day and per device (for the API and the CSV export). Days are Paris days, half-open ranges [first, end)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import Session

from billing.models import UsageDaily
from billing.rating import PeriodUsage
from lora_city.storage.models import Tenant
from tenants.models import Plan
from tenants.quota import DeviceDayUsage

U = UsageDaily
SUMS = ("uplinks", "copies", "downlinks", "airtime_up_us", "airtime_down_us", "bytes_up", "bytes_down")
_PERIOD_FIELDS = [f.name for f in fields(PeriodUsage)]  # the query selects them in this order


def _excess(value: Any, allowance: int | None) -> ColumnElement[int]:
    """What one device-day used beyond its allowance (the allowance is bound as a parameter: no join per row)."""
    if allowance is None:
        return literal(0)
    return func.sum(case((value > allowance, value - allowance), else_=literal(0)))


def tenant_period_usage(session: Session, tenant_id: str, first: date, end: date, plan: Plan | None
                        ) -> PeriodUsage:
    """One tenant's month. Excess is counted only on plans that bill it (a ``drop`` plan never let it in).

    One query per tenant on the (tenant_id, dev_eui, day) unique index: the rows come in device order, so the
    per-device grouping needs no sort, and the plan's allowances are parameters. Measured ~6x faster on SQLite
    than one GROUP BY over every tenant joined to its plan (bench/billing.py)."""
    bill = plan is not None and plan.over_quota_action == "bill"
    up_limit = plan.uplinks_per_device_day if bill and plan else None
    air = plan.airtime_s_per_device_day if bill and plan else None
    per_device = (
        select(U.dev_eui, *(func.sum(getattr(U, name)).label(name) for name in SUMS),
               _excess(U.uplinks, up_limit).label("excess_uplinks"),
               _excess(U.airtime_up_us, None if air is None else air * 1_000_000).label("excess_airtime_us"))
        .where(U.tenant_id == tenant_id, U.day >= first, U.day < end)
        .group_by(U.dev_eui)
        .subquery()
    )
    c = per_device.c
    row = session.execute(select(
        func.count(case((c.uplinks > 0, 1))),  # heard in the month: billable; registered but silent: free
        *(func.sum(c[name]) for name in (*SUMS, "excess_uplinks", "excess_airtime_us")),
    )).one()
    return PeriodUsage(**dict(zip(_PERIOD_FIELDS, (int(v or 0) for v in row), strict=True)))


def period_usage(session: Session, first: date, end: date, tenant_ids: Collection[str] | None = None
                 ) -> dict[str, PeriodUsage]:
    """Every (or the given) tenant's month, on its current plan."""
    plans = {p.id: p for p in session.scalars(select(Plan))}
    stmt = select(Tenant.id, Tenant.plan_id)
    if tenant_ids is not None:
        stmt = stmt.where(Tenant.id.in_(list(tenant_ids)))
    return {tid: tenant_period_usage(session, tid, first, end, plans.get(plan_id or ""))
            for tid, plan_id in session.execute(stmt).all()}


@dataclass(frozen=True, slots=True)
class UsageRow:
    key: str  # the day (ISO) or the dev_eui
    uplinks: int
    copies: int
    downlinks: int
    airtime_up_us: int
    airtime_down_us: int
    bytes_up: int
    bytes_down: int
    active_devices: int

    @property
    def duplicates(self) -> int:
        return self.copies - self.uplinks

    def as_dict(self) -> dict[str, Any]:
        return {
            "uplinks": self.uplinks, "duplicates": self.duplicates, "copies": self.copies,
            "downlinks": self.downlinks, "airtime_up_ms": self.airtime_up_us / 1000,
            "airtime_down_ms": self.airtime_down_us / 1000, "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down, "active_devices": self.active_devices,
        }


def _grouped(session: Session, group: Any, tenant_id: str, first: date, end: date,
             dev_eui: str | None = None) -> list[UsageRow]:
    active = func.count(func.distinct(case((U.uplinks > 0, U.dev_eui))))
    stmt = (
        select(group, *(func.sum(getattr(U, name)) for name in SUMS), active)
        .where(U.tenant_id == tenant_id, U.day >= first, U.day < end)
        .group_by(group).order_by(group)
    )
    if dev_eui is not None:
        stmt = stmt.where(U.dev_eui == dev_eui)
    return [UsageRow(str(row[0]), *(int(v or 0) for v in row[1:])) for row in session.execute(stmt)]


def by_day(session: Session, tenant_id: str, first: date, end: date, dev_eui: str | None = None) -> list[UsageRow]:
    return _grouped(session, U.day, tenant_id, first, end, dev_eui)


def by_device(session: Session, tenant_id: str, first: date, end: date) -> list[UsageRow]:
    return _grouped(session, U.dev_eui, tenant_id, first, end)


def day_usage(session: Session, day: date) -> list[DeviceDayUsage]:
    """Every device's metered usage of one Paris day: what the live quotas resume from after a restart."""
    stmt = (select(U.tenant_id, U.dev_eui, func.sum(U.uplinks), func.sum(U.airtime_up_us), func.sum(U.downlinks))
            .where(U.day == day).group_by(U.tenant_id, U.dev_eui))
    return [DeviceDayUsage(tenant, dev_eui, int(up or 0), int(air or 0) / 1000.0, int(down or 0))
            for tenant, dev_eui, up, air, down in session.execute(stmt)]
