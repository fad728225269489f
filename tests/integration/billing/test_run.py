"""Billing runs on a real database: hand-computed invoice totals (Paris month boundaries, the 25-hour day of
25 October 2026), idempotency, atomicity under an injected failure, credit notes, documents."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from billing.documents import invoice_csv, invoice_pdf
from billing.models import Invoice, InvoiceLine, NumberSequence
from billing.run import credit_note, run_billing
from billing.usage import by_day, period_usage
from lora_city.errors import Conflict, InvalidInput
from lora_city.storage.db import SessionFactory, transaction
from tests.integration.billing.conftest import Db, feed_october, october_scenario
from tests.support.pdf import pdf_text

TODAY = date(2026, 11, 3)


def documents(factory: SessionFactory) -> dict[str, tuple[Invoice, list[tuple[Any, ...]]]]:
    with factory() as s:
        result = {}
        for inv in s.scalars(select(Invoice).order_by(Invoice.number)):
            lines = [(ln.code, ln.description, ln.quantity, ln.unit_price_millicents, ln.amount_cents)
                     for ln in s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                         .order_by(InvoiceLine.position))]
            result[inv.number] = (inv, lines)
        return result


def test_october_usage_follows_paris_days(db: Db) -> None:
    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    with db.factory() as s:
        october = period_usage(s, date(2026, 10, 1), date(2026, 11, 1))
        acme = october[ids["acme"]]
        assert acme.active_devices == 3  # d1, d2, d3; d4 silent, d5 heard in November only
        assert acme.uplinks == 5 + 4 + 1
        assert acme.copies == 10 + 4 + 1
        assert acme.excess_uplinks == 2 + 1  # d1 on 1 Oct (5 of 3), d2 on 25 Oct (4 of 3)
        assert acme.excess_airtime_us == 1_000_000 + 500_000  # d1 2000 ms of 1000; d3 1500 of 1000
        days = {r.key: r for r in by_day(s, ids["acme"], date(2026, 10, 1), date(2026, 11, 1))}
        assert days["2026-10-25"].uplinks == 4 and days["2026-10-01"].duplicates == 5
        assert set(days) == {"2026-10-01", "2026-10-25", "2026-10-31"}
        september = period_usage(s, date(2026, 9, 1), date(2026, 10, 1))[ids["acme"]]
        assert september.uplinks == 10 and september.excess_uplinks == 10 - 3


def test_invoices_match_hand_computed_totals(db: Db) -> None:
    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    result = run_billing(db.factory, "2026-10", today=TODAY)
    assert result.created == ["F2026-000001", "F2026-000002", "R2026-000001"]  # acme, beta, flood (by slug)
    assert result.skipped == 2  # the city itself, and the lessee without a plan
    assert sorted((k.slug, k.reason) for k in result.skips) == [("city", "city"), ("noplan", "no_plan")]
    docs = documents(db.factory)
    acme, acme_lines = docs["F2026-000001"]
    assert acme.tenant_id == ids["acme"] and acme.kind == "invoice" and acme.period == "2026-10"
    assert acme_lines == [  # in the customer's language (French, the default)
        ("plan", "Forfait pro : abonnement mensuel", 1, 4_900_000, 4900),
        ("devices", "Capteurs actifs (tranche 1-2)", 2, 100_000, 200),
        ("devices", "Capteurs actifs (tranche 3+)", 1, 80_000, 80),
        ("overage_uplinks", "Messages au-delà de l'allocation journalière", 3, 2500, 8),  # 7.5 cents, half up
        ("overage_airtime", "Temps d'émission au-delà de l'allocation journalière (s)", 2, 10_000, 20),  # 1.5 s
    ]
    assert (acme.subtotal_cents, acme.vat_rate_bp, acme.vat_cents, acme.total_cents) == (5208, 2000, 1042, 6250)
    assert acme.customer["siret"] == "12345678900012" and acme.customer["vat_number"] == "FR32123456789"
    assert acme.issuer["siret"] == "21990001200018" and acme.due_on == date(2026, 12, 3)
    beta, beta_lines = docs["F2026-000002"]
    assert (beta.subtotal_cents, beta.vat_cents, beta.total_cents) == (1050, 210, 1260)
    assert [line[1] for line in beta_lines] == ["Plan basic: monthly fee", "Active devices (tier 1+)"]  # English
    assert beta.customer["language"] == "en"
    flood, flood_lines = docs["R2026-000001"]
    assert flood.kind == "chargeback" and flood_lines == [("devices", "Capteurs actifs (tranche 1+)", 1, 20_000, 20)]
    assert (flood.subtotal_cents, flood.vat_rate_bp, flood.vat_cents, flood.total_cents) == (20, 0, 0, 20)


def test_an_open_period_is_refused(db: Db) -> None:
    october_scenario(db.factory)
    with pytest.raises(InvalidInput):
        run_billing(db.factory, "2026-11", today=TODAY)


def _snapshot(factory: SessionFactory) -> list[tuple[Any, ...]]:
    with factory() as s:
        invoices = [(i.id, i.number, i.total_cents, i.run_key) for i in s.scalars(select(Invoice))]
        lines = [(ln.id, ln.invoice_id, ln.amount_cents) for ln in s.scalars(select(InvoiceLine))]
        seqs = [(q.series, q.next_number) for q in s.scalars(select(NumberSequence))]
    return sorted(invoices) + sorted(lines) + sorted(seqs)


def test_a_second_run_changes_nothing(db: Db) -> None:
    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    run_billing(db.factory, "2026-10", today=TODAY)
    before = _snapshot(db.factory)
    again = run_billing(db.factory, "2026-10", today=date(2026, 11, 4))
    assert again.created == [] and again.existing == 3
    assert _snapshot(db.factory) == before


def test_a_failure_mid_run_leaves_no_partial_invoice_and_no_gap(db: Db) -> None:
    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    commits = 0

    def crash_on_second_invoice(session: Session) -> None:
        nonlocal commits
        commits += 1
        if commits == 2:  # beta's invoice, its number and lines are flushed, not yet committed
            assert session.scalar(select(func.count()).select_from(Invoice)) == 2  # visible in-transaction
            raise RuntimeError("injected crash")

    event.listen(db.factory, "before_commit", crash_on_second_invoice)
    with pytest.raises(RuntimeError, match="injected"):
        run_billing(db.factory, "2026-10", today=TODAY)
    event.remove(db.factory, "before_commit", crash_on_second_invoice)
    docs = documents(db.factory)
    assert list(docs) == ["F2026-000001"]
    with db.factory() as s:
        assert s.scalar(select(NumberSequence.next_number).where(NumberSequence.series == "F2026")) == 2
        assert len(list(s.scalars(select(InvoiceLine)))) == len(docs["F2026-000001"][1])
    rerun = run_billing(db.factory, "2026-10", today=TODAY)
    assert rerun.created == ["F2026-000002", "R2026-000001"] and rerun.existing == 1
    assert documents(db.factory)["F2026-000002"][0].tenant_id == ids["beta"]


def test_final_invoices_are_never_changed_and_credit_notes_take_the_next_number(db: Db) -> None:
    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    run_billing(db.factory, "2026-10", today=TODAY)
    first = documents(db.factory)["F2026-000001"][0]
    with pytest.raises(Conflict), transaction(db.factory) as s:
        s.get(Invoice, first.id).total_cents = 1  # type: ignore[union-attr]
    with pytest.raises(Conflict), transaction(db.factory) as s:
        s.delete(s.get(Invoice, first.id))
    note = credit_note(db.factory, first.id, reason="wrong plan", today=date(2026, 11, 10))
    assert note.number == "F2026-000003" and note.kind == "credit_note" and note.credits_invoice_id == first.id
    assert (note.subtotal_cents, note.vat_cents, note.total_cents) == (-5208, -1042, -6250)
    assert "F2026-000001" in note.note and note.tenant_id == ids["acme"]
    assert documents(db.factory)["F2026-000001"][0].total_cents == 6250


def test_pdf_and_csv_carry_the_legal_mentions_and_totals(db: Db) -> None:
    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    run_billing(db.factory, "2026-10", today=TODAY)
    invoice, _ = documents(db.factory)["F2026-000001"]
    with db.factory() as s:
        lines = list(s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                               .order_by(InvoiceLine.position)))
    csv_text = invoice_csv(invoice, lines).decode()
    assert csv_text.splitlines()[1].startswith("F2026-000001,invoice,2026-10,2026-11-03,1,plan,")
    assert csv_text.splitlines()[-3:] == [
        "F2026-000001,invoice,2026-10,2026-11-03,,subtotal,,,,52.08,",
        "F2026-000001,invoice,2026-10,2026-11-03,,vat,,,,10.42,20.00",
        "F2026-000001,invoice,2026-10,2026-11-03,,total,,,,62.50,",
    ]
    pdf = invoice_pdf(invoice, lines)
    assert pdf.startswith(b"%PDF") and invoice_pdf(invoice, lines) == pdf  # same invoice, same bytes
    text = pdf_text(pdf)
    for needle in ["FACTURE N° F2026-000001", "SIRET : 12345678900012", "SIRET : 21990001200018",
                   "FR32123456789", "FR41219900012", "Total HT", "52,08 EUR", "TVA 20 %", "10,42 EUR",
                   "62,50 EUR", "Date d'échéance : 03/12/2026", "40 EUR"]:
        assert needle in text, needle


def test_pdf_tells_how_to_pay_the_public_accountant(db: Db) -> None:
    """A commune's revenue is collected by its public accountant: the invoice names it (issue 21)."""
    from billing.models import BillingConfig

    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    with transaction(db.factory) as s:
        config = s.get(BillingConfig, 1)
        assert config is not None
        config.payment_method = "public_accountant"
        config.payment_details = "Service de gestion comptable de Rivebourg, 2 rue des Finances"
    run_billing(db.factory, "2026-10", today=TODAY)
    invoice, _ = documents(db.factory)["F2026-000001"]
    with db.factory() as s:
        lines = list(s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)))
    text = pdf_text(invoice_pdf(invoice, lines))
    assert ("Règlement auprès du comptable public : Service de gestion comptable de Rivebourg, 2 rue des Finances"
            " - en indiquant le numéro F2026-000001.") in text
    assert "IBAN" not in text
    beta, _ = documents(db.factory)["F2026-000002"]  # English customer: English document
    beta_text = pdf_text(invoice_pdf(beta, _lines(db, beta.id)))
    assert "INVOICE N° F2026-000002" in beta_text and "Payment to the public accountant" in beta_text
    assert "Total incl. VAT" in beta_text and "12.60 EUR" in beta_text


def _lines(db: Db, invoice_id: str) -> list[InvoiceLine]:
    with db.factory() as s:
        return list(s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                              .order_by(InvoiceLine.position)))
