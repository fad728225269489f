"""Usage and invoices as files: the per-device usage CSV (API and CLI) and a tenant's invoices for the data
export that precedes a tenant's deletion (tenants.lifecycle takes it as an export part)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.documents import invoice_csv, invoice_pdf
from billing.models import Invoice, InvoiceLine, UsageDaily
from billing.usage import by_device
from lora_city.storage.models import Device

DEVICE_COLUMNS = ("dev_eui", "uplinks", "duplicates", "downlinks", "airtime_up_ms", "airtime_down_ms", "bytes_up",
                  "bytes_down", "billable")


def device_usage_csv(session: Session, tenant_id: str, first: date, end: date) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(DEVICE_COLUMNS)
    for row in by_device(session, tenant_id, first, end):
        w.writerow([row.key, row.uplinks, row.duplicates, row.downlinks, f"{row.airtime_up_us / 1000:.3f}",
                    f"{row.airtime_down_us / 1000:.3f}", row.bytes_up, row.bytes_down,
                    "yes" if row.uplinks > 0 else "no"])
    return out.getvalue().encode()


def invoice_files(session: Session, tenant_id: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every document of a tenant: PDF, CSV, and an index in JSON."""
    index = []
    for inv in session.scalars(select(Invoice).where(Invoice.tenant_id == tenant_id).order_by(Invoice.number)):
        lines = list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                     .order_by(InvoiceLine.position)))
        index.append({"number": inv.number, "kind": inv.kind, "period": inv.period,
                      "issued_on": inv.issued_on.isoformat(), "total_cents": inv.total_cents})
        yield f"invoices/{inv.number}.pdf", invoice_pdf(inv, lines)
        yield f"invoices/{inv.number}.csv", invoice_csv(inv, lines)
    yield "invoices/index.json", json.dumps(index, indent=1).encode()


DAY_COLUMNS = ("day", "dev_eui", "name", "uplinks", "duplicates", "downlinks", "airtime_up_ms", "airtime_down_ms",
               "bytes_up", "bytes_down")


def device_day_usage_csv(session: Session, tenant_id: str, first: date, end: date) -> bytes:
    """One line per device and Paris day with the device's name (what the lessee's usage page promises): the
    metered counters the invoice is made from. A device deleted since keeps its line, without a name."""
    names = dict(session.execute(select(Device.dev_eui, Device.name).where(Device.tenant_id == tenant_id)).all())
    rows = session.scalars(select(UsageDaily).where(UsageDaily.tenant_id == tenant_id, UsageDaily.day >= first,
                                                    UsageDaily.day < end)
                           .order_by(UsageDaily.day, UsageDaily.dev_eui))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(DAY_COLUMNS)
    for r in rows:
        w.writerow([r.day.isoformat(), r.dev_eui, names.get(r.dev_eui, ""), r.uplinks, r.copies - r.uplinks,
                    r.downlinks, f"{r.airtime_up_us / 1000:.3f}", f"{r.airtime_down_us / 1000:.3f}", r.bytes_up,
                    r.bytes_down])
    return out.getvalue().encode()
