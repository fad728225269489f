"""Console pages of invoicing: run a month's billing (every tenant left out says why), the documents of every
tenant with their payment status, a payment recorded or removed, a credit note issued with its reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import payments
from billing.documents import file_name, invoice_csv, invoice_pdf
from billing.models import Invoice, InvoiceLine
from billing.pages.common import StaffDep
from billing.pages.money import money
from billing.run import RunResult, credit_note, find_config, run_billing
from lora_city.errors import Conflict, InvalidInput, LoraCityError, NotFound
from lora_city.portal import csv_header
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser
from lora_city.storage.models import Tenant
from tenants.calendar import paris_day, period_of

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
LIST_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Row:
    invoice: Invoice
    tenant: str
    state: payments.DocumentState


def _last_month(page: Page) -> str:
    return period_of(paris_day(page.ctx.clock()).replace(day=1) - timedelta(days=1))


def _rows(db: Session, today: date, tenant: str, period: str, status: str) -> list[Row]:
    stmt = select(Invoice).order_by(Invoice.issued_on.desc(), Invoice.number.desc()).limit(LIST_LIMIT)
    if tenant:
        stmt = stmt.where(Invoice.tenant_id == tenant)
    if period:
        stmt = stmt.where(Invoice.period == period)
    invoices = list(db.scalars(stmt))
    names = dict(db.execute(select(Tenant.id, Tenant.name)).all())
    states = payments.states(db, invoices, today)
    rows = [Row(i, names.get(i.tenant_id, str(i.customer.get("legal_name", ""))), states[i.id]) for i in invoices]
    return [r for r in rows if not status or r.state.status == status]


def _render(page: Page, db: Session, user: PortalUser, *, status: int = 200, result: RunResult | None = None,
            period: str = "", error: str | None = None, tenant: str = "", shown_period: str = "",
            state: str = "", notice: str = "") -> Response:
    today = paris_day(page.ctx.clock())
    lang = page.language
    return page.render(
        "billing/billing.html", status=status, result=result, period=period or _last_month(page), error=error,
        configured=find_config(db) is not None, rows=_rows(db, today, tenant, shown_period, state),
        tenants=list(db.scalars(select(Tenant).order_by(Tenant.name))), filters={
            "tenant": tenant, "period": shown_period, "status": state},
        statuses=payments.STATUSES, money=lambda c: money(c, lang), today=today.isoformat(), notice=notice)


def _invoice(db: Session, invoice_id: str) -> Invoice:
    inv = db.get(Invoice, invoice_id)
    if inv is None:
        raise NotFound("invoice not found")
    return inv


def invoicing_router() -> APIRouter:
    router = APIRouter(route_class=PortalRoute, prefix="/console/billing")

    @router.get("")
    def billing_page(page: PageDep, user: StaffDep, db: DbDep, tenant: str = "", period: str = "",
                     status: str = "", notice: str = "") -> Response:
        return _render(page, db, user, tenant=tenant, shown_period=period if _PERIOD.match(period) else "",
                       state=status if status in payments.STATUSES else "", notice=notice)

    @router.post("", dependencies=[CsrfChecked])
    def run(page: PageDep, user: StaffDep, db: DbDep, period: Annotated[str, Form(max_length=7)]) -> Response:
        if not _PERIOD.match(period):
            return _render(page, db, user, status=422, period=period, error=page.t("billing.bad_period"))
        try:
            result = run_billing(page.ctx.session_factory, period, today=paris_day(page.ctx.clock()))
        except InvalidInput as exc:
            message = page.t("billing.period_open", period=period) if exc.code == "period_open" else page.error_text(exc)
            return _render(page, db, user, status=422, period=period, error=message)
        except LoraCityError as exc:  # the issuer is not set yet: say where to set it
            return _render(page, db, user, status=409, period=period,
                           error=page.t("billing.not_configured") if exc.code == "billing_not_configured"
                           else page.error_text(exc))
        return _render(page, db, user, result=result, period=period, shown_period=period)

    @router.get("/invoices/{invoice_id}.{fmt}")
    def document(page: PageDep, user: StaffDep, db: DbDep, invoice_id: str, fmt: str) -> Response:
        if fmt not in ("pdf", "csv"):
            raise NotFound("invoice not found")
        inv = _invoice(db, invoice_id)
        lines = list(db.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                .order_by(InvoiceLine.position)))
        # The PDF as issued, in its customer's language; the CSV's columns named in the reader's (issue 17).
        body = (invoice_pdf(inv, lines) if fmt == "pdf"
                else csv_header.localised(invoice_csv(inv, lines).decode(), page.t).encode())
        media = "application/pdf" if fmt == "pdf" else "text/csv; charset=utf-8"
        return Response(body, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{file_name(inv, fmt)}"'})

    @router.post("/invoices/{invoice_id}/payment", dependencies=[CsrfChecked])
    def record_payment(page: PageDep, user: StaffDep, db: DbDep, invoice_id: str,
                       paid_on: Annotated[str, Form(max_length=10)] = "",
                       reference: Annotated[str, Form(max_length=100)] = "") -> Response:
        inv = _invoice(db, invoice_id)
        try:
            data = payments.PaymentIn(paid_on=date.fromisoformat(paid_on), reference=reference)
        except ValueError:
            return _render(page, db, user, status=422, error=page.t("billing.bad_paid_on", number=inv.number))
        payments.record_payment(db, user.principal, inv.id, data, actor=user.email, now=page.ctx.clock())
        return page.redirect(f"/console/billing?notice=paid&period={inv.period}")

    @router.post("/invoices/{invoice_id}/unpaid", dependencies=[CsrfChecked])
    def clear_payment(page: PageDep, user: StaffDep, db: DbDep, invoice_id: str) -> Response:
        inv = _invoice(db, invoice_id)
        payments.clear_payment(db, user.principal, inv.id)
        return page.redirect(f"/console/billing?notice=unpaid&period={inv.period}")

    @router.get("/invoices/{invoice_id}/credit-note")
    def credit_form(page: PageDep, user: StaffDep, db: DbDep, invoice_id: str) -> Response:
        inv = _invoice(db, invoice_id)
        return page.render("billing/credit_note.html", invoice=inv, reason="", errors={},
                           total=money(inv.total_cents, page.language))

    @router.post("/invoices/{invoice_id}/credit-note", dependencies=[CsrfChecked])
    def issue_credit_note(page: PageDep, user: StaffDep, db: DbDep, invoice_id: str,
                          reason: Annotated[str, Form(max_length=300)] = "") -> Response:
        inv = _invoice(db, invoice_id)
        errors: dict[str, str] = {}
        if not reason.strip():
            errors["reason"] = page.t("form.required")
        else:
            try:
                note = credit_note(page.ctx.session_factory, inv.id, reason=reason.strip(),
                                   today=paris_day(page.ctx.clock()))
            except (Conflict, NotFound) as exc:
                errors["_form"] = page.t("billing.already_credited") if exc.code == "already_credited" \
                    else page.t("billing.not_creditable")
            else:
                return page.redirect(f"/console/billing?notice=credited&period={note.period}")
        return page.render("billing/credit_note.html", status=422, invoice=inv, reason=reason, errors=errors,
                           total=money(inv.total_cents, page.language))

    return router
