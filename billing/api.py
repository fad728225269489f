"""HTTP routes of billing/: usage (period totals, per day, per device, CSV), invoices (list, PDF, CSV), credit
notes and billing runs for operators. ``install(app)`` adds them after ``create_app``."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import run as billing_run
from billing import usage
from billing.documents import invoice_csv, invoice_pdf
from billing.exports import device_usage_csv
from billing.models import Invoice, InvoiceLine
from lora_city.api.deps import ContextDep, CurrentPrincipal, NowDep, SessionDep
from lora_city.api.schemas import ERROR_RESPONSES, Out, UtcTime
from lora_city.errors import NotFound
from lora_city.services import tenants as core_tenants
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import Device
from tenants.calendar import paris_day, parse_period, period_of

router = APIRouter(prefix="/api/v1", tags=["billing"], responses=ERROR_RESPONSES)


def install(app: FastAPI) -> None:
    app.include_router(router)


class UsageOut(BaseModel):
    key: str  # the day (YYYY-MM-DD) or the dev_eui
    uplinks: int
    duplicates: int
    copies: int
    downlinks: int
    airtime_up_ms: float
    airtime_down_ms: float
    bytes_up: int
    bytes_down: int
    active_devices: int


class PeriodOut(BaseModel):
    tenant_id: str
    period: str
    totals: UsageOut
    days: list[UsageOut]


class LineOut(Out):
    position: int
    code: str
    description: str
    quantity: int
    unit_price_millicents: int
    amount_cents: int


class InvoiceOut(Out):
    id: str
    number: str
    kind: str
    tenant_id: str
    period: str
    issued_on: date
    due_on: date | None
    credits_invoice_id: str | None
    note: str
    subtotal_cents: int
    vat_rate_bp: int
    vat_cents: int
    total_cents: int
    created_at: UtcTime


class InvoiceDetail(InvoiceOut):
    issuer: dict[str, str]
    customer: dict[str, str]
    lines: list[LineOut]


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=r"^\d{4}-\d{2}$")


class RunOut(BaseModel):
    period: str
    created: list[str]
    existing: int
    skipped: int


class CreditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=300)


def _row(row: usage.UsageRow) -> UsageOut:
    return UsageOut(key=row.key, **row.as_dict())


def _scope(session: Session, principal: Principal, tenant_id: str | None, period: str | None, now: datetime
           ) -> tuple[str, str, date, date]:
    principal.require(Perm.READINGS_READ)
    if tenant_id is None:
        if principal.tenant_id is None:
            raise NotFound("tenant not found")
        tenant_id = principal.tenant_id
    tenant_id = core_tenants.get_tenant(session, principal, tenant_id).id
    period = period or period_of(paris_day(now))
    first, end = parse_period(period)
    return tenant_id, period, first, end


@router.get("/usage")
def period_usage(session: SessionDep, principal: CurrentPrincipal, now: NowDep, period: str | None = None,
                 tenant_id: str | None = None) -> PeriodOut:
    """A month's metered usage (default: the current Paris month, as flushed by the meter) and its days."""
    tid, period, first, end = _scope(session, principal, tenant_id, period, now)
    days = usage.by_day(session, tid, first, end)
    device_count = sum(1 for r in usage.by_device(session, tid, first, end) if r.uplinks > 0)  # heard
    sums = {f: sum(getattr(d, f) for d in days) for f in usage.SUMS}
    totals = usage.UsageRow("total", **sums, active_devices=device_count)
    return PeriodOut(tenant_id=tid, period=period, totals=_row(totals), days=[_row(d) for d in days])


@router.get("/usage/devices")
def devices_usage(session: SessionDep, principal: CurrentPrincipal, now: NowDep, period: str | None = None,
                  tenant_id: str | None = None) -> list[UsageOut]:
    tid, _, first, end = _scope(session, principal, tenant_id, period, now)
    return [_row(r) for r in usage.by_device(session, tid, first, end)]


@router.get("/usage/devices.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def devices_usage_csv(session: SessionDep, principal: CurrentPrincipal, now: NowDep, period: str | None = None,
                      tenant_id: str | None = None) -> Response:
    tid, period, first, end = _scope(session, principal, tenant_id, period, now)
    return Response(device_usage_csv(session, tid, first, end), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="usage-{period}.csv"'})


@router.get("/usage/devices/{dev_eui}")
def device_usage(session: SessionDep, principal: CurrentPrincipal, now: NowDep, dev_eui: str,
                 period: str | None = None) -> list[UsageOut]:
    """One device's days in the period."""
    principal.require(Perm.READINGS_READ)
    device = session.get(Device, dev_eui.lower())
    if device is None or not principal.sees(device.tenant_id):
        raise NotFound("device not found")
    first, end = parse_period(period or period_of(paris_day(now)))
    return [_row(r) for r in usage.by_day(session, device.tenant_id, first, end, device.dev_eui)]


# --- invoices --------------------------------------------------------------------------------------------

def _invoice(session: Session, principal: Principal, invoice_id: str) -> tuple[Invoice, list[InvoiceLine]]:
    principal.require(Perm.TENANTS_READ)
    inv = session.get(Invoice, invoice_id)
    if inv is None or not principal.sees(inv.tenant_id):
        raise NotFound("invoice not found")
    lines = list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                 .order_by(InvoiceLine.position)))
    return inv, lines


@router.get("/invoices")
def list_invoices(session: SessionDep, principal: CurrentPrincipal, tenant_id: str | None = None,
                  period: str | None = None) -> list[InvoiceOut]:
    principal.require(Perm.TENANTS_READ)
    stmt = select(Invoice).order_by(Invoice.issued_on.desc(), Invoice.number.desc())
    if (only := principal.tenant_filter()) is not None:
        stmt = stmt.where(Invoice.tenant_id == only)
    if tenant_id is not None:
        stmt = stmt.where(Invoice.tenant_id == tenant_id)
    if period is not None:
        stmt = stmt.where(Invoice.period == period)
    return [InvoiceOut.model_validate(i) for i in session.scalars(stmt)]


@router.get("/invoices/{invoice_id}")
def get_invoice(session: SessionDep, principal: CurrentPrincipal, invoice_id: str) -> InvoiceDetail:
    inv, lines = _invoice(session, principal, invoice_id)
    return InvoiceDetail(**InvoiceOut.model_validate(inv).model_dump(),
                         issuer={k: str(v) for k, v in inv.issuer.items()},
                         customer={k: str(v) for k, v in inv.customer.items()},
                         lines=[LineOut.model_validate(ln) for ln in lines])


@router.get("/invoices/{invoice_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def invoice_pdf_file(session: SessionDep, principal: CurrentPrincipal, invoice_id: str) -> Response:
    inv, lines = _invoice(session, principal, invoice_id)
    return Response(invoice_pdf(inv, lines), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{inv.number}.pdf"'})


@router.get("/invoices/{invoice_id}/csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def invoice_csv_file(session: SessionDep, principal: CurrentPrincipal, invoice_id: str) -> Response:
    inv, lines = _invoice(session, principal, invoice_id)
    return Response(invoice_csv(inv, lines), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{inv.number}.csv"'})


@router.post("/invoices/{invoice_id}/credit-note", status_code=201)
def issue_credit_note(session: SessionDep, principal: CurrentPrincipal, now: NowDep, ctx: ContextDep,
                      invoice_id: str, body: CreditRequest) -> InvoiceOut:
    _invoice(session, principal, invoice_id)  # another tenant's: 404 first
    principal.require(Perm.TENANTS_WRITE)
    # credit notes and runs open their own transactions: the number is taken in the one that writes the document
    note = billing_run.credit_note(ctx.session_factory, invoice_id, reason=body.reason, today=paris_day(now))
    return InvoiceOut.model_validate(note)


@router.post("/billing/runs")
def start_run(principal: CurrentPrincipal, now: NowDep, ctx: ContextDep, body: RunRequest) -> RunOut:
    """Bill a closed month (operators). Safe to call again: existing documents are kept, none duplicated."""
    principal.require(Perm.TENANTS_WRITE)
    result = billing_run.run_billing(ctx.session_factory, body.period, today=paris_day(now))
    return RunOut(period=result.period, created=result.created, existing=result.existing, skipped=result.skipped)

