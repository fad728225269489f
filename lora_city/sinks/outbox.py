"""The durable outbox: payloads journaled for a downstream target, deleted once the target accepted them.

A row is written (and committed) before its payload is sent, so a crash or an outage leaves it in the table and
it is sent again, in ``id`` order, later. Rows of one target are written by one thread only, so ids grow in
commit order and "in order" means ``ORDER BY id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update

from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import OutboxRow


@dataclass(frozen=True, slots=True)
class Journaled:
    """A payload to journal: ``dev_eui`` when it holds one device's data (so erasure can find it)."""

    target: str
    body: bytes
    items: int = 1
    dev_eui: str | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    target: str
    body: bytes
    items: int
    attempts: int


class Outbox:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._factory = session_factory

    def append(self, rows: Sequence[Journaled]) -> list[Pending]:
        """Journal rows in one transaction; returns them with their ids, in the given order."""
        if not rows:
            return []
        with transaction(self._factory) as s:
            ids = s.scalars(
                insert(OutboxRow).returning(OutboxRow.id, sort_by_parameter_order=True),
                [
                    {"target": r.target, "body": r.body, "items": r.items, "dev_eui": r.dev_eui, "attempts": 0}
                    for r in rows
                ],
            ).all()
        return [Pending(i, r.target, r.body, r.items, 0) for i, r in zip(ids, rows, strict=True)]

    def pending(self, target: str, limit: int) -> list[Pending]:
        with self._factory() as s:
            result = s.execute(
                select(OutboxRow.id, OutboxRow.body, OutboxRow.items, OutboxRow.attempts)
                .where(OutboxRow.target == target)
                .order_by(OutboxRow.id)
                .limit(limit)
            )
            return [Pending(row.id, target, bytes(row.body), row.items, row.attempts) for row in result]

    def done(self, ids: Iterable[int]) -> None:
        id_list = list(ids)
        if id_list:
            with transaction(self._factory) as s:
                s.execute(delete(OutboxRow).where(OutboxRow.id.in_(id_list)))

    def failed(self, ids: Iterable[int]) -> None:
        id_list = list(ids)
        if id_list:
            with transaction(self._factory) as s:
                s.execute(
                    update(OutboxRow).where(OutboxRow.id.in_(id_list)).values(attempts=OutboxRow.attempts + 1)
                )

    def targets(self) -> list[str]:
        with self._factory() as s:
            return list(s.scalars(select(OutboxRow.target).distinct()))

    def size(self, target: str | None = None) -> int:
        """Items (points, events) waiting, for one target or all."""
        query = select(func.coalesce(func.sum(OutboxRow.items), 0))
        if target is not None:
            query = query.where(OutboxRow.target == target)
        with self._factory() as s:
            return int(s.scalar(query) or 0)
