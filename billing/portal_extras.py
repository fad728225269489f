"""billing/ and tenants/ (invoices, usage, quota gauges, plans, lease) adapted to the portal's ``PortalExtras``: what a composition root passes to
``mount_portal`` when the billing package is installed (the core never imports it; lora_city/main.py wires it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import pages, payments
from billing.documents import euros, file_name, invoice_csv, invoice_pdf
from billing.exports import device_day_usage_csv, invoice_files
from billing.lease import lease_summary
from billing.models import Invoice, InvoiceLine
from lora_city.errors import NotFound
from lora_city.portal import (
    InvoiceDocument,
    InvoiceSummary,
    LeaseSummary,
    PlanSummary,
    PortalExtras,
    QuotaGauge,
)
from lora_city.portal.extras import InvoiceFormat
from lora_city.services.principal import Principal
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Device
from tenants import lifecycle as tenant_lifecycle
from tenants import plans as tenant_plans
from tenants.calendar import paris_day, parse_period
from tenants.models import Plan
from tenants.quota import KINDS, PlanQuotaPolicy


def billing_extras(
    factory: SessionFactory, clock: Callable[[], datetime], policy: PlanQuotaPolicy | None = None,
    vault: KeyVault | None = None, export_dir: Path | None = None,
) -> PortalExtras:
    def invoices(session: Session, tenant_id: str) -> list[InvoiceSummary]:
        rows = list(session.scalars(select(Invoice).where(Invoice.tenant_id == tenant_id)
                                    .order_by(Invoice.issued_on.desc(), Invoice.number.desc())))
        found = payments.states(session, rows, paris_day(clock()))
        return [InvoiceSummary(i.id, i.number, i.period, euros(i.total_cents), found[i.id].status, i.kind,
                               i.due_on.isoformat() if i.due_on else "", i.total_cents) for i in rows]

    def invoice_file(session: Session, tenant_id: str, invoice_id: str, fmt: InvoiceFormat) -> InvoiceDocument:
        inv = session.get(Invoice, invoice_id)
        if inv is None or inv.tenant_id != tenant_id:
            raise NotFound("invoice not found")
        lines = list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                     .order_by(InvoiceLine.position)))
        body = invoice_pdf(inv, lines) if fmt == "pdf" else invoice_csv(inv, lines)
        return InvoiceDocument(file_name(inv, fmt), body)

    def plans(session: Session) -> list[PlanSummary]:
        return [PlanSummary(p.id, p.name) for p in session.scalars(select(Plan).order_by(Plan.name))]

    def usage_export(session: Session, tenant_id: str, period: str) -> str:
        first, end = parse_period(period)
        return device_day_usage_csv(session, tenant_id, first, end).decode()

    def lease(session: Session, tenant_id: str, period: str, language: str) -> LeaseSummary:
        first, end = parse_period(period)
        return lease_summary(session, tenant_id, first, end, period, language)

    def quotas(session: Session, tenant_id: str) -> list[QuotaGauge]:
        """Today's tenant totals, and for each kind the busiest device against the plan's per-device limit."""
        assert policy is not None
        gauges = [QuotaGauge(g.kind, g.used, g.limit) for g in policy.tenant_gauges(tenant_id)]
        euis = session.scalars(select(Device.dev_eui).where(Device.tenant_id == tenant_id))
        per_device = policy.device_gauges(tenant_id, euis)
        for i, kind in enumerate(KINDS):
            busiest = max((gs[i] for gs in per_device.values()), key=lambda g: g.used, default=None)
            if busiest is not None and busiest.limit is not None:
                gauges.append(QuotaGauge(f"device_{kind}", busiest.used, busiest.limit))
        return gauges

    def assign_plan(session: Session, principal: Principal, tenant_id: str, plan_id: str | None) -> None:
        tenant_plans.assign_plan(session, principal, tenant_id, plan_id)

    def set_tenant_status(session: Session, principal: Principal, tenant_id: str, status: str) -> None:
        tenant_lifecycle.set_status(session, principal, tenant_id, status,
                                    on_change=(lambda: policy.load(session)) if policy is not None else None)

    def export_tenant(session: Session, principal: Principal, tenant_id: str) -> bytes:
        return tenant_lifecycle.export_tenant(session, principal, tenant_id, (invoice_files,))

    def close_lease(session: Session, principal: Principal, tenant_id: str) -> str:
        assert export_dir is not None
        path = tenant_lifecycle.delete_tenant(session, principal, tenant_id, export_dir, (invoice_files,),
                                              on_change=(lambda: policy.load(session)) if policy else None)
        return path.name

    return PortalExtras(assign_plan=assign_plan, set_tenant_status=set_tenant_status,
                                                invoices=invoices, invoice_file=invoice_file, plans=plans,
                        usage_export=usage_export, lease=lease, quotas=quotas if policy is not None else None,
                        routers=pages.routers(policy), template_dirs=(pages.TEMPLATES,), nav=pages.NAV,
                        export_tenant=export_tenant, close_lease=close_lease if export_dir is not None else None)
