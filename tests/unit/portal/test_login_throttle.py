"""Password guessing is slowed and then locked out (per account and per client address), every failure is in
the audit log, administrators see and release locks through the API, and logging out or disabling a user ends
that user's portal sessions at once (a copied cookie too). OWASP Authentication Cheat Sheet, "Protect against
automated attacks"; NIST SP 800-63B §5.2.2."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from lora_city.portal.cookies import COOKIE_NAME
from lora_city.portal.users import set_active
from lora_city.services.principal import Role
from tests.unit.portal.build import ADMIN_TOKEN, PASSWORD, Portal, build_portal

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture()
def portal(tmp_path_factory: pytest.TempPathFactory) -> Portal:
    p = build_portal(f"sqlite:///{tmp_path_factory.mktemp('throttle') / 'portal.db'}")
    p.tenant("acme")
    p.user("ann@acme.test", Role.TENANT_ADMIN, "acme")
    p.user("bob@acme.test", Role.TENANT_ADMIN, "acme", language="en")
    return p


@pytest.fixture()
def client(portal: Portal) -> Iterator[TestClient]:
    with TestClient(portal.app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def attempt(client: TestClient, email: str, password: str) -> object:
    client.cookies.clear()  # a visitor who is not logged in (a logged-in one is sent on from the login page)
    page = client.get("/portal/login")
    token = _CSRF.search(page.text)
    assert token is not None, (page.status_code, page.headers, page.text[:300])
    return client.post("/portal/login", data={"email": email, "password": password, "csrf_token": token[1]})


def test_guessing_is_delayed_then_locked_and_the_right_password_waits_too(client: TestClient,
                                                                          portal: Portal) -> None:
    for n in range(3):  # three free tries
        assert attempt(client, "ann@acme.test", f"guess-{n}-xxxxxx").status_code == 401  # type: ignore[attr-defined]
    # the fourth is delayed (1 s): refused without looking at the password, even the right one
    r = attempt(client, "ann@acme.test", PASSWORD)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"  # type: ignore[attr-defined]
    assert "Trop de tentatives" in r.text  # type: ignore[attr-defined]  # the page's language (French first)
    delays = []
    for n in range(3, 9):  # each failure doubles the wait: 1, 2, 4, 8 … seconds
        portal.clock.now += timedelta(seconds=120)
        assert attempt(client, "ann@acme.test", f"guess-{n}-xxxxxx").status_code == 401  # type: ignore[attr-defined]
        r = attempt(client, "ann@acme.test", PASSWORD)
        assert r.status_code == 429  # type: ignore[attr-defined]
        delays.append(int(r.headers["retry-after"]))  # type: ignore[attr-defined]
    assert delays == [2, 4, 8, 16, 32, 60]
    portal.clock.now += timedelta(seconds=120)
    assert attempt(client, "ann@acme.test", "guess-9-xxxxxx").status_code == 401  # type: ignore[attr-defined]
    # the tenth failure locks the account for 15 minutes, visible to administrators
    r = attempt(client, "ann@acme.test", PASSWORD)
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 900  # type: ignore[attr-defined]
    locks = client.get("/api/v1/auth/locks", headers=ADMIN).json()
    assert isinstance(locks, list), locks
    [lock] = [x for x in locks if x["subject"] == "ann@acme.test"]
    assert lock["scope"] == "account" and lock["locked"] is True and lock["failures"] == 10
    failures = client.get("/api/v1/auth/failures", headers=ADMIN).json()
    assert sum(1 for f in failures if f["account"] == "ann@acme.test" and f["kind"] == "portal_login") == 10
    assert all(f["address"] for f in failures)
    # another account from elsewhere is not affected… but this address has 10 failures: delayed too
    r = attempt(client, "bob@acme.test", PASSWORD)
    assert r.status_code == 429  # type: ignore[attr-defined]
    address = next(x for x in client.get("/api/v1/auth/locks", headers=ADMIN).json() if x["scope"] == "address")
    assert client.delete(f"/api/v1/auth/locks/{address['id']}", headers=ADMIN).status_code == 204
    assert attempt(client, "bob@acme.test", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    # the administrator releases ann's lock: the right password works at once, and her count starts afresh
    assert client.delete(f"/api/v1/auth/locks/{lock['id']}", headers=ADMIN).status_code == 204
    assert client.delete(f"/api/v1/auth/locks/{lock['id']}", headers=ADMIN).status_code == 404
    assert attempt(client, "ann@acme.test", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_a_lock_survives_a_restart(portal: Portal, tmp_path_factory: pytest.TempPathFactory) -> None:
    with TestClient(portal.app, base_url="https://testserver", follow_redirects=False) as c:
        for n in range(10):
            portal.clock.now += timedelta(seconds=120)
            attempt(c, "ann@acme.test", f"guess-{n}-xxxxxx")
    # a new app on the same database (a restarted server) still refuses ann
    from lora_city.api import create_app
    from lora_city.portal import mount_portal
    from lora_city.settings import Settings

    url = str(portal.factory.kw["bind"].url)
    settings = Settings(database_url=url, admin_token=ADMIN_TOKEN, secret_key="portal-test-secret")
    app = create_app(settings, portal.factory, portal.vault, clock=portal.clock)
    mount_portal(app, settings=settings, session_factory=portal.factory, vault=portal.vault, clock=portal.clock)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        assert attempt(c, "ann@acme.test", PASSWORD).status_code == 429  # type: ignore[attr-defined]


def test_only_administrators_see_and_release_locks(client: TestClient, portal: Portal) -> None:
    tenant_key = client.post("/api/v1/api-keys", headers=ADMIN, json={
        "name": "k", "role": "tenant_admin", "tenant_id": client.get("/api/v1/tenants", headers=ADMIN).json()[0]["id"],
    }).json()["key"]
    for path, method in (("/api/v1/auth/locks", "GET"), ("/api/v1/auth/failures", "GET"),
                         ("/api/v1/auth/locks/00000000-0000-4000-8000-000000000000", "DELETE")):
        r = client.request(method, path, headers={"Authorization": f"Bearer {tenant_key}"})
        assert r.status_code == 403, (path, r.text)


def test_logging_out_ends_every_copy_of_the_session(client: TestClient, portal: Portal) -> None:
    assert attempt(client, "bob@acme.test", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    stolen = client.cookies.get(COOKIE_NAME)
    assert client.get("/portal/dashboard").status_code == 200
    page = client.get("/portal/dashboard")
    token = _CSRF.search(page.text)
    assert token is not None
    assert client.post("/portal/logout", data={"csrf_token": token[1]}).status_code == 303
    with TestClient(portal.app, base_url="https://testserver", follow_redirects=False) as thief:
        thief.cookies.set(COOKIE_NAME, stolen or "")
        r = thief.get("/portal/dashboard")
        assert r.status_code == 303 and "/portal/login" in r.headers["location"]


def test_disabling_a_user_ends_their_sessions_at_once(client: TestClient, portal: Portal) -> None:
    assert attempt(client, "ann@acme.test", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    assert client.get("/portal/dashboard").status_code == 200
    with portal.factory() as s:
        set_active(s, "ann@acme.test", False)
    r = client.get("/portal/dashboard")
    assert r.status_code == 303 and "/portal/login" in r.headers["location"]
    with portal.factory() as s:
        set_active(s, "ann@acme.test", True)
    r = client.get("/portal/dashboard")  # enabled again: the old session stays ended, a new login is needed
    assert r.status_code == 303
    assert attempt(client, "ann@acme.test", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_the_console_s_locks_page_is_for_the_directorate_only(client: TestClient, portal: Portal) -> None:
    for n in range(10):  # ann locked out
        portal.clock.now += timedelta(seconds=120)
        attempt(client, "ann@acme.test", f"guess-{n}-xxxxxx")
    lock = next(x for x in client.get("/api/v1/auth/locks", headers=ADMIN).json() if x["scope"] == "account")
    portal.clock.now += timedelta(seconds=120)  # the address's short delay has passed
    assert attempt(client, "bob@acme.test", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    assert client.get("/portal/console/locks").status_code == 403  # a lessee's administrator
    token = _CSRF.search(client.get("/portal/dashboard").text)
    assert token is not None
    r = client.post(f"/portal/console/locks/{lock['id']}/release", data={"csrf_token": token[1]})
    assert r.status_code == 403
    assert any(x["id"] == lock["id"] for x in client.get("/api/v1/auth/locks", headers=ADMIN).json())
    portal.user("dora@city.test", Role.OPERATOR, "city")  # the directorate's operator may
    assert attempt(client, "dora@city.test", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    page = client.get("/portal/console/locks")
    assert page.status_code == 200 and "ann@acme.test" in page.text
    token = _CSRF.search(page.text)
    assert token is not None
    r = client.post(f"/portal/console/locks/{lock['id']}/release", data={"csrf_token": "forged"})
    assert r.status_code in (400, 403)  # no release without the page's own token
    r = client.post(f"/portal/console/locks/{lock['id']}/release", data={"csrf_token": token[1]})
    assert r.status_code == 303 and r.headers["location"].endswith("/console/locks?notice=released")
    assert not any(x["id"] == lock["id"] for x in client.get("/api/v1/auth/locks", headers=ADMIN).json())
