"""Adding devices from the portal: one by the form, many by a CSV file (a dry run first shows how each column
was read and every problem of every line; the import writes all or nothing); editing and deleting one. For
the city's staff (any tenant) and a tenant's administrator (its own devices).

The form can start from a model of the device catalogue (issue 20): search it, choose a model, and the device gets
the tenant's profile made from that model and firmware (codec, class, MAC version and regional parameters), as
the API's ``catalogue_model`` does. A plain search form and links: no script, works with the keyboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import (
    AlreadyExists,
    InvalidInput,
    LoraCityError,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
)
from lora_city.portal import codec_choice, forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, UserDep
from lora_city.services import catalogue, device_import, devices, profiles
from lora_city.services.catalogue import ModelDetail, ModelSummary
from lora_city.services.principal import Perm
from lora_city.storage.models import Device, Tenant

router = APIRouter(route_class=PortalRoute, prefix="/devices")
MAX_CSV_BYTES = 5 * 1024 * 1024  # ~50,000 lines; bigger files go through the CLI or the API
FIELDS: dict[str, forms.Kind] = {
    "name": forms.REQUIRED_TEXT, "description": forms.TEXT, "join_eui": forms.TEXT, "app_key": forms.TEXT,
    "codec": forms.TEXT, "device_class": forms.TEXT, "device_profile_id": forms.TEXT, "latitude": forms.FLOAT,
    "longitude": forms.FLOAT,
}
NEW_FIELDS: dict[str, forms.Kind] = {"dev_eui": forms.REQUIRED_TEXT, "catalogue_model": forms.TEXT,
                                     "firmware_version": forms.TEXT}
MODEL_RESULTS = 20  # a search shows this many models: a narrower search finds the rest
CODES = {"invalid_dev_eui": "dev_eui", "already_exists": "dev_eui", "invalid_join_eui": "join_eui",
         "invalid_app_key": "app_key", "unknown_codec": "codec", "device_profile_not_found": "device_profile_id",
         "tenant_mismatch": "device_profile_id", "tenant_not_found": "tenant_id", "plan_devices": "tenant_id",
         "invalid_catalogue_model": "firmware_version"}
MESSAGES = {"invalid_dev_eui": "devices.bad_eui", "already_exists": "devices.eui_taken",
            "invalid_join_eui": "devices.bad_eui", "invalid_app_key": "devices.bad_key",
            "unknown_codec": "profiles.unknown_codec", "tenant_mismatch": "devices.profile_elsewhere",
            "plan_devices": "devices.plan_full"}


def _writer(user: PortalUser) -> PortalUser:
    user.principal.require(Perm.DEVICES_WRITE)
    return user


def _choices(page: Page, db: Session, user: PortalUser) -> dict[str, Any]:
    tenants = [t for t in db.scalars(select(Tenant).order_by(Tenant.kind != "city", Tenant.name))
               if user.principal.sees(t.id)]
    names = {t.id: t.name for t in tenants}
    profile_options = [(p.id, p.name if not user.is_city_staff else f"{p.name} ({names.get(p.tenant_id, '')})")
                       for p in profiles.list_profiles(db, user.principal)]
    codec_options = [(o.id, o.label) for o in codec_choice.options(page.ctx.codecs, db)]
    return {"tenants": [(t.id, t.name) for t in tenants], "profile_options": profile_options,
            "codec_options": codec_options, "staff": user.is_city_staff}


def _form(page: Page, db: Session, user: PortalUser, device: Device | None, values: dict[str, str],
          errors: dict[str, str], status: int = 200, **extra: Any) -> Response:
    return page.render("device_form.html", status=status, device=device, values=values, errors=errors,
                       **_choices(page, db, user), **extra)


def _catalogue_part(db: Session, user: PortalUser, model_q: str, model_id: str) -> dict[str, Any]:
    """The form's catalogue section: whether there is a catalogue this user may read, the models a search found,
    and the chosen model with the profile fields it fills and its EU868 firmware versions."""
    try:
        offered = bool(catalogue.list_vendors(db, user.principal, None, 1, 0))
    except PermissionDenied:
        return {"catalogue_offered": False}
    found: list[ModelSummary] = []
    if model_q:
        found = catalogue.list_models(db, user.principal, model_q, None, MODEL_RESULTS, 0)
    chosen: ModelDetail | None = None
    if model_id:
        try:
            chosen = catalogue.get_model(db, user.principal, model_id)
        except NotFound:
            chosen = None
    firmware = [fw.version for fw in chosen.firmware_versions if any(r.region == "EU863-870" for r in fw.regions)] \
        if chosen else []
    return {"catalogue_offered": offered, "model_q": model_q, "model_results": found, "model_searched": bool(model_q),
            "model_more": len(found) == MODEL_RESULTS, "chosen_model": chosen,
            "firmware_options": [(v, v) for v in reversed(firmware)]}


@router.get("/new")
def new_device(page: PageDep, user: UserDep, db: DbDep, tenant: str = "", model_q: str = "",
               model: str = "") -> Response:
    _writer(user)
    part = _catalogue_part(db, user, model_q.strip()[:200], model.strip()[:80])
    values = {"tenant_id": tenant or user.tenant_id}
    if part.get("chosen_model") is not None:
        detail = part["chosen_model"]
        values.update(catalogue_model=detail.id, firmware_version=detail.firmware or "")
    return _form(page, db, user, None, values, {}, **part)


@router.post("/new", dependencies=[CsrfChecked])
def create_device(page: PageDep, user: UserDep, db: DbDep, posted: forms.PostedDep) -> Response:
    _writer(user)
    spec = {**FIELDS, **NEW_FIELDS, **({"tenant_id": forms.TEXT} if user.is_city_staff else {})}
    form = forms.read_form(posted, spec, page.t)
    if form.data.get("catalogue_model"):  # the chosen model's profile, not another profile
        form.data.pop("device_profile_id", None)
    data = forms.validate(devices.DeviceCreate, form, page.t, formats={"dev_eui": "devices.bad_eui"})
    part = _catalogue_part(db, user, "", form.values.get("catalogue_model", ""))
    if data is None:
        return _form(page, db, user, None, form.values, form.errors, 422, **part)
    try:
        device = devices.register_device(db, user.principal, page.ctx.vault, data, codecs=page.ctx.codecs,
                                         now=page.ctx.clock())
    except (InvalidInput, AlreadyExists, NotFound, QuotaExceeded, PermissionDenied) as exc:
        db.rollback()
        forms.field_error(form, exc, CODES, page.t, MESSAGES)
        return _form(page, db, user, None, form.values, form.errors, 422, **part)
    page.device_changed(device.dev_eui)
    return page.redirect(f"/devices/{device.dev_eui}?notice=created")


@router.get("/import")
def import_page(page: PageDep, user: UserDep, db: DbDep) -> Response:
    _writer(user)
    return page.render("device_import.html", result=None, rejected=None, tenant=user.tenant_id, dry_run=True,
                       error=None, file_name="", **_choices(page, db, user))


@router.post("/import", dependencies=[CsrfChecked])
def import_file(
    page: PageDep, user: UserDep, db: DbDep, file: Annotated[UploadFile, File()],
    tenant: Annotated[str, Form(max_length=64)] = "", dry_run: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    _writer(user)
    checking = dry_run not in ("", "false")
    common = {"tenant": tenant or user.tenant_id, "dry_run": checking, "file_name": file.filename or "",
              **_choices(page, db, user)}
    data = file.file.read(MAX_CSV_BYTES + 1)
    if not data:
        return page.render("device_import.html", status=422, result=None, rejected=None,
                           error=page.t("import.no_file"), **common)
    if len(data) > MAX_CSV_BYTES:
        return page.render("device_import.html", status=413, result=None, rejected=None,
                           error=page.t("import.too_big", mb=MAX_CSV_BYTES // (1024 * 1024)), **common)
    try:
        text = device_import.decode_csv(data)
        result = device_import.import_devices(
            db, user.principal, page.ctx.vault, device_import.import_text(text), codecs=page.ctx.codecs,
            tenant_id=(tenant or None) if user.is_city_staff else None, dry_run=checking, now=page.ctx.clock())
    except device_import.ImportRejected as exc:
        db.rollback()
        return page.render("device_import.html", status=422, result=None, rejected=exc, error=None, **common)
    except LoraCityError as exc:
        db.rollback()
        return page.render("device_import.html", status=422, result=None, rejected=None,
                           error=page.error_text(exc), **common)
    return page.render("device_import.html", result=result, rejected=None, error=None, **common)


def _values(device: Device) -> dict[str, str]:
    def text(value: float | None) -> str:
        return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")

    return {"name": device.name, "description": device.description, "join_eui": device.join_eui,
            "codec": device.codec_id or "", "device_class": device.device_class or "",
            "device_profile_id": device.device_profile_id or "", "latitude": text(device.latitude),
            "longitude": text(device.longitude), "tenant_id": device.tenant_id}


@router.get("/{dev_eui}/edit")
def edit_device(page: PageDep, user: UserDep, db: DbDep, dev_eui: str) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    _writer(user)
    return _form(page, db, user, view.device, _values(view.device), {})


@router.post("/{dev_eui}/edit", dependencies=[CsrfChecked])
def save_device(page: PageDep, user: UserDep, db: DbDep, dev_eui: str, posted: forms.PostedDep) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    _writer(user)
    form = forms.read_form(posted, FIELDS, page.t)
    for name in ("codec", "device_class", "device_profile_id", "latitude", "longitude"):
        form.data.setdefault(name, None)  # emptied: cleared (the profile's codec and class apply)
    form.values["tenant_id"] = view.device.tenant_id
    data = forms.validate(devices.DeviceFields, form, page.t)
    if data is None:
        return _form(page, db, user, view.device, form.values, form.errors, 422)
    try:
        devices.update_device(db, user.principal, page.ctx.vault, view.device.dev_eui, data, codecs=page.ctx.codecs,
                              now=page.ctx.clock())
    except (InvalidInput, NotFound, PermissionDenied) as exc:
        db.rollback()
        forms.field_error(form, exc, CODES, page.t, MESSAGES)
        return _form(page, db, user, view.device, form.values, form.errors, 422)
    page.device_changed(view.device.dev_eui)
    return page.redirect(f"/devices/{view.device.dev_eui}?notice=saved")


@router.get("/{dev_eui}/delete")
def confirm_delete(page: PageDep, user: UserDep, db: DbDep, dev_eui: str) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    _writer(user)
    d = view.device
    return page.render("confirm.html", title=page.t("devices.delete_title", name=d.name),
                       question=page.t("devices.delete_question", name=d.name, eui=d.dev_eui), error=None,
                       action=page.url(f"/devices/{d.dev_eui}/delete"), confirm=page.t("devices.delete"),
                       cancel=page.url(f"/devices/{d.dev_eui}"), allowed=True)


@router.post("/{dev_eui}/delete", dependencies=[CsrfChecked])
def delete_device(page: PageDep, user: UserDep, db: DbDep, dev_eui: str) -> Response:
    view = devices.get_device(db, user.principal, dev_eui)
    devices.delete_device(db, user.principal, view.device.dev_eui)
    page.device_changed(view.device.dev_eui)
    return page.redirect("/devices?notice=deleted")
