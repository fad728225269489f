"""Document numbers without gaps: taken in the transaction that writes the document.

The UPDATE comes first, so the row is locked (PostgreSQL) or the database write-locked (SQLite) before the
number is read: two concurrent runs queue behind each other instead of reading the same number. If the
transaction rolls back (a crash, an error), the bump rolls back with it and the number is given again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session

from billing.models import NumberSequence

# Invoices and credit notes share one yearly series (one chronological sequence, as the French tax code wants
# for documents sent to customers); internal chargeback reports of city services have their own.
PREFIX = {"invoice": "F", "credit_note": "F", "chargeback": "R"}


def allocate(session: Session, kind: str, issued_on: date) -> str:
    series = f"{PREFIX[kind]}{issued_on.year}"
    bumped = session.execute(
        update(NumberSequence).where(NumberSequence.series == series)
        .values(next_number=NumberSequence.next_number + 1).returning(NumberSequence.next_number)
    ).scalar_one_or_none()
    if bumped is None:
        session.add(NumberSequence(series=series, next_number=2))
        session.flush()
        number = 1
    else:
        number = bumped - 1
    return f"{series}-{number:06d}"
