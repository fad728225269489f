"""A plan's prices (``billing_price_tables``): the monthly fee, graduated prices per active device, overage
prices (flat or graduated) and the VAT rate. One model for the API and the console's plan form.

Money: cents for the fee, millicents (1/1000 cent) for unit prices. Bounds keep every amount inside a 32-bit
PostgreSQL integer column and every product inside exact integer arithmetic.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from billing.models import PriceTable
from lora_city.errors import NotFound
from lora_city.services.principal import Perm, Principal
from tenants import plans

MAX_CENTS = 2_000_000_000  # 20 million euros: a fee beyond is a typo
MAX_MILLICENTS = 2_000_000_000


class TierIn(BaseModel):
    """Units after the first ``from`` of the month (devices, excess uplinks, excess seconds) cost ``millicents``
    each, until the next tier's ``from``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: int = Field(alias="from", ge=0, le=1_000_000_000)
    millicents: int = Field(ge=0, le=MAX_MILLICENTS)


def _ordered(tiers: list[TierIn]) -> list[TierIn]:
    starts = [t.from_ for t in tiers]
    if len(set(starts)) != len(starts):
        raise ValueError("two tiers start at the same count")
    return sorted(tiers, key=lambda t: t.from_)


class PricesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    monthly_fee_cents: int = Field(default=0, ge=0, le=MAX_CENTS)
    device_tiers: list[TierIn] = Field(default_factory=list, max_length=20)
    overage_uplink_millicents: int = Field(default=0, ge=0, le=MAX_MILLICENTS)
    overage_airtime_s_millicents: int = Field(default=0, ge=0, le=MAX_MILLICENTS)
    overage_uplink_tiers: list[TierIn] = Field(default_factory=list, max_length=20)
    overage_airtime_tiers: list[TierIn] = Field(default_factory=list, max_length=20)
    vat_rate_bp: int | None = Field(default=None, ge=0, le=10_000)  # None: the issuer's rate

    _tiers = field_validator("device_tiers", "overage_uplink_tiers", "overage_airtime_tiers")(_ordered)


class PricesOut(PricesIn):
    plan_id: str


def _tiers_json(tiers: list[TierIn]) -> list[dict[str, int]]:
    return [{"from": t.from_, "millicents": t.millicents} for t in tiers]


def prices_out(row: PriceTable) -> PricesOut:
    return PricesOut.model_validate({
        "plan_id": row.plan_id, "monthly_fee_cents": row.monthly_fee_cents, "device_tiers": row.device_tiers or [],
        "overage_uplink_millicents": row.overage_uplink_millicents,
        "overage_airtime_s_millicents": row.overage_airtime_s_millicents,
        "overage_uplink_tiers": row.overage_uplink_tiers or [], "overage_airtime_tiers": row.overage_airtime_tiers or [],
        "vat_rate_bp": row.vat_rate_bp})


def get_prices(session: Session, principal: Principal, plan_id: str) -> PriceTable | None:
    """The plan's prices (None: the plan has none yet, and its tenants are not invoiced)."""
    plan = plans.get_plan(session, principal, plan_id)  # a lessee sees its own plan only; others are 404
    return session.get(PriceTable, plan.id)


def set_prices(session: Session, principal: Principal, plan_id: str, data: PricesIn) -> PriceTable:
    """Create or replace the plan's prices. Invoices already issued keep their lines (they are final)."""
    plan = plans.get_plan(session, principal, plan_id)  # another tenant's plan: 404 first
    principal.require(Perm.TENANTS_WRITE)
    row = session.get(PriceTable, plan.id) or PriceTable(plan_id=plan.id)
    row.monthly_fee_cents = data.monthly_fee_cents
    row.device_tiers = _tiers_json(data.device_tiers)
    row.overage_uplink_millicents = data.overage_uplink_millicents
    row.overage_airtime_s_millicents = data.overage_airtime_s_millicents
    row.overage_uplink_tiers = _tiers_json(data.overage_uplink_tiers)
    row.overage_airtime_tiers = _tiers_json(data.overage_airtime_tiers)
    row.vat_rate_bp = data.vat_rate_bp
    session.add(row)
    session.commit()
    return row


def remove_prices(session: Session, principal: Principal, plan_id: str) -> None:
    plan = plans.get_plan(session, principal, plan_id)
    principal.require(Perm.TENANTS_WRITE)
    row = session.get(PriceTable, plan.id)
    if row is None:
        raise NotFound("the plan has no prices")
    session.delete(row)
    session.commit()
