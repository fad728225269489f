from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from lora_city.api.deps import CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, ReadingOut, ReadingPage
from lora_city.api.strict import QueryDateTime
from lora_city.services import assets
from lora_city.services.assets import AssetCreate, AssetFields, AssetView
from lora_city.services.readings import TimeRange

router = APIRouter(prefix="/assets", tags=["assets"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])

Limit = Annotated[int, Query(ge=1, le=1000)]


@router.post("", status_code=201)
def create_asset(session: SessionDep, principal: CurrentPrincipal, now: NowDep, body: AssetCreate) -> AssetView:
    return assets.create_asset(session, principal, body, now=now)


@router.get("")
def list_assets(
    session: SessionDep, principal: CurrentPrincipal, external_ref: str | None = None, limit: Limit = 100,
    after: str | None = None,
) -> list[AssetView]:
    return assets.list_assets(session, principal, external_ref=external_ref, limit=limit, after=after)


@router.get("/{asset_id}")
def get_asset(session: SessionDep, principal: CurrentPrincipal, asset_id: str) -> AssetView:
    return assets.get_asset(session, principal, asset_id)


@router.patch("/{asset_id}")
def update_asset(session: SessionDep, principal: CurrentPrincipal, asset_id: str, body: AssetFields) -> AssetView:
    return assets.update_asset(session, principal, asset_id, body)


@router.get("/{asset_id}/photo", response_class=Response, responses={
    200: {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in assets.PHOTO_TYPES}}})
def get_photo(session: SessionDep, principal: CurrentPrincipal, asset_id: str) -> Response:
    content, content_type = assets.photo(session, principal, asset_id)
    return Response(content, media_type=content_type)


@router.get("/{asset_id}/readings")
def asset_readings(
    session: SessionDep, principal: CurrentPrincipal, now: NowDep, asset_id: str, limit: Limit = 100,
    start: Annotated[QueryDateTime | None, Query(alias="from")] = None,
    end: Annotated[QueryDateTime | None, Query(alias="to")] = None, cursor: str | None = None,
) -> ReadingPage:
    """The asset's history: each device's readings while it was bound, across swaps. A technician reads the
    assets it bound a device to (bind or swap) in the last 30 days."""
    page = assets.asset_readings(session, principal, asset_id, span=TimeRange(start, end), limit=limit,
                                 cursor=cursor, now=now)
    return ReadingPage(items=[ReadingOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor)
