"""Devices: register (issue 4 contract), read with their join state, list by pages, update, delete.

Keys are write-only: encrypted with the KeyVault under the DevEUI as context (the network server decrypts with
the same context, and a key blob copied onto another device's row does not decrypt) and never returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import AlreadyExists, InvalidInput, NotFound
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
from lora_city.services.principal import Perm, Principal
from lora_city.services.profile_codecs import is_profile_codec
from lora_city.services.profiles import default_profile, profile_for_model
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Application, Device, DeviceKeys, DeviceProfile, DeviceSession

Hex16 = hex_field(8)
Key = hex_field(16, default=None)


class DeviceFields(BaseModel):
    model_config = INPUT_CONFIG

    name: Annotated[str, Field(min_length=1, max_length=200)] | NotNull = None
    description: str | None = Field(default=None, max_length=1000)  # null clears it
    join_eui: Annotated[str, hex_field(8)] | NotNull = None
    app_key: Annotated[str, hex_field(16)] | NotNull = None
    nwk_key: str | None = Key
    # LoRaWAN 1.0.x devices that run TS005/TS004 (firmware updates) derive those packages' keys from a GenAppKey
    gen_app_key: str | None = Key
    codec: str | None = Field(default=None, max_length=100)
    device_class: Literal["A", "B", "C"] | None = None
    application_id: str | None = None
    device_profile_id: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    is_disabled: bool | NotNull = None
    tags: dict[str, str] | NotNull = None


class DeviceCreate(DeviceFields):
    dev_eui: str = Hex16
    name: str = Field(min_length=1, max_length=200)
    tenant_id: str | None = None
    catalogue_model: str | None = Field(
        default=None, max_length=80,
        description="A catalogue model (vendor/model): the device gets the tenant's profile made from it (made now "
                    "if there is none), which fills codec, class, MAC version and regional parameters")
    firmware_version: str | None = Field(default=None, max_length=40,
                                         description="The model's firmware (default: the newest with EU868)")


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A device as the API shows it: its row plus what the network server knows of it."""

    device: Device
    joined: bool
    codec: str | None
    device_class: str


def check_codec(codecs: CodecRegistry | None, codec: str | None) -> None:
    if is_profile_codec(codec):
        # A device profile's own script (ChirpStack's payload_codec_script) belongs to that profile, maybe another
        # tenant's: a device or a group uses it only by using the profile.
        raise InvalidInput(f"codec {codec!r} is a device profile's own script: use that profile",
                           code="unknown_codec")
    if codec is not None and codecs is not None and codec not in codecs:
        raise InvalidInput(f"no codec {codec!r}", code="unknown_codec")


def encrypt_keys(vault: KeyVault, dev_eui: str, app_key: str, nwk_key: str | None,
                 gen_app_key: str | None = None) -> DeviceKeys:
    context = dev_eui.encode()
    return DeviceKeys(
        dev_eui=dev_eui,
        app_key_enc=vault.encrypt(key_bytes(app_key, "app_key"), context=context),
        nwk_key_enc=None if nwk_key is None else vault.encrypt(key_bytes(nwk_key, "nwk_key"), context=context),
        gen_app_key_enc=None if gen_app_key is None
        else vault.encrypt(key_bytes(gen_app_key, "gen_app_key"), context=context),
    )


def _check_refs(session: Session, principal: Principal, tenant: str, data: DeviceFields) -> None:
    if data.application_id is not None:
        app = session.get(Application, data.application_id)
        if app is None or not principal.sees(app.tenant_id):
            raise NotFound("application not found", code="application_not_found")
        require_same_tenant(app.tenant_id, tenant, "application")
    if data.device_profile_id is not None:
        profile = session.get(DeviceProfile, data.device_profile_id)
        if profile is None or not principal.sees(profile.tenant_id):
            raise NotFound("device profile not found", code="device_profile_not_found")
        require_same_tenant(profile.tenant_id, tenant, "device profile")


def register_device(
    session: Session, principal: Principal, vault: KeyVault, data: DeviceCreate, *,
    codecs: CodecRegistry | None = None, now: datetime, commit: bool = True,
) -> Device:
    principal.require(Perm.DEVICES_WRITE)
    return add_device(session, principal, vault, data, codecs=codecs, now=now, commit=commit)


def add_device(
    session: Session, principal: Principal, vault: KeyVault, data: DeviceCreate, *,
    codecs: CodecRegistry | None = None, now: datetime, commit: bool = True,
) -> Device:
    """``register_device`` for callers that checked their own permission (an installer registering on site)."""
    dev_eui = hex_id(data.dev_eui, 8, "dev_eui")
    join_eui = hex_id(data.join_eui or "0" * 16, 8, "join_eui")
    tenant = target_tenant(session, principal, data.tenant_id)
    check_codec(codecs, data.codec)
    _check_refs(session, principal, tenant, data)
    if (data.nwk_key is not None or data.gen_app_key is not None) and data.app_key is None:
        raise InvalidInput("nwk_key and gen_app_key need app_key", code="invalid_app_key")
    profile_id = data.device_profile_id
    if data.catalogue_model is not None:
        if profile_id is not None:
            raise InvalidInput("give device_profile_id or catalogue_model, not both", code="invalid_catalogue_model")
        profile_id = profile_for_model(session, tenant, data.catalogue_model, data.firmware_version).id
    elif data.firmware_version is not None:
        raise InvalidInput("firmware_version needs catalogue_model", code="invalid_catalogue_model")
    elif profile_id is None:
        profile_id = default_profile(session, tenant, data.codec, data.device_class,
                                     "1.1.0" if data.nwk_key is not None else "1.0.3").id
    if session.get(Device, dev_eui) is not None:
        # Deliberately the same answer whoever owns it: registering is how a DevEUI's owner is settled.
        raise AlreadyExists(f"device {dev_eui} already exists")
    device = Device(
        dev_eui=dev_eui, tenant_id=tenant, name=data.name, description=data.description or "",
        join_eui=join_eui, codec_id=data.codec, device_class=data.device_class,
        application_id=data.application_id, device_profile_id=profile_id,
        latitude=data.latitude, longitude=data.longitude, is_disabled=bool(data.is_disabled),
        tags=data.tags or {}, created_at=now,
    )
    session.add(device)
    if data.app_key is not None:
        keys = encrypt_keys(vault, dev_eui, data.app_key, data.nwk_key, data.gen_app_key)
        keys.updated_at = now
        session.add(keys)
    session.flush()
    if commit:
        session.commit()
    return device


def find_device(session: Session, principal: Principal, dev_eui: str) -> Device:
    """The device if the principal may read devices and sees its tenant; NotFound otherwise."""
    device = session.get(Device, dev_eui.strip().lower())
    if device is None or not principal.sees(device.tenant_id):
        raise NotFound("device not found")
    return device


def _views(session: Session, devices: list[Device]) -> list[DeviceView]:
    if not devices:
        return []
    euis = [d.dev_eui for d in devices]
    joined = set(session.scalars(
        select(DeviceSession.dev_eui).where(DeviceSession.dev_eui.in_(euis), DeviceSession.is_active.is_(True))
    ))
    profile_ids = {d.device_profile_id for d in devices if d.device_profile_id}
    profiles: dict[str, DeviceProfile] = {}
    if profile_ids:
        profiles = {p.id: p for p in session.scalars(select(DeviceProfile).where(DeviceProfile.id.in_(profile_ids)))}
    views = []
    for d in devices:
        profile = profiles.get(d.device_profile_id or "")
        codec = d.codec_id or (profile.codec_id if profile else None)
        device_class = d.device_class or (profile.device_class if profile else "A")
        views.append(DeviceView(d, d.dev_eui in joined, codec, device_class))
    return views


def device_views(session: Session, devices: list[Device]) -> list[DeviceView]:
    """Views of rows the caller already found (and checked)."""
    return _views(session, devices)


def device_views_for(session: Session, principal: Principal, dev_euis: list[str]) -> list[DeviceView]:
    """Views of the devices among ``dev_euis`` that exist and the principal sees (an asset's history names
    devices deleted since, or of no concern to the caller)."""
    principal.require(Perm.DEVICES_READ)
    if not dev_euis:
        return []
    rows = session.scalars(select(Device).where(Device.dev_eui.in_(set(dev_euis))))
    return _views(session, [d for d in rows if principal.sees(d.tenant_id)])


def get_device(session: Session, principal: Principal, dev_eui: str) -> DeviceView:
    principal.require(Perm.DEVICES_READ)
    return _views(session, [find_device(session, principal, dev_eui)])[0]


def list_devices(
    session: Session, principal: Principal, *, limit: int = 100, after: str | None = None,
    tenant_id: str | None = None, application_id: str | None = None,
) -> list[DeviceView]:
    """One page in DevEUI order; ``after`` is the last DevEUI of the previous page (keyset: constant cost)."""
    principal.require(Perm.DEVICES_READ)
    stmt = select(Device).order_by(Device.dev_eui).limit(page_limit(limit))
    stmt = visible_only(stmt, principal, Device.tenant_id, tenant_id)
    if application_id is not None:
        stmt = stmt.where(Device.application_id == application_id)
    if after is not None:
        stmt = stmt.where(Device.dev_eui > after.lower())
    return _views(session, list(session.scalars(stmt)))


_NOT_NULL = {"name", "join_eui", "is_disabled", "tags", "app_key"}


def update_device(
    session: Session, principal: Principal, vault: KeyVault, dev_eui: str, data: DeviceFields, *,
    codecs: CodecRegistry | None = None, now: datetime,
) -> DeviceView:
    principal.require(Perm.DEVICES_WRITE)
    device = find_device(session, principal, dev_eui)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name in _NOT_NULL:
            raise InvalidInput(f"{name} may not be null")
    if changes.get("description", "") is None:
        changes["description"] = ""  # null clears it
    check_codec(codecs, data.codec)
    _check_refs(session, principal, device.tenant_id, data)
    if "app_key" in changes:
        keys = encrypt_keys(vault, device.dev_eui, changes.pop("app_key"), changes.pop("nwk_key", None),
                            changes.pop("gen_app_key", None))
        keys.updated_at = now
        session.merge(keys)
    elif changes.get("gen_app_key") is not None or changes.get("nwk_key") is not None:
        raise InvalidInput("give app_key with nwk_key or gen_app_key (the keys are replaced together)",
                           code="invalid_app_key")
    changes.pop("nwk_key", None)
    changes.pop("gen_app_key", None)
    if "join_eui" in changes:
        changes["join_eui"] = hex_id(changes["join_eui"], 8, "join_eui")
    if "codec" in changes:
        changes["codec_id"] = changes.pop("codec")
    for name, value in changes.items():
        setattr(device, name, value)
    device.updated_at = now
    session.commit()
    return _views(session, [device])[0]


def delete_device(session: Session, principal: Principal, dev_eui: str) -> None:
    principal.require(Perm.DEVICES_WRITE)
    session.delete(find_device(session, principal, dev_eui))
    session.commit()
