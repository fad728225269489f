"""A tenant's integrations, on the core integration service (lora_city.services.integrations): its webhooks
(HTTPS; signed, the secret shown once) and its own MQTT broker (username and password, topic, TLS with a CA and
a client certificate), each with its last delivery and last error, a button that sends a test event now, the
last deliveries, and deletion after a confirmation. A change applies to the next event in every process."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput, NotFound, PermissionDenied
from lora_city.portal import forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, UserDep
from lora_city.services import integrations as svc
from lora_city.services.principal import Perm
from lora_city.sinks.integrations import DEFAULT_TOPIC
from lora_city.storage.models import Integration

router = APIRouter(route_class=PortalRoute)
COMMON: dict[str, forms.Kind] = {"name": forms.TEXT, "url": forms.REQUIRED_TEXT}
WEBHOOK: dict[str, forms.Kind] = {"header_name": forms.TEXT, "header_value": forms.TEXT}
MQTT: dict[str, forms.Kind] = {"username": forms.TEXT, "password": forms.TEXT, "topic_template": forms.TEXT,
                               "qos": forms.INT, "ca_cert": forms.TEXT, "client_cert": forms.TEXT,
                               "client_key": forms.TEXT}
CODES = {"invalid_url": "url", "https_required": "url", "invalid_headers": "header_name",
         "invalid_topic_template": "topic_template", "invalid_certificate": "ca_cert", "invalid_field": "_form"}
MESSAGES = {"https_required": "integrations.https_required", "invalid_url": "integrations.bad_url"}


def _rows(db: Session, user: PortalUser) -> list[tuple[Integration, svc.Status]]:
    return [(row, svc.status(db, row.id)) for row in svc.list_for(db, user.principal)
            if row.tenant_id == user.tenant_id]


def _render(page: Page, db: Session, user: PortalUser, *, status: int = 200, values: dict[str, str] | None = None,
            errors: dict[str, str] | None = None, secret: str | None = None, created: Integration | None = None,
            tested: tuple[Integration, Any, float] | None = None, notice: str = "") -> Response:
    return page.render(
        "integrations.html", status=status, rows=_rows(db, user), values=values or {"kind": "webhook", "qos": "1"},
        errors=errors or {}, secret=secret, created=created, tested=tested,
        editable=user.principal.can(Perm.APPLICATIONS_WRITE), default_topic=DEFAULT_TOPIC, notice=notice)


@router.get("/integrations")
def integrations_page(page: PageDep, user: UserDep, db: DbDep, notice: str = "") -> Response:
    return _render(page, db, user, notice=notice)


def _fields(kind: str, form: forms.FormResult) -> dict[str, Any]:
    data: dict[str, Any] = {"url": form.data.get("url", "")}
    if form.data.get("name"):
        data["name"] = form.data["name"]
    if kind == "webhook":
        if form.data.get("header_name") or form.data.get("header_value"):
            data["headers"] = {form.data.get("header_name", ""): form.data.get("header_value", "")}
    else:
        for name in ("username", "password", "topic_template", "qos", "ca_cert", "client_cert", "client_key"):
            if name in form.data:
                data[name] = form.data[name]
    return data


@router.post("/integrations", dependencies=[CsrfChecked])
def add_integration(page: PageDep, user: UserDep, db: DbDep, posted: forms.PostedDep) -> Response:
    user.principal.require(Perm.APPLICATIONS_WRITE)
    kind = posted.get("kind", "webhook")
    if kind not in ("webhook", "mqtt"):
        kind = "webhook"
    form = forms.read_form(posted, {**COMMON, **(WEBHOOK if kind == "webhook" else MQTT)}, page.t)
    form.values["kind"] = kind
    data = forms.validate(svc.IntegrationCreate, form, page.t, extra={"kind": kind, **_fields(kind, form)},
                          formats={"url": "integrations.bad_url"})  # the URL's pattern, in the page's words
    if data is None:
        return _render(page, db, user, status=422, values=form.values, errors=form.errors)
    try:
        row, secret = svc.create(db, page.ctx.vault, user.principal, data)
    except (InvalidInput, PermissionDenied) as exc:
        db.rollback()
        forms.field_error(form, exc, CODES, page.t, MESSAGES)
        if form.errors.get("_form") == exc.message:
            form.errors["_form"] = page.error_text(exc)
        return _render(page, db, user, status=422, values=form.values, errors=form.errors)
    # Rendered, not redirected: a webhook's signing secret exists only in this answer.
    return _render(page, db, user, status=201, secret=secret, created=row)


@router.post("/integrations/{integration_id}/test", dependencies=[CsrfChecked])
def test_integration(page: PageDep, user: UserDep, db: DbDep, integration_id: str) -> Response:
    outcome, duration_ms = svc.send_test(db, page.ctx.vault, user.principal, integration_id)
    return _render(page, db, user, tested=(svc.get(db, user.principal, integration_id), outcome, duration_ms))


@router.get("/integrations/{integration_id}")
def integration_page(page: PageDep, user: UserDep, db: DbDep, integration_id: str) -> Response:
    row = svc.get(db, user.principal, integration_id)
    return page.render("integration.html", row=row, health=svc.status(db, row.id),
                       deliveries=svc.deliveries(db, user.principal, row.id, limit=50),
                       editable=user.principal.can(Perm.APPLICATIONS_WRITE), secret=None)


@router.post("/integrations/{integration_id}/enabled", dependencies=[CsrfChecked])
def toggle(page: PageDep, user: UserDep, db: DbDep, integration_id: str, posted: forms.PostedDep) -> Response:
    row = svc.get(db, user.principal, integration_id)
    svc.update(db, page.ctx.vault, user.principal, row.id, svc.IntegrationFields(enabled=posted.get("enabled") == "true"))
    return page.redirect(f"/integrations/{row.id}")


@router.post("/integrations/{integration_id}/rotate", dependencies=[CsrfChecked])
def rotate(page: PageDep, user: UserDep, db: DbDep, integration_id: str) -> Response:
    row, secret = svc.rotate_secret(db, page.ctx.vault, user.principal, integration_id)
    return page.render("integration.html", row=row, health=svc.status(db, row.id), editable=True, secret=secret,
                       deliveries=svc.deliveries(db, user.principal, row.id, limit=50))


@router.get("/integrations/{integration_id}/delete")
def confirm_delete(page: PageDep, user: UserDep, db: DbDep, integration_id: str) -> Response:
    row = svc.get(db, user.principal, integration_id)
    return page.render("confirm.html", title=page.t("integrations.delete_title"),
                       question=page.t("integrations.delete_question", url=row.url), error=None,
                       action=page.url(f"/integrations/{row.id}/delete"), confirm=page.t("integrations.remove"),
                       cancel=page.url("/integrations"), allowed=user.principal.can(Perm.APPLICATIONS_WRITE))


@router.post("/integrations/{integration_id}/delete", dependencies=[CsrfChecked])
def remove_integration(page: PageDep, user: UserDep, db: DbDep, integration_id: str) -> Response:
    with contextlib.suppress(NotFound):  # already gone (a second click): the list says the rest
        svc.remove(db, user.principal, integration_id)
    return page.redirect("/integrations?notice=deleted")
