"""Online, silent or never heard: the same rule as the network overview (silent = nothing heard for longer than
the profile's expected uplink interval), applied to one page of devices for the lists."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.services.common import as_utc
from lora_city.services.devices import DeviceView
from lora_city.services.overview import DEFAULT_INTERVAL_S
from lora_city.storage.models import DeviceProfile


class DeviceState(StrEnum):
    ONLINE = "online"
    SILENT = "silent"
    NEVER = "never"
    DISABLED = "disabled"


def intervals(session: Session, views: list[DeviceView]) -> dict[str, int]:
    ids = {v.device.device_profile_id for v in views if v.device.device_profile_id}
    if not ids:
        return {}
    rows = session.execute(
        select(DeviceProfile.id, DeviceProfile.uplink_interval_s).where(DeviceProfile.id.in_(ids)))
    return {profile_id: interval for profile_id, interval in rows}


def state_of(view: DeviceView, interval_s: int, now: datetime) -> DeviceState:
    if view.device.is_disabled:
        return DeviceState.DISABLED
    last = as_utc(view.device.last_seen_at)
    if last is None:
        return DeviceState.NEVER
    return DeviceState.ONLINE if now - last <= timedelta(seconds=interval_s) else DeviceState.SILENT


def states(session: Session, views: list[DeviceView], now: datetime) -> dict[str, DeviceState]:
    by_profile = intervals(session, views)
    return {v.device.dev_eui: state_of(v, by_profile.get(v.device.device_profile_id or "", DEFAULT_INTERVAL_S), now)
            for v in views}
