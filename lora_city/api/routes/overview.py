from __future__ import annotations

from fastapi import APIRouter

from lora_city.api.deps import CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES
from lora_city.services import overview
from lora_city.services.overview import Overview

router = APIRouter(prefix="/overview", tags=["overview"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


@router.get("")
def network_overview(session: SessionDep, principal: CurrentPrincipal, now: NowDep) -> Overview:
    return overview.overview(session, principal, now=now)
