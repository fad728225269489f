"""HTTP routes of billing/: usage (period totals, per day, per device, CSV), invoices (list, PDF, CSV), credit
notes and billing runs for operators. ``install(app)`` adds them after ``create_app``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import payments, prices, usage
from billing import run as billing_run
from billing.documents import file_name, invoice_csv, invoice_pdf
from billing.exports import device_day_usage_csv, device_usage_csv
from billing.issuer import FIELDS, IssuerIn, save_issuer
from billing.models import Invoice, InvoiceLine
from billing.prices import PricesIn, PricesOut
from lora_city.api.deps import ContextDep, CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, Out, UtcTime
from lora_city.errors import NotFound
from lora_city.services import tenants as core_tenants
from lora_city.services.common import INPUT_CONFIG, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import Device
from tenants.calendar import paris_day, parse_period, period_of

router = APIRouter(prefix="/api/v1", tags=["billing"], responses=ERROR_RESPONSES, dependencies=[SingleQueryValues])


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
    status: str = "unpaid"  # unpaid | overdue | paid | credited | credit_note | internal
    paid_on: date | None = None


class InvoiceDetail(InvoiceOut):
    issuer: dict[str, str]
    customer: dict[str, str]
    lines: list[LineOut]


Period = Annotated[str | None, Query(pattern=r"^[1-9]\d{3}-(0[1-9]|1[0-2])$", description="A month, YYYY-MM")]


class RunRequest(BaseModel):
    model_config = INPUT_CONFIG  # strict: true is not 1, "1" is not 1
    period: str = Field(pattern=r"^[1-9]\d{3}-(0[1-9]|1[0-2])$")


class SkipOut(BaseModel):
    tenant_id: str
    slug: str
    reason: str  # city | no_plan | no_prices | nothing_to_bill
    plan: str


class RunOut(BaseModel):
    period: str
    created: list[str]
    existing: int
    skipped: int
    skips: list[SkipOut]


class CreditRequest(BaseModel):
    model_config = INPUT_CONFIG  # strict: true is not 1, "1" is not 1
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
def period_usage(session: SessionDep, principal: CurrentPrincipal, now: NowDep, period: Period = None,
                 tenant_id: str | None = None) -> PeriodOut:
    """A month's metered usage (default: the current Paris month, as flushed by the meter) and its days."""
    tid, period, first, end = _scope(session, principal, tenant_id, period, now)
    days = usage.by_day(session, tid, first, end)
    device_count = sum(1 for r in usage.by_device(session, tid, first, end) if r.uplinks > 0)  # heard
    sums = {f: sum(getattr(d, f) for d in days) for f in usage.SUMS}
    totals = usage.UsageRow("total", **sums, active_devices=device_count)
    return PeriodOut(tenant_id=tid, period=period, totals=_row(totals), days=[_row(d) for d in days])


@router.get("/usage/devices")
def devices_usage(session: SessionDep, principal: CurrentPrincipal, now: NowDep, period: Period = None,
                  tenant_id: str | None = None) -> list[UsageOut]:
    tid, _, first, end = _scope(session, principal, tenant_id, period, now)
    return [_row(r) for r in usage.by_device(session, tid, first, end)]


@router.get("/usage/devices.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def devices_usage_csv(session: SessionDep, principal: CurrentPrincipal, now: NowDep, period: Period = None,
                      tenant_id: str | None = None, per: Literal["month", "day"] = "month") -> Response:
    """Per device for the month; ``per=day``: per device and per day, with the devices' names."""
    tid, period, first, end = _scope(session, principal, tenant_id, period, now)
    body = device_usage_csv(session, tid, first, end) if per == "month" else device_day_usage_csv(
        session, tid, first, end)
    return Response(body, media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="usage-{period}{"-days" if per == "day" else ""}.csv"'})


@router.get("/usage/devices/{dev_eui}")
def device_usage(session: SessionDep, principal: CurrentPrincipal, now: NowDep, dev_eui: str,
                 period: Period = None) -> list[UsageOut]:
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


def _with_states(session: Session, rows: list[Invoice], now: datetime) -> list[InvoiceOut]:
    found = payments.states(session, rows, paris_day(now))
    return [InvoiceOut.model_validate(i).model_copy(update={"status": found[i.id].status,
                                                             "paid_on": found[i.id].paid_on}) for i in rows]


@router.get("/invoices")
def list_invoices(session: SessionDep, principal: CurrentPrincipal, now: NowDep, tenant_id: str | None = None,
                  period: Period = None) -> list[InvoiceOut]:
    principal.require(Perm.TENANTS_READ)
    stmt = select(Invoice).order_by(Invoice.issued_on.desc(), Invoice.number.desc())
    stmt = visible_only(stmt, principal, Invoice.tenant_id, tenant_id)
    if period is not None:
        stmt = stmt.where(Invoice.period == period)
    return _with_states(session, list(session.scalars(stmt)), now)


@router.get("/invoices/{invoice_id}")
def get_invoice(session: SessionDep, principal: CurrentPrincipal, now: NowDep, invoice_id: str) -> InvoiceDetail:
    inv, lines = _invoice(session, principal, invoice_id)
    return InvoiceDetail(**_with_states(session, [inv], now)[0].model_dump(),
                         issuer={k: str(v) for k, v in inv.issuer.items()},
                         customer={k: str(v) for k, v in inv.customer.items()},
                         lines=[LineOut.model_validate(ln) for ln in lines])


@router.get("/invoices/{invoice_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def invoice_pdf_file(session: SessionDep, principal: CurrentPrincipal, invoice_id: str) -> Response:
    inv, lines = _invoice(session, principal, invoice_id)
    return Response(invoice_pdf(inv, lines), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{file_name(inv, "pdf")}"'})


@router.get("/invoices/{invoice_id}/csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def invoice_csv_file(session: SessionDep, principal: CurrentPrincipal, invoice_id: str) -> Response:
    inv, lines = _invoice(session, principal, invoice_id)
    return Response(invoice_csv(inv, lines), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{file_name(inv, "csv")}"'})


@router.post("/invoices/{invoice_id}/credit-note", status_code=201)
def issue_credit_note(session: SessionDep, principal: CurrentPrincipal, now: NowDep, ctx: ContextDep,
                      invoice_id: str, body: CreditRequest) -> InvoiceOut:
    _invoice(session, principal, invoice_id)  # another tenant's: 404 first
    principal.require(Perm.TENANTS_WRITE)
    # credit notes and runs open their own transactions: the number is taken in the one that writes the document
    note = billing_run.credit_note(ctx.session_factory, invoice_id, reason=body.reason, today=paris_day(now))
    return InvoiceOut.model_validate(note).model_copy(update={"status": "credit_note"})


@router.post("/billing/runs")
def start_run(principal: CurrentPrincipal, now: NowDep, ctx: ContextDep, body: RunRequest) -> RunOut:
    """Bill a closed month (operators). Safe to call again: existing documents are kept, none duplicated."""
    principal.require(Perm.TENANTS_WRITE)
    result = billing_run.run_billing(ctx.session_factory, body.period, today=paris_day(now))
    return RunOut(period=result.period, created=result.created, existing=result.existing, skipped=result.skipped,
                  skips=[SkipOut(tenant_id=k.tenant_id, slug=k.slug, reason=k.reason, plan=k.plan)
                         for k in result.skips])


# --- prices, issuer, payments ------------------------------------------------------------------------------

@router.get("/plans/{plan_id}/prices")
def get_plan_prices(session: SessionDep, principal: CurrentPrincipal, plan_id: str) -> PricesOut:
    """The plan's prices; 404 ``no_prices`` while it has none (its tenants are then not invoiced)."""
    row = prices.get_prices(session, principal, plan_id)
    if row is None:
        raise NotFound("the plan has no prices", code="no_prices")
    return prices.prices_out(row)


@router.put("/plans/{plan_id}/prices")
def put_plan_prices(session: SessionDep, principal: CurrentPrincipal, plan_id: str, body: PricesIn) -> PricesOut:
    """Set (or replace) the plan's prices: the next billing run rates with them; issued invoices keep theirs."""
    return prices.prices_out(prices.set_prices(session, principal, plan_id, body))


@router.delete("/plans/{plan_id}/prices", status_code=204)
def delete_plan_prices(session: SessionDep, principal: CurrentPrincipal, plan_id: str) -> Response:
    prices.remove_prices(session, principal, plan_id)
    return Response(status_code=204)


class IssuerOut(IssuerIn):
    pass


@router.get("/billing/issuer")
def get_issuer(session: SessionDep, principal: CurrentPrincipal) -> IssuerOut:
    """The issuer's legal details and payment instructions, as printed on the next invoices."""
    principal.require(Perm.TENANTS_WRITE)
    config = billing_run.get_config(session)
    return IssuerOut.model_validate({name: getattr(config, name) for name in FIELDS})


@router.put("/billing/issuer")
def put_issuer(session: SessionDep, principal: CurrentPrincipal, body: IssuerIn) -> IssuerOut:
    principal.require(Perm.TENANTS_WRITE)
    save_issuer(session, body)
    session.commit()
    return IssuerOut.model_validate(body.model_dump())


class PaymentOut(BaseModel):
    invoice_id: str
    status: str
    paid_on: date | None
    reference: str


def _payment_out(session: Session, inv: Invoice, now: datetime) -> PaymentOut:
    state = payments.states(session, [inv], paris_day(now))[inv.id]
    return PaymentOut(invoice_id=inv.id, status=state.status, paid_on=state.paid_on, reference=state.reference)


@router.put("/invoices/{invoice_id}/payment")
def put_payment(session: SessionDep, principal: CurrentPrincipal, now: NowDep, invoice_id: str,
                body: payments.PaymentIn) -> PaymentOut:
    """Record the invoice as paid (operators)."""
    _invoice(session, principal, invoice_id)
    payments.record_payment(session, principal, invoice_id, body, actor=principal.identity, now=now)
    return _payment_out(session, _invoice(session, principal, invoice_id)[0], now)


@router.delete("/invoices/{invoice_id}/payment")
def delete_payment(session: SessionDep, principal: CurrentPrincipal, now: NowDep, invoice_id: str) -> PaymentOut:
    """Back to unpaid (a payment recorded by mistake)."""
    _invoice(session, principal, invoice_id)
    payments.clear_payment(session, principal, invoice_id)
    return _payment_out(session, _invoice(session, principal, invoice_id)[0], now)

