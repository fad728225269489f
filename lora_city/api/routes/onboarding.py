"""Field technicians' endpoints. Writes honour ``Idempotency-Key``: a retry gets the stored answer, with the
``Idempotent-Replayed: true`` header."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse

from lora_city.api.deps import (
    ContextDep,
    CurrentPrincipal,
    IdempotencyDep,
    NowDep,
    SessionDep,
    SingleQueryValues,
)
from lora_city.api.schemas import ERROR_RESPONSES
from lora_city.services import install_status, onboarding
from lora_city.services.assets import AssetView
from lora_city.services.idempotency import Outcome
from lora_city.services.install_status import LiveStatus
from lora_city.services.onboarding import BindRequest, ScanRequest, ScanResult, SwapRequest

router = APIRouter(prefix="/onboarding", tags=["onboarding"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


def _answer(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.post("/scan", response_model=ScanResult)
def scan(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep, idem: IdempotencyDep,
    body: ScanRequest,
) -> JSONResponse:
    """Known or not, owning tenant, codec (via the QR's ProfileID); with ``enroll``, registers it on site."""
    return _answer(onboarding.scan(session, principal, ctx.vault, body, codecs=ctx.codecs, idem=idem, now=now))


@router.post("/bind", response_model=AssetView)
def bind(
    session: SessionDep, principal: CurrentPrincipal, now: NowDep, idem: IdempotencyDep, body: BindRequest,
) -> JSONResponse:
    """Put a device on an asset (by id, or by external_ref, created with its position when new). An existing
    external_ref is a 409 ``asset_exists`` showing the asset unless ``use_existing``; a device already on another
    asset is a 409 ``device_bound`` unless ``move``."""
    return _answer(onboarding.bind(session, principal, body, idem=idem, now=now))


@router.post("/swap", response_model=AssetView)
def swap(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep, idem: IdempotencyDep,
    body: SwapRequest,
) -> JSONResponse:
    """Replace a broken device on an asset: the old one is deactivated, the asset's history continues. Devices
    of different families (their codecs') are a 409 ``family_mismatch`` unless ``force``."""
    answer = _answer(onboarding.swap(session, principal, body, idem=idem, now=now, codecs=ctx.codecs))
    for dev_eui in (body.old_dev_eui, body.new_dev_eui):  # old disabled, new possibly re-enabled
        ctx.device_changed(dev_eui.replace("-", "").replace(":", ""))
    return answer


@router.put("/assets/{asset_id}/photo", response_model=AssetView)
def upload_photo(
    session: SessionDep, principal: CurrentPrincipal, now: NowDep, idem: IdempotencyDep, asset_id: str,
    photo: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MB")],
) -> JSONResponse:
    content = photo.file.read()
    outcome = onboarding.set_photo(session, principal, asset_id, content, photo.content_type or "",
                                   idem=idem, now=now)
    return _answer(outcome)


@router.get("/devices/{dev_eui}/status")
def live_status(session: SessionDep, principal: CurrentPrincipal, now: NowDep, dev_eui: str) -> LiveStatus:
    """Joins, first decoded uplink, per-gateway RSSI/SNR/SF and link margin, and a go / no-go verdict."""
    return install_status.live_status(session, principal, dev_eui, now=now)
