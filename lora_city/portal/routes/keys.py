"""API keys of the user's tenant: list, create (the key is shown once, in the answer to the POST, never again)
and revoke. The service decides which roles the user may hand out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, UserDep
from lora_city.services import api_keys
from lora_city.services.principal import GRANTABLE, Role

router = APIRouter(route_class=PortalRoute)


def _grantable(user: PortalUser) -> list[Role]:
    return sorted(GRANTABLE[user.role], key=list(Role).index)


def _render(page: Page, db: Session, user: PortalUser, status: int = 200, **values: object) -> Response:
    keys = api_keys.list_keys(db, user.principal)
    return page.render("keys.html", status=status, keys=keys, grantable=_grantable(user),
                       **{"new_key": None, "error": None, **values})


@router.get("/keys")
def keys_page(page: PageDep, user: UserDep, db: DbDep) -> Response:
    return _render(page, db, user)


@router.post("/keys", dependencies=[CsrfChecked])
def create_key(
    page: PageDep, user: UserDep, db: DbDep, name: Annotated[str, Form(min_length=1, max_length=200)],
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    try:
        chosen = Role(role)
    except ValueError:
        raise InvalidInput("unknown role", code="invalid_role") from None
    new = api_keys.create_key(db, user.principal, name=name.strip(), role=chosen, tenant_id=None,
                              now=page.ctx.clock())
    # Rendered, not redirected: the secret exists only in this answer (it is stored hashed).
    return _render(page, db, user, status=201, new_key=new)


@router.post("/keys/{key_id}/revoke", dependencies=[CsrfChecked])
def revoke_key(page: PageDep, user: UserDep, db: DbDep, key_id: str) -> Response:
    api_keys.revoke_key(db, user.principal, key_id, now=page.ctx.clock())
    return page.redirect("/keys")
