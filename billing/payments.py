"""Whether an invoice was paid, as the operator records it (bank statement, the public accountant's notice), and
the status every page and the API show for a document.

Statuses: ``unpaid``, ``overdue`` (unpaid past its due date), ``paid``, ``credited`` (cancelled by a credit
note), and for the other kinds of document ``credit_note`` and ``internal`` (a chargeback report, never paid).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import Invoice, Payment
from lora_city.errors import Conflict, NotFound
from lora_city.services.principal import Perm, Principal

STATUSES = ("unpaid", "overdue", "paid", "credited", "credit_note", "internal")


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paid_on: date
    reference: str = Field(default="", max_length=100)


@dataclass(frozen=True, slots=True)
class DocumentState:
    status: str
    paid_on: date | None = None
    reference: str = ""
    credited_by: str | None = None  # the credit note's number


def states(session: Session, invoices: Iterable[Invoice], today: date) -> dict[str, DocumentState]:
    rows = list(invoices)
    ids = [i.id for i in rows]
    paid = {p.invoice_id: p for p in session.scalars(select(Payment).where(Payment.invoice_id.in_(ids)))}
    notes = dict(session.execute(select(Invoice.credits_invoice_id, Invoice.number)
                                 .where(Invoice.credits_invoice_id.in_(ids))).all())
    out: dict[str, DocumentState] = {}
    for inv in rows:
        payment = paid.get(inv.id)
        if inv.kind == "chargeback":
            out[inv.id] = DocumentState("internal")
        elif inv.kind == "credit_note":
            out[inv.id] = DocumentState("credit_note")
        elif inv.id in notes:
            out[inv.id] = DocumentState("credited", credited_by=notes[inv.id])
        elif payment is not None:
            out[inv.id] = DocumentState("paid", payment.paid_on, payment.reference)
        elif inv.due_on is not None and inv.due_on < today:
            out[inv.id] = DocumentState("overdue")
        else:
            out[inv.id] = DocumentState("unpaid")
    return out


def _invoice(session: Session, principal: Principal, invoice_id: str) -> Invoice:
    inv = session.get(Invoice, invoice_id)
    if inv is None or not principal.sees(inv.tenant_id):
        raise NotFound("invoice not found")
    principal.require(Perm.TENANTS_WRITE)  # the city records payments; a lessee reads them
    if inv.kind != "invoice":
        raise Conflict(f"a {inv.kind.replace('_', ' ')} is not paid", code="not_payable")
    return inv


def record_payment(session: Session, principal: Principal, invoice_id: str, data: PaymentIn, *, actor: str,
                   now: datetime) -> Payment:
    inv = _invoice(session, principal, invoice_id)
    row = session.get(Payment, inv.id) or Payment(invoice_id=inv.id)
    row.paid_on, row.reference, row.recorded_by, row.recorded_at = data.paid_on, data.reference.strip(), actor, now
    session.add(row)
    session.commit()
    return row


def clear_payment(session: Session, principal: Principal, invoice_id: str) -> None:
    """Back to unpaid (a payment recorded on the wrong invoice)."""
    inv = _invoice(session, principal, invoice_id)
    row = session.get(Payment, inv.id)
    if row is not None:
        session.delete(row)
    session.commit()
