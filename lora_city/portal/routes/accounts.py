"""Portal accounts: the people of the city (admin, operator) and of each tenant (its administrator) invite
colleagues by a link shown once, change roles, disable and enable accounts, and send a fresh link. The invited
person opens the link, chooses a first password and is logged in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied
from lora_city.portal import accounts, forms
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.routes.auth import HOME_BY_ROLE
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles, save_session
from lora_city.services.principal import Role
from lora_city.storage.models import Tenant, User

router = APIRouter(route_class=PortalRoute)
ManagerDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR, Role.TENANT_ADMIN))]
SPEC: dict[str, forms.Kind] = {"email": forms.REQUIRED_TEXT, "display_name": forms.TEXT, "role": forms.TEXT,
                               "tenant": forms.TEXT, "language": forms.TEXT}
CODES = {"email_taken": "email", "role_not_grantable": "role", "role_tenant_mismatch": "role",
         "tenant_not_found": "tenant"}
MESSAGES = {"email_taken": "users.email_taken", "role_not_grantable": "users.role_not_grantable",
            "role_tenant_mismatch": "users.role_tenant_mismatch", "tenant_not_found": "users.tenant_not_found"}


def _link(page: Page, token: str) -> str:
    return str(page.request.base_url).rstrip("/") + page.url(f"/invite/{token}")


def _tenants(db: Session, user: PortalUser) -> list[Tenant]:
    if not user.principal.sees_all_tenants:
        return [t for t in [db.get(Tenant, user.tenant_id)] if t is not None]
    return list(db.scalars(select(Tenant).order_by(Tenant.name)))


def _list(page: Page, db: Session, user: PortalUser, *, tenant: str = "", status: int = 200,
          values: dict[str, str] | None = None, errors: dict[str, str] | None = None, link: str = "",
          invited: User | None = None) -> Response:
    rows = accounts.list_users(db, user.principal, tenant or None)
    names = {t.id: t.name for t in _tenants(db, user)}
    default_role = Role.TENANT_ADMIN if not user.is_city_staff else Role.OPERATOR
    return page.render(
        "users.html", status=status, users=rows, names=names, tenant=tenant,
        waiting=accounts.pending(db, [u.id for u in rows], page.ctx.clock()),
        tenants=_tenants(db, user),
        tenant_options=[(t.id, t.name) for t in _tenants(db, user) if t.kind != "city"],
        role_options=[(r.value, page.t(f"role.{r.value}")) for r in accounts.grantable(user.principal)],
        values=values or {"role": (Role.TENANT_ADMIN if tenant else default_role).value, "tenant": tenant,
                          "language": page.language},
        errors=errors or {}, link=link, invited=invited, staff=user.is_city_staff)


@router.get("/users")
def users_page(page: PageDep, user: ManagerDep, db: DbDep, tenant: str = "") -> Response:
    return _list(page, db, user, tenant=tenant)


@router.post("/users", dependencies=[CsrfChecked])
def invite(page: PageDep, user: ManagerDep, db: DbDep, posted: forms.PostedDep) -> Response:
    form = forms.read_form(posted, SPEC, page.t)
    if not user.is_city_staff:
        form.data.pop("tenant", None)  # a tenant's administrator invites into its own tenant
    data = forms.validate(accounts.InviteIn, form, page.t, formats={"email": "form.email"})
    tenant = form.values.get("tenant", "")
    if data is None:
        return _list(page, db, user, tenant=tenant, status=422, values=form.values, errors=form.errors)
    try:
        invited, token = accounts.invite(db, user.principal, data, actor=user.email, now=page.ctx.clock())
    except (AlreadyExists, InvalidInput, PermissionDenied, NotFound) as exc:
        db.rollback()
        forms.field_error(form, exc, CODES, page.t, MESSAGES)
        return _list(page, db, user, tenant=tenant, status=422, values=form.values, errors=form.errors)
    # Rendered, not redirected: the link exists only in this answer (only its hash is stored).
    return _list(page, db, user, tenant=tenant, status=201, link=_link(page, token), invited=invited)


def _detail(page: Page, db: Session, user: PortalUser, target: User, *, status: int = 200, link: str = "",
            error: str | None = None, notice: str = "") -> Response:
    tenant = db.get(Tenant, target.tenant_id)
    family = accounts.CITY_ROLES if Role(target.role) in accounts.CITY_ROLES else accounts.TENANT_ROLES
    return page.render("user.html", status=status, target=target, tenant=tenant, link=link, error=error,
                       notice=notice, waiting=accounts.pending(db, [target.id], page.ctx.clock()).get(target.id),
                       grantable=[r for r in accounts.grantable(user.principal) if r in family],
                       self_account=target.id == user.id)


@router.get("/users/{user_id}")
def user_page(page: PageDep, user: ManagerDep, db: DbDep, user_id: str, notice: str = "") -> Response:
    return _detail(page, db, user, accounts.get_user(db, user.principal, user_id), notice=notice)


def _act(page: Page, db: Session, user: PortalUser, user_id: str, action: str, value: str) -> Response:
    target = accounts.get_user(db, user.principal, user_id)
    try:
        if action == "role":
            try:
                role = Role(value)
            except ValueError:
                raise InvalidInput("unknown role", code="role_not_grantable") from None
            accounts.set_role(db, user.principal, target.id, role, acting_user=user.id)
        elif action == "active":
            accounts.set_active(db, user.principal, target.id, value == "true", acting_user=user.id)
        else:
            token = accounts.reinvite(db, user.principal, target.id, actor=user.email, now=page.ctx.clock())
            return _detail(page, db, user, target, status=201, link=_link(page, token))
    except (Conflict, InvalidInput, PermissionDenied) as exc:
        db.rollback()
        key = {"own_account": "users.own_account"}.get(exc.code) or MESSAGES.get(exc.code)
        return _detail(page, db, user, target, status=409 if isinstance(exc, Conflict) else 422,
                       error=page.t(key) if key else exc.message)
    return page.redirect(f"/users/{target.id}?notice={action}")


@router.post("/users/{user_id}/role", dependencies=[CsrfChecked])
def change_role(page: PageDep, user: ManagerDep, db: DbDep, user_id: str,
                role: Annotated[str, Form(max_length=20)]) -> Response:
    return _act(page, db, user, user_id, "role", role)


@router.post("/users/{user_id}/active", dependencies=[CsrfChecked])
def change_active(page: PageDep, user: ManagerDep, db: DbDep, user_id: str,
                  active: Annotated[str, Form(max_length=5)]) -> Response:
    return _act(page, db, user, user_id, "active", active)


@router.post("/users/{user_id}/invite", dependencies=[CsrfChecked])
def new_link(page: PageDep, user: ManagerDep, db: DbDep, user_id: str) -> Response:
    return _act(page, db, user, user_id, "invite", "")


# --- the invited person's side -------------------------------------------------------------------------

@router.get("/invite/{token}")
def invitation_page(page: PageDep, db: DbDep, token: str) -> Response:
    try:
        _row, invited = accounts.invitation(db, token, page.ctx.clock())
    except NotFound:
        return page.render("invite.html", status=404, invited=None, errors={}, token=token)
    return page.render("invite.html", invited=invited, errors={}, token=token)


@router.post("/invite/{token}", dependencies=[CsrfChecked])
def accept_invitation(
    page: PageDep, db: DbDep, token: str, password: Annotated[str, Form(max_length=500)] = "",
    confirm: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        _row, invited = accounts.invitation(db, token, page.ctx.clock())
    except NotFound:
        return page.render("invite.html", status=404, invited=None, errors={}, token=token)
    errors: dict[str, str] = {}
    if password != confirm:
        errors["confirm"] = page.t("invite.mismatch")
    elif len(password) < 10:
        errors["password"] = page.t("invite.too_short", n=10)
    if errors:
        return page.render("invite.html", status=422, invited=invited, errors=errors, token=token)
    user = accounts.accept(db, token, password, now=page.ctx.clock())
    save_session(page.request, page.web.logged_in(user.id, page.ctx.clock().timestamp()).with_language(user.language))
    return RedirectResponse(page.url(HOME_BY_ROLE[Role(user.role)]), status_code=303)
