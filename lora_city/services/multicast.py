"""Multicast groups (issue 24): create, edit, delete; add and remove members; enqueue a group downlink; list and
flush the group's queue. Tenant rules are those of devices: a group belongs to one tenant, its members are
devices of that tenant, and another tenant's group or device is a 404.

McKey is given or drawn at random; McNwkSKey and McAppSKey are derived from it and the McAddr as TS005-1.0.0
§4.3 specifies (``lorawan.applayer.multicast_setup``). Or the two session keys are given instead (as ChirpStack's
MulticastGroupService takes them; the devices were given them another way): such a group has no McKey, so no
TS005 remote setup (a FUOTA campaign refuses it). The keys are stored encrypted and never returned.
An enqueued item takes the group's next frame counter at once (so the counter order is the queue order) and
expires (``expires_in_s``, one hour by default) if no gateway could send it by then.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import AlreadyExists, InvalidInput, NotFound
from lora_city.lorawan.applayer.multicast_setup import mc_session_keys
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import EU868, Region
from lora_city.services.common import (
    INPUT_CONFIG,
    NotNull,
    hex_field,
    hex_id,
    key_bytes,
    page_limit,
    require_same_tenant,
    target_tenant,
    visible_only,
)
from lora_city.services.devices import check_codec, find_device
from lora_city.services.principal import Perm, Principal
from lora_city.services.queue import payload_of
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import (
    Application,
    Device,
    DeviceProfile,
    DeviceSession,
    MulticastGroup,
    MulticastGroupDevice,
    MulticastQueueItem,
    new_id,
)
from lora_city.storage.multicast import group_key_context
from lora_city.uplink.dev_addr import allocate_dev_addr

GroupNotifier = Callable[[str], None]
DEFAULT_EXPIRY_S = 3600
MAX_MEMBERS_PER_CALL = 1000
log = logging.getLogger(__name__)


class GroupFields(BaseModel):
    model_config = INPUT_CONFIG

    name: Annotated[str, Field(min_length=1, max_length=200)] | NotNull = None
    group_class: Literal["B", "C"] | None = None
    dr: int | None = Field(default=None, ge=0, le=15)
    frequency: int | None = Field(default=None, ge=100_000_000, le=1_670_000_000)
    ping_slot_periodicity: int | None = Field(default=None, ge=0, le=7)
    codec: str | None = Field(default=None, max_length=100)
    application_id: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class GroupCreate(GroupFields):
    name: str = Field(min_length=1, max_length=200)
    tenant_id: str | None = None
    mc_addr: str | None = hex_field(4, default=None)
    mc_key: str | None = hex_field(16, default=None)  # write-only
    mc_nwk_s_key: str | None = hex_field(16, default=None)  # write-only, with mc_app_s_key
    mc_app_s_key: str | None = hex_field(16, default=None)


class MembersAdd(BaseModel):
    model_config = INPUT_CONFIG

    dev_euis: list[Annotated[str, hex_field(8)]] = Field(min_length=1, max_length=MAX_MEMBERS_PER_CALL)


class GroupQueueItemCreate(BaseModel):
    model_config = INPUT_CONFIG

    f_port: int | None = Field(default=None, ge=1, le=223)
    data_hex: str | None = Field(default=None, max_length=2 * 250)
    object: dict[str, Any] | None = None
    expires_in_s: int = Field(default=DEFAULT_EXPIRY_S, ge=1, le=7 * 86400)


@dataclass(frozen=True, slots=True)
class GroupView:
    group: MulticastGroup
    members: int
    queued: int


def _radio(region: Region, group_class: str, dr: int | None, frequency: int | None) -> tuple[int, int]:
    """The group's DR and frequency, defaulting to where class C devices listen (RX2) or to the ping-slot
    channel for class B (RP002 EU868: 869.525 MHz, DR0 for RX2; DR3 for beacons and ping slots)."""
    if group_class == "B":
        default_dr = int(getattr(region, "ping_slot_data_rate", region.rx2_data_rate))
        default_freq = int(getattr(region, "ping_slot_frequency_hz", region.rx2_frequency_hz))
    else:
        default_dr, default_freq = region.rx2_data_rate, region.rx2_frequency_hz
    dr = default_dr if dr is None else dr
    frequency = default_freq if frequency is None else frequency
    try:
        region.data_rate(dr)
    except LoRaWANError:
        raise InvalidInput(f"{region.name} has no DR{dr}", code="invalid_dr") from None
    try:
        region.sub_band(frequency)
    except LoRaWANError:
        raise InvalidInput(f"{frequency} Hz is not a {region.name} downlink frequency",
                           code="invalid_frequency") from None
    if frequency % 100:
        raise InvalidInput("frequency must be a multiple of 100 Hz", code="invalid_frequency")
    return dr, frequency


def _check_application(session: Session, principal: Principal, tenant: str, application_id: str | None) -> None:
    if application_id is None:
        return
    app = session.get(Application, application_id)
    if app is None or not principal.sees(app.tenant_id):
        raise NotFound("application not found", code="application_not_found")
    require_same_tenant(app.tenant_id, tenant, "application")


def _free_mc_addr(session: Session, net_id: str) -> str:
    for _ in range(100):
        addr = allocate_dev_addr(net_id)
        if not _addr_taken(session, addr):
            return addr
    raise AlreadyExists("no free multicast address found", code="mc_addr_exhausted")


def _addr_taken(session: Session, addr: str) -> bool:
    """An McAddr must not be another group's, nor a device's DevAddr (that device would try to open the frames)."""
    if session.scalar(select(MulticastGroup.id).where(MulticastGroup.mc_addr == addr)) is not None:
        return True
    return session.scalar(
        select(DeviceSession.id).where(DeviceSession.dev_addr == addr, DeviceSession.is_active).limit(1)
    ) is not None


def _set_keys(vault: KeyVault, group: MulticastGroup, mc_key: bytes) -> None:
    mc_app_s_key, mc_nwk_s_key = mc_session_keys(mc_key, group.mc_addr)
    ctx = group_key_context(group.id)
    group.mc_key_enc = vault.encrypt(mc_key, context=ctx)
    group.mc_nwk_s_key_enc = vault.encrypt(mc_nwk_s_key, context=ctx)
    group.mc_app_s_key_enc = vault.encrypt(mc_app_s_key, context=ctx)


def set_session_keys(vault: KeyVault, group: MulticastGroup, mc_nwk_s_key: str, mc_app_s_key: str) -> None:
    """The group's session keys as given (no McKey: it stays unknown)."""
    ctx = group_key_context(group.id)
    group.mc_key_enc = None
    group.mc_nwk_s_key_enc = vault.encrypt(key_bytes(mc_nwk_s_key, "mc_nwk_s_key"), context=ctx)
    group.mc_app_s_key_enc = vault.encrypt(key_bytes(mc_app_s_key, "mc_app_s_key"), context=ctx)


def create_group(
    session: Session, principal: Principal, vault: KeyVault, data: GroupCreate, *, net_id: str,
    codecs: CodecRegistry | None, now: datetime, region: Region = EU868,
) -> GroupView:
    principal.require(Perm.DEVICES_WRITE)
    tenant = target_tenant(session, principal, data.tenant_id)
    _check_application(session, principal, tenant, data.application_id)
    check_codec(codecs, data.codec)
    group_class = data.group_class or "C"
    dr, frequency = _radio(region, group_class, data.dr, data.frequency)
    if data.mc_addr is not None:
        mc_addr = hex_id(data.mc_addr, 4, "mc_addr")
        if _addr_taken(session, mc_addr):
            raise AlreadyExists(f"mc_addr {mc_addr} is already in use", code="mc_addr_taken")
    else:
        mc_addr = _free_mc_addr(session, net_id)
    session_keys = (data.mc_nwk_s_key, data.mc_app_s_key)
    if any(k is not None for k in session_keys) and (None in session_keys or data.mc_key is not None):
        raise InvalidInput("give mc_key, or both mc_nwk_s_key and mc_app_s_key", code="invalid_mc_key")
    mc_key = key_bytes(data.mc_key, "mc_key") if data.mc_key is not None else secrets.token_bytes(16)
    group = MulticastGroup(
        tenant_id=tenant, application_id=data.application_id, name=data.name, mc_addr=mc_addr,
        group_class=group_class, dr=dr, frequency=frequency,
        ping_slot_periodicity=7 if data.ping_slot_periodicity is None else data.ping_slot_periodicity,
        codec_id=data.codec, latitude=data.latitude, longitude=data.longitude, created_at=now, updated_at=now,
    )
    group.id = new_id()  # the keys' AEAD context is the id: known before the first flush
    if data.mc_nwk_s_key is not None and data.mc_app_s_key is not None:
        set_session_keys(vault, group, data.mc_nwk_s_key, data.mc_app_s_key)
    else:
        _set_keys(vault, group, mc_key)
    session.add(group)
    session.commit()
    return GroupView(group, 0, 0)


def find_group(session: Session, principal: Principal, group_id: str) -> MulticastGroup:
    group = session.get(MulticastGroup, group_id.strip())
    if group is None or not principal.sees(group.tenant_id):
        raise NotFound("multicast group not found", code="group_not_found")
    return group


def _view(session: Session, group: MulticastGroup) -> GroupView:
    members = session.scalar(select(func.count()).where(MulticastGroupDevice.group_id == group.id)) or 0
    queued = session.scalar(select(func.count()).where(MulticastQueueItem.group_id == group.id,
                                                       MulticastQueueItem.state == "queued")) or 0
    return GroupView(group, int(members), int(queued))


def get_group(session: Session, principal: Principal, group_id: str) -> GroupView:
    principal.require(Perm.DEVICES_READ)
    return _view(session, find_group(session, principal, group_id))


def list_groups(session: Session, principal: Principal, *, tenant_id: str | None = None,
                application_id: str | None = None, limit: int = 100, after: str | None = None) -> list[GroupView]:
    principal.require(Perm.DEVICES_READ)
    stmt = select(MulticastGroup).order_by(MulticastGroup.name, MulticastGroup.id).limit(page_limit(limit))
    stmt = visible_only(stmt, principal, MulticastGroup.tenant_id, tenant_id)
    if application_id is not None:
        stmt = stmt.where(MulticastGroup.application_id == application_id)
    if after is not None:
        stmt = stmt.where(MulticastGroup.name > after)
    return [_view(session, g) for g in session.scalars(stmt)]


def update_group(session: Session, principal: Principal, group_id: str, data: GroupFields, *,
                 codecs: CodecRegistry | None, now: datetime, region: Region = EU868) -> GroupView:
    principal.require(Perm.DEVICES_WRITE)
    group = find_group(session, principal, group_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise InvalidInput("name may not be null")
    if "codec" in changes:
        check_codec(codecs, changes["codec"])
        group.codec_id = changes.pop("codec")
    if "application_id" in changes:
        _check_application(session, principal, group.tenant_id, changes["application_id"])
    group_class = changes.pop("group_class", None) or group.group_class
    if {"dr", "frequency"} & changes.keys() or group_class != group.group_class:
        dr = changes.pop("dr", group.dr)
        frequency = changes.pop("frequency", group.frequency)
        group.dr, group.frequency = _radio(region, group_class, dr, frequency)
        group.group_class = group_class
    for name, value in changes.items():
        if name == "ping_slot_periodicity" and value is None:
            continue
        setattr(group, name, value)
    group.updated_at = now
    session.commit()
    return _view(session, group)


def delete_group(session: Session, principal: Principal, group_id: str) -> None:
    principal.require(Perm.DEVICES_WRITE)
    session.delete(find_group(session, principal, group_id))
    session.commit()


def list_members(session: Session, principal: Principal, group_id: str) -> list[Device]:
    principal.require(Perm.DEVICES_READ)
    group = find_group(session, principal, group_id)
    return list(session.scalars(
        select(Device).join(MulticastGroupDevice, MulticastGroupDevice.dev_eui == Device.dev_eui)
        .where(MulticastGroupDevice.group_id == group.id).order_by(Device.dev_eui)
    ))


def add_members(session: Session, principal: Principal, group_id: str, data: MembersAdd, *, now: datetime) -> int:
    """All or nothing: an unknown device, or one of another tenant, rejects the whole call. Returns how many
    devices joined (members already in the group are left as they are)."""
    principal.require(Perm.DEVICES_WRITE)
    group = find_group(session, principal, group_id)
    euis = list(dict.fromkeys(hex_id(e, 8, "dev_eui") for e in data.dev_euis))
    existing = set(session.scalars(select(MulticastGroupDevice.dev_eui).where(
        MulticastGroupDevice.group_id == group.id, MulticastGroupDevice.dev_eui.in_(euis))))
    added = 0
    for dev_eui in euis:
        device = find_device(session, principal, dev_eui)
        require_same_tenant(device.tenant_id, group.tenant_id, f"device {dev_eui}")
        if dev_eui not in existing:
            session.add(MulticastGroupDevice(group_id=group.id, dev_eui=dev_eui, created_at=now))
            added += 1
    session.commit()
    return added


def remove_member(session: Session, principal: Principal, group_id: str, dev_eui: str) -> None:
    principal.require(Perm.DEVICES_WRITE)
    group = find_group(session, principal, group_id)
    eui = hex_id(dev_eui, 8, "dev_eui")
    result = session.execute(delete(MulticastGroupDevice).where(MulticastGroupDevice.group_id == group.id,
                                                                MulticastGroupDevice.dev_eui == eui))
    if not getattr(result, "rowcount", 0):
        raise NotFound("device is not a member of the group", code="member_not_found")
    session.commit()


def group_codec(session: Session, group: MulticastGroup) -> str | None:
    """The codec that encodes objects for the group: its own, else the one every member uses."""
    if group.codec_id:
        return group.codec_id
    rows = session.execute(
        select(Device.codec_id, DeviceProfile.codec_id)
        .join(MulticastGroupDevice, MulticastGroupDevice.dev_eui == Device.dev_eui)
        .outerjoin(DeviceProfile, DeviceProfile.id == Device.device_profile_id)
        .where(MulticastGroupDevice.group_id == group.id)
    ).all()
    codecs = {own or profile for own, profile in rows}
    if len(codecs) > 1:
        raise InvalidInput("the members use different codecs: set the group's codec, or send data_hex",
                           code="mixed_codecs")
    return next(iter(codecs), None)


def enqueue(
    session: Session, principal: Principal, group_id: str, data: GroupQueueItemCreate, *,
    codecs: CodecRegistry | None, notifier: GroupNotifier | None, now: datetime, region: Region = EU868,
) -> MulticastQueueItem:
    principal.require(Perm.QUEUE_WRITE)
    group = find_group(session, principal, group_id)
    f_port, payload = payload_of(codecs, group_codec(session, group), data, owner="group")
    max_n = region.max_payload_size(group.dr)[1]
    if len(payload) > max_n:
        raise InvalidInput(f"payload of {len(payload)} bytes exceeds the {max_n} bytes DR{group.dr} carries",
                           code="payload_too_long")
    # The counter is taken under a row lock (PostgreSQL; SQLite serialises writers anyway).
    locked = session.scalar(select(MulticastGroup).where(MulticastGroup.id == group.id).with_for_update())
    assert locked is not None
    f_cnt = locked.f_cnt
    locked.f_cnt = f_cnt + 1
    item = MulticastQueueItem(group_id=group.id, f_cnt=f_cnt, f_port=f_port, payload=payload, state="queued",
                              created_at=now, expires_at=now + timedelta(seconds=data.expires_in_s), gateways=[],
                              detail="")
    session.add(item)
    session.commit()
    if notifier is not None:
        try:
            notifier(group.id)
        except Exception:  # stored: the server's fallback pass sends it
            log.exception("multicast notifier failed: group_id=%s", group.id)
    return item


def list_queue(session: Session, principal: Principal, group_id: str, *, limit: int = 100) -> list[MulticastQueueItem]:
    """Queued items first, then the most recent sent or expired ones (what happened to my downlink?)."""
    principal.require(Perm.DEVICES_READ)
    group = find_group(session, principal, group_id)
    return list(session.scalars(
        select(MulticastQueueItem).where(MulticastQueueItem.group_id == group.id)
        .order_by((MulticastQueueItem.state == "queued").desc(), MulticastQueueItem.f_cnt.desc())
        .limit(page_limit(limit))
    ))


def flush_queue(session: Session, principal: Principal, group_id: str) -> int:
    principal.require(Perm.QUEUE_WRITE)
    group = find_group(session, principal, group_id)
    result = session.execute(delete(MulticastQueueItem).where(MulticastQueueItem.group_id == group.id,
                                                              MulticastQueueItem.state == "queued"))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
