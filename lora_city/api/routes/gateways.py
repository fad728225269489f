from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from lora_city.api.deps import ContextDep, CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, GatewayOut, UnknownGatewayOut, UtcTime
from lora_city.api.strict import QueryBool
from lora_city.services import gateways, network_health
from lora_city.services.gateways import GatewayCreate, GatewayFields

router = APIRouter(prefix="/gateways", tags=["gateways"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


@router.post("", status_code=201)
def create_gateway(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, body: GatewayCreate
                   ) -> GatewayOut:
    out = GatewayOut.model_validate(gateways.create_gateway(session, principal, body))
    ctx.gateway_changed(out.gateway_id)
    return out


@router.get("")
def list_gateways(
    session: SessionDep, principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: str | None = None, online: QueryBool | None = None,
) -> list[GatewayOut]:
    rows = gateways.list_gateways(session, principal, limit=limit, after=after, online=online)
    return [GatewayOut.model_validate(g) for g in rows]


@router.get("/unknown")
def list_unknown_gateways(
    session: SessionDep, principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: str | None = None,
) -> list[UnknownGatewayOut]:
    """Gateways heard but not registered: the network drops their frames (unless the server runs with
    ``LORA_CITY_ALLOW_UNKNOWN_GATEWAYS=true``). Register one with ``POST /gateways`` to serve it. Operator only."""
    rows = gateways.list_unknown_gateways(session, principal, limit=limit, after=after)
    return [UnknownGatewayOut.model_validate(g) for g in rows]


class HourOut(BaseModel):
    start: UtcTime  # the hour's start (UTC)
    uplinks: int
    downlinks: int


class RadioOut(BaseModel):
    value: int | None  # frequency in Hz, or DR index (None: a modulation that is no data rate of the region)
    uplinks: int
    downlinks: int


class GatewayTrafficOut(BaseModel):
    """One gateway's traffic per hour (oldest first), per channel and per data rate, and its TX acknowledgements
    by status, over the last ``days`` days. Uplinks are the copies it heard (a device's uplink heard by three
    gateways counts once at each); a downlink counts its first transmission opportunity."""

    gateway_id: str
    uplinks: int
    downlinks: int
    hours: list[HourOut]
    channels: list[RadioOut]
    data_rates: list[RadioOut]
    tx_acks: dict[str, int]


@router.get("/{gateway_id}/traffic")
def gateway_traffic(session: SessionDep, principal: CurrentPrincipal, now: NowDep, gateway_id: str,
                    days: Annotated[int, Query(ge=1, le=7)] = 7) -> GatewayTrafficOut:
    gw = gateways.get_gateway(session, principal, gateway_id)
    t = network_health.gateway_traffic(session, gw.gateway_id, now, days)
    return GatewayTrafficOut(
        gateway_id=gw.gateway_id, uplinks=t.uplinks, downlinks=t.downlinks,
        hours=[HourOut(start=start, uplinks=up, downlinks=down) for start, up, down in t.hours],
        channels=[RadioOut(value=c.value, uplinks=c.uplinks, downlinks=c.downlinks) for c in t.channels],
        data_rates=[RadioOut(value=r.value, uplinks=r.uplinks, downlinks=r.downlinks) for r in t.data_rates],
        tx_acks=dict(t.tx_acks))


@router.get("/{gateway_id}")
def get_gateway(session: SessionDep, principal: CurrentPrincipal, gateway_id: str) -> GatewayOut:
    return GatewayOut.model_validate(gateways.get_gateway(session, principal, gateway_id))


@router.patch("/{gateway_id}")
def update_gateway(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, gateway_id: str, body: GatewayFields
) -> GatewayOut:
    out = GatewayOut.model_validate(gateways.update_gateway(session, principal, gateway_id, body))
    ctx.gateway_changed(out.gateway_id)
    return out


@router.delete("/{gateway_id}", status_code=204)
def delete_gateway(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, gateway_id: str) -> Response:
    gateways.delete_gateway(session, principal, gateway_id)
    ctx.gateway_changed(gateway_id)
    return Response(status_code=204)
