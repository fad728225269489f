"""``lora-city billing …``: the monthly run, the issuer's details, documents and usage exports.

Registered by the CLI's composition root (lora_city/cli/main.py); the database comes from Settings (config file,
then LORA_CITY_*), checked by lora_city.cli.config.open_database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy import select

from billing.documents import invoice_csv, invoice_pdf
from billing.exports import device_usage_csv
from billing.issuer import IssuerIn, save_issuer
from billing.models import Invoice, InvoiceLine
from billing.run import credit_note, run_billing
from lora_city.cli.config import load_settings, open_database
from lora_city.errors import LoraCityError
from lora_city.storage.db import SessionFactory, make_session_factory, transaction
from lora_city.storage.models import Tenant
from tenants.calendar import paris_day, parse_period

billing_app = typer.Typer(help="Metering, invoices and usage exports of the leased network.", no_args_is_help=True)


SKIP_TEXT = {
    "city": "the city's own tenant is not billed",
    "no_plan": "no plan assigned (console: Tenants)",
    "no_prices": "plan {plan} has no prices (console: Plans)",
    "nothing_to_bill": "plan {plan} gives nothing to bill this month (no fee, no active device, no overage)",
}


def _factory(ctx: typer.Context) -> SessionFactory:
    """The configured database (printed; refused when missing or not migrated), as every command opens it."""
    return make_session_factory(open_database(load_settings(ctx)))


def _today(value: str | None) -> date:
    return date.fromisoformat(value) if value else paris_day(datetime.now(UTC))


def _fail(exc: LoraCityError) -> typer.Exit:
    typer.echo(f"error: {exc.message}", err=True)
    return typer.Exit(2)


@billing_app.command("run")
def run(
    ctx: typer.Context,
    period: Annotated[str, typer.Option(help="The month to bill, YYYY-MM (Europe/Paris)")],
    today: Annotated[str | None, typer.Option(help="Issue date, YYYY-MM-DD (default: today in Paris)")] = None,
) -> None:
    """Bill a closed month: one invoice (or internal chargeback) per tenant. Safe to run again."""
    try:
        result = run_billing(_factory(ctx), period, today=_today(today))
    except LoraCityError as exc:
        raise _fail(exc) from exc
    for number in result.created:
        typer.echo(f"created {number}")
    for skip in result.skips:
        typer.echo(f"skipped {skip.slug}: {SKIP_TEXT[skip.reason].format(plan=skip.plan)}")
    typer.echo(f"{len(result.created)} created, {result.existing} already there, {result.skipped} skipped")


@billing_app.command("config")
def config(
    ctx: typer.Context,
    legal_name: Annotated[str, typer.Option()],
    address: Annotated[str, typer.Option(help="Lines separated by \\n")],
    siret: Annotated[str, typer.Option()],
    vat_number: Annotated[str, typer.Option()],
    email: Annotated[str, typer.Option()] = "",
    vat_rate_bp: Annotated[int, typer.Option(help="VAT in basis points (2000 = 20 %)")] = 2000,
    payment_days: Annotated[int, typer.Option()] = 30,
    payment_method: Annotated[str, typer.Option(help="transfer (IBAN/BIC) or public_accountant")] = "transfer",
    iban: Annotated[str, typer.Option()] = "",
    bic: Annotated[str, typer.Option()] = "",
    payment_details: Annotated[str, typer.Option(help="The public accountant's name, address and how to pay")] = "",
) -> None:
    """Set the issuer (the city) printed on invoices. Already issued invoices keep the details they had."""
    try:
        data = IssuerIn.model_validate({
            "legal_name": legal_name, "address": address.replace("\\n", "\n"), "siret": siret,
            "vat_number": vat_number, "email": email, "vat_rate_bp": vat_rate_bp, "payment_days": payment_days,
            "payment_method": payment_method, "iban": iban, "bic": bic, "payment_details": payment_details})
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"error: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    with transaction(_factory(ctx)) as s:
        save_issuer(s, data)
    typer.echo("billing issuer saved")


@billing_app.command("invoice")
def invoice(
    ctx: typer.Context,
    number: str,
    pdf: Annotated[Path | None, typer.Option(help="Write the PDF here")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the CSV here")] = None,
) -> None:
    """Write an invoice, credit note or chargeback report as PDF and/or CSV."""
    with _factory(ctx)() as s:
        inv = s.scalar(select(Invoice).where(Invoice.number == number))
        if inv is None:
            typer.echo(f"error: no document {number}", err=True)
            raise typer.Exit(2)
        lines = list(s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                               .order_by(InvoiceLine.position)))
    if pdf:
        pdf.write_bytes(invoice_pdf(inv, lines))
    if csv:
        csv.write_bytes(invoice_csv(inv, lines))
    typer.echo(f"{inv.number} {inv.kind} {inv.period} total {inv.total_cents / 100:.2f} EUR")


@billing_app.command("credit-note")
def credit(
    ctx: typer.Context,
    number: str,
    reason: Annotated[str, typer.Option()],
    today: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Cancel a final invoice in full with a credit note (the invoice itself is never changed)."""
    factory = _factory(ctx)
    with factory() as s:
        inv_id = s.scalar(select(Invoice.id).where(Invoice.number == number))
    if inv_id is None:
        typer.echo(f"error: no invoice {number}", err=True)
        raise typer.Exit(2)
    try:
        note = credit_note(factory, inv_id, reason=reason, today=_today(today))
    except LoraCityError as exc:
        raise _fail(exc) from exc
    typer.echo(f"created {note.number}")


@billing_app.command("usage")
def usage(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Option(help="Tenant slug")],
    period: Annotated[str, typer.Option(help="YYYY-MM")],
    out: Annotated[Path, typer.Option(help="CSV file to write")],
) -> None:
    """Per-device usage of a tenant for a month, as CSV."""
    first, end = parse_period(period)
    with _factory(ctx)() as s:
        tenant_id = s.scalar(select(Tenant.id).where(Tenant.slug == tenant))
        if tenant_id is None:
            typer.echo(f"error: no tenant {tenant}", err=True)
            raise typer.Exit(2)
        out.write_bytes(device_usage_csv(s, tenant_id, first, end))
    typer.echo(f"wrote {out}")
