"""The delivery log of tenant integrations: each attempt (delivered or not, with the HTTP status or the error)
kept for the tenant to read through the API, the last ``IntegrationDelivery.KEEP`` per integration.

Delivery workers ``record`` attempts in memory (no database write on the delivery path); a thread of the log
writes them every ``flush_interval_s`` in one transaction and trims each integration it touched to its last
``KEEP`` rows. An attempt of an integration deleted meanwhile is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import Integration, IntegrationDelivery, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attempt:
    integration_id: str
    event: str
    ok: bool
    dev_eui: str | None = None
    status: int | None = None
    error: str | None = None
    attempt: int = 1
    duration_ms: float = 0.0
    time: datetime | None = None


def write_attempts(session: Session, attempts: list[Attempt]) -> None:
    ids = {a.integration_id for a in attempts}
    alive = set(session.scalars(select(Integration.id).where(Integration.id.in_(ids))))
    rows = [
        IntegrationDelivery(
            integration_id=a.integration_id, time=a.time or utcnow(), event=a.event, dev_eui=a.dev_eui, ok=a.ok,
            status=a.status, error=(a.error or "")[:500] or None, attempt=a.attempt, duration_ms=a.duration_ms,
        )
        for a in attempts if a.integration_id in alive
    ]
    session.add_all(rows)
    session.flush()
    for integration_id in alive:
        oldest_kept = session.scalar(
            select(IntegrationDelivery.id).where(IntegrationDelivery.integration_id == integration_id)
            .order_by(IntegrationDelivery.id.desc()).offset(IntegrationDelivery.KEEP - 1).limit(1)
        )
        if oldest_kept is not None:
            session.execute(delete(IntegrationDelivery).where(
                IntegrationDelivery.integration_id == integration_id, IntegrationDelivery.id < oldest_kept))


class DeliveryLog:
    def __init__(self, session_factory: SessionFactory, *, flush_interval_s: float = 0.5,
                 queue_size: int = 10_000) -> None:
        self._factory = session_factory
        self._flush_interval_s = flush_interval_s
        self._pending: deque[Attempt] = deque(maxlen=queue_size)  # a stuck database loses the oldest entries
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def record(self, attempt: Attempt) -> None:
        """From any thread; never blocks."""
        if attempt.time is None:
            attempt = replace(attempt, time=utcnow())
        self._pending.append(attempt)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sink-integration-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10.0)
        self.flush()

    def flush(self) -> None:
        batch: list[Attempt] = []
        while self._pending:
            batch.append(self._pending.popleft())
        if not batch:
            return
        try:
            with transaction(self._factory) as s:
                write_attempts(s, batch)
        except Exception:
            log.exception("integration delivery log: writing %d attempt(s) failed; they are lost", len(batch))

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self._flush_interval_s)
            self._wake.clear()
            self.flush()

