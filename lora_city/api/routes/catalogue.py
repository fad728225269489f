"""The device catalogue (issue 20): vendors and models with search, a model's firmware, profiles and codec, a
codec's versions with the import's example check, a TR005 ProfileID lookup, and a preview decode."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from lora_city.api.deps import ContextDep, CurrentPrincipal, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES
from lora_city.codec.catalogue.lookup import PROFILE_ID_PATTERN
from lora_city.services import catalogue
from lora_city.services.catalogue import (
    CodecOut,
    ModelDetail,
    ModelSummary,
    PreviewRequest,
    ProfileIdOut,
    VendorOut,
)
from lora_city.services.common import DB_INT_MAX

router = APIRouter(prefix="/catalogue", tags=["catalogue"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])

Search = Annotated[str | None, Query(max_length=200, description="Words that must all appear")]
Limit = Annotated[int, Query(ge=1, le=catalogue.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=DB_INT_MAX)]  # bounded as the database's integers are


@router.get("/vendors")
def list_vendors(session: SessionDep, principal: CurrentPrincipal, q: Search = None, limit: Limit = 50,
                 offset: Offset = 0) -> list[VendorOut]:
    """Vendors that have at least one model in the catalogue."""
    return catalogue.list_vendors(session, principal, q, limit, offset)


@router.get("/models")
def list_models(session: SessionDep, principal: CurrentPrincipal, q: Search = None,
                vendor: Annotated[str | None, Query(max_length=40)] = None, limit: Limit = 50,
                offset: Offset = 0) -> list[ModelSummary]:
    """Models, searched in vendor, name, description and sensors."""
    return catalogue.list_models(session, principal, q, vendor, limit, offset)


@router.get("/models/{vendor}/{model}")
def get_model(session: SessionDep, principal: CurrentPrincipal, vendor: str, model: str) -> ModelDetail:
    return catalogue.get_model(session, principal, f"{vendor}/{model}")


@router.get("/codecs/{vendor}/{codec}")
def get_codec(session: SessionDep, principal: CurrentPrincipal, vendor: str, codec: str) -> CodecOut:
    """Every version of a codec, with its documented examples and the import's check of them."""
    return catalogue.get_codec(session, principal, f"{vendor}/{codec}")


@router.post("/codecs/{vendor}/{codec}/decode")
def preview_decode(ctx: ContextDep, principal: CurrentPrincipal, vendor: str, codec: str,
                   body: PreviewRequest) -> dict[str, Any]:
    """Decode a payload with the codec (a preview, e.g. of its documented example): data, warnings, errors and
    measurements, as an uplink would give them."""
    return catalogue.preview_decode(principal, ctx.codecs, f"{vendor}/{codec}", body)


@router.get("/profile-ids/{qr_profile_id}")
def lookup_profile_id(session: SessionDep, principal: CurrentPrincipal,
                      qr_profile_id: Annotated[str, Path(pattern=PROFILE_ID_PATTERN)]) -> ProfileIdOut:
    """The models a TR005 ProfileID (VVVVPPPP, from a QR code) names: ``selected`` when exactly one."""
    return catalogue.lookup_profile_id(session, principal, qr_profile_id)
