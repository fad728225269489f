"""Gateways heard but not registered (issue 23, defect 11).

By default their frames are dropped before deduplication: an unregistered gateway is not the city's and its
traffic must not be handled or billed. Each one is remembered (transport, first and last time heard, frames
dropped) and written behind to ``unknown_gateways`` in the server's flush loop, so the operator sees, through
the API, which gateways to register. ``Settings.allow_unknown_gateways`` lets them through (community gateways).

The table is bounded (``max_ids``): a spoofer inventing gateway ids cannot grow it without limit; frames from
ids beyond the bound are still dropped and counted, only not listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import Gateway, UnknownGateway


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Heard:
    transport: str
    first_seen_at: datetime
    last_seen_at: datetime
    frames: int = 0  # dropped since the last write
    stored: bool = False  # a row exists


class UnknownGateways:
    def __init__(self, factory: SessionFactory, *, clock: Callable[[], datetime] = _utcnow,
                 max_ids: int = 10_000) -> None:
        self._factory = factory
        self._clock = clock
        self._max_ids = max_ids
        self._heard: dict[str, _Heard] = {}

    def heard(self, gateway_id: str, transport: str) -> None:
        now = self._clock()
        entry = self._heard.get(gateway_id)
        if entry is None:
            if len(self._heard) >= self._max_ids:
                return
            entry = self._heard[gateway_id] = _Heard(transport, now, now)
        entry.last_seen_at = now
        entry.frames += 1

    def registered(self, gateway_id: str) -> None:
        """The gateway was registered: stop listing it (the API deleted its row)."""
        self._heard.pop(gateway_id, None)

    def snapshot(self) -> list[dict[str, Any]]:
        """The changes since the last snapshot (on the event loop); ``write_rows`` runs in a worker thread."""
        rows = []
        for gateway_id, e in self._heard.items():
            if e.frames:
                rows.append({"gateway_id": gateway_id, "transport": e.transport, "first_seen_at": e.first_seen_at,
                             "last_seen_at": e.last_seen_at, "frames": e.frames, "stored": e.stored})
                e.frames, e.stored = 0, True
        return rows

    def write_rows(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        ids = [r["gateway_id"] for r in rows]
        with transaction(self._factory) as db:
            # registered meanwhile (the API deletes the row): never listed again
            registered = set(db.scalars(select(Gateway.gateway_id).where(Gateway.gateway_id.in_(ids))))
            known = set(db.scalars(select(UnknownGateway.gateway_id).where(UnknownGateway.gateway_id.in_(ids))))
            for r in rows:
                if r["gateway_id"] in registered:
                    continue
                if r["gateway_id"] in known:
                    db.execute(update(UnknownGateway).where(UnknownGateway.gateway_id == r["gateway_id"]).values(
                        last_seen_at=r["last_seen_at"], frames=UnknownGateway.frames + r["frames"],
                        transport=r["transport"]))
                else:
                    db.add(UnknownGateway(gateway_id=r["gateway_id"], transport=r["transport"],
                                          first_seen_at=r["first_seen_at"], last_seen_at=r["last_seen_at"],
                                          frames=r["frames"]))
        return len(rows)
