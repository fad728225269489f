"""The technician's screen: type (or scan) the QR string on the device's label, then watch the device join and
send its first uplinks, refreshed every few seconds, with a go / no-go verdict. The scan and the live status
are the onboarding services of the API (issue 6), called with the technician's principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import JSONResponse, Response

from lora_city.errors import InvalidInput
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, PageDep, PortalUser, roles
from lora_city.services import onboarding
from lora_city.services.principal import Role

router = APIRouter(route_class=PortalRoute, prefix="/install")
InstallerDep = Annotated[PortalUser, Depends(roles(Role.TECHNICIAN, Role.ADMIN, Role.OPERATOR, Role.TENANT_ADMIN))]
REFRESH_S = 3


@router.get("")
def scan_form(page: PageDep, user: InstallerDep) -> Response:
    return page.render("install/scan.html", error=None, qr="", result=None)


@router.post("", dependencies=[CsrfChecked])
def scan(page: PageDep, user: InstallerDep, db: DbDep, qr: Annotated[str, Form(max_length=500)]) -> Response:
    try:
        outcome = onboarding.scan(db, user.principal, page.ctx.vault, onboarding.ScanRequest(qr=qr.strip()),
                                  codecs=page.ctx.codecs, idem=None, now=page.ctx.clock())
    except InvalidInput as exc:
        return page.render("install/scan.html", status=422, error=exc.message, qr=qr, result=None)
    result = onboarding.ScanResult.model_validate(outcome.body)
    if not result.known:
        # Unknown (or another tenant's) device: say so on the form; registering on site is the API's job.
        return page.render("install/scan.html", status=404, error=page.t("install.unknown", dev_eui=result.dev_eui),
                           qr=qr, result=result)
    return page.redirect(f"/install/{result.dev_eui}")


@router.get("/{dev_eui}")
def live_page(page: PageDep, user: InstallerDep, db: DbDep, dev_eui: str) -> Response:
    live = onboarding.live_status(db, user.principal, dev_eui, now=page.ctx.clock())
    return page.render("install/live.html", live=live, refresh_s=REFRESH_S)


@router.get("/{dev_eui}/status.json")
def live_status(page: PageDep, user: InstallerDep, db: DbDep, dev_eui: str) -> Response:
    status = onboarding.live_status(db, user.principal, dev_eui, now=page.ctx.clock())
    body = status.model_dump(mode="json")
    # Reasons in the page's language (the service's messages are English, for the API).
    for reason in body["reasons"]:
        key = f"reason.{reason['code']}"
        translated = page.t(key)
        if translated != key:
            reason["message"] = translated
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
