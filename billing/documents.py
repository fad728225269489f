"""Invoices as documents: PDF (fpdf2) with the mentions French law requires on a B2B invoice (Code de commerce
L441-9, CGI art. 242 nonies A: number, dates, both parties' legal identity and VAT numbers, unit prices excluding
tax, VAT rate and amount, due date, late-payment penalties and the 40 EUR recovery indemnity), and CSV.

Rendered from the stored, final invoice each time; the same invoice always gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from billing.models import Invoice, InvoiceLine

# Every word the PDF prints, in the invoice's language (the customer's, copied onto the invoice when issued).
LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "invoice": "FACTURE", "credit_note": "AVOIR", "chargeback": "REFACTURATION INTERNE",
        "issued": "Date d'émission : {date}    Période : {period}", "customer": "Client",
        "columns": "Désignation|Quantité|Prix unitaire HT|Montant HT", "subtotal": "Total HT",
        "vat": "TVA {rate} %", "total": "Total TTC",
        "out_of_scope": "Refacturation interne entre services de la ville : hors champ de la TVA",
        "internal": "Document interne : imputation budgétaire entre services, sans paiement ni TVA.",
        "due": "Date d'échéance : {date}. Pas d'escompte pour paiement anticipé.",
        "penalties": "Pénalités de retard : {penalty}. Indemnité forfaitaire pour frais de recouvrement en cas de "
                     "retard de paiement : 40 EUR (art. L441-10 du Code de commerce).",
        "transfer": "Règlement par virement bancaire : IBAN {iban}{bic}, en indiquant le numéro {number}.",
        "bic": " - BIC {bic}",
        "public_accountant": "Règlement auprès du comptable public : {details} - en indiquant le numéro {number}.",
        "credit_use": "Cet avoir annule la facture indiquée ; il sera remboursé ou déduit de votre prochain "
                      "règlement.",
        "siret": "SIRET : {siret}", "vat_number": "N° TVA intracommunautaire : {vat}",
    },
    "en": {
        "invoice": "INVOICE", "credit_note": "CREDIT NOTE", "chargeback": "INTERNAL CHARGEBACK",
        "issued": "Issue date: {date}    Period: {period}", "customer": "Customer",
        "columns": "Description|Quantity|Unit price excl. VAT|Amount excl. VAT", "subtotal": "Total excl. VAT",
        "vat": "VAT {rate} %", "total": "Total incl. VAT",
        "out_of_scope": "Internal chargeback between city services: outside the scope of VAT",
        "internal": "Internal document: budget allocation between services, no payment and no VAT.",
        "due": "Due date: {date}. No discount for early payment.",
        "penalties": "Late payment penalties: {penalty}. Fixed indemnity for recovery costs in case of late "
                     "payment: 40 EUR (French Commercial Code, art. L441-10).",
        "transfer": "Payment by bank transfer: IBAN {iban}{bic}, quoting number {number}.",
        "bic": " - BIC {bic}",
        "public_accountant": "Payment to the public accountant: {details} - quoting number {number}.",
        "credit_use": "This credit note cancels the invoice named above; it will be refunded or deducted from "
                      "your next payment.",
        "siret": "SIRET: {siret}", "vat_number": "EU VAT number: {vat}",
    },
}


def language_of(invoice: Invoice) -> str:
    language = str((invoice.customer or {}).get("language", "fr"))
    return language if language in LABELS else "fr"


def euros(cents: int, language: str = "fr") -> str:
    """1 234,56 EUR in French, 1,234.56 EUR in English (EUR, not the sign: the PDF core fonts are Latin-1)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    if language == "en":
        return f"{sign}{whole:,}.{frac:02d} EUR"
    return f"{sign}{whole:,}".replace(",", " ") + f",{frac:02d} EUR"


def unit_price(millicents: int, language: str = "fr") -> str:
    """Unit prices can hold fractions of a cent: up to five decimals, at least two."""
    sign = "-" if millicents < 0 else ""
    whole, frac = divmod(abs(millicents), 100_000)
    decimals = f"{frac:05d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}{'.' if language == 'en' else ','}{decimals} EUR"


def percent(basis_points: int, language: str = "fr") -> str:
    """2000 -> "20", 550 -> "5,5" (French) / "5.5" (English)."""
    text = f"{basis_points / 100:.2f}".rstrip("0").rstrip(".")
    return text if language == "en" else text.replace(".", ",")


def file_name(invoice: Invoice, extension: str) -> str:
    """The document's file name: its number (F2026-000001.pdf), as the customer files it."""
    safe = "".join(c for c in invoice.number if c.isalnum() or c in "-_")
    return f"{safe}.{extension}"


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

    lang = language_of(invoice)
    words = LABELS[lang]
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(invoice.issued_on.year, invoice.issued_on.month, invoice.issued_on.day,
                                   tzinfo=UTC))
    pdf.set_title(f"{words[invoice.kind]} {invoice.number}")
    pdf.add_page()

    def text(value: str, size: int = 9, style: str = "", width: float = 0, align: str = "L",
             newline: bool = True) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.cell(width, 5, _latin1(value), align=align,
                 new_x=XPos.LMARGIN if newline else XPos.RIGHT, new_y=YPos.NEXT if newline else YPos.TOP)

    issuer, customer = invoice.issuer, invoice.customer
    text(issuer.get("legal_name", ""), 11, "B")
    for line in _party(issuer, words):
        text(line)
    pdf.ln(4)
    text(f"{words[invoice.kind]} N° {invoice.number}", 14, "B")
    text(words["issued"].format(date=_date(invoice.issued_on, lang), period=invoice.period))
    if invoice.note:
        text(invoice.note)
    pdf.ln(3)
    text(words["customer"], 10, "B")
    text(customer.get("legal_name", ""))
    for line in _party(customer, words):
        text(line)
    pdf.ln(4)
    widths = (86, 22, 36, 36)
    for head, width in zip(words["columns"].split("|"), widths, strict=True):
        text(head, 9, "B", width, "L" if width == widths[0] else "R", newline=False)
    pdf.ln(6)
    for ln in lines:
        text(ln.description, 9, "", widths[0], newline=False)
        text(str(ln.quantity), 9, "", widths[1], "R", newline=False)
        text(unit_price(ln.unit_price_millicents, lang), 9, "", widths[2], "R", newline=False)
        text(euros(ln.amount_cents, lang), 9, "", widths[3], "R")
    pdf.ln(3)
    totals: list[tuple[str, int | None]] = [(words["subtotal"], invoice.subtotal_cents)]
    if invoice.kind == "chargeback":
        totals.append((words["out_of_scope"], None))
    else:
        totals += [(words["vat"].format(rate=percent(invoice.vat_rate_bp, lang)), invoice.vat_cents),
                   (words["total"], invoice.total_cents)]
    for label, cents in totals:
        text(label, 10, "B", sum(widths[:3]), "R", newline=False)
        text(euros(cents, lang) if cents is not None else "", 10, "B", widths[3], "R")
    pdf.ln(5)
    for line in _payment_terms(invoice, issuer, words, lang):
        pdf.set_font("Helvetica", "", 8)
        pdf.multi_cell(0, 4, _latin1(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _date(value: date, language: str) -> str:
    return f"{value:%Y-%m-%d}" if language == "en" else f"{value:%d/%m/%Y}"


def _party(party: dict[str, Any], words: dict[str, str]) -> list[str]:
    lines = [part.strip() for part in str(party.get("address", "")).split("\n") if part.strip()]
    if party.get("siret"):
        lines.append(words["siret"].format(siret=party["siret"]))
    if party.get("vat_number"):
        lines.append(words["vat_number"].format(vat=party["vat_number"]))
    return lines


def payment_instructions(invoice: Invoice, issuer: dict[str, Any], words: dict[str, str]) -> str | None:
    """How to pay, from the issuer's details copied onto the invoice (None when the issuer gave none)."""
    method = issuer.get("payment_method", "transfer")
    if method == "public_accountant" and issuer.get("payment_details"):
        return words["public_accountant"].format(details=" ".join(str(issuer["payment_details"]).split()),
                                                 number=invoice.number)
    if issuer.get("iban"):
        iban = str(issuer["iban"])
        grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        bic = words["bic"].format(bic=issuer["bic"]) if issuer.get("bic") else ""
        return words["transfer"].format(iban=grouped, bic=bic, number=invoice.number)
    return None


def _payment_terms(invoice: Invoice, issuer: dict[str, Any], words: dict[str, str], language: str) -> list[str]:
    if invoice.kind == "chargeback":
        return [words["internal"]]
    if invoice.kind == "credit_note":
        return [words["credit_use"]]
    lines = []
    if invoice.due_on is not None:
        lines.append(words["due"].format(date=_date(invoice.due_on, language)))
    how = payment_instructions(invoice, issuer, words)
    if how:
        lines.append(how)
    lines.append(words["penalties"].format(penalty=issuer.get("late_penalty", "")))
    return lines
