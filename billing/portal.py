"""Adapters from tenants/ and billing/ to the web portal's optional hooks (``lora_city.portal.extras``): the
composition root passes ``portal_extras(quota)`` to ``mount_portal(..., extras=...)``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.documents import euros, invoice_csv, invoice_pdf
from billing.exports import device_usage_csv
from billing.models import Invoice, InvoiceLine
from billing.run import run_billing
from lora_city.errors import NotFound
from lora_city.portal.extras import InvoiceFormat, InvoiceSummary, PlanSummary, PortalExtras, QuotaGauge
from lora_city.storage.db import SessionFactory
from tenants.calendar import paris_day, parse_period
from tenants.models import Plan
from tenants.quota import PlanQuotaPolicy

UNITS = {"uplinks": "", "airtime_ms": "ms", "downlinks": ""}


def portal_extras(quota: PlanQuotaPolicy | None, factory: SessionFactory) -> PortalExtras:
    def quotas(_session: Session, tenant_id: str) -> Sequence[QuotaGauge]:
        if quota is None:
            return []
        return [QuotaGauge(g.kind, g.used, g.limit, UNITS[g.kind]) for g in quota.tenant_gauges(tenant_id)]

    def invoices(session: Session, tenant_id: str) -> Sequence[InvoiceSummary]:
        rows = session.scalars(select(Invoice).where(Invoice.tenant_id == tenant_id)
                               .order_by(Invoice.issued_on.desc(), Invoice.number.desc()))
        return [InvoiceSummary(i.id, i.number, i.period, euros(i.total_cents), i.kind) for i in rows]

    def invoice_file(session: Session, tenant_id: str, invoice_id: str, fmt: InvoiceFormat) -> bytes:
        inv = session.get(Invoice, invoice_id)
        if inv is None or inv.tenant_id != tenant_id:
            raise NotFound("invoice not found")
        lines = list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                     .order_by(InvoiceLine.position)))
        return invoice_pdf(inv, lines) if fmt == "pdf" else invoice_csv(inv, lines)

    def usage_export(session: Session, tenant_id: str, period: str) -> str:
        first, end = parse_period(period)
        return device_usage_csv(session, tenant_id, first, end).decode()

    def plans(session: Session) -> Sequence[PlanSummary]:
        return [PlanSummary(p.id, p.name) for p in session.scalars(select(Plan).order_by(Plan.name))]

    def billing_run(_session: Session, period: str) -> str:
        today: date = paris_day(datetime.now(UTC))
        result = run_billing(factory, period, today=today)
        return (f"{period}: {len(result.created)} created, {result.existing} already there, "
                f"{result.skipped} skipped")

    return PortalExtras(quotas=quotas, invoices=invoices, invoice_file=invoice_file, usage_export=usage_export,
                        plans=plans, billing_run=billing_run)
