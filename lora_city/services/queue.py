"""The application downlink queue of a device: enqueue (raw hex or an object through the codec), list, flush.

After an enqueue the ``DownlinkNotifier`` is called with the DevEUI so a class C device gets its downlink at
once instead of at its next uplink. The API calls it from a worker thread: the network server's notifier must be
thread-safe (for asyncio, ``loop.call_soon_threadsafe``). A failing notifier does not lose the downlink: it stays
queued and leaves at the device's next opportunity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import InvalidInput
from lora_city.services.common import INPUT_CONFIG
from lora_city.services.devices import find_device, get_device
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import DeviceQueueItem

DownlinkNotifier = Callable[[str], None]
MAX_PAYLOAD = 242  # largest application payload of EU868 (DR5..7, RP002-1.0.3 §2.1.6)
log = logging.getLogger(__name__)


class QueueItemCreate(BaseModel):
    model_config = INPUT_CONFIG

    f_port: int | None = Field(default=None, ge=1, le=223)  # 0 is MAC, 224+ reserved (LoRaWAN 1.0.4 §4.3.2)
    data_hex: str | None = Field(default=None, max_length=2 * MAX_PAYLOAD)
    object: dict[str, Any] | None = None
    confirmed: bool = False


class PayloadRequest(Protocol):
    """A queue request's payload part, for a device or a multicast group."""

    f_port: int | None
    data_hex: str | None
    object: dict[str, Any] | None


def payload_of(
    codecs: CodecRegistry | None, codec: str | None, data: PayloadRequest, owner: str = "device"
) -> tuple[int, bytes]:
    """(FPort, bytes) of a queue request: its hex as given, or its object through the codec's encodeDownlink."""
    if (data.data_hex is None) == (data.object is None):
        raise InvalidInput("give exactly one of data_hex and object", code="invalid_payload")
    if data.data_hex is not None:
        try:
            payload = bytes.fromhex(data.data_hex)
        except ValueError:
            raise InvalidInput("data_hex is not hexadecimal", code="invalid_payload") from None
        if data.f_port is None:
            raise InvalidInput("f_port is required with data_hex", code="invalid_f_port")
        return data.f_port, payload
    if codec is None or codecs is None or codec not in codecs:
        raise InvalidInput(f"the {owner} has no codec to encode an object", code="no_codec")
    assert data.object is not None
    result = codecs.encode_downlink(codec, data.object)
    if result.errors or result.payload is None:
        raise InvalidInput("codec refused the object: " + "; ".join(result.errors or ["no bytes"]),
                           code="encode_failed")
    f_port = data.f_port or result.f_port
    if f_port is None or not 1 <= f_port <= 223:
        raise InvalidInput("codec gave no usable f_port", code="invalid_f_port")
    return f_port, result.payload


def enqueue(
    session: Session, principal: Principal, dev_eui: str, data: QueueItemCreate, *,
    codecs: CodecRegistry | None, notifier: DownlinkNotifier | None, now: datetime,
) -> DeviceQueueItem:
    principal.require(Perm.QUEUE_WRITE)
    view = get_device(session, principal, dev_eui)
    f_port, payload = payload_of(codecs, view.codec, data)
    if len(payload) > MAX_PAYLOAD:
        raise InvalidInput(f"payload longer than {MAX_PAYLOAD} bytes", code="payload_too_long")
    item = DeviceQueueItem(
        dev_eui=view.device.dev_eui, f_port=f_port, payload=payload, confirmed=data.confirmed, created_at=now,
    )
    session.add(item)
    session.commit()
    # Every class: class C goes out at once; for class A the network server learns that the queue is not
    # empty (it does not query the queue on each uplink) and answers the next uplink with it.
    if notifier is not None:
        try:
            notifier(view.device.dev_eui)
        except Exception:  # the item is stored; the network server will still send it
            log.exception("downlink notifier failed", extra={"dev_eui": view.device.dev_eui})
    return item


def list_queue(session: Session, principal: Principal, dev_eui: str) -> list[DeviceQueueItem]:
    principal.require(Perm.DEVICES_READ)
    device = find_device(session, principal, dev_eui)
    return list(session.scalars(
        select(DeviceQueueItem).where(DeviceQueueItem.dev_eui == device.dev_eui)
        .order_by(DeviceQueueItem.created_at, DeviceQueueItem.id)
    ))


def flush_queue(session: Session, principal: Principal, dev_eui: str) -> int:
    principal.require(Perm.QUEUE_WRITE)
    device = find_device(session, principal, dev_eui)
    result = session.execute(delete(DeviceQueueItem).where(DeviceQueueItem.dev_eui == device.dev_eui))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
