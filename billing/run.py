"""The monthly billing run: one document per tenant and period, each written in its own transaction together
with its number.

Idempotent: a document has a ``run_key`` (tenant, period, kind) under a unique constraint; a rerun skips those
that exist and writes only the missing ones. Atomic per document: a crash leaves either the whole invoice with
its number, or nothing and no number used. Lessees get invoices with VAT; the city's services an internal
chargeback report without VAT; the city itself nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.models import BillingConfig, Invoice, InvoiceLine, PriceTable
from billing.numbering import allocate
from billing.rating import Line, Prices, rate, vat_of, wording
from billing.usage import tenant_period_usage
from lora_city.errors import Conflict, InvalidInput, NotFound
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import Tenant
from tenants.calendar import parse_period
from tenants.models import Plan

log = logging.getLogger(__name__)


# Why a tenant got no document, as codes a page translates: the city's own tenant is never billed; a tenant
# needs a plan, the plan needs prices, and the prices must give at least one line for the month.
SKIP_REASONS = ("city", "no_plan", "no_prices", "nothing_to_bill")


@dataclass(frozen=True, slots=True)
class Skip:
    tenant_id: str
    slug: str
    name: str
    reason: str  # one of SKIP_REASONS
    plan: str = ""


@dataclass
class RunResult:
    period: str
    created: list[str] = field(default_factory=list)  # numbers of the documents written by this run
    existing: int = 0  # already there from an earlier run
    skips: list[Skip] = field(default_factory=list)  # every tenant without a document, and why

    @property
    def skipped(self) -> int:
        return len(self.skips)


def issuer_of(config: BillingConfig) -> dict[str, Any]:
    return {"legal_name": config.legal_name, "address": config.address, "siret": config.siret,
            "vat_number": config.vat_number, "email": config.email, "late_penalty": config.late_penalty,
            "payment_method": config.payment_method, "iban": config.iban, "bic": config.bic,
            "payment_details": config.payment_details}


def customer_of(tenant: Tenant) -> dict[str, Any]:
    return {"tenant_id": tenant.id, "legal_name": tenant.legal_name or tenant.name, "address": tenant.address or "",
            "siret": tenant.siret or "", "vat_number": tenant.vat_number or "", "email": tenant.email or "",
            "language": tenant.language or "fr"}


class NotConfigured(Conflict):
    """The operator's setup is incomplete, not the server broken: a 409 the API documents, never a 500."""

    code = "billing_not_configured"


def find_config(session: Session) -> BillingConfig | None:
    return session.get(BillingConfig, 1)


def get_config(session: Session) -> BillingConfig:
    config = find_config(session)
    if config is None:
        raise NotConfigured("billing is not configured: set the issuer's legal details first (console: Billing > "
                            "Issuer, or `lora-city billing config`)")
    return config


def document_kind(tenant: Tenant) -> str | None:
    return {"lessee": "invoice", "city_service": "chargeback"}.get(tenant.kind)


def run_billing(factory: SessionFactory, period: str, *, today: date) -> RunResult:
    first, end = parse_period(period)
    if today < end:
        raise InvalidInput(f"period {period} is not over yet (Paris time)", code="period_open")
    result = RunResult(period)
    with factory() as session:
        config = get_config(session)
        issuer, vat_rate, payment_days = issuer_of(config), config.vat_rate_bp, config.payment_days
        tenants = list(session.scalars(select(Tenant).order_by(Tenant.slug)))
        plans = {p.id: p for p in session.scalars(select(Plan))}
        prices = {p.plan_id: p for p in session.scalars(select(PriceTable))}
        done = set(session.scalars(select(Invoice.run_key).where(Invoice.period == period)))
        todo: list[tuple[Tenant, str, Plan, PriceTable]] = []
        for tenant in tenants:  # the same order every run: a rerun numbers the rest as the first run would have
            kind = document_kind(tenant)
            plan = plans.get(tenant.plan_id or "")
            price = prices.get(tenant.plan_id or "")
            if kind is None or plan is None or price is None:
                reason = "city" if kind is None else "no_plan" if plan is None else "no_prices"
                result.skips.append(Skip(tenant.id, tenant.slug, tenant.name, reason, plan.name if plan else ""))
            elif f"{tenant.id}:{period}:{kind}" in done:
                result.existing += 1
            else:
                todo.append((tenant, kind, plan, price))
    for tenant, kind, plan, price in todo:
        run_key = f"{tenant.id}:{period}:{kind}"
        with factory() as session:
            usage = tenant_period_usage(session, tenant.id, first, end, plan)
        language = tenant.language or "fr"
        lines = rate(plan.name, _prices(price), usage, language)
        if not lines:
            result.skips.append(Skip(tenant.id, tenant.slug, tenant.name, "nothing_to_bill", plan.name))
            continue
        plan_vat = price.vat_rate_bp if price.vat_rate_bp is not None else vat_rate
        rate_bp = plan_vat if kind == "invoice" else 0
        try:
            with transaction(factory) as session:
                number = _write(session, kind, run_key, tenant, period, today, lines, issuer, rate_bp,
                                today + timedelta(days=payment_days))
        except IntegrityError:  # a concurrent run wrote this document first: nothing lost, no number used
            result.existing += 1
            continue
        result.created.append(number)
        log.info("billing run %s: %s %s for tenant %s", period, kind, number, tenant.slug)
    return result


def credit_note(factory: SessionFactory, invoice_id: str, *, reason: str, today: date) -> Invoice:
    """Cancel a final invoice in full with a credit note: its own number, every line negated."""
    with transaction(factory) as session:
        original = session.get(Invoice, invoice_id)
        if original is None or original.kind != "invoice":
            raise NotFound("invoice not found")
        if session.scalar(select(Invoice.id).where(Invoice.credits_invoice_id == original.id)) is not None:
            raise Conflict(f"invoice {original.number} already has a credit note", code="already_credited")
        language = str(original.customer.get("language", "fr"))
        words = wording(language)
        lines = [Line("credit", words["credit"].format(line=ln.description), -ln.quantity, ln.unit_price_millicents,
                      -ln.amount_cents)
                 for ln in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                                           .order_by(InvoiceLine.position))]
        note_text = (f"Credit note on invoice {original.number}: {reason}" if language == "en"
                     else f"Avoir sur la facture {original.number} : {reason}")
        number = _write(session, "credit_note", None, None, original.period, today, lines, original.issuer,
                        original.vat_rate_bp, None, customer=original.customer, credits=original,
                        reason=note_text)
        note = session.scalars(select(Invoice).where(Invoice.number == number)).one()
        session.expunge(note)
    return note


def _prices(row: PriceTable) -> Prices:
    return Prices(row.monthly_fee_cents, list(row.device_tiers or []), row.overage_uplink_millicents,
                  row.overage_airtime_s_millicents, list(row.overage_uplink_tiers or []),
                  list(row.overage_airtime_tiers or []))


def _write(session: Session, kind: str, run_key: str | None, tenant: Tenant | None, period: str, today: date,
           lines: list[Line], issuer: dict[str, Any], rate_bp: int, due_on: date | None, *,
           customer: dict[str, Any] | None = None, credits: Invoice | None = None, reason: str = "") -> str:
    subtotal = sum(ln.amount_cents for ln in lines)
    vat = vat_of(subtotal, rate_bp)
    number = allocate(session, kind, today)
    invoice = Invoice(
        number=number, kind=kind, run_key=run_key, tenant_id=tenant.id if tenant else credits.tenant_id if credits
        else "", period=period, issued_on=today, due_on=due_on,
        credits_invoice_id=credits.id if credits else None, issuer=issuer,
        customer=customer if customer is not None else customer_of(tenant) if tenant else {},
        subtotal_cents=subtotal, vat_rate_bp=rate_bp, vat_cents=vat, total_cents=subtotal + vat, note=reason,
    )
    session.add(invoice)
    session.flush()
    session.add_all(InvoiceLine(invoice_id=invoice.id, position=i, code=ln.code, description=ln.description,
                                quantity=ln.quantity, unit_price_millicents=ln.unit_price_millicents,
                                amount_cents=ln.amount_cents) for i, ln in enumerate(lines, 1))
    session.flush()
    return number
