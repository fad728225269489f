"""The guessing throttle is one count for every process on the database (issue 19 item 3, cluster deployments):
two app instances, each with its own engine and connection pool as two ``serve`` processes have, on the same
SQLite file or PostgreSQL database. Failures against one lock the account on the other, failures spread over
both add up, and a release on one lets the user in on the other at once. OWASP Authentication Cheat Sheet,
"Protect against automated attacks": a limit an attacker multiplies by adding servers is no limit."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lora_city.services.auth_throttle import ACCOUNT, ADDRESS, AuthThrottle
from lora_city.services.principal import Role
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.models import AuthLock
from tests.support.schema import all_migration_locations
from tests.unit.portal.build import ADMIN_TOKEN, PASSWORD, Clock, build_portal

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture()
def two_servers(database_url: str) -> Iterator[tuple[TestClient, TestClient, Clock]]:
    clock = Clock()
    first = build_portal(database_url, clock=clock, migrations=all_migration_locations())
    second = build_portal(database_url, clock=clock, migrations=all_migration_locations())  # its own engine, pool and throttle: another process
    assert first.factory.kw["bind"] is not second.factory.kw["bind"]
    first.tenant("acme")
    first.user("ann@acme.test", Role.TENANT_ADMIN, "acme")
    with (TestClient(first.app, base_url="https://testserver", follow_redirects=False) as a,
          TestClient(second.app, base_url="https://testserver", follow_redirects=False) as b):
        yield a, b, clock
    for p in (first, second):
        p.factory.kw["bind"].dispose()


def attempt(client: TestClient, password: str) -> Any:
    client.cookies.clear()
    page = client.get("/portal/login")
    token = _CSRF.search(page.text)
    assert token is not None, page.text[:300]
    return client.post("/portal/login", data={"email": "ann@acme.test", "password": password,
                                              "csrf_token": token[1]})


def test_failures_on_one_server_lock_the_account_on_the_other(
        two_servers: tuple[TestClient, TestClient, Clock]) -> None:
    a, b, clock = two_servers
    # guesses alternate between the two servers, the delays waited out: each server alone sees 5 failures,
    # below the lock (10), but the count is shared, so the tenth locks the account everywhere
    for n in range(10):
        clock.now += timedelta(seconds=120)
        r = attempt(a if n % 2 else b, f"guess-{n}-xxxxxx")
        assert r.status_code == 401, (n, r.status_code)
    for server in (a, b):  # the right password is refused on both, for the lock's 15 minutes
        r = attempt(server, PASSWORD)
        assert r.status_code == 429 and int(r.headers["retry-after"]) == 900, r.status_code
    [lock] = [x for x in b.get("/api/v1/auth/locks", headers=ADMIN).json() if x["scope"] == "account"]
    assert lock["subject"] == "ann@acme.test" and lock["failures"] == 10 and lock["locked"] is True
    # the administrator releases it through one server: the other lets ann in at once
    assert a.delete(f"/api/v1/auth/locks/{lock['id']}", headers=ADMIN).status_code == 204
    address = next(x for x in b.get("/api/v1/auth/locks", headers=ADMIN).json() if x["scope"] == "address")
    assert address["failures"] == 10  # the client address counted on both servers too (delayed, not locked)
    assert b.delete(f"/api/v1/auth/locks/{address['id']}", headers=ADMIN).status_code == 204
    assert attempt(b, PASSWORD).status_code == 303


def test_a_delay_set_by_one_server_applies_on_the_other(two_servers: tuple[TestClient, TestClient, Clock]) -> None:
    a, b, _ = two_servers
    assert attempt(b, PASSWORD).status_code == 303  # the second server has seen ann, and no failure
    for n in range(3):  # three free tries, all on the first server
        assert attempt(a, f"guess-{n}-xxxxxx").status_code == 401
    r = attempt(b, PASSWORD)  # the second has not seen her fail, and still makes her wait
    assert r.status_code == 429 and r.headers["retry-after"] == "1"


def test_simultaneous_failures_in_two_processes_are_all_counted(database_url: str) -> None:
    """Two throttles (two engines) record failures for one account at the same time: none is lost, as a
    read-then-write in each process without the database's lock would lose some."""
    clock = Clock()
    throttles = [AuthThrottle(make_session_factory(make_engine(database_url)), clock) for _ in range(2)]
    start = threading.Barrier(2)

    def guess(throttle: AuthThrottle, address: str) -> None:
        start.wait()
        for _ in range(15):
            throttle.failed("portal_login", [(ACCOUNT, "ann@acme.test"), (ADDRESS, address)], "wrong password")

    workers = [threading.Thread(target=guess, args=(t, f"192.0.2.{i}")) for i, t in enumerate(throttles)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    locks = {(x.scope, x.subject): x for x in throttles[1].locks()}
    assert locks[(ACCOUNT, "ann@acme.test")].failures == 30
    assert locks[(ACCOUNT, "ann@acme.test")].locked is True
    assert locks[(ADDRESS, "192.0.2.0")].failures == 15 and locks[(ADDRESS, "192.0.2.1")].failures == 15
    for t in throttles:
        t._factory.kw["bind"].dispose()


def test_rows_past_every_policy_s_memory_are_forgotten(database_url: str) -> None:
    """An address that failed once, long ago, leaves no row behind: the table holds recent subjects only, and
    a lock still running is kept whatever its age."""
    clock = Clock()
    throttle = AuthThrottle(make_session_factory(make_engine(database_url)), clock)
    try:
        throttle.failed("portal_login", [(ADDRESS, "198.51.100.7")], "wrong password")
        for _ in range(10):
            throttle.failed("portal_login", [(ACCOUNT, "old@acme.test")], "wrong password")
        clock.now += timedelta(seconds=899)  # the lock (15 min) still runs; the address's failure is not old yet
        throttle.failed("portal_login", [(ADDRESS, "203.0.113.9")], "wrong password")
        with throttle._factory() as db:
            assert {r.subject for r in db.scalars(select(AuthLock))} == {"198.51.100.7", "old@acme.test",
                                                                        "203.0.113.9"}
        clock.now += timedelta(seconds=2)  # past the lock and past 15 minutes since the first two subjects failed
        throttle.failed("portal_login", [(ADDRESS, "203.0.113.9")], "wrong password")
        with throttle._factory() as db:
            assert {r.subject for r in db.scalars(select(AuthLock))} == {"203.0.113.9"}
    finally:
        throttle._factory.kw["bind"].dispose()
