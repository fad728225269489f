"""The network server's side of the application downlink queue (``device_queue``): take the next item, mark it
sent-and-pending (confirmed), acknowledge or give it up. The API enqueues; the server dequeues.

An item on FPort 0 holds MAC commands an operator asked for (ForceRejoinReq, TS001-1.1 §5.13): FPort 0 is the
network's (1.0.4 §4.3.2), so no application item uses it. It goes before application items (after a confirmed
item being retried) and leaves the queue once sent."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, delete, func, select, update

from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import DeviceQueueItem

MAC_F_PORT = 0


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: str
    f_port: int
    payload: bytes
    confirmed: bool
    is_pending: bool
    f_cnt_down: int | None
    retries: int

    @property
    def is_mac(self) -> bool:
        """MAC commands for the device (FRMPayload on FPort 0, under the network's keys and counter)."""
        return self.f_port == MAC_F_PORT


def _item(row: DeviceQueueItem) -> QueueItem:
    return QueueItem(row.id, row.f_port, bytes(row.payload), row.confirmed, row.is_pending, row.f_cnt_down,
                     row.retries)


class DeviceQueue:
    def __init__(self, factory: SessionFactory) -> None:
        self._factory = factory

    def head(self, dev_eui: str) -> tuple[QueueItem | None, int]:
        """The oldest item (pending first: it is being retried) and how many items are queued in all."""
        with self._factory() as db:
            row = db.scalar(
                select(DeviceQueueItem).where(DeviceQueueItem.dev_eui == dev_eui)
                .order_by(DeviceQueueItem.is_pending.desc(), case((DeviceQueueItem.f_port == MAC_F_PORT, 0), else_=1),
                          DeviceQueueItem.created_at, DeviceQueueItem.id)
                .limit(1)
            )
            count = db.scalar(select(func.count()).where(DeviceQueueItem.dev_eui == dev_eui)) or 0
            return (_item(row) if row is not None else None), int(count)

    def pending(self, dev_eui: str) -> QueueItem | None:
        with self._factory() as db:
            row = db.scalar(
                select(DeviceQueueItem).where(DeviceQueueItem.dev_eui == dev_eui, DeviceQueueItem.is_pending)
                .limit(1)
            )
            return _item(row) if row is not None else None

    def mark_sent(self, item_id: str, f_cnt_down: int, *, pending: bool, retries: int) -> None:
        """Unconfirmed items leave the queue once sent; confirmed ones stay pending until acknowledged."""
        with transaction(self._factory) as db:
            if pending:
                db.execute(update(DeviceQueueItem).where(DeviceQueueItem.id == item_id).values(
                    is_pending=True, f_cnt_down=f_cnt_down, retries=retries))
            else:
                db.execute(delete(DeviceQueueItem).where(DeviceQueueItem.id == item_id))

    def remove(self, item_id: str) -> None:
        with transaction(self._factory) as db:
            db.execute(delete(DeviceQueueItem).where(DeviceQueueItem.id == item_id))
