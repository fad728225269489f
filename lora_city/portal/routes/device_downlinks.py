"""Downlinks from a device's page: a command of the device's codec, its fields filled in (the encoder gives the
bytes and the FPort; "Encode" shows them first), and the device's queue emptied after a confirmation. The raw hex
form stays in devices.py for experts."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from lora_city.errors import InvalidInput
from lora_city.portal import downlink_form, forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.routes.devices import _device_page
from lora_city.portal.web import CsrfChecked, DbDep, PageDep, UserDep
from lora_city.services import devices, queue
from lora_city.services.principal import Perm

router = APIRouter(route_class=PortalRoute, prefix="/devices/{dev_eui}")


@router.post("/command", dependencies=[CsrfChecked])
def send_command(page: PageDep, user: UserDep, db: DbDep, dev_eui: str, posted: forms.PostedDep) -> Response:
    user.principal.require(Perm.QUEUE_WRITE)
    view = devices.get_device(db, user.principal, dev_eui)
    codecs = page.ctx.codecs
    found = downlink_form.commands(codecs, db, view.codec)
    try:
        index = int(posted.get("command", ""))
    except ValueError:
        index = -1
    command = next((c for c in found if c.index == index), None)
    if command is None or codecs is None or view.codec is None:
        return _device_page(page, user, db, dev_eui, status=422, error=page.t("downlink.no_command"))
    values = {k: v for k, v in posted.items() if k.startswith("field.")}
    data, bad = downlink_form.read_values(command, posted)
    if bad:
        errors = {name: page.t(f"downlink.bad_{kind}") for name, kind in bad.items()}
        return _device_page(page, user, db, dev_eui, status=422, command=index, values=values, field_errors=errors)
    encoded = downlink_form.encode(codecs, view.codec, data)
    if encoded.errors:
        return _device_page(page, user, db, dev_eui, status=422, command=index, values=values, encoded=encoded,
                            error=page.t("downlink.codec_refused", errors="; ".join(encoded.errors)))
    if posted.get("intent") == "preview":
        return _device_page(page, user, db, dev_eui, command=index, values=values, encoded=encoded)
    try:
        queue.enqueue(db, user.principal, view.device.dev_eui,
                      queue.QueueItemCreate(object=data, confirmed=posted.get("confirmed") == "true"),
                      codecs=codecs, notifier=page.ctx.notifier, now=page.ctx.clock())
    except InvalidInput as exc:
        return _device_page(page, user, db, dev_eui, status=422, command=index, values=values,
                            error=page.error_text(exc))
    return page.redirect(f"/devices/{view.device.dev_eui}?sent=1#h-downlink")


@router.get("/queue/flush")
def confirm_flush(page: PageDep, user: UserDep, db: DbDep, dev_eui: str) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    pending = queue.list_queue(db, user.principal, view.device.dev_eui)
    return page.render("confirm.html", title=page.t("downlink.flush_title", name=view.device.name),
                       question=page.t("downlink.flush_question", n=len(pending), name=view.device.name),
                       error=None, action=page.url(f"/devices/{view.device.dev_eui}/queue/flush"),
                       confirm=page.t("downlink.flush"), cancel=page.url(f"/devices/{view.device.dev_eui}"),
                       allowed=user.principal.can(Perm.QUEUE_WRITE))


@router.post("/queue/flush", dependencies=[CsrfChecked])
def flush(page: PageDep, user: UserDep, db: DbDep, dev_eui: str) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    queue.flush_queue(db, user.principal, view.device.dev_eui)
    return page.redirect(f"/devices/{view.device.dev_eui}?notice=flushed#h-downlink")
