"""The activity export a lessee gets when the billing package is not installed: per device and per day (Europe/
Paris, the city's calendar), uplinks heard, application payload bytes and airtime, read from the readings store.

It is an activity report, not an invoice basis: billing/ meters duplicates, downlinks and active devices itself.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput
from lora_city.services.common import as_utc, db_time
from lora_city.storage.models import Reading

PARIS = ZoneInfo("Europe/Paris")
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
HEADER = ["dev_eui", "day", "uplinks", "payload_bytes", "airtime_ms"]  # keys of the headers' messages (csv.*)


def month_bounds(period: str) -> tuple[datetime, datetime]:
    match = _PERIOD.match(period)
    if match is None:
        raise InvalidInput("period must be YYYY-MM", code="invalid_period")
    year, month = int(match[1]), int(match[2])
    start = datetime(year, month, 1, tzinfo=PARIS)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=PARIS)
    return start, end


def activity_csv(session: Session, tenant_id: str, period: str, t: Callable[[str], str] | None = None) -> str:
    """``t``: the reader's language for the header row (``csv.<column>``); without it, the column keys."""
    start, end = month_bounds(period)
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    stmt = (select(Reading.dev_eui, Reading.time, Reading.payload, Reading.tx)
            .where(Reading.tenant_id == tenant_id, Reading.time >= db_time(session, start),
                   Reading.time < db_time(session, end))
            .execution_options(yield_per=5000))
    for dev_eui, time, payload, tx in session.execute(stmt):
        when = as_utc(time)
        assert when is not None
        row = totals[(dev_eui, when.astimezone(PARIS).date().isoformat())]
        row[0] += 1
        row[1] += len(payload or b"")
        airtime = tx.get("airtime_ms") if isinstance(tx, dict) else None
        row[2] += float(airtime) if isinstance(airtime, int | float) else 0.0
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t(f"csv.{c}") for c in HEADER] if t is not None else HEADER)
    for (dev_eui, day), (uplinks, size, airtime) in sorted(totals.items()):
        writer.writerow([dev_eui, day, int(uplinks), int(size), f"{airtime:.1f}"])
    return out.getvalue()
