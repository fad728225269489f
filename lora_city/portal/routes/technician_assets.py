"""The technician's asset pages: put a device on an asset (found by its reference, or the nearest ones around
the phone's position, or created on the spot with position and photo), swap a unit with a confirmation step
showing both devices, and the asset's page with the recent readings of every unit it carried.

Conflicts the API answers with 409 (an existing reference, a device on another asset, a swap across device
families) come back as the same page with the other asset or both devices shown and an explicit button to go
ahead: nothing is renamed, moved or mixed without the technician saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError

from lora_city.errors import Conflict, InvalidInput, LoraCityError, NotFound
from lora_city.portal.idempotent import PortalIdemDep, derived
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.routes.technician import InstallerDep, scan_and_route
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser
from lora_city.services import assets, devices, onboarding
from lora_city.storage.models import Asset, Reading

router = APIRouter(route_class=PortalRoute, prefix="/install")
RECENT_READINGS = 20
KINDS = ("pole", "meter", "gauge", "other")


@dataclass(frozen=True, slots=True)
class Found:
    asset: Asset
    distance_m: float | None
    devices: list[str]  # DevEUIs on it now


def _finder(
    db: DbDep, user: PortalUser, q: str | None, lat: float | None, lon: float | None,
) -> list[Found]:
    if q:
        return [Found(a, None, assets.current_devices(db, a.id))
                for a in assets.search_assets(db, user.principal, q)]
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        return [Found(n.asset, n.distance_m, assets.current_devices(db, n.asset.id))
                for n in assets.nearest_assets(db, user.principal, lat, lon)]
    return []


def _points(found: list[Found]) -> list[dict[str, Any]]:
    """The finder's assets for the map (only those with a position)."""
    return [{"id": f.asset.id, "ref": f.asset.external_ref or "", "name": f.asset.name, "lat": f.asset.latitude,
             "lon": f.asset.longitude} for f in found if f.asset.latitude is not None and f.asset.longitude is not None]


@router.get("/assets")
def finder_page(
    page: PageDep, user: InstallerDep, db: DbDep, q: str | None = None, lat: float | None = None,
    lon: float | None = None,
) -> Response:
    """Find an asset (its readings, its units) by reference or around the technician."""
    found = _finder(db, user, q, lat, lon)
    return page.render("install/finder.html", found=found, points=_points(found), q=q or "", lat=lat, lon=lon,
                       searched=bool(q) or lat is not None, tile_url=page.ctx.settings.map_tile_url or "")


# --- bind ---------------------------------------------------------------------------------------------------
def _bind_page(
    page: Page, db: DbDep, user: PortalUser, dev_eui: str, *, status: int = 200, q: str | None = None,
    lat: float | None = None, lon: float | None = None, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, conflict: dict[str, Any] | None = None,
) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    found = _finder(db, user, q, lat, lon)
    return page.render(
        "install/bind.html", status=status, view=view, current=assets.asset_of_device(db, user.principal, dev_eui),
        found=found, points=_points(found), q=q or "", lat=lat, lon=lon, searched=bool(q) or lat is not None,
        kinds=KINDS, values=values or {}, errors=errors or {}, conflict=conflict,
        tile_url=page.ctx.settings.map_tile_url or "",
    )


@router.get("/{dev_eui}/bind")
def bind_form(
    page: PageDep, user: InstallerDep, db: DbDep, dev_eui: str, q: str | None = None, lat: float | None = None,
    lon: float | None = None,
) -> Response:
    return _bind_page(page, db, user, dev_eui, q=q, lat=lat, lon=lon)


def _float(text: str, field: str, errors: dict[str, str], page: Page) -> float | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        errors[field] = page.t("error.field.number")
        return None


@router.post("/{dev_eui}/bind", dependencies=[CsrfChecked])
def bind(
    page: PageDep, user: InstallerDep, db: DbDep, idem: PortalIdemDep, dev_eui: str,
    asset_id: Annotated[str, Form()] = "", external_ref: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=200)] = "", kind: Annotated[str, Form()] = "other",
    address: Annotated[str, Form(max_length=500)] = "", latitude: Annotated[str, Form()] = "",
    longitude: Annotated[str, Form()] = "", notes: Annotated[str, Form(max_length=2000)] = "",
    use_existing: Annotated[bool, Form()] = False, move: Annotated[bool, Form()] = False,
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    values = {"asset_id": asset_id, "external_ref": external_ref, "name": name, "kind": kind, "address": address,
              "latitude": latitude, "longitude": longitude, "notes": notes}
    errors: dict[str, str] = {}
    lat, lon = _float(latitude, "latitude", errors, page), _float(longitude, "longitude", errors, page)
    if not asset_id and not external_ref.strip():
        errors["external_ref"] = page.t("error.field.required")
    if kind not in KINDS:
        errors["kind"] = page.t("error.field.kind")
    content = photo.file.read() if photo is not None and photo.filename else b""
    photo_type = (photo.content_type or "") if photo is not None else ""
    if errors:
        return _bind_page(page, db, user, dev_eui, status=422, values=values, errors=errors)
    try:
        if asset_id:
            request = onboarding.BindRequest(dev_eui=dev_eui, asset_id=asset_id, move=move)
        else:
            fields: dict[str, Any] = {"external_ref": external_ref.strip(), "kind": kind,
                                      "name": name.strip() or None, "address": address.strip() or None,
                                      "notes": notes.strip() or None, "latitude": lat, "longitude": lon}
            request = onboarding.BindRequest(dev_eui=dev_eui, use_existing=use_existing, move=move,
                                             asset=onboarding.AssetRef(**{k: v for k, v in fields.items()
                                                                         if v is not None}))
        outcome = onboarding.bind(db, user.principal, request, idem=idem, now=page.ctx.clock())
    except ValidationError as exc:
        for err in exc.errors():
            where = [str(p) for p in err.get("loc", ())]
            errors[where[-1] if where else "form"] = page.t("error.field.invalid")
        return _bind_page(page, db, user, dev_eui, status=422, values=values, errors=errors)
    except Conflict as exc:
        details = getattr(exc, "details", None) or {}
        return _bind_page(page, db, user, dev_eui, status=409, values=values,
                          conflict={"code": exc.code, "asset": details.get("asset"), "message": page.error_text(exc)})
    except (InvalidInput, NotFound) as exc:
        errors["form"] = page.error_text(exc)
        return _bind_page(page, db, user, dev_eui, status=422, values=values, errors=errors)
    bound_id = str(outcome.body["id"])
    if content:
        step = derived(idem, "photo", photo_type.encode() + b"\0" + content)
        try:
            onboarding.set_photo(db, user.principal, bound_id, content, photo_type, idem=step,
                                 now=page.ctx.clock())
        except InvalidInput as exc:  # bound already: say why the photo was not kept, on the asset's page
            return page.redirect(f"/install/assets/{bound_id}?" + urlencode({"bound": dev_eui,
                                                                             "photo_error": exc.code}))
    return page.redirect(f"/install/assets/{bound_id}?" + urlencode({"bound": dev_eui}))


# --- the asset's page -----------------------------------------------------------------------------------------
def _asset_page(
    page: Page, db: DbDep, user: PortalUser, asset_id: str, *, status: int = 200, **extra: Any,
) -> Response:
    view = assets.get_asset(db, user.principal, asset_id)
    now = page.ctx.clock()
    try:
        recent: list[Reading] = assets.asset_readings(db, user.principal, asset_id, limit=RECENT_READINGS,
                                                      now=now).items
        readable = True
    except LoraCityError:  # a technician who did not work on this asset: the page without its readings
        recent, readable = [], False
    names = {v.device.dev_eui: v for v in devices.device_views_for(db, user.principal,
                                                                   [b.dev_eui for b in view.devices])}
    current = [b.dev_eui for b in view.devices if b.unbound_at is None]
    notes = {"bound": None, "swapped": None, "photo_error": None, "position_error": None, **extra}
    return page.render("install/asset.html", status=status, asset=view, recent=recent, readable=readable,
                       names=names, current=current, **notes)


@router.get("/assets/{asset_id}")
def asset_page(
    page: PageDep, user: InstallerDep, db: DbDep, asset_id: str, bound: str | None = None,
    swapped: str | None = None, photo_error: str | None = None,
) -> Response:
    return _asset_page(page, db, user, asset_id, bound=bound, swapped=swapped,
                       photo_error=page.t(f"error.{photo_error}") if photo_error else None)


@router.get("/assets/{asset_id}/photo")
def asset_photo(page: PageDep, user: InstallerDep, db: DbDep, asset_id: str) -> Response:
    content, content_type = assets.photo(db, user.principal, asset_id)
    return Response(content, media_type=content_type, headers={"Cache-Control": "private, max-age=60"})


@router.post("/assets/{asset_id}/photo", dependencies=[CsrfChecked])
def upload_photo(
    page: PageDep, user: InstallerDep, db: DbDep, idem: PortalIdemDep, asset_id: str,
    photo: Annotated[UploadFile, File()],
) -> Response:
    content = photo.file.read()
    try:
        onboarding.set_photo(db, user.principal, asset_id, content, photo.content_type or "", idem=idem,
                             now=page.ctx.clock())
    except InvalidInput as exc:
        return _asset_page(page, db, user, asset_id, status=422, photo_error=page.error_text(exc))
    return page.redirect(f"/install/assets/{asset_id}")


@router.post("/assets/{asset_id}/position", dependencies=[CsrfChecked])
def set_position(
    page: PageDep, user: InstallerDep, db: DbDep, asset_id: str, latitude: Annotated[str, Form()],
    longitude: Annotated[str, Form()],
) -> Response:
    errors: dict[str, str] = {}
    lat, lon = _float(latitude, "latitude", errors, page), _float(longitude, "longitude", errors, page)
    if lat is None or lon is None or errors:
        return _asset_page(page, db, user, asset_id, status=422,
                           position_error=errors.get("latitude") or errors.get("longitude")
                           or page.t("error.field.required"))
    try:
        assets.set_position(db, user.principal, asset_id, lat, lon)
    except ValidationError:
        return _asset_page(page, db, user, asset_id, status=422, position_error=page.t("error.field.position"))
    return page.redirect(f"/install/assets/{asset_id}")


# --- swap ---------------------------------------------------------------------------------------------------
@router.get("/{dev_eui}/swap")
def swap_finder(
    page: PageDep, user: InstallerDep, db: DbDep, dev_eui: str, q: str | None = None, lat: float | None = None,
    lon: float | None = None,
) -> Response:
    """The new unit is in the technician's hand: find the asset whose unit it replaces."""
    view = devices.get_device(db, user.principal, dev_eui)
    found = _finder(db, user, q, lat, lon)
    names = {v.device.dev_eui: v for v in devices.device_views_for(
        db, user.principal, [d for f in found for d in f.devices])}
    return page.render("install/swap_find.html", view=view, found=found, points=_points(found), q=q or "",
                       lat=lat, lon=lon, searched=bool(q) or lat is not None, names=names,
                       tile_url=page.ctx.settings.map_tile_url or "")


@router.get("/assets/{asset_id}/replace")
def replace_form(page: PageDep, user: InstallerDep, db: DbDep, asset_id: str, old: str) -> Response:
    """From the asset's page: scan the new unit that replaces ``old``."""
    assets.get_asset(db, user.principal, asset_id)
    return page.render("install/scan.html", error=None, qr="", checksum_bad=False,
                       action=page.url(f"/install/assets/{asset_id}/replace?" + urlencode({"old": old})),
                       heading=page.t("swap.scan_new"), next_path=None)


@router.post("/assets/{asset_id}/replace", dependencies=[CsrfChecked])
def replace_scan(
    page: PageDep, user: InstallerDep, db: DbDep, asset_id: str, old: str, qr: Annotated[str, Form(max_length=500)],
    checksum_ok: Annotated[bool, Form()] = False,
) -> Response:
    confirm = f"/install/assets/{asset_id}/swap?" + urlencode({"old": old}) + "&new={dev_eui}"
    return scan_and_route(page, user, db, qr, checksum_ok,
                          page.url(f"/install/assets/{asset_id}/replace?" + urlencode({"old": old})),
                          page.t("swap.scan_new"), confirm, known_target=confirm)


def _confirm_page(
    page: Page, db: DbDep, user: PortalUser, asset_id: str, old: str, new: str, *, status: int = 200,
    force: bool = False, move: bool = False, error: str | None = None,
) -> Response:
    request = onboarding.SwapRequest(asset_id=asset_id, old_dev_eui=old, new_dev_eui=new, force=force, move=move)
    preview = onboarding.swap_preview(db, user.principal, request, codecs=page.ctx.codecs)
    problems = [(p.code, page.t(f"swap.problem.{p.code}", old=_family(page, preview.old.family),
                                new=_family(page, preview.new.family)), p.blocking) for p in preview.problems]
    codecs = page.ctx.codecs
    models = {c.id: f"{c.manifest.vendor} {c.manifest.model}" for c in codecs.list()} if codecs else {}
    return page.render("install/swap_confirm.html", status=status, preview=preview, problems=problems,
                       force=force, move=move, error=error, models=models,
                       families={"old": _family(page, preview.old.family), "new": _family(page, preview.new.family)})


def _family(page: Page, family: str | None) -> str:
    return page.t(f"family.{family or 'unknown'}")


@router.get("/assets/{asset_id}/swap")
def swap_confirm(page: PageDep, user: InstallerDep, db: DbDep, asset_id: str, old: str, new: str) -> Response:
    return _confirm_page(page, db, user, asset_id, old, new)


@router.post("/assets/{asset_id}/swap", dependencies=[CsrfChecked])
def swap(
    page: PageDep, user: InstallerDep, db: DbDep, idem: PortalIdemDep, asset_id: str,
    old: Annotated[str, Form()], new: Annotated[str, Form()], force: Annotated[bool, Form()] = False,
    move: Annotated[bool, Form()] = False,
) -> Response:
    request = onboarding.SwapRequest(asset_id=asset_id, old_dev_eui=old, new_dev_eui=new, force=force, move=move)
    try:
        onboarding.swap(db, user.principal, request, idem=idem, now=page.ctx.clock(), codecs=page.ctx.codecs)
    except (Conflict, InvalidInput) as exc:
        db.rollback()
        return _confirm_page(page, db, user, asset_id, old, new, status=409 if isinstance(exc, Conflict) else 422,
                             force=force, move=move, error=page.error_text(exc))
    for dev_eui in (old, new):  # the old unit is disabled, the new one maybe re-enabled: the server reloads them
        page.device_changed(dev_eui)
    return page.redirect(f"/install/assets/{asset_id}?" + urlencode({"swapped": new}))

