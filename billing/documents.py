"""Invoices as documents: PDF (fpdf2) with the mentions French law requires on a B2B invoice (Code de commerce
L441-9, CGI art. 242 nonies A: number, dates, both parties' legal identity and VAT numbers, unit prices excluding
tax, VAT rate and amount, due date, late-payment penalties and the 40 EUR recovery indemnity), and CSV.

Rendered from the stored, final invoice each time; the same invoice always gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from billing.models import Invoice, InvoiceLine

TITLES = {"invoice": "FACTURE", "credit_note": "AVOIR", "chargeback": "REFACTURATION INTERNE"}


def euros(cents: int) -> str:
    """French formatting: 1 234,56 EUR (EUR, not the sign: the PDF core fonts are Latin-1)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{frac:02d} EUR"


def unit_price(millicents: int) -> str:
    """Unit prices can hold fractions of a cent: up to five decimals, at least two."""
    sign = "-" if millicents < 0 else ""
    whole, frac = divmod(abs(millicents), 100_000)
    return f"{sign}{whole},{f'{frac:05d}'.rstrip('0').ljust(2, '0')} EUR"


def invoice_csv(invoice: Invoice, lines: Sequence[InvoiceLine]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["number", "kind", "period", "issued_on", "position", "code", "description", "quantity",
                "unit_price_eur", "amount_eur", "vat_rate_percent"])
    for ln in lines:
        w.writerow([invoice.number, invoice.kind, invoice.period, invoice.issued_on.isoformat(), ln.position,
                    ln.code, ln.description, ln.quantity, f"{ln.unit_price_millicents / 100_000:.5f}",
                    _decimal(ln.amount_cents), f"{invoice.vat_rate_bp / 100:.2f}"])
    w.writerow([invoice.number, invoice.kind, invoice.period, invoice.issued_on.isoformat(), "", "subtotal", "",
                "", "", _decimal(invoice.subtotal_cents), ""])
    w.writerow([invoice.number, invoice.kind, invoice.period, invoice.issued_on.isoformat(), "", "vat", "", "",
                "", _decimal(invoice.vat_cents), f"{invoice.vat_rate_bp / 100:.2f}"])
    w.writerow([invoice.number, invoice.kind, invoice.period, invoice.issued_on.isoformat(), "", "total", "", "",
                "", _decimal(invoice.total_cents), ""])
    return out.getvalue().encode()


def _decimal(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def invoice_pdf(invoice: Invoice, lines: Sequence[InvoiceLine]) -> bytes:
    # Imported here: fpdf2 takes ~2 s to import, which every `lora-city` command would otherwise pay.
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(invoice.issued_on.year, invoice.issued_on.month, invoice.issued_on.day,
                                   tzinfo=UTC))
    pdf.set_title(f"{TITLES[invoice.kind]} {invoice.number}")
    pdf.add_page()

    def text(value: str, size: int = 9, style: str = "", width: float = 0, align: str = "L",
             newline: bool = True) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.cell(width, 5, _latin1(value), align=align,
                 new_x=XPos.LMARGIN if newline else XPos.RIGHT, new_y=YPos.NEXT if newline else YPos.TOP)

    issuer, customer = invoice.issuer, invoice.customer
    text(issuer.get("legal_name", ""), 11, "B")
    for line in _party(issuer):
        text(line)
    pdf.ln(4)
    text(f"{TITLES[invoice.kind]} N° {invoice.number}", 14, "B")
    text(f"Date d'émission : {invoice.issued_on:%d/%m/%Y}    Période : {invoice.period}")
    if invoice.note:
        text(invoice.note)
    pdf.ln(3)
    text("Client", 10, "B")
    text(customer.get("legal_name", ""))
    for line in _party(customer):
        text(line)
    pdf.ln(4)
    widths = (86, 22, 36, 36)
    for head, width in zip(("Désignation", "Quantité", "Prix unitaire HT", "Montant HT"), widths, strict=True):
        text(head, 9, "B", width, "L" if width == widths[0] else "R", newline=False)
    pdf.ln(6)
    for ln in lines:
        text(ln.description, 9, "", widths[0], newline=False)
        text(str(ln.quantity), 9, "", widths[1], "R", newline=False)
        text(unit_price(ln.unit_price_millicents), 9, "", widths[2], "R", newline=False)
        text(euros(ln.amount_cents), 9, "", widths[3], "R")
    pdf.ln(3)
    totals = [("Total HT", invoice.subtotal_cents)]
    if invoice.kind == "chargeback":
        totals.append(("Refacturation interne entre services de la ville : hors champ de la TVA", 0))
    else:
        totals += [(f"TVA {invoice.vat_rate_bp / 100:.0f} %", invoice.vat_cents), ("Total TTC", invoice.total_cents)]
    for label, cents in totals:
        text(label, 10, "B", sum(widths[:3]), "R", newline=False)
        text(euros(cents) if "hors champ" not in label else "", 10, "B", widths[3], "R")
    pdf.ln(5)
    for line in _payment_terms(invoice, issuer):
        pdf.set_font("Helvetica", "", 8)
        pdf.multi_cell(0, 4, _latin1(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _party(party: dict[str, Any]) -> list[str]:
    lines = [part.strip() for part in str(party.get("address", "")).split("\n") if part.strip()]
    if party.get("siret"):
        lines.append(f"SIRET : {party['siret']}")
    if party.get("vat_number"):
        lines.append(f"N° TVA intracommunautaire : {party['vat_number']}")
    return lines


def _payment_terms(invoice: Invoice, issuer: dict[str, Any]) -> list[str]:
    if invoice.kind == "chargeback":
        return ["Document interne : imputation budgétaire entre services, sans paiement ni TVA."]
    lines = []
    if invoice.due_on is not None:
        lines.append(f"Date d'échéance : {invoice.due_on:%d/%m/%Y}. Pas d'escompte pour paiement anticipé.")
    lines.append(f"Pénalités de retard : {issuer.get('late_penalty', '')}. Indemnité forfaitaire pour frais de "
                 "recouvrement en cas de retard de paiement : 40 EUR (art. L441-10 du Code de commerce).")
    return lines
