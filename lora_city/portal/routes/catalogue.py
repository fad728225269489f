"""The device catalogue in the city console (issue 20): search vendors and models, open a model (firmware versions
with their profile and codec per region, the codec's documented examples and the import's check of them), decode a
payload with its codec as a preview, and make a device profile from it (codec, class, MAC version and regional
parameters filled) for a tenant. The same services as the API's /catalogue routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput, LoraCityError, NotFound
from lora_city.portal import measures
from lora_city.portal.formatting import Formatter
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import catalogue, profiles, tenants
from lora_city.services.catalogue import ModelDetail, PreviewRequest
from lora_city.services.principal import Role

router = APIRouter(route_class=PortalRoute, prefix="/console/catalogue")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
PAGE = 100


@router.get("")
def catalogue_page(page: PageDep, user: StaffDep, db: DbDep, q: str = "", vendor: str = "") -> Response:
    q, vendor = q[:200], vendor[:40]
    vendors = catalogue.list_vendors(db, user.principal, None, catalogue.MAX_PAGE, 0)
    models = catalogue.list_models(db, user.principal, q or None, vendor or None, PAGE, 0) if (q or vendor) else []
    return page.render("console/catalogue.html", q=q, vendor=vendor, vendors=vendors, models=models,
                       searched=bool(q or vendor), more=len(models) == PAGE)


def _example(model: ModelDetail, detail: Any) -> tuple[int, str] | None:
    """The newest codec version's first documented uplink example: what the preview starts with."""
    if detail is None:
        return None
    for example in detail.versions[-1].examples.get("uplink", []):
        given = example.get("input") or {}
        if isinstance(given.get("bytes"), list):
            return int(given.get("fPort") or 1), bytes(int(b) & 0xFF for b in given["bytes"]).hex()
    return None


def _model_page(page: Page, db: Session, user: PortalUser, vendor: str, model: str, *, status: int = 200,
                values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                preview: dict[str, Any] | None = None, created: str = "") -> Response:
    detail = catalogue.get_model(db, user.principal, f"{vendor}/{model}")
    codec = None
    if detail.codec is not None:
        try:
            codec = catalogue.get_codec(db, user.principal, detail.codec)
        except NotFound:
            codec = None
    example = _example(detail, codec)
    tenant_rows = tenants.list_tenants(db, user.principal)
    firmware = [fw.version for fw in detail.firmware_versions if any(r.region == "EU863-870" for r in fw.regions)]
    form = values or {"tenant_id": next((tn.id for tn in tenant_rows if tn.kind == "city"), ""),
                      "firmware_version": detail.firmware or ""}
    return page.render("console/catalogue_model.html", status=status, model=detail, codec=codec, example=example,
                       tenant_options=[(tn.id, tn.name) for tn in tenant_rows],
                       firmware_options=[(v, v) for v in firmware], values=form, errors=errors or {},
                       preview=preview, created=created)


@router.get("/{vendor}/{model}")
def model_page(page: PageDep, user: StaffDep, db: DbDep, vendor: str, model: str, created: str = "") -> Response:
    return _model_page(page, db, user, vendor, model, created=created[:200])


@router.post("/{vendor}/{model}/preview", dependencies=[CsrfChecked])
def preview(page: PageDep, user: StaffDep, db: DbDep, vendor: str, model: str,
            f_port: Annotated[str, Form(max_length=3)] = "1", bytes_hex: Annotated[str, Form(max_length=1024)] = "",
            ) -> Response:
    detail = catalogue.get_model(db, user.principal, f"{vendor}/{model}")
    answer: dict[str, Any] = {"f_port": f_port, "bytes_hex": bytes_hex}
    try:
        port = int(f_port)
        if detail.codec is None:
            raise InvalidInput(page.t("catalogue.no_codec"), code="codec_not_found")
        result = catalogue.preview_decode(user.principal, page.ctx.codecs, detail.codec,
                                          PreviewRequest(f_port=port, bytes_hex=bytes_hex.strip()))
        answer.update(result)
        fmt = Formatter(page.language)
        answer["rows"] = [
            (measures.label(page.t, f"{m['name']}:{m['channel']}" if m.get("channel") else m["name"]),
             measures.value(page.t, fmt, m))
            for m in result["measurements"]
        ]
    except ValueError:
        answer["problem"] = page.t("catalogue.bad_port")
    except LoraCityError as exc:
        answer["problem"] = page.error_text(exc)
    return _model_page(page, db, user, vendor, model, preview=answer)


@router.post("/{vendor}/{model}/profile", dependencies=[CsrfChecked])
def make_profile(page: PageDep, user: StaffDep, db: DbDep, vendor: str, model: str,
                 tenant_id: Annotated[str, Form(max_length=36)] = "",
                 firmware_version: Annotated[str, Form(max_length=40)] = "",
                 name: Annotated[str, Form(max_length=200)] = "") -> Response:
    values = {"tenant_id": tenant_id, "firmware_version": firmware_version, "name": name}
    try:
        made = profiles.create_profile(db, user.principal, profiles.ProfileCreate(
            catalogue_model=f"{vendor}/{model}", firmware_version=firmware_version or None, name=name.strip() or None,
            tenant_id=tenant_id or None))
    except (InvalidInput, NotFound) as exc:
        db.rollback()
        field = "tenant_id" if "tenant" in exc.code else "firmware_version" if exc.code == "invalid_catalogue_model" \
            else "name"
        return _model_page(page, db, user, vendor, model, status=422, values=values,
                           errors={field: page.error_text(exc)})
    return page.redirect(f"/console/catalogue/{vendor}/{model}?created={made.name}")
