"""Assets (pole, meter, gauge …) and which device is on which, over time.

An asset's readings are the readings of each device bound to it inside its binding span, so swapping a broken
device keeps the asset's history continuous.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, InvalidInput, NotFound
from lora_city.services import field_access
from lora_city.services.common import INPUT_CONFIG, NotNull, as_utc, target_tenant, visible_only
from lora_city.services.principal import Perm, Principal
from lora_city.services.readings import Page, TimeRange, readings_in_spans
from lora_city.storage.models import Asset, AssetDevice, Reading

AssetKind = Literal["pole", "meter", "gauge", "other"]
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_PHOTO = 5 * 1024 * 1024


class AssetFields(BaseModel):
    model_config = INPUT_CONFIG

    kind: AssetKind | NotNull = None
    name: Annotated[str, Field(max_length=200)] | NotNull = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)
    notes: str | None = Field(default=None, max_length=2000)  # null clears them


class AssetCreate(AssetFields):
    external_ref: str | None = Field(default=None, min_length=1, max_length=100)
    tenant_id: str | None = None


class Binding(BaseModel):
    dev_eui: str
    bound_at: datetime
    unbound_at: datetime | None


class AssetView(BaseModel):
    id: str
    tenant_id: str
    kind: str
    external_ref: str | None
    name: str
    latitude: float | None
    longitude: float | None
    address: str | None
    notes: str
    has_photo: bool
    photo_content_type: str | None
    devices: list[Binding] = Field(description="Every device ever bound, oldest first; open spans are current")
    created_at: datetime


def view(session: Session, asset: Asset) -> AssetView:
    rows = session.scalars(select(AssetDevice).where(AssetDevice.asset_id == asset.id).order_by(AssetDevice.id))
    return AssetView(
        id=asset.id, tenant_id=asset.tenant_id, kind=asset.kind, external_ref=asset.external_ref, name=asset.name,
        latitude=asset.latitude, longitude=asset.longitude, address=asset.address, notes=asset.notes,
        has_photo=asset.photo_content_type is not None, photo_content_type=asset.photo_content_type,
        devices=[Binding(dev_eui=r.dev_eui, bound_at=as_utc(r.bound_at), unbound_at=as_utc(r.unbound_at))  # type: ignore[arg-type]
                 for r in rows],
        created_at=as_utc(asset.created_at),  # type: ignore[arg-type]
    )


def find_asset(session: Session, principal: Principal, asset_id: str) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None or not principal.sees(asset.tenant_id):
        raise NotFound("asset not found")
    return asset


def find_by_ref(session: Session, tenant_id: str, external_ref: str) -> Asset | None:
    return session.scalar(select(Asset).where(Asset.tenant_id == tenant_id, Asset.external_ref == external_ref))


def new_asset(session: Session, principal: Principal, data: AssetCreate, *, now: datetime) -> Asset:
    """Create (flush, no commit): used alone and inside onboarding operations."""
    tenant = target_tenant(session, principal, data.tenant_id)
    if data.external_ref is not None and find_by_ref(session, tenant, data.external_ref) is not None:
        raise AlreadyExists(f"asset {data.external_ref!r} already exists", code="asset_exists")  # 409
    asset = Asset(tenant_id=tenant, external_ref=data.external_ref, kind=data.kind or "other",
                  name=data.name or (data.external_ref or ""), latitude=data.latitude, longitude=data.longitude,
                  address=data.address, notes=data.notes or "", created_at=now)
    session.add(asset)
    session.flush()
    return asset


def apply_fields(asset: Asset, data: AssetFields) -> None:
    for name, value in data.model_dump(exclude_unset=True, exclude={"external_ref", "tenant_id"}).items():
        if value is None and name == "notes":
            value = ""
        elif value is None and name in {"kind", "name"}:
            raise InvalidInput(f"{name} may not be null")
        setattr(asset, name, value)


def fill_missing(asset: Asset, data: AssetFields) -> None:
    """Give an existing asset the position and address it lacks; never overwrite (nor rename) anything."""
    for name in ("latitude", "longitude", "address"):
        value = getattr(data, name)
        if value is not None and getattr(asset, name) is None:
            setattr(asset, name, value)


def create_asset(session: Session, principal: Principal, data: AssetCreate, *, now: datetime) -> AssetView:
    principal.require(Perm.ONBOARDING)
    asset = new_asset(session, principal, data, now=now)
    session.commit()
    return view(session, asset)


def get_asset(session: Session, principal: Principal, asset_id: str) -> AssetView:
    principal.require(Perm.ASSETS_READ)
    return view(session, find_asset(session, principal, asset_id))


def list_assets(
    session: Session, principal: Principal, *, external_ref: str | None = None, limit: int = 100,
    after: str | None = None,
) -> list[AssetView]:
    principal.require(Perm.ASSETS_READ)
    stmt = select(Asset).order_by(Asset.id).limit(limit)
    stmt = visible_only(stmt, principal, Asset.tenant_id)
    if external_ref is not None:
        stmt = stmt.where(Asset.external_ref == external_ref)
    if after is not None:
        stmt = stmt.where(Asset.id > after)
    return [view(session, a) for a in session.scalars(stmt)]


@dataclass(frozen=True, slots=True)
class Nearby:
    asset: Asset
    distance_m: float


def search_assets(session: Session, principal: Principal, text: str, *, limit: int = 10) -> list[Asset]:
    """Assets whose reference or name contains ``text`` (case-insensitive), exact references first."""
    principal.require(Perm.ASSETS_READ)
    needle = text.strip()
    if not needle:
        return []
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = select(Asset).where(or_(Asset.external_ref.ilike(pattern, escape="\\"),
                                   Asset.name.ilike(pattern, escape="\\"))).limit(200)
    stmt = visible_only(stmt, principal, Asset.tenant_id)
    found = list(session.scalars(stmt))
    lowered = needle.lower()
    found.sort(key=lambda a: ((a.external_ref or "").lower() != lowered, (a.external_ref or a.name).lower()))
    return found[:limit]


def nearest_assets(
    session: Session, principal: Principal, latitude: float, longitude: float, *, limit: int = 8,
    radius_m: float = 2000.0,
) -> list[Nearby]:
    """Assets with a position within ``radius_m`` of a point, nearest first (a bounding box in SQL, then the
    haversine distance: a city holds a few thousand assets)."""
    principal.require(Perm.ASSETS_READ)
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(latitude)), 0.01)
    stmt = select(Asset).where(Asset.latitude.between(latitude - dlat, latitude + dlat),
                               Asset.longitude.between(longitude - dlon, longitude + dlon))
    stmt = visible_only(stmt, principal, Asset.tenant_id)
    near = [Nearby(a, distance_m(latitude, longitude, a.latitude, a.longitude))  # type: ignore[arg-type]
            for a in session.scalars(stmt)]
    return sorted((n for n in near if n.distance_m <= radius_m), key=lambda n: n.distance_m)[:limit]


EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def current_devices(session: Session, asset_id: str) -> list[str]:
    return list(session.scalars(select(AssetDevice.dev_eui).where(
        AssetDevice.asset_id == asset_id, AssetDevice.unbound_at.is_(None)).order_by(AssetDevice.id)))


def asset_of_device(session: Session, principal: Principal, dev_eui: str) -> Asset | None:
    """The asset a device is on now (None: on none, or on one the principal does not see)."""
    principal.require(Perm.ASSETS_READ)
    asset = session.scalar(select(Asset).join(AssetDevice, AssetDevice.asset_id == Asset.id).where(
        AssetDevice.dev_eui == dev_eui, AssetDevice.unbound_at.is_(None)))
    return asset if asset is not None and principal.sees(asset.tenant_id) else None


def set_position(
    session: Session, principal: Principal, asset_id: str, latitude: float, longitude: float,
) -> AssetView:
    """The technician's "use my position" on an asset that exists (an explicit act, unlike a bind)."""
    return update_asset(session, principal, asset_id, AssetFields(latitude=latitude, longitude=longitude))


def update_asset(session: Session, principal: Principal, asset_id: str, data: AssetFields) -> AssetView:
    principal.require(Perm.ONBOARDING)
    asset = find_asset(session, principal, asset_id)
    apply_fields(asset, data)
    session.commit()
    return view(session, asset)


def photo(session: Session, principal: Principal, asset_id: str) -> tuple[bytes, str]:
    principal.require(Perm.ASSETS_READ)
    asset = find_asset(session, principal, asset_id)
    if asset.photo is None or asset.photo_content_type is None:
        raise NotFound("this asset has no photo", code="no_photo")
    return asset.photo, asset.photo_content_type


def asset_readings(
    session: Session, principal: Principal, asset_id: str, *, span: TimeRange = TimeRange(), limit: int = 100,
    cursor: str | None = None, now: datetime | None = None,
) -> Page[Reading]:
    """``now`` lets a technician read the assets it works on (field_access)."""
    field_access.require_asset_readings(session, principal, asset_id, now)
    asset = find_asset(session, principal, asset_id)
    spans = [(r.dev_eui, r.bound_at, r.unbound_at)
             for r in session.scalars(select(AssetDevice).where(AssetDevice.asset_id == asset.id))]
    return readings_in_spans(session, spans, span, limit, cursor)
