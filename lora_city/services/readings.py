"""Readings and events over time ranges, newest first, in pages with an opaque cursor.

The cursor is (time, id) of the last row given: rows are ordered by time then id, so a page never repeats or
skips a row even when several readings share a timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput
from lora_city.services import field_access
from lora_city.services.common import as_utc, db_time, decode_cursor, encode_cursor, page_limit, parse_time
from lora_city.services.devices import find_device
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import Event, Reading

T = TypeVar("T", Reading, Event)


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _page(
    session: Session, model: type[T], where: list[Any], span: TimeRange, limit: int, cursor: str | None,
) -> Page[T]:
    limit = page_limit(limit)
    time_col, id_col = model.time, model.id
    conds = list(where)
    if span.start is not None:
        conds.append(time_col >= db_time(session, span.start))
    if span.end is not None:
        conds.append(time_col < db_time(session, span.end))
    if cursor is not None:
        raw_time, raw_id = decode_cursor(cursor, 2)
        t = db_time(session, parse_time(raw_time))
        if not isinstance(raw_id, int):
            raise InvalidInput("cursor is not one this API gave out", code="invalid_cursor")
        conds.append(or_(time_col < t, and_(time_col == t, id_col < raw_id)))
    rows = list(session.scalars(
        select(model).where(*conds).order_by(time_col.desc(), id_col.desc()).limit(limit + 1)
    ))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    next_cursor = None if last is None else encode_cursor([as_utc(last.time).isoformat(), last.id])  # type: ignore[union-attr]
    return Page(rows, next_cursor)


def device_readings(
    session: Session, principal: Principal, dev_eui: str, *, span: TimeRange = TimeRange(),
    limit: int = 100, cursor: str | None = None, now: datetime | None = None,
) -> Page[Reading]:
    """``now`` lets a technician read the device inside its spans on the assets it works on (field_access)."""
    if not principal.can(Perm.READINGS_READ) and now is None:
        principal.require(Perm.READINGS_READ)
    device = find_device(session, principal, dev_eui)
    spans = field_access.device_spans(session, principal, device.dev_eui, now)
    if spans is not None:
        return readings_in_spans(session, spans, span, limit, cursor)
    return _page(session, Reading, [Reading.dev_eui == device.dev_eui], span, limit, cursor)


def device_events(
    session: Session, principal: Principal, dev_eui: str, *, span: TimeRange = TimeRange(),
    kind: str | None = None, limit: int = 100, cursor: str | None = None,
) -> Page[Event]:
    principal.require(Perm.READINGS_READ)
    device = find_device(session, principal, dev_eui)
    where: list[Any] = [Event.dev_eui == device.dev_eui]
    if kind is not None:
        where.append(Event.kind == kind)
    return _page(session, Event, where, span, limit, cursor)


def readings_in_spans(
    session: Session, spans: list[tuple[str, datetime, datetime | None]], span: TimeRange, limit: int,
    cursor: str | None,
) -> Page[Reading]:
    """Readings of several devices, each inside its own [bound, unbound) span: an asset's continuous history."""
    if not spans:
        return Page([], None)
    parts = []
    for dev_eui, bound, unbound in spans:
        cond = [Reading.dev_eui == dev_eui, Reading.time >= db_time(session, bound)]
        if unbound is not None:
            cond.append(Reading.time < db_time(session, unbound))
        parts.append(and_(*cond))
    return _page(session, Reading, [or_(*parts)], span, limit, cursor)
