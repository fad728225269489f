"""Request plumbing shared by every page: the signed session, the logged-in user, role checks, CSRF checks and
rendering. ``route_class.PortalRoute`` turns errors into pages and writes the cookie."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from lora_city.errors import LoraCityError, PermissionDenied
from lora_city.portal import i18n, nav
from lora_city.portal.context import PortalContext
from lora_city.portal.cookies import COOKIE_NAME, PortalSession
from lora_city.portal.formatting import Formatter
from lora_city.portal.headers import security_headers
from lora_city.services.principal import Principal, Role
from lora_city.storage.models import Tenant, User


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""


class CsrfRejected(PermissionDenied):
    code = "csrf_rejected"


@dataclass(frozen=True, slots=True)
class PortalUser:
    id: str
    email: str
    display_name: str
    role: Role
    tenant_id: str
    language: str

    @property
    def principal(self) -> Principal:
        # The same principal model as the API: every page goes through the services with it, so a lessee's
        # view is restricted to its tenant by the code that restricts API keys. The account is its identity
        # (idempotency keys, who bound a device), as an API key's id is for a key.
        return Principal(self.role, self.tenant_id, f"user:{self.id}")

    @property
    def is_city_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.OPERATOR)


def get_portal(request: Request) -> PortalContext:
    ctx: PortalContext = request.app.state.portal
    return ctx


PortalDep = Annotated[PortalContext, Depends(get_portal)]


def get_db(ctx: PortalDep) -> Iterator[Session]:
    with ctx.session_factory() as session:
        yield session


DbDep = Annotated[Session, Depends(get_db)]


def get_web_session(request: Request, ctx: PortalDep) -> PortalSession:
    now = ctx.clock().timestamp()
    session = ctx.signer.loads(request.cookies.get(COOKIE_NAME), now)
    if session is None:
        session = PortalSession.anonymous(now)
        save_session(request, session)
    return session


WebSessionDep = Annotated[PortalSession, Depends(get_web_session)]


def save_session(request: Request, session: PortalSession) -> None:
    """Send this session back in the response's cookie (``PortalRoute`` writes it)."""
    request.state.portal_session_out = session


def require_csrf(web: WebSessionDep, csrf_token: Annotated[str, Form()] = "") -> None:
    """Every form POST carries the session's token (synchroniser-token pattern, OWASP CSRF cheat sheet)."""
    if not csrf_token or not hmac.compare_digest(csrf_token.encode(), web.csrf.encode()):
        raise CsrfRejected("the form is stale or did not come from this site; reload the page and retry")


CsrfChecked = Depends(require_csrf)


def get_optional_user(ctx: PortalDep, web: WebSessionDep) -> PortalUser | None:
    if web.user_id is None:
        return None
    with ctx.session_factory() as session:
        row = session.get(User, web.user_id)
        if row is None or not row.is_active or row.session_version != web.version:
            return None  # gone, disabled, or logged out since this cookie was issued
        role = Role(row.role)
        if role is Role.TENANT_ADMIN and (tenant := session.get(Tenant, row.tenant_id)) is not None \
                and tenant.status != "active":
            # A suspended tenant's API keys are refused: its people may still read (their invoices, usage),
            # not write (devices, integrations, commands), until the city resumes it.
            role = Role.TENANT_VIEWER
        return PortalUser(row.id, row.email, row.display_name, role, row.tenant_id, row.language)


def get_user(user: Annotated[PortalUser | None, Depends(get_optional_user)]) -> PortalUser:
    if user is None:
        raise LoginRequired
    return user


UserDep = Annotated[PortalUser, Depends(get_user)]


def roles(*allowed: Role) -> Callable[[PortalUser], PortalUser]:
    def check(user: UserDep) -> PortalUser:
        if user.role not in allowed:
            raise PermissionDenied(f"role {user.role.value} may not open this page")
        return user

    return check


@dataclass(frozen=True, slots=True)
class Page:
    request: Request
    ctx: PortalContext
    web: PortalSession
    user: PortalUser | None
    language: str

    def t(self, key: str, **values: object) -> str:
        return i18n.translate(self.language, key, **values)

    def url(self, path: str = "") -> str:
        return self.ctx.prefix + path

    def device_changed(self, dev_eui: str) -> None:
        """Tell the network server (through the API's context on the same app) that a device changed, as the
        API's own routes do, so the change applies to its next frame."""
        api = getattr(self.request.app.state, "lora_city", None)
        if api is not None:
            api.device_changed(dev_eui.replace("-", "").replace(":", "").lower())

    def gateway_changed(self, gateway_id: str) -> None:
        """As ``device_changed``, for a gateway created, edited or deleted from a page."""
        api = getattr(self.request.app.state, "lora_city", None)
        if api is not None:
            api.gateway_changed(gateway_id.lower())

    def error_text(self, exc: LoraCityError) -> str:
        """An error in the page's language: its code's message from the catalogue, the service's (English)
        message only for a code the catalogue does not know yet."""
        return i18n.error_text(self.language, exc.code, exc.message)

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(self.url(path), status_code=303)

    def fragment(self, template: str, **values: Any) -> str:
        """A template rendered with the page's language, formats and helpers (a page, or a piece of one)."""
        return self.ctx.templates.get_template(template).render(
            t=self.t, url=self.url, user=self.user, lang=self.language, csrf=self.web.csrf,
            path=self.request.url.path, fmt=Formatter(self.language), now=self.ctx.clock(),
            nav=nav_for(self.ctx, self.user, self.request.url.path), **values,
        )

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(self.fragment(template, **values), status_code=status, headers=security_headers(self.ctx))


def nav_for(ctx: PortalContext, user: PortalUser | None, path: str) -> list[nav.NavItem]:
    return nav.links(user.role, ctx.extras.nav, path, ctx.prefix) if user is not None else []


def get_page(
    request: Request, ctx: PortalDep, web: WebSessionDep,
    user: Annotated[PortalUser | None, Depends(get_optional_user)],
) -> Page:
    language = i18n.choose(user.language if user else None, web.language, request.headers.get("accept-language"))
    return Page(request, ctx, web, user, language)


PageDep = Annotated[Page, Depends(get_page)]
