"""Reading metered usage back: a month per tenant (for the rating, in one aggregate query for every tenant),
per day and per device (for the API and the CSV export). Days are Paris days, half-open ranges [first, end)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from billing.models import UsageDaily
from billing.rating import PeriodUsage
from lora_city.storage.models import Tenant
from tenants.models import Plan

U = UsageDaily
SUMS = ("uplinks", "copies", "downlinks", "airtime_up_us", "airtime_down_us", "bytes_up", "bytes_down")
_PERIOD_FIELDS = [f.name for f in fields(PeriodUsage)]  # the query selects them in this order


def _excess(value: Any, allowance: Any) -> ColumnElement[int]:
    """What a device-day used beyond its allowance, counted only on plans that bill the excess."""
    billed = and_(Plan.over_quota_action == "bill", allowance.is_not(None), value > allowance)
    return func.coalesce(func.sum(case((billed, value - allowance), else_=literal(0))), 0)


def period_usage(session: Session, first: date, end: date, tenant_ids: Collection[str] | None = None
                 ) -> dict[str, PeriodUsage]:
    active = func.count(func.distinct(case((U.uplinks > 0, U.dev_eui))))
    stmt = (
        select(
            U.tenant_id, active, *(func.sum(getattr(U, name)) for name in SUMS),
            _excess(U.uplinks, Plan.uplinks_per_device_day),
            _excess(U.airtime_up_us, Plan.airtime_s_per_device_day * 1_000_000),
        )
        .join(Tenant, Tenant.id == U.tenant_id)
        .outerjoin(Plan, Plan.id == Tenant.plan_id)
        .where(U.day >= first, U.day < end)
        .group_by(U.tenant_id)
    )
    if tenant_ids is not None:
        stmt = stmt.where(U.tenant_id.in_(list(tenant_ids)))
    result: dict[str, PeriodUsage] = {}
    for row in session.execute(stmt):
        values = [int(v or 0) for v in row[1:]]
        result[row[0]] = PeriodUsage(**dict(zip(_PERIOD_FIELDS, values, strict=True)))
    return result


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
