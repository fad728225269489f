"""Live frame logs as server-sent events: a device's uplinks, downlinks and events, or a gateway's, each
message a JSON entry (services/live_log.Entry). ``Last-Event-ID`` resumes after the last message received."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from lora_city.api import sse
from lora_city.api.deps import ContextDep, CurrentPrincipal, SessionDep
from lora_city.api.schemas import ERROR_RESPONSES
from lora_city.services import live_log
from lora_city.services.live_log import Cursor, Entry
from lora_city.services.principal import Principal

router = APIRouter(tags=["live"], responses=ERROR_RESPONSES)
_SSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
              "description": "Server-sent events: `event: entry`, `id:` a cursor, `data:` one JSON entry"}}


def _json(entry: Entry) -> str:
    return json.dumps(entry.as_json(), separators=(",", ":"), default=str)


def _device_poll(ctx: ContextDep, principal: Principal, dev_eui: str) -> Callable[[Cursor], tuple[list[Entry], Cursor]]:
    def poll(cursor: Cursor) -> tuple[list[Entry], Cursor]:
        with ctx.session_factory() as s:
            return live_log.device_log(s, principal, dev_eui, cursor)
    return poll


@router.get("/devices/{dev_eui}/frames", response_class=StreamingResponse, responses=_SSE)
def device_frames(
    request: Request, ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, dev_eui: str,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Live uplinks (per-gateway RSSI/SNR, DR, frequency, FCnt, MAC commands, codec result), downlinks and
    events of a device: the latest 20 at once, then each as it is stored."""
    first = live_log.device_log(session, principal, dev_eui, Cursor.parse(last_event_id))
    return sse.stream(request, first, _device_poll(ctx, principal, dev_eui), _json, Cursor.text)


@router.get("/gateways/{gateway_id}/frames", response_class=StreamingResponse, responses=_SSE)
def gateway_frames(
    request: Request, ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, gateway_id: str,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Live uplinks a gateway received (devices the caller sees) and the downlinks and joins it carried."""
    first = live_log.gateway_log(session, principal, gateway_id, Cursor.parse(last_event_id))

    def poll(cursor: Cursor) -> tuple[list[Entry], Cursor]:
        with ctx.session_factory() as s:
            return live_log.gateway_log(s, principal, gateway_id, cursor)

    return sse.stream(request, first, poll, _json, Cursor.text)
