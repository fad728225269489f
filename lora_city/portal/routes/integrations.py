"""A tenant's integrations: its webhooks and MQTT feeds. Listing reads the sinks' table for the user's tenant;
adding and removing go through tenants/ (``PortalExtras.create_integration`` / ``remove_integration``), which
owns the permission rules and encrypts webhook secrets; the secret is shown once, in the answer to the POST."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput, NotFound
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, UserDep
from lora_city.services.principal import Perm
from lora_city.storage.models import Integration

router = APIRouter(route_class=PortalRoute)


def _render(page: Page, db: Session, user: PortalUser, status: int = 200, **values: object) -> Response:
    rows = list(db.scalars(select(Integration).where(Integration.tenant_id == user.tenant_id)
                           .order_by(Integration.created_at, Integration.id)))
    editable = page.ctx.extras.create_integration is not None and user.principal.can(Perm.APPLICATIONS_WRITE)
    return page.render("integrations.html", status=status, integrations=rows, editable=editable,
                       mqtt_url=page.ctx.settings.mqtt_url, **{"secret": None, "error": None, **values})


@router.get("/integrations")
def integrations(page: PageDep, user: UserDep, db: DbDep) -> Response:
    return _render(page, db, user)


@router.post("/integrations", dependencies=[CsrfChecked])
def add_integration(
    page: PageDep, user: UserDep, db: DbDep, kind: Annotated[str, Form(max_length=10)],
    url: Annotated[str, Form(max_length=500)],
) -> Response:
    create = page.ctx.extras.create_integration
    if create is None:
        raise NotFound("integrations are managed through the API on this installation")
    try:
        secret = create(db, user.principal, kind, url.strip())
    except InvalidInput as exc:
        return _render(page, db, user, status=422, error=exc.message)
    return _render(page, db, user, status=201, secret=secret)


@router.post("/integrations/{integration_id}/delete", dependencies=[CsrfChecked])
def remove_integration(page: PageDep, user: UserDep, db: DbDep, integration_id: str) -> Response:
    remove = page.ctx.extras.remove_integration
    if remove is None:
        raise NotFound("integration not found")
    remove(db, user.principal, integration_id)
    return page.redirect("/integrations")
