"""``PortalRoute``: pages answer people. A missing login redirects to the form, the product's errors become HTML
pages with the API's status table (404 for another tenant's object), and the session cookie is written on the
way out."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from lora_city.api.errors import status_for
from lora_city.errors import LoraCityError
from lora_city.portal import i18n
from lora_city.portal.cookies import COOKIE_NAME, PortalSession
from lora_city.portal.formatting import Formatter
from lora_city.portal.headers import security_headers
from lora_city.portal.web import LoginRequired, get_optional_user, get_portal, nav_for


def _set_cookie(request: Request, response: Response) -> None:
    session: PortalSession | None = getattr(request.state, "portal_session_out", None)
    if session is None:
        return
    ctx = get_portal(request)
    response.set_cookie(
        COOKIE_NAME, ctx.signer.dumps(session), max_age=int(ctx.signer.max_age_s), path=ctx.prefix or "/",
        secure=ctx.secure_cookies, httponly=True, samesite="lax",
    )


def _error_page(request: Request, status: int, message: str, code: str) -> HTMLResponse:
    ctx = get_portal(request)
    web = getattr(request.state, "portal_session_out", None) or ctx.signer.loads(
        request.cookies.get(COOKIE_NAME), ctx.clock().timestamp())
    # The logged-in user keeps the navigation and language on an error page (a 404 is not a dead end).
    user = get_optional_user(ctx, web) if web is not None else None
    language = i18n.choose(user.language if user else None, web.language if web else None,
                           request.headers.get("accept-language"))
    # The page's language, not the service's English: the message of the error's code from the catalogue.
    message = i18n.error_text(language, code, message)
    html = ctx.templates.get_template("error.html").render(
        t=lambda key, **v: i18n.translate(language, key, **v), url=lambda p="": ctx.prefix + p, user=user,
        lang=language, csrf=web.csrf if web else "", path=request.url.path, status=status, message=message,
        fmt=Formatter(language), now=ctx.clock(),
        nav=nav_for(ctx, user, request.url.path),
    )
    return HTMLResponse(html, status_code=status, headers=security_headers(ctx))


class PortalRoute(APIRoute):

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
                response = _error_page(request, status_for(exc), exc.message, exc.code)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                response = _error_page(request, 422, f"{where}: {first.get('msg', 'invalid')}", "validation_error")
            _set_cookie(request, response)
            return response

        return portal_handler
