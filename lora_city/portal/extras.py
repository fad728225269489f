"""Optional services the composition root may hand to the portal. The core never imports tenants/ or billing/;
when those packages are installed, the composition root adapts their functions to these shapes.

Every callable receives an open SQLAlchemy session and the tenant the logged-in user belongs to (the portal has
already decided the tenant; a provider must still answer NotFound for an id outside it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lora_city.services.principal import Principal


@dataclass(frozen=True, slots=True)
class QuotaGauge:
    """One gauge of the dashboard: usage against the plan's limit (``limit`` None: a count without a limit, e.g.
    a tenant's total when limits are per device). ``label`` is looked up as ``quota.<label>`` in the message
    catalogue (uplinks, airtime_ms, downlinks, device_uplinks, device_airtime_ms, device_downlinks), else shown
    as given."""

    label: str
    used: float
    limit: float | None
    unit: str = ""


@dataclass(frozen=True, slots=True)
class InvoiceSummary:
    id: str
    number: str
    period: str  # "2026-10"
    total: str  # already formatted with its currency, e.g. "1 234,56 €" (shown when total_cents is None)
    status: str  # looked up as ``invoice_status.<status>``: unpaid, overdue, paid, credited, credit_note, internal
    kind: str = "invoice"  # looked up as ``invoice_kind.<kind>``: invoice, credit_note, chargeback
    due_on: str = ""  # ISO date, or empty
    total_cents: int | None = None  # in euro cents: the page writes it in the reader's language

    @property
    def due_date(self) -> date | None:
        return date.fromisoformat(self.due_on) if self.due_on else None


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    name: str  # the file's name, after the document's number: "F2026-000001.pdf"
    body: bytes


@dataclass(frozen=True, slots=True)
class LeaseDay:
    """One Paris day of a tenant's metered usage, and how it stood against the plan's per-device allowances."""

    day: date
    uplinks: int
    downlinks: int
    airtime_ms: float
    busiest_uplinks: int  # the busiest device's uplinks that day (the allowance is per device and per day)
    over_allowance: int  # devices past an allowance that day


@dataclass(frozen=True, slots=True)
class LeaseSummary:
    """A tenant's lease as its people see it: the plan, its caps against what is registered, its daily
    allowances, and this month's metered usage day by day (the billing meter: what the invoice counts)."""

    plan: str | None
    devices: int
    max_devices: int | None
    gateways: int
    max_gateways: int | None
    uplinks_per_device_day: int | None
    downlinks_per_device_day: int | None
    airtime_s_per_device_day: int | None
    over_quota_action: str  # drop | bill
    monthly_fee: str | None  # formatted, or None without prices
    period: str  # YYYY-MM
    days: Sequence[LeaseDay]


@dataclass(frozen=True, slots=True)
class PlanSummary:
    id: str
    name: str


InvoiceFormat = Literal["pdf", "csv"]

# (session, tenant_id) -> the tenant's gauges for the current period
QuotaProvider = Callable[[Session, str], Sequence[QuotaGauge]]
# (session, tenant_id) -> the tenant's invoices, newest first
InvoiceLister = Callable[[Session, str], Sequence[InvoiceSummary]]
# (session, tenant_id, invoice_id, format) -> the file; raises lora_city.errors.NotFound for another tenant's
InvoiceRenderer = Callable[[Session, str, str, InvoiceFormat], InvoiceDocument]
# (session, tenant_id, period "YYYY-MM") -> usage per device and per day, with the devices' names, as CSV text
UsageExporter = Callable[[Session, str, str], str]
# (session, tenant_id, period "YYYY-MM", language) -> the lease and the month's usage
LeaseProvider = Callable[[Session, str, str, str], LeaseSummary]
# (session) -> every plan, for the console's tenant form
PlanLister = Callable[[Session], Sequence[PlanSummary]]


# (session, principal, tenant_id, plan_id or None) -> None; the provider checks the principal's permissions
PlanAssigner = Callable[[Session, Principal, str, str | None], None]
# (session, principal, tenant_id, "active"|"suspended") -> None; a suspended tenant's traffic and keys are refused
TenantStatusSetter = Callable[[Session, Principal, str, str], None]
# (session, principal, tenant_id) -> the tenant's data as a zip (devices, gateways, readings, invoices)
TenantExporter = Callable[[Session, Principal, str], bytes]
# (session, principal, tenant_id) -> the export's file name, written before the tenant is deleted
LeaseCloser = Callable[[Session, Principal, str], str]


@dataclass(frozen=True, slots=True)
class NavLink:
    """A page a plugin adds to the navigation: ``path`` under the portal's prefix, ``label`` a message key,
    ``audience`` "console" (city staff) or "lessee", ``order`` its place among the core's links (10, 20 …)."""

    path: str
    label: str
    audience: Literal["console", "lessee"]
    order: int


@dataclass(frozen=True, slots=True)
class PortalExtras:
    quotas: QuotaProvider | None = None
    invoices: InvoiceLister | None = None
    invoice_file: InvoiceRenderer | None = None
    usage_export: UsageExporter | None = None
    lease: LeaseProvider | None = None
    plans: PlanLister | None = None
    assign_plan: PlanAssigner | None = None
    set_tenant_status: TenantStatusSetter | None = None
    export_tenant: TenantExporter | None = None
    close_lease: LeaseCloser | None = None
    # Whole pages of a plugin (billing's plans, prices, invoices, issuer): routers built on the portal's own
    # plumbing (lora_city.portal.web), their templates' folders, and their places in the navigation.
    routers: Sequence[APIRouter] = ()
    template_dirs: Sequence[Path] = ()
    nav: Sequence[NavLink] = ()
