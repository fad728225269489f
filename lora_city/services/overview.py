"""The network at a glance: gateways online and offline, uplinks in the last hour, devices silent longer than
their profile's expected uplink interval."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from lora_city.services.common import as_utc, db_time, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.storage.models import Device, DeviceProfile, Gateway, Reading

DEFAULT_INTERVAL_S = 3600  # devices without a profile are expected hourly (the profile column's default)
SILENT_LIST = 100


class SilentDevice(BaseModel):
    dev_eui: str
    name: str
    tenant_id: str
    last_seen_at: datetime | None
    expected_interval_s: int


class Overview(BaseModel):
    gateways_online: int
    gateways_offline: int
    uplinks_last_hour: int
    devices_total: int
    devices_silent: int
    silent: list[SilentDevice]


def _silent_condition(session: Session, now: datetime) -> ColumnElement[bool]:
    """Per distinct interval (a handful of profiles), "last heard (or registered) before now − interval": bound
    parameters that work the same on SQLite and PostgreSQL, and an index-friendly range per group."""
    intervals = set(session.scalars(select(DeviceProfile.uplink_interval_s).distinct()))
    parts = []
    heard = func.coalesce(Device.last_seen_at, Device.created_at)
    for interval in intervals | {DEFAULT_INTERVAL_S}:
        cutoff = db_time(session, now - timedelta(seconds=interval))
        profile_interval = func.coalesce(DeviceProfile.uplink_interval_s, DEFAULT_INTERVAL_S)
        parts.append(and_(profile_interval == interval, heard < cutoff))
    return or_(*parts)


def overview(session: Session, principal: Principal, *, now: datetime) -> Overview:
    principal.require(Perm.OVERVIEW_READ)
    online = session.scalar(visible_only(select(func.count()).select_from(Gateway).where(Gateway.online.is_(True)),
                                    principal, Gateway.tenant_id)) or 0
    total_gw = session.scalar(visible_only(select(func.count()).select_from(Gateway), principal, Gateway.tenant_id)) or 0
    uplinks = session.scalar(visible_only(
        select(func.count()).select_from(Reading).where(Reading.time >= db_time(session, now - timedelta(hours=1))),
        principal, Reading.tenant_id)) or 0
    devices = session.scalar(visible_only(select(func.count()).select_from(Device), principal, Device.tenant_id)) or 0
    joined = select(Device).outerjoin(DeviceProfile, Device.device_profile_id == DeviceProfile.id).where(
        Device.is_disabled.is_(False), _silent_condition(session, now))
    only = principal.tenant_filter()
    if only is not None:
        joined = joined.where(Device.tenant_id == only)
    silent_count = session.scalar(select(func.count()).select_from(joined.subquery())) or 0
    rows = session.execute(
        joined.with_only_columns(Device, func.coalesce(DeviceProfile.uplink_interval_s, DEFAULT_INTERVAL_S))
        .order_by(Device.last_seen_at.is_(None).desc(), Device.last_seen_at, Device.dev_eui).limit(SILENT_LIST)
    ).all()
    return Overview(
        gateways_online=online, gateways_offline=total_gw - online, uplinks_last_hour=uplinks,
        devices_total=devices, devices_silent=silent_count,
        silent=[SilentDevice(dev_eui=d.dev_eui, name=d.name, tenant_id=d.tenant_id,
                             last_seen_at=as_utc(d.last_seen_at), expected_interval_s=int(i)) for d, i in rows],
    )
