"""Devices of the logged-in user's tenant: the list, one device's page with its chart, the chart's JSON and the
downlink form. Every read goes through lora_city.services with the user's principal, so another tenant's device
is a 404 exactly as in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import JSONResponse, Response

from lora_city.errors import InvalidInput
from lora_city.portal import chart_data, device_status
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, PageDep, UserDep
from lora_city.services import devices, queue, readings
from lora_city.services.principal import Perm

router = APIRouter(route_class=PortalRoute)
RECENT = 20


@router.get("/devices")
def device_list(page: PageDep, user: UserDep, db: DbDep, after: str | None = None) -> Response:
    views = devices.list_devices(db, user.principal, limit=100, after=after)
    states = device_status.states(db, views, page.ctx.clock())
    next_after = views[-1].device.dev_eui if len(views) == 100 else None
    return page.render("devices.html", views=views, states=states, next_after=next_after)


@router.get("/devices/{dev_eui}")
def device_page(page: PageDep, user: UserDep, db: DbDep, dev_eui: str, sent: int = 0) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    recent = readings.device_readings(db, user.principal, view.device.dev_eui, limit=RECENT).items
    pending = queue.list_queue(db, user.principal, view.device.dev_eui)
    state = device_status.states(db, [view], page.ctx.clock())[view.device.dev_eui]
    return page.render(
        "device.html", view=view, recent=recent, pending=pending, state=state, sent=bool(sent),
        ranges=list(chart_data.RANGES), can_send=user.principal.can(Perm.QUEUE_WRITE), error=None,
    )


@router.get("/devices/{dev_eui}/readings.json")
def device_readings_json(
    page: PageDep, user: UserDep, db: DbDep, dev_eui: str, range: str | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> Response:
    span = chart_data.span_for(range, start, end, page.ctx.clock())
    series = chart_data.device_series(db, user.principal, dev_eui, span)
    return JSONResponse(series.as_json(), headers={"Cache-Control": "no-store"})


@router.post("/devices/{dev_eui}/downlink", dependencies=[CsrfChecked])
def send_downlink(
    page: PageDep, user: UserDep, db: DbDep, dev_eui: str, f_port: Annotated[int, Form(ge=1, le=223)],
    data_hex: Annotated[str, Form(max_length=2 * queue.MAX_PAYLOAD)],
    confirmed: Annotated[bool, Form()] = False,
) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    try:
        queue.enqueue(db, user.principal, view.device.dev_eui,
                      queue.QueueItemCreate(f_port=f_port, data_hex=data_hex.strip().replace(" ", ""),
                                            confirmed=confirmed),
                      codecs=page.ctx.codecs, notifier=page.ctx.notifier, now=page.ctx.clock())
    except InvalidInput as exc:
        recent = readings.device_readings(db, user.principal, view.device.dev_eui, limit=RECENT).items
        state = device_status.states(db, [view], page.ctx.clock())[view.device.dev_eui]
        return page.render(
            "device.html", status=422, view=view, recent=recent, pending=queue.list_queue(db, user.principal, dev_eui),
            state=state, sent=False, ranges=list(chart_data.RANGES), can_send=True, error=exc.message,
        )
    return page.redirect(f"/devices/{view.device.dev_eui}?sent=1")
