"""Browser tests: the real API + portal served by uvicorn on a free loopback port (in a thread), a real SQLite
database, and Debian's Chromium driven by Playwright (one browser for the whole session; Playwright's own browser
download does not work here). Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from lora_city.services.principal import Role
from tests.browser.helpers import keyboard_fill
from tests.support.services import free_port, wait_for_port
from tests.unit.portal.build import PASSWORD, Portal, build_portal


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test in this folder drives Chromium (a module-level pytestmark in a conftest would mark nothing).
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


class ServerThread:
    """uvicorn in a daemon thread; ``stop`` asks it to exit and waits."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, name="portal-uvicorn", daemon=True)

    def start(self) -> None:
        self.thread.start()
        wait_for_port(self.port)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Site:
    portal: Portal
    url: str

    def login(self, page: Page, email: str) -> None:
        page.goto(f"{self.url}/portal/login")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(lambda u: "/login" not in u)

    def login_en(self, page: Page, email: str) -> None:
        """The English login page, filled with the keyboard alone."""
        page.goto(f"{self.url}/portal/login")
        keyboard_fill(page, [(page.get_by_label("E-mail address"), email), (page.get_by_label("Password"), PASSWORD)],
                      page.get_by_role("button", name="Log in"))
        page.wait_for_url(lambda u: "/login" not in u)


@contextmanager
def serving(portal: Portal) -> Iterator[Site]:
    """The portal served on a free loopback port for as long as the block runs."""
    server = ServerThread(portal.app)
    server.start()
    try:
        yield Site(portal, server.url)
    finally:
        server.stop()


def english_context(browser: Browser) -> BrowserContext:
    """A desktop-width browser context whose reader asks for English."""
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture(scope="package")
def browser(chromium: str) -> Iterator[Browser]:
    # Package scope, not session: Playwright's sync API keeps an event loop running in this thread while it is
    # open, which would break every later test that calls asyncio.run().
    with sync_playwright() as pw:
        # launch() gives every run a fresh temporary profile (user-data-dir) and removes it on close.
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One portal per test module, its own database; users of every role created through the CLI's function."""
    portal = build_portal(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'portal.db'}")
    portal.tenant("acme")
    portal.tenant("rival")
    portal.user("ann@acme.test", Role.TENANT_ADMIN, "acme")
    portal.user("ada@city.test", Role.ADMIN, "city")
    portal.user("otto@city.test", Role.OPERATOR, "city")
    portal.user("tom@city.test", Role.TECHNICIAN, "city")
    server = ServerThread(portal.app)
    server.start()
    yield Site(portal, server.url)
    server.stop()


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="fr-FR", accept_downloads=True)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context: BrowserContext) -> Page:
    return context.new_page()

