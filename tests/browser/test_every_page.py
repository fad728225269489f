"""Every page of the portal in real Chromium, at 1366 px and 390 px, saved as screenshots (issue 21's "Tests":
"screenshots of every page at 1366 px and 390 px"), for the city's administrator (French), the technician
(French) and the lessee's administrator (English).

The list of pages is the one the one-language walk builds from the app's own routes (a page added by anyone is
walked here too), on the same seeded world: a gateway, devices, a plan with prices and an issued invoice, alert
rules, a webhook with deliveries, lighting groups, a FUOTA campaign, an invitation. On each page: no script
error in the console, and the phone layout needs no sideways scroll (wide tables scroll inside their own box,
tests/browser/helpers.py). Every problem of every page is collected before failing, so one run lists them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, expect
from playwright.sync_api import Error as PlaywrightError

from lora_city.services.principal import Role
from tests.browser.conftest import ServerThread
from tests.browser.helpers import shots
from tests.unit.portal.build import PASSWORD
from tests.unit.portal.test_one_language import LOGIN, World, _pages
from tests.unit.portal.test_one_language import world as world  # the seeded portal, shared fixture

pytestmark = pytest.mark.slow
WHO = [(Role.ADMIN, "fr"), (Role.TECHNICIAN, "fr"), (Role.TENANT_ADMIN, "en")]


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    thread = ServerThread(world.portal.app)
    thread.start()
    yield thread.url
    thread.stop()


@pytest.mark.parametrize(("role", "language"), WHO, ids=[f"{r.value}-{lang}" for r, lang in WHO])
def test_every_page_at_desktop_and_phone_width(world: World, server: str, browser: Browser, screenshots: Path,
                                               role: Role, language: str) -> None:
    ctx = browser.new_context(locale="fr-FR" if language == "fr" else "en-GB", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("response", lambda r: errors.append(f"{r.status} on {r.url}") if r.status >= 400 else None)
    page.goto(f"{server}/portal/login")
    page.locator("input[name=email]").fill(f"{LOGIN[role]}{language}@x.example")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda u: "/login" not in u)
    expect(page.locator("html")).to_have_attribute("lang", language)

    problems: list[str] = []
    shown: list[str] = []
    for url, query in _pages(world):
        errors.clear()
        answer = page.goto(server + url + ("?" + urlencode(query) if query else ""))
        if answer is None or answer.status != 200 or not answer.headers.get("content-type", "").startswith(
                "text/html"):
            continue  # another role's page (403/404), a redirect's target is walked under its own path
        if page.url.split("?")[0] != server + url:
            continue  # redirected (e.g. the landing page): the target is walked under its own path
        try:  # scripts draw charts and maps after the load; live pages keep a stream open and never go idle
            page.wait_for_load_state("networkidle", timeout=5_000)
        except PlaywrightError:
            page.wait_for_load_state("load")
        name = f"every-{role.value}-{language}" + (re.sub(r"[^a-z0-9]+", "-", url.lower())[:90] or "-root")
        try:
            shots(page, screenshots, name)
        except AssertionError as exc:
            problems.append(str(exc))
        if errors:
            problems.append(f"{url}: console errors {errors}")
        shown.append(url)
    ctx.close()
    assert len(shown) >= {Role.ADMIN: 30, Role.TECHNICIAN: 5, Role.TENANT_ADMIN: 10}[role], shown
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
