"""Device profiles in the city console: a device model's codec (picked from the codec folders and the device
catalogue, its documented example decoded as a preview), class, LoRaWAN version, OTAA, ADR and expected
interval. Create, edit (the profile's devices take the change at their next frame), delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lora_city.errors import Conflict, InvalidInput, NotFound
from lora_city.portal import codec_choice, forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import profiles
from lora_city.services.principal import Role
from lora_city.storage.bootstrap import CITY_SLUG
from lora_city.storage.models import Device, DeviceProfile, Tenant

router = APIRouter(route_class=PortalRoute, prefix="/console/profiles")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
FIELDS: dict[str, forms.Kind] = {
    "name": forms.REQUIRED_TEXT, "codec_id": forms.TEXT, "device_class": forms.TEXT, "mac_version": forms.TEXT,
    "supports_otaa": forms.BOOL, "adr_enabled": forms.BOOL, "uplink_interval_s": forms.INT,
}
CODES = {"unknown_codec": "codec_id", "tenant_not_found": "tenant_id", "missing_name": "name"}
MESSAGES = {"unknown_codec": "profiles.unknown_codec"}
MAC_VERSIONS = ("1.0.2", "1.0.3", "1.0.4", "1.1.0")
DEFAULTS = {"device_class": "A", "mac_version": "1.0.3", "supports_otaa": "true", "adr_enabled": "true",
            "uplink_interval_s": "3600"}


def _owners(db: Session) -> list[tuple[str, str]]:
    return [(t.id, t.name) for t in db.scalars(select(Tenant).order_by(Tenant.kind != "city", Tenant.name))]


def _form(page: Page, db: Session, profile: DeviceProfile | None, values: dict[str, str],
          errors: dict[str, str], status: int = 200) -> Response:
    codec = values.get("codec_id", "")
    example = codec_choice.documented_example(page.ctx.codecs, db, codec) if codec else None
    groups: dict[str, list[codec_choice.CodecOption]] = {}
    for option in codec_choice.options(page.ctx.codecs, db):
        groups.setdefault(option.group, []).append(option)
    return page.render("console/profile_form.html", status=status, profile=profile, values=values, errors=errors,
                       owners=_owners(db), groups=groups, example=example, mac_versions=MAC_VERSIONS)


@router.get("")
def profile_list(page: PageDep, user: StaffDep, db: DbDep, notice: str = "") -> Response:
    rows = profiles.list_profiles(db, user.principal)
    counts = dict(db.execute(select(Device.device_profile_id, func.count()).group_by(Device.device_profile_id)).all())
    names = dict(db.execute(select(Tenant.id, Tenant.name)).all())
    return page.render("console/profiles.html", profiles=rows, counts=counts, names=names, notice=notice)


@router.get("/new")
def new_profile(page: PageDep, user: StaffDep, db: DbDep, codec_id: str = "") -> Response:
    city = db.scalar(select(Tenant.id).where(Tenant.slug == CITY_SLUG)) or ""
    return _form(page, db, None, {**DEFAULTS, "tenant_id": city, "codec_id": codec_id}, {})


def _read(page: Page, posted: dict[str, str], creating: bool) -> tuple[forms.FormResult, Any]:
    spec = {**FIELDS, **({"tenant_id": forms.TEXT} if creating else {})}
    form = forms.read_form(posted, spec, page.t)
    if not creating:
        form.data.setdefault("codec_id", None)  # "none" clears it
    model = profiles.ProfileCreate if creating else profiles.ProfileFields
    return form, forms.validate(model, form, page.t)


@router.post("/new", dependencies=[CsrfChecked])
def create_profile(page: PageDep, user: StaffDep, db: DbDep, posted: forms.PostedDep) -> Response:
    form, data = _read(page, posted, True)
    if posted.get("intent") == "preview" or data is None:
        return _form(page, db, None, form.values, form.errors if data is None else {}, 422 if data is None else 200)
    try:
        profile = profiles.create_profile(db, user.principal, data, codecs=page.ctx.codecs)
    except (InvalidInput, NotFound) as exc:
        db.rollback()
        forms.field_error(form, exc, CODES, page.t, MESSAGES)
        return _form(page, db, None, form.values, form.errors, 422)
    return page.redirect(f"/console/profiles?notice=created&id={profile.id}")


def _values(p: DeviceProfile) -> dict[str, str]:
    return {"name": p.name, "codec_id": p.codec_id or "", "device_class": p.device_class,
            "mac_version": p.mac_version, "supports_otaa": "true" if p.supports_otaa else "",
            "adr_enabled": "true" if p.adr_enabled else "", "uplink_interval_s": str(p.uplink_interval_s),
            "tenant_id": p.tenant_id}


@router.get("/{profile_id}")
def edit_profile(page: PageDep, user: StaffDep, db: DbDep, profile_id: str) -> Response:
    profile = profiles.get_profile(db, user.principal, profile_id)
    return _form(page, db, profile, _values(profile), {})


@router.post("/{profile_id}", dependencies=[CsrfChecked])
def save_profile(page: PageDep, user: StaffDep, db: DbDep, profile_id: str, posted: forms.PostedDep) -> Response:
    profile = profiles.get_profile(db, user.principal, profile_id)
    form, data = _read(page, posted, False)
    form.values["tenant_id"] = profile.tenant_id
    if posted.get("intent") == "preview" or data is None:
        return _form(page, db, profile, form.values, form.errors if data is None else {},
                     422 if data is None else 200)
    try:
        profiles.update_profile(db, user.principal, profile.id, data, codecs=page.ctx.codecs)
    except InvalidInput as exc:
        db.rollback()
        forms.field_error(form, exc, CODES, page.t, MESSAGES)
        return _form(page, db, profile, form.values, form.errors, 422)
    for dev_eui in profiles.devices_of(db, profile.id):  # their codec and class change with the next frame
        page.device_changed(dev_eui)
    return page.redirect("/console/profiles?notice=saved")


def _confirm(page: PageDep, profile: DeviceProfile, used: int, error: str | None, status: int = 200) -> Response:
    """A profile that devices use is not deleted (their codec, class and radio settings come from it): the page
    says how many and offers no delete button; the operator moves them to another profile first."""
    question = (page.t("profiles.in_use", name=profile.name, n=used) if used
                else page.t("profiles.delete_question", name=profile.name))
    return page.render("confirm.html", title=page.t("profiles.delete_title", name=profile.name),
                       question=question, error=error,
                       action=page.url(f"/console/profiles/{profile.id}/delete"), confirm=page.t("profiles.delete"),
                       cancel=page.url(f"/console/profiles/{profile.id}"), allowed=not used, status=status)


@router.get("/{profile_id}/delete")
def confirm_delete(page: PageDep, user: StaffDep, db: DbDep, profile_id: str) -> Response:
    profile = profiles.get_profile(db, user.principal, profile_id)
    return _confirm(page, profile, len(profiles.devices_of(db, profile.id)), None)


@router.post("/{profile_id}/delete", dependencies=[CsrfChecked])
def delete_profile(page: PageDep, user: StaffDep, db: DbDep, profile_id: str) -> Response:
    profile = profiles.get_profile(db, user.principal, profile_id)
    try:
        profiles.delete_profile(db, user.principal, profile.id)
    except Conflict as exc:  # a device was given this profile since the confirmation page
        db.rollback()
        return _confirm(page, profile, len(profiles.devices_of(db, profile.id)), page.error_text(exc), 409)
    return page.redirect("/console/profiles?notice=deleted")
