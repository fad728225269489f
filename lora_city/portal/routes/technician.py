"""The technician's screen, phone first: scan (camera or typed) a device's QR label, register an unknown device
on the spot, then watch it join with one row per gateway and a go / no-go verdict on its latest uplinks.

Every write goes through the onboarding services with the technician's principal and honours the page
script's ``Idempotency-Key`` (portal/idempotent.py), so a form sent without network is sent again safely.
Binding, swaps and the asset pages are in ``technician_assets``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import Response
from pydantic import ValidationError

from lora_city.errors import AlreadyExists, InvalidInput, NotFound
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.tr005 import QRCode, parse_qr
from lora_city.portal.formatting import Formatter
from lora_city.portal.idempotent import PortalIdemDep
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import assets, install_status, onboarding
from lora_city.services.principal import Role

router = APIRouter(route_class=PortalRoute, prefix="/install")
INSTALLERS = (Role.TECHNICIAN, Role.ADMIN, Role.OPERATOR, Role.TENANT_ADMIN)
InstallerDep = Annotated[PortalUser, Depends(roles(*INSTALLERS))]
REFRESH_S = 3
# Where each registration error is shown: next to its field, else above the form.
_FIELD_OF = {"invalid_app_key": "app_key", "missing_app_key": "app_key", "app_key": "app_key",
             "unknown_codec": "codec", "codec": "codec", "tenant_not_found": "tenant_id", "tenant_id": "tenant_id",
             "bad_checksum": "accept_bad_checksum", "name": "name"}


def safe_next(path: str | None) -> str | None:
    """A ``next`` page after registering: only the technician's own pages (no open redirect)."""
    if path and path.startswith("/install/") and "//" not in path and "\\" not in path:
        return path
    return None


def _parse(text: str) -> QRCode | None:
    try:
        return parse_qr(text)
    except LoRaWANError:
        return None


@router.get("")
def scan_form(page: PageDep, user: InstallerDep) -> Response:
    return page.render("install/scan.html", error=None, qr="", checksum_bad=False, action=page.url("/install"),
                       heading=page.t("install.title"), next_path=None)


@router.post("", dependencies=[CsrfChecked])
def scan(
    page: PageDep, user: InstallerDep, db: DbDep, qr: Annotated[str, Form(max_length=500)],
    checksum_ok: Annotated[bool, Form()] = False, next_path: Annotated[str | None, Form(alias="next")] = None,
) -> Response:
    return scan_and_route(page, user, db, qr, checksum_ok, page.url("/install"), page.t("install.title"),
                          safe_next(next_path))


def scan_and_route(
    page: Page, user: PortalUser, db: DbDep, qr: str, checksum_ok: bool, action: str, heading: str,
    next_path: str | None, known_target: str | None = None,
) -> Response:
    """Shared by the install scan and the swap's "scan the new unit": a bad code is shown next to the field, a
    bad checksum asks for a second look, an unknown device goes to registration, a known one onward."""
    text = qr.strip()

    def form(status: int, error: str | None, checksum_bad: bool = False) -> Response:
        return page.render("install/scan.html", status=status, error=error, qr=text, checksum_bad=checksum_bad,
                           action=action, heading=heading, next_path=next_path)

    parsed = _parse(text)
    if parsed is None:
        return form(422, page.t("error.invalid_qr"))
    if parsed.checksum_valid is False and not checksum_ok:
        return form(200, None, checksum_bad=True)
    try:
        outcome = onboarding.scan(db, user.principal, page.ctx.vault, onboarding.ScanRequest(qr=text),
                                  codecs=page.ctx.codecs, idem=None, now=page.ctx.clock())
    except InvalidInput as exc:
        return form(422, page.error_text(exc))
    result = onboarding.ScanResult.model_validate(outcome.body)
    if not result.known:
        query = {"qr": text, **({"checksum_ok": "1"} if checksum_ok else {}), **({"next": next_path} if next_path
                                                                                 else {})}
        return page.redirect("/install/register?" + urlencode(query, quote_via=quote))
    target = known_target.replace("{dev_eui}", result.dev_eui) if known_target else f"/install/{result.dev_eui}"
    return page.redirect(target)


# --- registration of an unknown device ----------------------------------------------------------------------
def _model_choices(page: Page, result: onboarding.ScanResult) -> tuple[list[tuple[str, str]], list[str]]:
    """Every codec as (id, "Vendor Model"), and the ones the QR's ProfileID suggests."""
    codecs = page.ctx.codecs
    if codecs is None:
        return [], []
    models = [(c.id, f"{c.manifest.vendor} {c.manifest.model}") for c in codecs.list()]
    suggested = [result.codec] if result.codec else list(result.codec_candidates)
    listed = {m for m, _ in models}
    for codec_id in suggested:  # catalogue models (vendor/codec ids) are not in the folder list: add them
        if codec_id not in listed and codec_id in codecs:
            manifest = codecs.get(codec_id).manifest
            models.insert(0, (codec_id, f"{manifest.vendor} {manifest.model}"))
    return models, suggested


def _register_page(
    page: Page, db: DbDep, user: PortalUser, qr: str, parsed: QRCode, *, status: int = 200,
    values: dict[str, str] | None = None, errors: dict[str, str] | None = None, checksum_ok: bool = False,
    next_path: str | None = None,
) -> Response:
    outcome = onboarding.scan(db, user.principal, page.ctx.vault, onboarding.ScanRequest(qr=qr),
                              codecs=page.ctx.codecs, idem=None, now=page.ctx.clock())
    result = onboarding.ScanResult.model_validate(outcome.body)
    models, suggested = _model_choices(page, result)
    tenants = onboarding.enrollment_tenants(db, user.principal)
    defaults = {"tenant_id": user.tenant_id if any(t == user.tenant_id for t, _ in tenants) else "",
                "codec": suggested[0] if len(suggested) == 1 else "", "name": "", "app_key": ""}
    return page.render(
        "install/register.html", status=status, qr=qr, parsed=parsed, result=result, models=models,
        suggested=suggested, tenants=tenants, values={**defaults, **(values or {})}, errors=errors or {},
        checksum_ok=checksum_ok, next_path=next_path,
    )


@router.get("/register")
def register_form(
    page: PageDep, user: InstallerDep, db: DbDep, qr: str, checksum_ok: int = 0,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    parsed = _parse(qr.strip())
    if parsed is None:
        return page.render("install/scan.html", status=422, error=page.t("error.invalid_qr"), qr=qr,
                           checksum_bad=False, action=page.url("/install"), heading=page.t("install.title"),
                           next_path=None)
    if onboarding.is_known(db, user.principal, parsed.dev_eui):
        return page.redirect(f"/install/{parsed.dev_eui}")
    return _register_page(page, db, user, qr.strip(), parsed, checksum_ok=bool(checksum_ok),
                          next_path=safe_next(next_path))


@router.post("/register", dependencies=[CsrfChecked])
def register(
    page: PageDep, user: InstallerDep, db: DbDep, idem: PortalIdemDep, qr: Annotated[str, Form(max_length=500)],
    tenant_id: Annotated[str, Form()] = "", codec: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
    app_key: Annotated[str, Form()] = "", accept_bad_checksum: Annotated[bool, Form()] = False,
    checksum_ok: Annotated[bool, Form()] = False, next_path: Annotated[str | None, Form(alias="next")] = None,
) -> Response:
    text = qr.strip()
    parsed = _parse(text)
    if parsed is None:
        return page.render("install/scan.html", status=422, error=page.t("error.invalid_qr"), qr=text,
                           checksum_bad=False, action=page.url("/install"), heading=page.t("install.title"),
                           next_path=None)
    values = {"tenant_id": tenant_id, "codec": codec, "name": name, "app_key": app_key}
    errors: dict[str, str] = {}
    if not app_key.strip():
        errors["app_key"] = page.t("error.missing_app_key")
    if errors:
        return _register_page(page, db, user, text, parsed, status=422, values=values, errors=errors,
                              checksum_ok=checksum_ok, next_path=safe_next(next_path))
    try:
        enroll = onboarding.Enrollment(
            name=name.strip() or None, app_key=app_key.strip(), tenant_id=tenant_id or None, codec=codec or None,
            accept_bad_checksum=accept_bad_checksum or checksum_ok)
        onboarding.scan(db, user.principal, page.ctx.vault, onboarding.ScanRequest(qr=text, enroll=enroll),
                        codecs=page.ctx.codecs, idem=idem, now=page.ctx.clock())
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err.get("loc") else ""
            errors[_FIELD_OF.get(field, "form")] = page.t(f"error.field.{field}") if field else str(err["msg"])
    except (InvalidInput, AlreadyExists, NotFound) as exc:
        errors[_FIELD_OF.get(exc.code, "form")] = page.error_text(exc)
    if errors:
        db.rollback()
        return _register_page(page, db, user, text, parsed, status=422, values=values, errors=errors,
                              checksum_ok=checksum_ok, next_path=safe_next(next_path))
    target = safe_next(next_path)
    if target:
        return page.redirect(target.replace("{dev_eui}", parsed.dev_eui))
    return page.redirect(f"/install/{parsed.dev_eui}?registered=1")


# --- the live view ------------------------------------------------------------------------------------------
def _live_values(page: Page, user: PortalUser, db: DbDep, dev_eui: str) -> dict[str, Any]:
    live = install_status.live_status(db, user.principal, dev_eui, now=page.ctx.clock())
    asset = assets.asset_of_device(db, user.principal, live.dev_eui)
    return {"live": live, "asset": asset, "refresh_s": REFRESH_S, "reasons": reason_texts(page, live)}


@router.get("/{dev_eui}")
def live_page(page: PageDep, user: InstallerDep, db: DbDep, dev_eui: str, registered: int = 0) -> Response:
    return page.render("install/live.html", registered=bool(registered), **_live_values(page, user, db, dev_eui))


@router.get("/{dev_eui}/panel")
def live_panel(page: PageDep, user: InstallerDep, db: DbDep, dev_eui: str) -> Response:
    """The live part of the page, re-rendered every few seconds by live.js (one rendering path, no JSON to
    translate in the browser)."""
    return page.render("install/_live_panel.html", **_live_values(page, user, db, dev_eui))


def reason_texts(page: Page, live: install_status.LiveStatus) -> list[tuple[str, bool]]:
    """Each reason in the page's language with its figures formatted for it (the service's English message
    only for a code the catalogue lacks)."""
    fmt = Formatter(page.language)
    out = []
    for reason in live.reasons:
        key = f"reason.{reason.code}"
        values = {k: v if isinstance(v, str) else fmt.number(v) for k, v in reason.values.items()}
        text = page.t(key, **values)
        out.append((reason.message if text == key else text, reason.blocking))
    return out
