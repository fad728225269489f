"""The demo a newcomer starts (issue 15 §3 and §7), in real Chromium with every request to another host blocked:

- ``lora-city serve --demo`` prints the portal's address and one login per role; each login works;
- every portal page each of them can reach by following links, and the API docs (Swagger UI and ReDoc), render
  with no console error and no request leaving this machine (only the configured map tile server may be
  reached, and the demo configures none);
- the demo has what each person's work needs: gateways registered in Nîmes and online, devices on the map,
  one steady alert (not a flapping one), the lessee's plan and last month's invoice, devices for the technician.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import monotonic as time_now
from urllib.parse import urldefrag, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Route, expect
from playwright.sync_api import Error as PlaywrightError

import lora_city.portal
from tests.support.demo import DemoProcess, free_udp_port
from tests.support.services import free_port

pytestmark = pytest.mark.slow
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# The one other host a page may ask: the configured map tile server (blocked too: the test machine is offline).
TILES = "https://tiles.example.org/{z}/{x}/{y}.png"
TILE_HOST = "tiles.example.org"
NOT_PAGES = (".csv", ".pdf", ".json", ".zip", "/logout")  # downloads and logging out are not pages
# Linked pages another helper is still building. Each must still answer 404, so an entry fails as soon as its
# page exists and this list empties itself (the users page of issue 21 was the first).
NOT_YET: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    cwd = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LORA_CITY_")}
    env.update(LORA_CITY_HTTP_LISTEN=f"127.0.0.1:{free_port()}", LORA_CITY_UDP_LISTEN=f"127.0.0.1:{free_udp_port()}",
               LORA_CITY_MAP_TILE_URL=TILES)
    process = DemoProcess.start([sys.executable, "-m", "lora_city.cli.main", "serve", "--demo"], cwd=cwd, env=env,
                                log=cwd / "serve.log")
    try:
        process.wait_joined(timeout=180)
        yield process
    finally:
        process.stop()


@dataclass
class Offline:
    """Requests to other hosts (aborted; map tiles apart) and console errors, per page."""

    blocked: list[str] = field(default_factory=list)
    tiles: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def route(self, route: Route, request: Request) -> None:
        host = urlsplit(request.url).hostname
        if host in LOOPBACK or request.url.startswith(("data:", "blob:")):
            route.continue_()
            return
        (self.tiles if host == TILE_HOST else self.blocked).append(request.url)
        route.abort("blockedbyclient")

    def console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and TILE_HOST not in url and TILE_HOST not in message.text:
            self.errors.append(f"{message.text} ({url})")

    def clean(self, where: str) -> None:
        assert not self.blocked, f"{where} asked another host for {self.blocked}"
        assert not self.errors, f"{where}: console errors {self.errors}"


@pytest.fixture()
def offline(browser: Browser) -> Iterator[tuple[BrowserContext, Offline]]:
    record = Offline()
    ctx = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(20_000)
    ctx.route("**/*", record.route)
    yield ctx, record
    ctx.close()


def watch(page: Page, record: Offline) -> Page:
    page.on("console", record.console)
    page.on("pageerror", lambda exc: record.errors.append(f"uncaught: {exc}"))
    return page


def login(page: Page, demo: DemoProcess, who: str) -> None:
    email, password = demo.logins[who]
    page.goto(demo.portal_url + "login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda u: "/login" not in u)


def crawl(page: Page, demo: DemoProcess, record: Offline, who: str, screenshots: Path, limit: int = 40) -> list[str]:
    """Every portal page reachable by links from the landing page (downloads and logout aside), each checked."""
    origin = urlsplit(demo.portal_url)
    queue: list[str] = [page.url]
    seen: list[str] = []
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.append(url)
        try:
            answer = page.goto(url)
        except PlaywrightError as exc:  # a link to a file the crawler did not recognise by its name
            if "Download is starting" in str(exc):
                continue
            raise
        if urlsplit(url).path in NOT_YET:
            assert answer is not None and answer.status == 404, f"{url} exists now: remove it from NOT_YET"
            record.errors.clear()  # the 404 itself is logged by Chromium as a failed resource
            continue
        assert answer is not None and answer.ok, f"{who}: {url} answered {answer.status if answer else None}"
        page.wait_for_load_state("networkidle")
        record.clean(f"{who} on {url}")
        path = urlsplit(url).path
        name = "demo-" + who.replace(" ", "-") + path.replace("/", "-")[:80]
        page.screenshot(path=screenshots / f"{name}.png", full_page=True)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            target = urldefrag(href).url
            parts = urlsplit(target)
            if (parts.netloc == origin.netloc and parts.path.startswith("/portal/")
                    and not parts.path.endswith(NOT_PAGES) and target not in seen and target not in queue):
                queue.append(target)
    return [urlsplit(u).path for u in seen]


def test_demo_prints_where_and_how_to_log_in(demo: DemoProcess) -> None:
    assert demo.portal_url.startswith("http://127.0.0.1:") and demo.portal_url.endswith("/portal/")
    assert set(demo.logins) == {"city administrator", "lessee administrator", "technician"}
    assert demo.joined is not None and demo.joined[0] == demo.joined[1] == 12


@pytest.mark.parametrize("who", ["city administrator", "lessee administrator", "technician"])
def test_every_page_offline(demo: DemoProcess, offline: tuple[BrowserContext, Offline], who: str,
                            screenshots: Path) -> None:
    ctx, record = offline
    page = watch(ctx.new_page(), record)
    login(page, demo, who)
    visited = crawl(page, demo, record, who, screenshots)
    expected = {
        "city administrator": {"/portal/console", "/portal/console/gateways", "/portal/console/alerts",
                               "/portal/console/billing", "/portal/console/tenants", "/portal/devices",
                               "/portal/install"},
        "lessee administrator": {"/portal/dashboard", "/portal/devices", "/portal/alerts", "/portal/invoices",
                                 "/portal/usage", "/portal/keys", "/portal/integrations"},
        "technician": {"/portal/install"},
    }[who]
    assert expected <= set(visited), f"{who} could not reach {expected - set(visited)}"
    assert any(p.startswith("/portal/devices/") for p in visited) or who == "technician"
    # phone width: the same landing page, still offline and clean
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.url.split("/portal/")[0] + visited[0])
    page.wait_for_load_state("networkidle")
    record.clean(f"{who} at 390 px")
    page.screenshot(path=screenshots / f"demo-{who.replace(' ', '-')}-390.png", full_page=True)


def test_api_docs_render_offline(demo: DemoProcess, offline: tuple[BrowserContext, Offline],
                                 screenshots: Path) -> None:
    ctx, record = offline
    page = watch(ctx.new_page(), record)
    base = demo.portal_url.removesuffix("/portal/")
    page.goto(f"{base}/api/v1/docs")
    # the first /openapi.json builds the schema of ~150 routes: allow it the time of a loaded machine
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("lora_city", timeout=60_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 50  # every operation, not a blank page
    page.wait_for_load_state("networkidle")
    record.clean("Swagger UI")
    page.screenshot(path=screenshots / "demo-api-docs.png")
    page.goto(f"{base}/api/v1/redoc")
    expect(page.locator("h1").first).to_contain_text("lora_city", timeout=60_000)
    expect(page.get_by_text("Operator and field-technician API").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    record.clean("ReDoc")
    page.screenshot(path=screenshots / "demo-api-redoc.png")


def test_the_city_administrators_network(demo: DemoProcess, offline: tuple[BrowserContext, Offline]) -> None:
    ctx, record = offline
    page = watch(ctx.new_page(), record)
    login(page, demo, "city administrator")
    deadline = time_now() + 30  # the gateways' health is written every few seconds
    while True:
        page.goto(demo.portal_url + "console/gateways")
        markers = json.loads(page.locator("#gateway-data").text_content() or "{}")
        if all(g["online"] for g in markers["gateways"]) or time_now() > deadline:
            break
        page.wait_for_timeout(1000)
    assert {g["name"] for g in markers["gateways"]} == {"Hôtel de ville", "Tour Magne", "Gare de Nîmes"}
    for g in markers["gateways"]:  # registered in Nîmes, and online: their packet forwarders talk to the server
        assert 43.80 < g["lat"] < 43.87 and 4.30 < g["lon"] < 4.40, g
        assert g["online"] and g["last_seen"], g
    page.goto(demo.portal_url + "console")
    expect(page.locator(".tile .num").first).to_have_text("3")  # gateways online
    expect(page.locator("#gateways-offline")).to_have_text("0")
    page.goto(demo.portal_url + "console/gateways")
    assert len(markers["assets"]) == 12 and all(43.80 < a["lat"] < 43.87 for a in markers["assets"])
    expect(page.locator("#map .leaflet-marker-icon, #map .leaflet-interactive").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert record.tiles and all(t.startswith("https://tiles.example.org/") for t in record.tiles)  # configured only
    page.goto(demo.portal_url + "console/alerts")
    rows = page.locator("main table tbody tr")
    expect(rows.filter(has_text="Limnimètre cadereau d'Uzès").or_(rows.filter(has_text="Batterie faible")).first
           ).to_be_visible()
    assert rows.count() == 1, rows.all_inner_texts()  # one steady alert: the low battery, nothing flapping
    # last month's billing run again, from the console: the demo's invoice is there already, nothing doubles
    page.goto(demo.portal_url + "console/billing")
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    page.locator("#period").fill(f"{(today.replace(day=1) - timedelta(days=1)):%Y-%m}")
    page.get_by_role("button", name="Lancer la facturation").click()
    expect(page.locator("#billing-result")).to_contain_text("0")
    expect(page.locator("#billing-result")).to_contain_text("1")
    record.clean("the city administrator's pages")


def _machine_columns(rows: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """The portal names a downloaded CSV's columns in the reader's language (issue 17): back to the API's names
    through the catalogue's csv.* labels, French or English."""
    labels: dict[str, str] = {}
    for lang in ("fr", "en"):
        messages = json.loads((Path(lora_city.portal.__file__).parent / "messages" / f"{lang}.json").read_text())
        labels.update({text: key.removeprefix("csv.") for key, text in messages.items() if key.startswith("csv.")})
    return [{labels.get(column, column): value for column, value in row.items()} for row in rows]


def test_the_lessees_invoice_and_usage(demo: DemoProcess, offline: tuple[BrowserContext, Offline]) -> None:
    ctx, record = offline
    page = watch(ctx.new_page(), record)
    login(page, demo, "lessee administrator")
    page.goto(demo.portal_url + "dashboard")
    expect(page.locator("#devices-total")).to_have_text("3")
    page.goto(demo.portal_url + "invoices")
    table = page.locator("#invoices-table")
    expect(table).to_contain_text("-000001")
    with page.expect_download() as download:
        table.locator("a[href$='.pdf']").first.click()
    assert download.value.path().read_bytes()[:5] == b"%PDF-"
    page.goto(demo.portal_url + "usage")
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    last_month = today.replace(day=1) - timedelta(days=1)
    page.locator("#period").fill(f"{last_month:%Y-%m}")
    with page.expect_download() as download:
        page.locator("form:has(#period) button[type=submit]").click()
    rows = _machine_columns(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    # per device and per day (issue 21): the lessee's three meters, metered all last month (one uplink per 15 min)
    per_device: dict[str, int] = {}
    for row in rows:
        per_device[row["dev_eui"]] = per_device.get(row["dev_eui"], 0) + int(row["uplinks"])
    assert len(per_device) == 3 and all(row["name"] for row in rows), rows
    assert {row["day"][:7] for row in rows} == {f"{last_month:%Y-%m}"}
    uplinks = list(per_device.values())
    paris = ZoneInfo("Europe/Paris")
    month = (datetime.combine(today.replace(day=1), time(), paris).astimezone(UTC)
             - datetime.combine(last_month.replace(day=1), time(), paris).astimezone(UTC))
    assert all(u == month // timedelta(minutes=15) for u in uplinks), uplinks  # 23 or 25 h on DST days
    record.clean("the lessee's pages")


def test_the_technician_sees_the_devices_to_look_after(demo: DemoProcess,
                                                       offline: tuple[BrowserContext, Offline]) -> None:
    ctx, record = offline
    page = watch(ctx.new_page(), record)
    login(page, demo, "technician")
    assert "/portal/install" in page.url
    page.goto(demo.portal_url + "install")
    expect(page.locator("main")).to_be_visible()
    record.clean("the technician's screen")
