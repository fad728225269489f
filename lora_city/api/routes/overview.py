from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from lora_city.api.deps import CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES
from lora_city.errors import PermissionDenied
from lora_city.services import gateways, network_health, overview
from lora_city.services.overview import Overview

router = APIRouter(prefix="/overview", tags=["overview"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


@router.get("")
def network_overview(session: SessionDep, principal: CurrentPrincipal, now: NowDep) -> Overview:
    return overview.overview(session, principal, now=now)


class WindowOut(BaseModel):
    uplinks: int  # data uplinks handled (after deduplication)
    joins: int  # join-requests accepted
    rejoins: int
    mic_failures: int  # drops whose reason is bad_mic
    dropped: int
    drops: dict[str, int]  # reason -> count


class NetworkHealthOut(BaseModel):
    """Network-wide counts over the last 24 hours and 7 days (whole hours, every network server process), and
    the registered gateways never heard since their registration."""

    day: WindowOut
    week: WindowOut
    never_seen: list[str]


@router.get("/network")
def network_health_counts(session: SessionDep, principal: CurrentPrincipal, now: NowDep) -> NetworkHealthOut:
    if not principal.sees_all_tenants:
        raise PermissionDenied("only the operator sees the network-wide counters")
    c = network_health.network_counters(session, now)

    def window(w: network_health.Window) -> WindowOut:
        return WindowOut(uplinks=w.uplinks, joins=w.joins, rejoins=w.rejoins, mic_failures=w.mic_failures,
                         dropped=w.dropped, drops=dict(w.drops))

    never = [gw.gateway_id for gw in gateways.list_gateways(session, principal, limit=1000) if gw.last_seen_at is None]
    return NetworkHealthOut(day=window(c.day), week=window(c.week), never_seen=never)
