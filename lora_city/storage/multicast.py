"""The network server's side of multicast groups: a group's radio settings and keys (decrypted), its members,
and its queue (take the next due item, mark it sent, put it back, expire it). The API creates and enqueues.

Items are claimed with a conditional UPDATE (``queued`` -> ``sending``): when several server processes share the
database, exactly one of them sends a given item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import MulticastGroup, MulticastGroupDevice, MulticastQueueItem


def group_key_context(group_id: str) -> bytes:
    """The AEAD context of a group's keys at rest (the API writes them, the server and rotation read them)."""
    return b"multicast:" + group_id.encode()


@dataclass(frozen=True, slots=True)
class McGroup:
    id: str
    tenant_id: str
    name: str
    mc_addr: str
    mc_nwk_s_key: bytes
    mc_app_s_key: bytes
    group_class: str
    dr: int
    frequency: int
    ping_slot_periodicity: int


@dataclass(frozen=True, slots=True)
class McItem:
    id: str
    group_id: str
    f_cnt: int
    f_port: int
    payload: bytes
    created_at: datetime
    expires_at: datetime | None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class MulticastStore:
    def __init__(self, factory: SessionFactory, vault: KeyVault) -> None:
        self._factory = factory
        self._vault = vault

    def group(self, group_id: str) -> McGroup | None:
        with self._factory() as db:
            row = db.get(MulticastGroup, group_id)
            if row is None:
                return None
            ctx = group_key_context(row.id)
            return McGroup(
                row.id, row.tenant_id, row.name, row.mc_addr,
                self._vault.decrypt(row.mc_nwk_s_key_enc, context=ctx),
                self._vault.decrypt(row.mc_app_s_key_enc, context=ctx),
                row.group_class, row.dr, row.frequency, row.ping_slot_periodicity,
            )

    def members(self, group_id: str) -> list[str]:
        with self._factory() as db:
            return list(db.scalars(
                select(MulticastGroupDevice.dev_eui).where(MulticastGroupDevice.group_id == group_id)
                .order_by(MulticastGroupDevice.dev_eui)
            ))

    def groups_with_queue(self) -> list[str]:
        with self._factory() as db:
            return list(db.scalars(
                select(MulticastQueueItem.group_id).where(MulticastQueueItem.state == "queued").distinct()
            ))

    def claim_next(self, group_id: str, now: datetime) -> tuple[McItem | None, list[str]]:
        """The oldest due item of the group, now ``sending``; and the ids of the items that expired meanwhile."""
        expired: list[str] = []
        with transaction(self._factory) as db:
            rows = db.scalars(
                select(MulticastQueueItem).where(MulticastQueueItem.group_id == group_id,
                                                 MulticastQueueItem.state == "queued")
                .order_by(MulticastQueueItem.f_cnt)
            ).all()
            for row in rows:
                expires = _utc(row.expires_at)
                if expires is not None and expires <= now:
                    row.state, row.detail = "expired", "expired before it could be sent"
                    expired.append(row.id)
                    continue
                claimed = db.execute(
                    update(MulticastQueueItem).where(MulticastQueueItem.id == row.id,
                                                     MulticastQueueItem.state == "queued")
                    .values(state="sending")
                    .execution_options(synchronize_session=False)
                )
                if getattr(claimed, "rowcount", 0) != 1:
                    continue  # another process took it
                created = _utc(row.created_at)
                assert created is not None
                return McItem(row.id, row.group_id, row.f_cnt, row.f_port, bytes(row.payload), created,
                              expires), expired
        return None, expired

    def finish(self, item_id: str, state: str, *, gateways: list[str], detail: str, now: datetime) -> None:
        with transaction(self._factory) as db:
            db.execute(update(MulticastQueueItem).where(MulticastQueueItem.id == item_id).values(
                state=state, gateways=gateways, detail=detail[:500], sent_at=now if state == "sent" else None))

    def release(self, item_id: str, detail: str) -> None:
        """Back to the queue (no gateway could transmit now); retried until it expires."""
        with transaction(self._factory) as db:
            db.execute(update(MulticastQueueItem).where(MulticastQueueItem.id == item_id).values(
                state="queued", detail=detail[:500]))
