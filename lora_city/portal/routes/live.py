"""Live troubleshooting, as ChirpStack's "LoRaWAN frames" and "events" tabs: a device's (or a gateway's)
uplinks, downlinks and events pushed to the page as they are stored (server-sent events). Each message is the
entry's HTML, rendered here in the page's language (times in Europe/Paris, French decimals, translated
measurement names): the browser only inserts it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from lora_city.api import sse
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import DbDep, Page, PageDep, UserDep
from lora_city.services import gateways, live_log
from lora_city.services.live_log import Cursor, Entry
from lora_city.services.principal import Perm, Principal

router = APIRouter(route_class=PortalRoute)
Poll = Callable[[Cursor], tuple[list[Entry], Cursor]]


def _render(page: Page, show_device: bool) -> Callable[[Entry], str]:
    def render(entry: Entry) -> str:
        return page.fragment("_live_entry.html", e=entry, show_device=show_device).strip()
    return render


def _device_poll(page: Page, principal: Principal, dev_eui: str) -> Poll:
    def poll(cursor: Cursor) -> tuple[list[Entry], Cursor]:
        with page.ctx.session_factory() as s:
            return live_log.device_log(s, principal, dev_eui, cursor)
    return poll


def _gateway_poll(page: Page, principal: Principal, gateway_id: str) -> Poll:
    def poll(cursor: Cursor) -> tuple[list[Entry], Cursor]:
        with page.ctx.session_factory() as s:
            return live_log.gateway_log(s, principal, gateway_id, cursor)
    return poll


@router.get("/devices/{dev_eui}/live/stream")
def device_stream(
    request: Request, page: PageDep, user: UserDep, db: DbDep, dev_eui: str,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    first = live_log.device_log(db, user.principal, dev_eui, Cursor.parse(last_event_id))
    return sse.stream(request, first, _device_poll(page, user.principal, dev_eui), _render(page, False),
                      Cursor.text)


@router.get("/gateways/{gateway_id}/live")
def gateway_page(page: PageDep, user: UserDep, db: DbDep, gateway_id: str) -> Response:
    gateway = gateways.get_gateway(db, user.principal, gateway_id)
    return page.render("gateway_live.html", gateway=gateway, can_stream=user.principal.can(Perm.READINGS_READ))


@router.get("/gateways/{gateway_id}/live/stream")
def gateway_stream(
    request: Request, page: PageDep, user: UserDep, db: DbDep, gateway_id: str,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    first = live_log.gateway_log(db, user.principal, gateway_id, Cursor.parse(last_event_id))
    return sse.stream(request, first, _gateway_poll(page, user.principal, gateway_id), _render(page, True),
                      Cursor.text)
