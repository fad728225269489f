"""What a field technician may read besides devices and assets: the readings of the assets it works on.

A technician has no general ``readings:read`` (it sees every tenant's devices, so it would see every tenant's
data). It does need readings where it works: after swapping a unit, the asset's history must show the new unit
taking over from the old one. "Works on" = the technician (``Principal.identity``: its API key or portal account)
bound a device to the asset, by a bind or a swap, within ``WORK_WINDOW``. It then reads the asset's readings,
and a device's readings inside that device's spans on such assets, nothing outside them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import PermissionDenied
from lora_city.services.common import as_utc, db_time
from lora_city.services.principal import Perm, Principal, Role
from lora_city.storage.models import AssetDevice

# Long enough for the follow-up visit after an installation or a swap, short enough that a technician does not
# keep reading a tenant's data for good.
WORK_WINDOW = timedelta(days=30)
Span = tuple[str, datetime, datetime | None]


def worked_assets(session: Session, principal: Principal, now: datetime) -> set[str]:
    """Assets the technician bound a device to within the window."""
    if principal.role is not Role.TECHNICIAN:
        return set()
    return set(session.scalars(select(AssetDevice.asset_id).where(
        AssetDevice.bound_by == principal.identity, AssetDevice.bound_at >= db_time(session, now - WORK_WINDOW))))


def _denied(principal: Principal) -> PermissionDenied:
    extra = " (only on the assets it installed or swapped lately)" if principal.role is Role.TECHNICIAN else ""
    return PermissionDenied(f"role {principal.role.value} may not do {Perm.READINGS_READ.value}{extra}")


def require_asset_readings(session: Session, principal: Principal, asset_id: str, now: datetime | None) -> None:
    if principal.can(Perm.READINGS_READ):
        return
    if now is None or asset_id not in worked_assets(session, principal, now):
        raise _denied(principal)


def device_spans(session: Session, principal: Principal, dev_eui: str, now: datetime | None) -> list[Span] | None:
    """None: the principal reads all of the device's readings. Otherwise the spans it may read (never empty:
    a technician with none gets PermissionDenied)."""
    if principal.can(Perm.READINGS_READ):
        return None
    worked = worked_assets(session, principal, now) if now is not None else set()
    rows: list[AssetDevice] = (
        list(session.scalars(select(AssetDevice).where(AssetDevice.dev_eui == dev_eui))) if worked else [])
    spans: list[Span] = [(r.dev_eui, as_utc(r.bound_at), as_utc(r.unbound_at))  # type: ignore[misc]
                         for r in rows if r.asset_id in worked]
    if not spans:
        raise _denied(principal)
    return spans
