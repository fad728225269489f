"""Login, logout, the language switch, and the home page that sends each role to its own screen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from lora_city.api.deps import client_address
from lora_city.api.errors import retry_after
from lora_city.errors import TooManyRequests
from lora_city.portal import i18n, users
from lora_city.portal.cookies import PortalSession
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.web import CsrfChecked, DbDep, PageDep, save_session
from lora_city.services.auth_throttle import ACCOUNT, ADDRESS, AuthThrottle
from lora_city.services.principal import Role

router = APIRouter(route_class=PortalRoute)

HOME_BY_ROLE = {
    Role.ADMIN: "/console", Role.OPERATOR: "/console", Role.TECHNICIAN: "/install",
    Role.TENANT_ADMIN: "/dashboard", Role.TENANT_VIEWER: "/dashboard",
}


def _safe_next(prefix: str, target: str) -> str | None:
    # Only a path of this portal: never another site (an open redirect would lend our login page to phishing).
    if target.startswith(prefix + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/")
def home(page: PageDep) -> Response:
    if page.user is None:
        return page.redirect("/login")
    return page.redirect(HOME_BY_ROLE[page.user.role])


@router.get("/login")
def login_form(page: PageDep, next: str = "") -> Response:
    if page.user is not None:
        return page.redirect(HOME_BY_ROLE[page.user.role])
    return page.render("login.html", next=next, error=None, email="")


@router.post("/login", dependencies=[CsrfChecked])
def login(
    page: PageDep, db: DbDep, email: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=500)] = "", next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    # Guessing is slowed per account and per address (services/auth_throttle.py); while throttled, the password
    # is not even checked, so the right one is refused too and a guess teaches nothing.
    throttle: AuthThrottle = page.request.app.state.auth_throttle
    account = (ACCOUNT, users.normalise_email(email))
    subjects = [account, (ADDRESS, client_address(page.request))]
    try:
        throttle.check(subjects)
    except TooManyRequests as exc:
        wait = retry_after(exc.retry_after_s)
        response = page.render("login.html", status=429, next=next, error=page.t("login.too_many", seconds=wait),
                               email=email)
        response.headers["Retry-After"] = str(wait)
        return response
    user = users.authenticate(db, email, password)
    if user is None:
        throttle.failed("portal_login", subjects, "wrong e-mail or password")
        return page.render("login.html", status=401, next=next, error=page.t("login.failed"), email=email)
    throttle.succeeded(account)
    save_session(page.request, page.web.logged_in(user.id, page.ctx.clock().timestamp(), user.session_version))
    target = _safe_next(page.ctx.prefix, next) or page.url(HOME_BY_ROLE[Role(user.role)])
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(page: PageDep, db: DbDep) -> Response:
    if page.user is not None:  # every session of this user ends now, this cookie's and any copy of it
        users.end_sessions(db, page.user.id)
    save_session(page.request, PortalSession.anonymous(page.ctx.clock().timestamp(), page.language))
    return page.redirect("/login")


@router.post("/language", dependencies=[CsrfChecked])
def switch_language(
    page: PageDep, db: DbDep, language: Annotated[str, Form(max_length=5)],
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if language not in i18n.LANGUAGES:
        language = i18n.DEFAULT
    if page.user is not None:
        users.set_language(db, page.user.id, language)
    save_session(page.request, page.web.with_language(language))
    return RedirectResponse(_safe_next(page.ctx.prefix, back) or page.url("/"), status_code=303)
