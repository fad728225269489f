"""Uplinks per hour over the last day, for the console's traffic chart.

One pass over the day's reading times, bucketed here: the same on SQLite and PostgreSQL (no dialect-specific
date truncation), and one range read instead of one COUNT per hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.services.common import as_utc, db_time
from lora_city.storage.models import Reading


def uplinks_per_hour(session: Session, now: datetime, hours: int = 24) -> list[tuple[datetime, int]]:
    top = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = top - timedelta(hours=hours)
    counts = [0] * hours
    stmt = (select(Reading.time).where(Reading.time >= db_time(session, start), Reading.time < db_time(session, top))
            .execution_options(yield_per=10_000))
    for (time,) in session.execute(stmt):
        when = as_utc(time)
        assert when is not None
        counts[int((when - start).total_seconds() // 3600)] += 1
    return [(start + timedelta(hours=i), n) for i, n in enumerate(counts)]
