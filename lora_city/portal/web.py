"""Request plumbing shared by every page: the signed session, the logged-in user, CSRF checks, rendering, and a
route class that turns the product's errors into HTML pages (the API's handlers answer JSON, not for people).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from lora_city.api.errors import status_for
from lora_city.errors import LoraCityError, PermissionDenied
from lora_city.portal import i18n
from lora_city.portal.context import PortalContext
from lora_city.portal.cookies import COOKIE_NAME, PortalSession
from lora_city.services.principal import Principal, Role
from lora_city.storage.models import User

log = logging.getLogger(__name__)


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
        # view is restricted to its tenant by the code that restricts API keys.
        return Principal(self.role, self.tenant_id)

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
        if row is None or not row.is_active:
            return None
        return PortalUser(row.id, row.email, row.display_name, Role(row.role), row.tenant_id, row.language)


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

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(self.url(path), status_code=303)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.ctx.templates.get_template(template).render(
            t=self.t, url=self.url, user=self.user, lang=self.language, csrf=self.web.csrf,
            path=self.request.url.path, **values,
        )
        return HTMLResponse(html, status_code=status, headers=security_headers(self.ctx))


def security_headers(ctx: PortalContext) -> dict[str, str]:
    """Scripts only from the portal itself (no inline script: injected markup cannot run), no framing
    (clickjacking), map tiles only from the configured server. Inline styles stay allowed: uPlot, Leaflet and
    the traffic bars position elements with them."""
    img = "'self' data:"
    if ctx.settings.map_tile_url:
        parts = urlsplit(ctx.settings.map_tile_url.replace("{s}", "*"))
        img += f" {parts.scheme}://{parts.netloc}"
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            f"default-src 'self'; img-src {img}; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def get_page(
    request: Request, ctx: PortalDep, web: WebSessionDep,
    user: Annotated[PortalUser | None, Depends(get_optional_user)],
) -> Page:
    language = i18n.choose(user.language if user else None, web.language, request.headers.get("accept-language"))
    return Page(request, ctx, web, user, language)


PageDep = Annotated[Page, Depends(get_page)]


def _set_cookie(request: Request, response: Response) -> None:
    session: PortalSession | None = getattr(request.state, "portal_session_out", None)
    if session is None:
        return
    ctx = get_portal(request)
    response.set_cookie(
        COOKIE_NAME, ctx.signer.dumps(session), max_age=int(ctx.signer.max_age_s), path=ctx.prefix or "/",
        secure=ctx.secure_cookies, httponly=True, samesite="lax",
    )


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    ctx = get_portal(request)
    web = getattr(request.state, "portal_session_out", None) or ctx.signer.loads(
        request.cookies.get(COOKIE_NAME), ctx.clock().timestamp())
    # The logged-in user keeps the navigation and language on an error page (a 404 is not a dead end).
    user = get_optional_user(ctx, web) if web is not None else None
    language = i18n.choose(user.language if user else None, web.language if web else None,
                           request.headers.get("accept-language"))
    html = ctx.templates.get_template("error.html").render(
        t=lambda key, **v: i18n.translate(language, key, **v), url=lambda p="": ctx.prefix + p, user=user,
        lang=language, csrf=web.csrf if web else "", path=request.url.path, status=status, message=message,
    )
    return HTMLResponse(html, status_code=status, headers=security_headers(ctx))


class PortalRoute(APIRoute):
    """Pages answer people: a missing login redirects to the form, the product's errors become HTML pages with
    the API's status table (404 for another tenant's object), and the session cookie is written on the way out."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            response: Response
            try:
                response = await handler(request)
            except LoginRequired:
                ctx = get_portal(request)
                target = quote(request.url.path, safe="/")
                response = RedirectResponse(f"{ctx.prefix}/login?next={target}", status_code=303)
            except LoraCityError as exc:
                response = _error_page(request, status_for(exc), exc.message)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                response = _error_page(request, 422, f"{where}: {first.get('msg', 'invalid')}")
            _set_cookie(request, response)
            return response

        return portal_handler
