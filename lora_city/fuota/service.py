"""Firmware-update campaigns as the API and the console see them: create (with every check that can be made
before anything is sent), start, pause, resume, cancel, delete, follow."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.applayer.profile import parse_app_layer
from lora_city.errors import Conflict, InvalidInput, NotFound
from lora_city.fuota import plan as planning
from lora_city.fuota.steps import REQUIRED_PACKAGES
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.region import EU868, Region
from lora_city.services.common import INPUT_CONFIG, hex_id, target_tenant, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import (
    Device,
    DeviceKeys,
    DeviceProfile,
    FuotaCampaign,
    FuotaCampaignDevice,
    MulticastGroup,
    MulticastGroupDevice,
)

MAX_DEVICES = 10_000
Wake = Callable[[], None]


class CampaignCreate(BaseModel):
    model_config = INPUT_CONFIG

    name: str = Field(min_length=1, max_length=200)
    tenant_id: str | None = None
    image_base64: str = Field(min_length=4, description="the firmware image, any bytes, base64")
    dev_euis: list[str] = Field(default_factory=list, max_length=MAX_DEVICES)
    multicast_group_id: str | None = Field(default=None, description="send to this group's members instead")
    frag_size: int = Field(default=200, ge=1, le=252)
    redundancy_pct: int = Field(default=10, ge=0, le=200)
    group_class: Literal["C", "B"] = "C"
    dr: int = Field(default=5, ge=0, le=7)
    frequency: int = Field(default=869_525_000, ge=863_000_000, le=870_000_000)
    ping_slot_periodicity: int = Field(default=2, ge=0, le=7)
    descriptor: str = Field(default="00000000", min_length=8, max_length=8, pattern="^[0-9a-fA-F]{8}$")
    mc_group_index: int = Field(default=0, ge=0, le=3)
    frag_index: int = Field(default=0, ge=0, le=3)
    unicast_timeout_s: int = Field(default=120, ge=1, le=7 * 86400)
    max_attempts: int = Field(default=3, ge=1, le=20)
    session_timeout_exp: int | None = Field(default=None, ge=0, le=15)


@dataclass(frozen=True, slots=True)
class CampaignView:
    campaign: FuotaCampaign
    devices: list[FuotaCampaignDevice]
    layout: planning.FragmentPlan


def _decode_image(data: CampaignCreate, max_bytes: int) -> bytes:
    try:
        image = base64.b64decode(data.image_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("image_base64 is not base64", code="invalid_image") from None
    if not image:
        raise InvalidInput("the image is empty", code="invalid_image")
    if len(image) > max_bytes:
        raise InvalidInput(f"the image has {len(image)} bytes; the largest allowed is {max_bytes}",
                           code="image_too_large")
    return image


def _members(session: Session, principal: Principal, tenant: str, data: CampaignCreate) -> list[str]:
    if data.multicast_group_id is not None:
        group = session.get(MulticastGroup, data.multicast_group_id)
        if group is None or not principal.sees(group.tenant_id) or group.tenant_id != tenant:
            raise NotFound("multicast group not found", code="group_not_found")
        if group.mc_key_enc is None:  # TS005 McGroupSetupReq carries the McKey the devices derive from
            raise InvalidInput("the multicast group was given session keys, not a McKey: its devices cannot be "
                               "set up remotely (TS005)", code="group_without_mc_key")
        euis = list(session.scalars(select(MulticastGroupDevice.dev_eui)
                                    .where(MulticastGroupDevice.group_id == group.id)))
    else:
        euis = [hex_id(e, 8, "dev_eui") for e in data.dev_euis]
    euis = sorted(set(euis))
    if not euis:
        raise InvalidInput("a campaign needs at least one device", code="no_devices")
    return euis


def _check_devices(session: Session, principal: Principal, tenant: str, euis: list[str]) -> int:
    """Every device exists in the tenant, runs TS005 and TS004 with keys to derive theirs, and is in no other
    active campaign. Returns the fragmentation version they share."""
    rows = {d.dev_eui: (d, p, k) for d, p, k in session.execute(
        select(Device, DeviceProfile, DeviceKeys)
        .outerjoin(DeviceProfile, DeviceProfile.id == Device.device_profile_id)
        .outerjoin(DeviceKeys, DeviceKeys.dev_eui == Device.dev_eui)
        .where(Device.dev_eui.in_(euis))).all()}
    unknown = [e for e in euis if e not in rows or not principal.sees(rows[e][0].tenant_id)
               or rows[e][0].tenant_id != tenant]
    if unknown:
        raise NotFound(f"devices not found in the campaign's tenant: {', '.join(unknown[:20])}",
                       code="device_not_found")
    problems: list[str] = []
    versions: set[int] = set()
    for eui in euis:
        _device, profile, keys = rows[eui]
        packages = {e.name: e.version for e in parse_app_layer(profile.app_layer)} if profile else {}
        missing = [p for p in REQUIRED_PACKAGES if p not in packages]
        if missing:
            problems.append(f"{eui}: its profile does not run {', '.join(missing)}")
            continue
        versions.add(packages["fragmentation"])
        is_11 = profile is not None and profile.mac_version.startswith("1.1")
        if keys is None or (keys.gen_app_key_enc is None and not is_11):
            problems.append(f"{eui}: no {'AppKey' if is_11 else 'GenAppKey'} to derive the multicast and "
                            "data-block keys")
    if problems:
        raise InvalidInput("devices cannot take a firmware update: " + "; ".join(problems[:20]),
                           code="device_without_packages")
    if len(versions) > 1:
        raise InvalidInput("the devices run different fragmentation versions (the parity differs): "
                           "one campaign per version", code="mixed_fragmentation_versions")
    busy = list(session.scalars(
        select(FuotaCampaignDevice.dev_eui).join(FuotaCampaign, FuotaCampaign.id == FuotaCampaignDevice.campaign_id)
        .where(FuotaCampaignDevice.dev_eui.in_(euis), FuotaCampaign.state.in_(("draft", "running", "paused")))))
    if busy:
        raise Conflict(f"devices already in another campaign: {', '.join(sorted(busy)[:20])}",
                       code="device_in_campaign")
    return versions.pop()


def create_campaign(session: Session, principal: Principal, data: CampaignCreate, *, max_image_bytes: int,
                    now: datetime, region: Region = EU868) -> CampaignView:
    principal.require(Perm.DEVICES_WRITE)
    tenant = target_tenant(session, principal, data.tenant_id)
    image = _decode_image(data, max_image_bytes)
    try:
        layout = planning.plan(region, len(image), data.frag_size, data.redundancy_pct, data.dr, data.frequency)
        duration = layout.min_duration_s
        if data.group_class == "B":  # one frame per ping slot of the group at most (TS001-1.1 §15.2)
            duration = max(duration, layout.frames * planning.ping_period_s(data.ping_slot_periodicity))
        timeout_exp = (data.session_timeout_exp if data.session_timeout_exp is not None
                       else planning.session_timeout_exponent(duration * 1.5 + 60, data.group_class))
    except LoRaWANError as exc:
        raise InvalidInput(str(exc), code="invalid_fragmentation") from None
    euis = _members(session, principal, tenant, data)
    _check_devices(session, principal, tenant, euis)
    campaign = FuotaCampaign(
        tenant_id=tenant, name=data.name, image=image, image_size=len(image),
        image_sha256=hashlib.sha256(image).hexdigest(), frag_size=data.frag_size,
        redundancy_pct=data.redundancy_pct, group_class=data.group_class, dr=data.dr, frequency=data.frequency,
        ping_slot_periodicity=data.ping_slot_periodicity, multicast_group_id=data.multicast_group_id,
        owns_group=data.multicast_group_id is None, mc_group_index=data.mc_group_index,
        frag_index=data.frag_index, descriptor=data.descriptor.lower(), session_timeout_exp=timeout_exp,
        unicast_timeout_s=data.unicast_timeout_s, max_attempts=data.max_attempts, created_at=now, updated_at=now,
    )
    session.add(campaign)
    session.flush()
    # TS004 v2 SessionCnt: never the same twice for a device and index; one more than any campaign used.
    campaign.session_cnt = (session.scalar(select(FuotaCampaign.session_cnt).order_by(
        FuotaCampaign.session_cnt.desc()).limit(1)) or 0) + 1
    devices = [FuotaCampaignDevice(campaign_id=campaign.id, dev_eui=e) for e in euis]
    session.add_all(devices)
    session.commit()
    return CampaignView(campaign, devices, layout)


def find_campaign(session: Session, principal: Principal, campaign_id: str) -> FuotaCampaign:
    principal.require(Perm.DEVICES_READ)
    campaign = session.get(FuotaCampaign, campaign_id)
    if campaign is None or not principal.sees(campaign.tenant_id):
        raise NotFound("campaign not found", code="campaign_not_found")
    return campaign


def view(session: Session, campaign: FuotaCampaign, region: Region = EU868) -> CampaignView:
    devices = list(session.scalars(select(FuotaCampaignDevice).where(FuotaCampaignDevice.campaign_id == campaign.id)
                                   .order_by(FuotaCampaignDevice.dev_eui)))
    layout = planning.plan(region, campaign.image_size, campaign.frag_size, campaign.redundancy_pct, campaign.dr,
                           campaign.frequency)
    return CampaignView(campaign, devices, layout)


def get_campaign(session: Session, principal: Principal, campaign_id: str) -> CampaignView:
    return view(session, find_campaign(session, principal, campaign_id))


def list_campaigns(session: Session, principal: Principal) -> list[FuotaCampaign]:
    principal.require(Perm.DEVICES_READ)
    stmt = select(FuotaCampaign).order_by(FuotaCampaign.created_at.desc(), FuotaCampaign.id)
    stmt = visible_only(stmt, principal, FuotaCampaign.tenant_id)
    return list(session.scalars(stmt))


_TRANSITIONS = {
    "start": ({"draft"}, "running"),
    "pause": ({"running"}, "paused"),
    "resume": ({"paused"}, "running"),
    "cancel": ({"draft", "running", "paused"}, "cancelled"),
}


def transition(session: Session, principal: Principal, campaign_id: str, action: str, *, now: datetime,
               wake: Wake | None = None) -> CampaignView:
    principal.require(Perm.DEVICES_WRITE)
    campaign = find_campaign(session, principal, campaign_id)
    allowed, target = _TRANSITIONS[action]
    if campaign.state not in allowed:
        raise Conflict(f"a {campaign.state} campaign cannot {action}", code="invalid_state")
    campaign.state = target
    campaign.updated_at = now
    if action == "start":
        campaign.started_at = now
    if action == "cancel":
        campaign.finished_at = now
        campaign.detail = "cancelled"
        for row in session.scalars(select(FuotaCampaignDevice).where(
                FuotaCampaignDevice.campaign_id == campaign.id, FuotaCampaignDevice.status == "pending")):
            row.status, row.error, row.completed_at = "failed", "campaign cancelled", now
            row.answers = {**(row.answers or {}), "error_code": "cancelled", "error_params": {}}
        if campaign.owns_group and campaign.multicast_group_id is not None:
            group = session.get(MulticastGroup, campaign.multicast_group_id)
            if group is not None:
                session.delete(group)  # its queued fragments go with it
    session.commit()
    if wake is not None:
        wake()
    return view(session, campaign)


def delete_campaign(session: Session, principal: Principal, campaign_id: str) -> None:
    principal.require(Perm.DEVICES_WRITE)
    campaign = find_campaign(session, principal, campaign_id)
    if campaign.state in ("running", "paused"):
        raise Conflict("cancel the campaign before deleting it", code="invalid_state")
    session.delete(campaign)
    session.commit()

