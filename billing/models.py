"""Tables of billing/: metered daily usage, price tables, invoices (never changed once final) and their numbers.

Money is integer cents; unit prices of metered items are integer millicents (1/1000 cent), because a message
costs a fraction of a cent. Airtime is integer microseconds, so sums are exact.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.errors import Conflict
from lora_city.storage.models.base import Base, new_id, utcnow


class UsageDaily(Base):
    """One device's usage on one Europe/Paris calendar day; the meter adds its batches to these counters."""

    __tablename__ = "billing_usage_daily"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dev_eui", "day", name="uq_billing_usage_daily_key"),
        Index("ix_billing_usage_daily_day_tenant", "day", "tenant_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(36))  # no FK: usage outlives a deleted tenant's rows
    dev_eui: Mapped[str] = mapped_column(String(16))
    day: Mapped[date]
    uplinks: Mapped[int] = mapped_column(default=0)
    copies: Mapped[int] = mapped_column(default=0)  # gateway copies received, incl. the first
    downlinks: Mapped[int] = mapped_column(default=0)
    airtime_up_us: Mapped[int] = mapped_column(BigInteger, default=0)
    airtime_down_us: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_up: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_down: Mapped[int] = mapped_column(BigInteger, default=0)


class PriceTable(Base):
    """The prices of a plan (tenants' ``tenant_plans``). ``device_tiers`` are graduated volume tiers:
    ``[{"from": 0, "millicents": 100000}, {"from": 100, "millicents": 80000}]`` prices devices 1-100 at 1.00
    and the 101st onwards at 0.80 per active device."""

    __tablename__ = "billing_price_tables"

    plan_id: Mapped[str] = mapped_column(ForeignKey("tenant_plans.id", ondelete="CASCADE"), primary_key=True)
    monthly_fee_cents: Mapped[int] = mapped_column(default=0)
    device_tiers: Mapped[list[Any]] = mapped_column(default=list)
    overage_uplink_millicents: Mapped[int] = mapped_column(default=0)  # per uplink beyond the allowance
    overage_airtime_s_millicents: Mapped[int] = mapped_column(default=0)  # per started second beyond it
    # Graduated overage tiers, as ``device_tiers`` (``from`` counts the excess of the month). When set they
    # replace the flat overage price above: e.g. the first 10,000 extra uplinks at 0.01, the rest at 0.005.
    overage_uplink_tiers: Mapped[list[Any]] = mapped_column(default=list)
    overage_airtime_tiers: Mapped[list[Any]] = mapped_column(default=list)
    # VAT of this plan's invoices in basis points; None: the issuer's rate (billing_config.vat_rate_bp).
    vat_rate_bp: Mapped[int | None] = mapped_column(default=None)


class BillingConfig(Base):
    """The issuer (the city) as printed on invoices, and the rates. One row, id 1."""

    __tablename__ = "billing_config"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    siret: Mapped[str] = mapped_column(String(14))
    vat_number: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(200), default="")
    vat_rate_bp: Mapped[int] = mapped_column(default=2000)  # basis points: 2000 = 20 %
    payment_days: Mapped[int] = mapped_column(default=30)
    late_penalty: Mapped[str] = mapped_column(String(200), default="3 fois le taux d'intérêt légal")
    # How customers pay, printed on every invoice: "transfer" (bank transfer to ``iban``/``bic``) or
    # "public_accountant" (a public body's revenue is collected by its public accountant, the Trésor public:
    # ``payment_details`` names the accountant and how to pay, e.g. "Service de gestion comptable de …").
    payment_method: Mapped[str] = mapped_column(String(20), default="transfer")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    payment_details: Mapped[str] = mapped_column(String(500), default="")


class NumberSequence(Base):
    """The next number of a series. Read and bumped in the transaction that finalises the document, so a
    rolled-back invoice gives its number back: no gaps."""

    __tablename__ = "billing_sequences"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_number: Mapped[int] = mapped_column(default=1)


class Invoice(Base):
    """An invoice, credit note or internal chargeback report. Written once, final: never updated or deleted
    (a correction is a credit note). Issuer and customer details are copied in, as they were on that day."""

    __tablename__ = "billing_invoices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # invoice | credit_note | chargeback
    # "tenant:period:kind" for run documents, so a rerun cannot insert a second one; None for credit notes.
    run_key: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)  # no FK: invoices are kept 10 years
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    issued_on: Mapped[date]
    due_on: Mapped[date | None] = mapped_column(default=None)
    credits_invoice_id: Mapped[str | None] = mapped_column(String(36), default=None)
    note: Mapped[str] = mapped_column(String(500), default="")  # e.g. why a credit note was issued
    issuer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    customer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    subtotal_cents: Mapped[int]
    vat_rate_bp: Mapped[int]
    vat_cents: Mapped[int]
    total_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvoiceLine(Base):
    __tablename__ = "billing_invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("billing_invoices.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(30))  # plan | devices | overage_uplinks | overage_airtime | credit
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price_millicents: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class Payment(Base):
    """An invoice's payment as the operator recorded it. Beside the invoice, not on it: an invoice is final, its
    payment status is not (a payment recorded by mistake is removed)."""

    __tablename__ = "billing_payments"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("billing_invoices.id"), primary_key=True)
    paid_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(100), default="")  # the transfer's or the receipt's reference
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


def _refuse_change(_mapper: Any, _conn: Any, target: Any) -> None:
    raise Conflict(f"{type(target).__name__} is final and cannot be changed; issue a credit note",
                   code="invoice_final")


for _cls in (Invoice, InvoiceLine):
    event.listen(_cls, "before_update", _refuse_change)
    event.listen(_cls, "before_delete", _refuse_change)
