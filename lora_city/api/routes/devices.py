"""Devices, including the issue-4 contract (register, read, readings, queue)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile

from lora_city.api.deps import ContextDep, CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import (
    ERROR_RESPONSES,
    DeviceOut,
    DevicePage,
    EventOut,
    EventPage,
    Flushed,
    ImportOut,
    QueueItemOut,
    ReadingOut,
    ReadingPage,
    device_out,
    queue_item_out,
)
from lora_city.api.strict import QueryBool, QueryDateTime
from lora_city.lorawan.region import region_named
from lora_city.services import activation, device_import, devices, force_rejoin, queue, readings
from lora_city.services.activation import AbpActivation
from lora_city.services.device_import import decode_csv
from lora_city.services.devices import DeviceCreate, DeviceFields
from lora_city.services.force_rejoin import ForceRejoinCreate, ForceRejoinOut
from lora_city.services.queue import QueueItemCreate
from lora_city.services.readings import TimeRange

router = APIRouter(prefix="/devices", tags=["devices"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])

Limit = Annotated[int, Query(ge=1, le=1000)]
From = Annotated[QueryDateTime | None, Query(alias="from", description="Inclusive start (RFC 3339)")]
To = Annotated[QueryDateTime | None, Query(alias="to", description="Exclusive end (RFC 3339)")]


@router.post("", status_code=201)
def create_device(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep, body: DeviceCreate
) -> DeviceOut:
    device = devices.register_device(session, principal, ctx.vault, body, codecs=ctx.codecs, now=now)
    return device_out(devices.get_device(session, principal, device.dev_eui))


@router.post("/import")
def import_devices(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep,
    file: Annotated[UploadFile, File(description="CSV with a header row (see the CLI's `lora-city import`)")],
    tenant_id: str | None = None, dry_run: QueryBool = False,
) -> ImportOut:
    """All or nothing: any bad line rejects the file (422 ``import_rejected``; ``details`` lists every problem of
    every line: ``line``, ``field``, ``reason``). The separator (``,`` ``;`` tab) and the column names (French and
    English: DevEUI, AppKey, Nom …) are recognised; the answer shows the mapping (try ``dry_run``)."""
    text = decode_csv(file.file.read())
    result = device_import.import_devices(session, principal, ctx.vault, device_import.import_text(text),
                                          codecs=ctx.codecs, tenant_id=tenant_id, dry_run=dry_run, now=now)
    mapping = result.mapping
    return ImportOut(imported=result.imported, dry_run=result.dry_run, separator=mapping.separator if mapping else ",",
                     mapping=mapping.as_dict() if mapping else {})


@router.get("")
def list_devices(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 100, after: str | None = None,
    tenant_id: str | None = None, application_id: str | None = None,
) -> DevicePage:
    views = devices.list_devices(session, principal, limit=limit, after=after, tenant_id=tenant_id,
                                 application_id=application_id)
    next_after = views[-1].device.dev_eui if len(views) == limit else None
    return DevicePage(items=[device_out(v) for v in views], next_after=next_after)


@router.get("/{dev_eui}")
def get_device(session: SessionDep, principal: CurrentPrincipal, dev_eui: str) -> DeviceOut:
    return device_out(devices.get_device(session, principal, dev_eui))


@router.patch("/{dev_eui}")
def update_device(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep, dev_eui: str,
    body: DeviceFields,
) -> DeviceOut:
    out = device_out(devices.update_device(session, principal, ctx.vault, dev_eui, body, codecs=ctx.codecs, now=now))
    ctx.device_changed(dev_eui)
    return out


@router.delete("/{dev_eui}", status_code=204)
def delete_device(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, dev_eui: str) -> Response:
    devices.delete_device(session, principal, dev_eui)
    ctx.device_changed(dev_eui)
    return Response(status_code=204)


@router.post("/{dev_eui}/activate")
def activate_device(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep, dev_eui: str,
    body: AbpActivation,
) -> DeviceOut:
    """Activation by personalisation: DevAddr and session keys written into the device. **Counters are the next
    ones**: ``f_cnt_up`` is the FCnt of the device's next uplink (last received + 1; 0 when freshly
    personalised); uplinks below it are dropped as replays. ``n_f_cnt_down`` / ``a_f_cnt_down`` are the
    counters the next downlinks will carry. A new activation replaces the device's session."""
    out = device_out(activation.activate_abp(session, principal, ctx.vault, dev_eui, body, now=now))
    ctx.device_changed(dev_eui)
    return out


@router.post("/{dev_eui}/deactivate")
def deactivate_device(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, dev_eui: str) -> DeviceOut:
    out = device_out(activation.deactivate(session, principal, dev_eui))
    ctx.device_changed(dev_eui)
    return out


@router.get("/{dev_eui}/readings")
def device_readings(
    session: SessionDep, principal: CurrentPrincipal, now: NowDep, dev_eui: str, limit: Limit = 100,
    start: From = None, end: To = None, cursor: str | None = None,
) -> ReadingPage:
    """A technician reads them only while the device was on an asset it bound a device to lately."""
    page = readings.device_readings(session, principal, dev_eui, span=TimeRange(start, end), limit=limit,
                                    cursor=cursor, now=now)
    return ReadingPage(items=[ReadingOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{dev_eui}/events")
def device_events(
    session: SessionDep, principal: CurrentPrincipal, dev_eui: str, limit: Limit = 100,
    start: From = None, end: To = None, kind: str | None = None, cursor: str | None = None,
) -> EventPage:
    page = readings.device_events(session, principal, dev_eui, span=TimeRange(start, end), kind=kind,
                                  limit=limit, cursor=cursor)
    return EventPage(items=[EventOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor)


@router.post("/{dev_eui}/queue", status_code=201)
def enqueue(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep, dev_eui: str,
    body: QueueItemCreate,
) -> QueueItemOut:
    item = queue.enqueue(session, principal, dev_eui, body, codecs=ctx.codecs, notifier=ctx.notifier, now=now)
    return queue_item_out(item)


@router.get("/{dev_eui}/queue")
def list_queue(session: SessionDep, principal: CurrentPrincipal, dev_eui: str) -> list[QueueItemOut]:
    return [queue_item_out(i) for i in queue.list_queue(session, principal, dev_eui)]


@router.delete("/{dev_eui}/queue")
def flush_queue(session: SessionDep, principal: CurrentPrincipal, dev_eui: str) -> Flushed:
    return Flushed(deleted=queue.flush_queue(session, principal, dev_eui))


@router.post("/{dev_eui}/force-rejoin", status_code=202)
def force_rejoin_device(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep, dev_eui: str,
    body: ForceRejoinCreate,
) -> ForceRejoinOut:
    """Ask a **LoRaWAN 1.1** device to rejoin (ForceRejoinReq, TS001-1.1 §5.13). The command goes with the
    device's next downlink opportunity: the answer to its next uplink (class A), at once for a class C device
    that has sent an uplink in its session. Until then it waits in the device's queue as an FPort 0 item
    (``GET .../queue``; flushing the queue cancels it); a newer request replaces one not sent yet. The device
    then sends up to ``max_retries`` + 1 rejoin-requests of ``rejoin_type`` (0: new session from the network's
    defaults; 2: new DevAddr, keys and counters, radio parameters kept) at data rate ``dr``, every
    32 s x 2^``period`` + 0-32 s; the network server answers the first with a join-accept (§6.2.4) and the
    device confirms its new keys with RekeyInd (§5.10). 202: queued, not yet sent. 409 ``lorawan_1_1_only``:
    the device's session is LoRaWAN 1.0.x (the command does not exist there); 409 ``not_activated``: no
    session; 409 ``no_root_keys``: an ABP device, whose rejoin could not be answered; 422: a field out of the
    §5.13 range or a data rate the region does not have."""
    item, replaced = force_rejoin.force_rejoin(session, principal, dev_eui, body,
                                               region=region_named(ctx.settings.region), notifier=ctx.notifier,
                                               now=now)
    return ForceRejoinOut(queue_item_id=item.id, dev_eui=item.dev_eui, rejoin_type=body.rejoin_type,
                          max_retries=body.max_retries, period=body.period, dr=body.dr,
                          mac_command_hex=bytes(item.payload).hex(), replaced=replaced)
