from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from lora_city.api.deps import ContextDep, CurrentPrincipal, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, GatewayOut, UnknownGatewayOut
from lora_city.api.strict import QueryBool
from lora_city.services import gateways
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
