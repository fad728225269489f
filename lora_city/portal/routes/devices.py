"""Devices of the logged-in user's tenant: the list, one device's page with its chart, the chart's JSON and the
downlink form. Every read goes through lora_city.services with the user's principal, so another tenant's device
is a 404 exactly as in the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import JSONResponse, Response

from lora_city.errors import InvalidInput, PermissionDenied
from lora_city.portal import chart_data, device_status, downlink_form
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, UserDep
from lora_city.services import devices, link_quality, queue, readings
from lora_city.services.common import as_utc
from lora_city.services.principal import Perm
from lora_city.storage.models import DeviceProfile, Reading

router = APIRouter(route_class=PortalRoute)
RECENT = 20
RADIO_ROWS = 10


@router.get("/devices")
def device_list(page: PageDep, user: UserDep, db: DbDep, after: str | None = None, tenant: str = "",
                notice: str = "") -> Response:
    views = devices.list_devices(db, user.principal, limit=100, after=after, tenant_id=tenant or None)
    states = device_status.states(db, views, page.ctx.clock())
    next_after = views[-1].device.dev_eui if len(views) == 100 else None
    return page.render("devices.html", views=views, states=states, next_after=next_after, tenant=tenant,
                       notice=notice, can_write=user.principal.can(Perm.DEVICES_WRITE))


@dataclass(frozen=True, slots=True)
class RadioRow:
    """One uplink's radio figures: the best gateway's RSSI, SNR and link margin."""

    time: datetime
    f_cnt: int
    dr: int | None
    sf: int | None
    frequency: int | None
    gateways: int
    rssi: float | None
    snr: float | None
    margin: float | None


def radio_rows(rows: list[Reading], limit: int = RADIO_ROWS) -> list[RadioRow]:
    out = []
    for r in rows[:limit]:
        tx = r.tx if isinstance(r.tx, dict) else {}
        heard = link_quality.heard_by(r.rx, tx)
        best = max(heard, key=lambda h: h.snr if h.snr is not None else -999.0, default=None)
        out.append(RadioRow(as_utc(r.time), r.f_cnt, tx.get("dr"), tx.get("spreading_factor"),  # type: ignore[arg-type]
                            tx.get("frequency"), len(heard), best.rssi if best else None,
                            best.snr if best else None, best.margin if best else None))
    return out


def _device_page(
    page: Page, user: PortalUser, db: DbDep, dev_eui: str, *, status: int = 200, sent: bool = False,
    error: str | None = None, notice: str = "", command: int | None = None, values: dict[str, str] | None = None,
    field_errors: dict[str, str] | None = None, encoded: downlink_form.Encoded | None = None,
) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    now = page.ctx.clock()
    try:
        recent = readings.device_readings(db, user.principal, view.device.dev_eui, limit=RECENT, now=now).items
    except PermissionDenied:
        recent = []
    codecs = page.ctx.codecs
    model = None
    if view.codec and codecs is not None and view.codec in codecs:
        manifest = codecs.get(view.codec).manifest
        model = f"{manifest.vendor} {manifest.model}"
    profile = db.get(DeviceProfile, view.device.device_profile_id) if view.device.device_profile_id else None
    if profile is not None and not user.principal.sees(profile.tenant_id):
        profile = None
    return page.render(
        "device.html", status=status, view=view, recent=recent, radio=radio_rows(recent), model=model,
        profile=profile,
        pending=downlink_form.queued(codecs, view.codec, queue.list_queue(db, user.principal, view.device.dev_eui)),
        commands=(found := downlink_form.commands(codecs, db, view.codec)),
        command=next((c for c in found if c.index == command), found[0] if found else None),
        values=values or {}, field_errors=field_errors or {}, encoded=encoded,
        state=device_status.states(db, [view], now)[view.device.dev_eui], sent=sent,
        ranges=list(chart_data.RANGES), can_send=user.principal.can(Perm.QUEUE_WRITE), error=error,
        can_stream=user.principal.can(Perm.READINGS_READ), notice=notice,
        can_write=user.principal.can(Perm.DEVICES_WRITE),
    )


@router.get("/devices/{dev_eui}")
def device_page(page: PageDep, user: UserDep, db: DbDep, dev_eui: str, sent: int = 0, notice: str = "",
                command: int | None = None) -> Response:
    return _device_page(page, user, db, dev_eui, sent=bool(sent), notice=notice, command=command)


@router.get("/devices/{dev_eui}/readings.json")
def device_readings_json(
    page: PageDep, user: UserDep, db: DbDep, dev_eui: str, range: str | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> Response:
    span = chart_data.span_for(range, start, end, page.ctx.clock())
    series = chart_data.device_series(db, user.principal, dev_eui, span)
    return JSONResponse(series.as_json(page.t), headers={"Cache-Control": "no-store"})


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
        return _device_page(page, user, db, dev_eui, status=422, error=page.error_text(exc))
    return page.redirect(f"/devices/{view.device.dev_eui}?sent=1")
