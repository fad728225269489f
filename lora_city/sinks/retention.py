"""Retention of the embedded store: readings per (tenant, sensor family), events per tenant.

The most specific policy wins: (tenant, family), (tenant, any family), (any tenant, family), (any, any), then
``default_days`` (None: keep forever). Events have no family, so only the tenant-wide and global policies apply
to them. ``RetentionJob`` runs ``purge_expired`` periodically off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import Event, Reading, RetentionPolicy, utcnow

log = logging.getLogger(__name__)

Key = tuple[str | None, str | None]  # (tenant_id, family); None = any


@dataclass(frozen=True, slots=True)
class PurgeResult:
    readings: int
    events: int


def set_retention(factory: SessionFactory, days: int, *, tenant_id: str | None = None,
                  family: str | None = None) -> None:
    with transaction(factory) as s:
        row = s.scalars(select(RetentionPolicy).where(
            RetentionPolicy.tenant_id.is_(None) if tenant_id is None else RetentionPolicy.tenant_id == tenant_id,
            RetentionPolicy.family.is_(None) if family is None else RetentionPolicy.family == family,
        )).one_or_none()
        if row is None:
            s.add(RetentionPolicy(tenant_id=tenant_id, family=family, days=days))
        else:
            row.days = days


def _days(policies: dict[Key, int], tenant_id: str | None, family: str | None, default: int | None) -> int | None:
    for key in ((tenant_id, family), (tenant_id, None), (None, family), (None, None)):
        if key in policies:
            return policies[key]
    return default


def _same(column: object, value: str | None) -> object:
    return column.is_(None) if value is None else column == value  # type: ignore[attr-defined]


def purge_expired(factory: SessionFactory, *, now: datetime, default_days: int | None = None) -> PurgeResult:
    with transaction(factory) as s:
        policies = {(p.tenant_id, p.family): p.days for p in s.scalars(select(RetentionPolicy))}
        readings = events = 0
        for tenant_id, family in s.execute(select(Reading.tenant_id, Reading.family).distinct()).all():
            days = _days(policies, tenant_id, family, default_days)
            if days is not None:
                result = s.execute(delete(Reading).where(
                    Reading.tenant_id == tenant_id, _same(Reading.family, family),  # type: ignore[arg-type]
                    Reading.time < now - timedelta(days=days),
                ))
                readings += result.rowcount  # type: ignore[attr-defined]
        for (event_tenant,) in s.execute(select(Event.tenant_id).distinct()).all():
            days = _days(policies, event_tenant, None, default_days)
            if days is not None:
                result = s.execute(delete(Event).where(
                    _same(Event.tenant_id, event_tenant), Event.time < now - timedelta(days=days),  # type: ignore[arg-type]
                ))
                events += result.rowcount  # type: ignore[attr-defined]
    return PurgeResult(readings, events)


class RetentionJob:
    """Purges every ``interval_s`` (first run right after start)."""

    def __init__(self, factory: SessionFactory, *, default_days: int | None = None, interval_s: float = 3600.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._factory = factory
        self._default_days = default_days
        self._interval_s = interval_s
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self.last: PurgeResult | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sink-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                self.last = await asyncio.to_thread(
                    purge_expired, self._factory, now=self._clock(), default_days=self._default_days
                )
                if self.last.readings or self.last.events:
                    log.info("retention: purged %d reading(s), %d event(s)", self.last.readings, self.last.events)
            except Exception:
                log.exception("retention: purge failed")
            await asyncio.sleep(self._interval_s)
