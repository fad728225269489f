"""Login, CSRF, session expiry and the language switch, against the real app on SQLite (TestClient over
https so the Secure cookie is sent back, as a browser would)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from lora_city.portal.cookies import COOKIE_NAME
from lora_city.portal.mount import SESSION_MAX_AGE_S
from lora_city.services.principal import Role
from tests.unit.portal.build import PASSWORD, Portal, build_portal

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Portal:
    """One migrated database for the module (migrations and argon2 hashing are the slow parts); a test that
    changes shared state (the clock, a user's language) uses its own user or restores what it changed."""
    p = build_portal(f"sqlite:///{tmp_path_factory.mktemp('auth') / 'portal.db'}")
    p.tenant("acme")
    p.user("ann@acme.test", Role.TENANT_ADMIN, "acme")
    p.user("lea@acme.test", Role.TENANT_ADMIN, "acme")
    return p


@pytest.fixture()
def client(portal: Portal) -> Iterator[TestClient]:
    with TestClient(portal.app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def csrf_of(client: TestClient, path: str = "/portal/login") -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    match = _CSRF.search(r.text)
    assert match is not None
    return match[1]


def login(client: TestClient, email: str = "ann@acme.test", password: str = PASSWORD) -> int:
    token = csrf_of(client)
    r = client.post("/portal/login", data={"email": email, "password": password, "csrf_token": token})
    return r.status_code


def test_login_succeeds_and_sets_a_hardened_cookie(client: TestClient) -> None:
    token = csrf_of(client)
    r = client.post("/portal/login", data={"email": "Ann@Acme.test", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303
    assert r.headers["location"] == "/portal/dashboard"
    cookie = r.headers["set-cookie"]
    assert COOKIE_NAME in cookie
    for flag in ("HttpOnly", "Secure", "SameSite=lax"):
        assert flag.lower() in cookie.lower()
    page = client.get("/portal/dashboard")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp


@pytest.mark.parametrize(("email", "password"), [("ann@acme.test", "wrong password!"), ("nobody@acme.test", PASSWORD)])
def test_login_failure_gives_one_answer_and_no_session(client: TestClient, email: str, password: str) -> None:
    token = csrf_of(client)
    r = client.post("/portal/login", data={"email": email, "password": password, "csrf_token": token})
    assert r.status_code == 401
    assert "E-mail ou mot de passe incorrect." in r.text
    assert client.get("/portal/dashboard").status_code == 303


def test_post_without_or_with_a_wrong_csrf_token_is_rejected(client: TestClient) -> None:
    assert login(client) == 303
    for data in ({"name": "k", "role": "tenant_viewer"},
                 {"name": "k", "role": "tenant_viewer", "csrf_token": "forged"}):
        r = client.post("/portal/keys", data=data)
        assert r.status_code == 403
        assert "k" not in [row for row in re.findall(r'data-key-id="([^"]+)"', client.get("/portal/keys").text)]
    assert "data-key-id" not in client.get("/portal/keys").text  # nothing was created
    token = csrf_of(client, "/portal/keys")
    assert client.post("/portal/keys", data={"name": "k", "role": "tenant_viewer", "csrf_token": token}).status_code == 201


def test_login_form_needs_its_csrf_token_too(client: TestClient) -> None:
    client.get("/portal/login")
    r = client.post("/portal/login", data={"email": "ann@acme.test", "password": PASSWORD})
    assert r.status_code == 403
    assert client.get("/portal/dashboard").status_code == 303


def test_session_expires_after_its_max_age(client: TestClient, portal: Portal) -> None:
    assert login(client) == 303
    start = portal.clock.now
    try:
        portal.clock.now = start + timedelta(seconds=SESSION_MAX_AGE_S - 60)
        assert client.get("/portal/dashboard").status_code == 200
        portal.clock.now = start + timedelta(seconds=SESSION_MAX_AGE_S + 60)
        r = client.get("/portal/dashboard")
        assert r.status_code == 303
        assert r.headers["location"] == "/portal/login?next=/portal/dashboard"
    finally:
        portal.clock.now = start


def test_tampered_cookie_is_a_logged_out_visitor(client: TestClient) -> None:
    assert login(client) == 303
    value = client.cookies.get(COOKIE_NAME)
    assert value is not None
    payload, signature = value.rsplit(".", 1)
    client.cookies.clear()
    good = {"Cookie": f"{COOKIE_NAME}={value}"}
    assert client.get("/portal/dashboard", headers=good).status_code == 200
    forged = {"Cookie": f"{COOKIE_NAME}={payload}.{signature[::-1]}"}
    assert client.get("/portal/dashboard", headers=forged).status_code == 303


def test_language_switch_changes_the_page_and_sticks_to_the_user(client: TestClient, portal: Portal) -> None:
    assert login(client, "lea@acme.test") == 303
    page = client.get("/portal/dashboard")
    assert '<html lang="fr">' in page.text and "Tableau de bord" in page.text
    token = _CSRF.search(page.text)[1]  # type: ignore[index]
    r = client.post("/portal/language", data={"language": "en", "back": "/portal/dashboard", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/portal/dashboard"
    page = client.get("/portal/dashboard")
    assert '<html lang="en">' in page.text and "Dashboard" in page.text and "Tableau de bord" not in page.text
    # Stored on the user: a fresh browser logs in and gets English.
    with TestClient(portal.app, base_url="https://testserver", follow_redirects=False) as other:
        assert login(other, "lea@acme.test") == 303
        assert '<html lang="en">' in other.get("/portal/dashboard").text
    with TestClient(portal.app, base_url="https://testserver", follow_redirects=False) as third:
        assert login(third) == 303  # another user keeps French
        assert '<html lang="fr">' in third.get("/portal/dashboard").text


def test_anonymous_language_follows_accept_language(client: TestClient) -> None:
    assert '<html lang="en">' in client.get("/portal/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert '<html lang="fr">' in client.get("/portal/login", headers={"Accept-Language": "de, fr;q=0.5"}).text


def test_next_parameter_cannot_leave_the_portal(client: TestClient) -> None:
    token = csrf_of(client)
    r = client.post("/portal/login", data={"email": "ann@acme.test", "password": PASSWORD, "csrf_token": token,
                                           "next": "//evil.example/portal/x"})
    assert r.headers["location"] == "/portal/dashboard"
