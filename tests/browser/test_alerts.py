"""The alerts page (issue 21, "Alerts"), in a real browser from an empty database: the rules are written through
the REST API, the alerts raised by the real engine from uplinks (as the alert sink feeds it) and stored by the
alert service. The city's operator (French, 1366 px) watches the page refresh by itself, acknowledges an alert
that resolved meanwhile and is told so in French (no bare 409), sees a flapping gateway as one alert with its
count, then reads the history with filters and follows the links to the device and the gateway. The lessee's administrator (English, 390 px) sees only its own alerts
and is told in English when a colleague acknowledged first.

Every step with the keyboard where a form is used; screenshots at 1366 and 390 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import select

from lora_city.alerts.engine import AlertEngine
from lora_city.alerts.service import AlertService
from lora_city.codec.registry import CodecRegistry
from lora_city.services import gateways
from lora_city.services.principal import Role
from lora_city.settings import Settings
from lora_city.sinks.events import DeviceInfo
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.models import Alert
from tests.browser.conftest import ServerThread, Site
from tests.browser.helpers import keyboard_fill, shots, tab_to
from tests.unit.alerts.factories import uplink
from tests.unit.portal.build import ADMIN_TOKEN, PASSWORD, ROOT, Clock, build_portal, seed_device

pytestmark = pytest.mark.slow
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
VISTRE = "70b3d57ed0001001"  # the lessee's water-level gauge
UZES = "70b3d57ed0002002"  # the city's own gauge
TOWER = "aa555a0000000002"  # the city's gateway on the water tower
FLOOD_LEVELS = [{"name": "orange", "value": 0.5, "severity": "warning"},
                {"name": "rouge", "value": 0.8, "severity": "critical"}]


class Network:
    """The alert sink's work, done in the test's thread: the real engine, fed uplinks, and the service storing
    what it decides."""

    def __init__(self, site: Site, devices: dict[str, DeviceInfo]) -> None:
        self.service = AlertService(site.portal.factory, site.portal.clock)
        self.engine: AlertEngine = self.service.build_engine()
        self.devices = devices

    def water(self, dev_eui: str, metres: float, at: datetime) -> None:
        self.service.record(self.engine.on_uplink(uplink(self.devices[dev_eui], at, water_level=metres)))

    def gateway(self, gateway_id: str, tenant_id: str, online: bool, at: datetime) -> None:
        self.service.record(self.engine.on_gateway_state(gateway_id, tenant_id, online, at))


@cache
def _codecs() -> CodecRegistry:
    """The shipped codecs (the rule form lists the families whose codecs send each measurement)."""
    return CodecRegistry.load(Settings().codecs_path, entry_points=False)


@pytest.fixture()
def alerts_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Network]]:
    portal = build_portal(f"sqlite:///{tmp_path_factory.mktemp('alerts') / 'portal.db'}", clock=Clock(T0),
                          codecs=_codecs())
    lessee = portal.tenant("aquareseau")
    with portal.factory() as s:
        city = ensure_city_tenant(s).id
        s.commit()
        gateways.create_gateway(s, ROOT, gateways.GatewayCreate(
            gateway_id=TOWER, name="Château d'eau", latitude=43.84, longitude=4.36, tenant_id=city))
    seed_device(portal, lessee, VISTRE, "Limnimètre du Vistre")
    seed_device(portal, city, UZES, "Limnimètre cadereau d'Uzès")
    portal.user("otto@city.test", Role.OPERATOR, "city")
    portal.user("lea@aquareseau.test", Role.TENANT_ADMIN, "aquareseau", language="en")
    portal.user("max@aquareseau.test", Role.TENANT_ADMIN, "aquareseau", language="en")
    portal.user("ines@aquareseau.test", Role.TENANT_ADMIN, "aquareseau")
    server = ServerThread(portal.app)
    server.start()
    site = Site(portal, server.url)
    # The rules, as an operator or an integrator writes them through the REST API
    with httpx.Client(base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                      timeout=30) as api:
        for tenant, name in ((lessee, "Crue du Vistre"), (city, "Crue des cadereaux")):
            api.post("/alert-rules", json={
                "name": name, "kind": "threshold", "tenant_id": tenant, "service": "flood_cell",
                "scope_kind": "tenant", "scope_value": tenant, "measurement": "water_level",
                "levels": FLOOD_LEVELS, "hysteresis": 0.05}).raise_for_status()
        api.post("/alert-rules", json={"name": "Passerelle muette", "kind": "gateway_offline", "tenant_id": city,
                                       "severity": "critical"}).raise_for_status()
    devices = {VISTRE: DeviceInfo(dev_eui=VISTRE, tenant_id=lessee, family="flood", device_name="Limnimètre du Vistre"),
               UZES: DeviceInfo(dev_eui=UZES, tenant_id=city, family="flood", device_name="Limnimètre cadereau d'Uzès")}
    yield site, Network(site, devices)
    server.stop()


def _context(browser: Browser, locale: str, width: int) -> BrowserContext:
    ctx = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    ctx.set_default_timeout(20_000)
    return ctx


def test_operator_watches_acknowledges_and_reads_the_history(alerts_site: tuple[Site, Network], browser: Browser,
                                                             screenshots: Path) -> None:
    site, net = alerts_site
    city = net.devices[UZES].tenant_id
    net.water(UZES, 0.62, T0 - timedelta(minutes=20))  # orange at the city's gauge
    net.water(VISTRE, 0.86, T0 - timedelta(minutes=10))  # red at the lessee's
    net.gateway(TOWER, city, False, T0 - timedelta(minutes=5))

    ctx = _context(browser, "fr-FR", 1366)
    page = ctx.new_page()
    site.login(page, "otto@city.test")
    page.get_by_role("navigation").get_by_role("link", name="Alertes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alertes")
    rows = page.locator("#alerts-table tbody tr")
    expect(rows).to_have_count(3)
    vistre = page.locator("#alerts-table tbody tr", has_text="Limnimètre du Vistre")
    expect(vistre.locator(".rule")).to_have_text("Crue du Vistre")  # the rule's name, not its id
    expect(vistre.locator(".value")).to_have_text("0,86\u00a0m")  # the reading that raised it, with its unit
    expect(vistre.locator("td").first).to_have_text("critique")
    expect(vistre.locator(".subject a")).to_have_attribute("href", f"/portal/devices/{VISTRE}")
    tower = page.locator("#alerts-table tbody tr", has_text="Château d'eau")
    expect(tower.locator(".subject a")).to_have_attribute("href", f"/portal/console/gateways/{TOWER}")
    expect(page.locator("#alerts-live")).to_have_attribute("data-refresh-s", "30")

    # Refresh every 10 s, chosen with the keyboard; a new alert then appears without reloading the page
    keyboard_fill(page, [(page.get_by_label("Actualisation"), "10")], page.get_by_role("button", name="Afficher"))
    expect(page.locator("#alerts-live")).to_have_attribute("data-refresh-s", "10")
    page.evaluate("() => { window.sameDocument = true; }")
    net.water(UZES, 0.93, T0 - timedelta(minutes=1))  # the city's gauge goes red: the same alert, a higher level
    net.gateway(TOWER, city, True, T0)  # the tower is back: its alert resolves
    net.gateway(TOWER, city, False, T0 + timedelta(seconds=30))  # and gone again: the same alert, reopened
    expect(page.locator("#alerts-table tbody tr", has_text="Limnimètre cadereau d'Uzès").locator("td").first
           ).to_have_text("critique", timeout=60_000)
    # a flapping gateway is one alert with a count (within the rule's one-hour flap window), not a new alert
    expect(tower.locator(".count")).to_have_text("levée 2 fois depuis le 23/11/2026 07:55", timeout=60_000)
    expect(page.locator("#alerts-table tbody tr", has_text="Château d'eau")).to_have_count(1)
    expect(page.locator("#alerts-live")).to_have_attribute("data-rounds", re.compile(r"^[1-9][0-9]*$"))
    assert page.evaluate("() => window.sameDocument === true")  # swapped in place, not reloaded
    shots(page, screenshots, "alerts-console-open")

    # A keyboard user on the Vistre's "Prendre en compte" button: the refresh leaves the table alone meanwhile,
    # and the water falls back while she reads. Enter: the page explains, in French, that it resolved.
    ack = vistre.get_by_role("button", name="Prendre en compte")
    tab_to(page, ack)
    net.water(VISTRE, 0.31, T0 + timedelta(minutes=1))
    page.wait_for_timeout(12_000)  # at least one refresh round passes while the focus is in the table
    expect(ack).to_be_focused()
    page.keyboard.press("Enter")
    notice = page.get_by_role("status")
    expect(notice).to_contain_text("Cette alerte s'est résolue entre-temps")
    expect(page.locator("#af-every")).to_have_value("10")  # back to the same view
    expect(page.locator("#alerts-table tbody tr", has_text="Limnimètre du Vistre")).to_have_count(0)
    shots(page, screenshots, "alerts-console-ack-resolved")

    # The history: resolved alerts, then narrowed by a search and by severity
    keyboard_fill(page, [(page.get_by_label("Alertes à afficher"), "resolved")],
                  page.get_by_role("button", name="Afficher"))
    expect(page.locator("#alerts-table tbody tr")).to_have_count(1)  # the Vistre's (the tower's was reopened)
    resolved = page.locator("#alerts-table tbody tr", has_text="Limnimètre du Vistre")
    expect(resolved.locator(".state")).to_contain_text("résolue le")
    keyboard_fill(page, [(page.get_by_label("Alertes à afficher"), "all"),
                         (page.get_by_label("Rechercher (capteur, passerelle, règle, message)"), "château")],
                  page.get_by_role("button", name="Afficher"))
    expect(page.locator("#alerts-table tbody tr")).to_have_count(1)  # the tower: resolved, then reopened
    expect(page.locator('#alerts-table tbody tr[data-state="raised"]').locator(".count")).to_contain_text("2 fois")
    keyboard_fill(page, [(page.get_by_label("Rechercher (capteur, passerelle, règle, message)"), ""),
                         (page.get_by_label("Gravité"), "warning")], page.get_by_role("button", name="Afficher"))
    expect(page.locator("#alerts-table tbody tr td").first).to_have_text(
        "Aucune alerte ne correspond à ces filtres.")  # the orange one became red: no warning left
    shots(page, screenshots, "alerts-console-history")

    # The links lead to what the alert is about
    keyboard_fill(page, [(page.get_by_label("Gravité"), "")], page.get_by_role("button", name="Afficher"))
    page.locator("#alerts-table tbody tr", has_text="Limnimètre cadereau d'Uzès").get_by_role(
        "link", name="Limnimètre cadereau d'Uzès").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Limnimètre cadereau d'Uzès")
    page.go_back()
    page.locator('#alerts-table tbody tr[data-state="raised"]', has_text="Château d'eau").get_by_role(
        "link", name="Château d'eau").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Château d'eau")
    ctx.close()


def test_lessee_sees_its_own_alerts_and_a_colleagues_acknowledgement(alerts_site: tuple[Site, Network],
                                                                    browser: Browser, screenshots: Path) -> None:
    site, net = alerts_site
    net.water(VISTRE, 0.86, T0 - timedelta(hours=3))  # red at the lessee's gauge, then back down: history
    net.water(VISTRE, 0.31, T0 - timedelta(hours=2, minutes=30))
    net.water(VISTRE, 0.55, T0 + timedelta(hours=1))  # orange: a new alert (past the rule's one-hour window)
    net.water(VISTRE, 0.42, T0 + timedelta(hours=1, minutes=10))  # back below the line, hysteresis included
    net.water(VISTRE, 0.56, T0 + timedelta(hours=1, minutes=20))  # and up again: the same alert, reopened
    net.water(UZES, 0.95, T0 + timedelta(hours=1))  # the city's own: not the lessee's business
    ctx = _context(browser, "en-GB", 390)
    page = ctx.new_page()
    page.goto(f"{site.url}/portal/login")
    keyboard_fill(page, [(page.get_by_label("E-mail address"), "lea@aquareseau.test"),
                         (page.get_by_label("Password"), PASSWORD)], page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    page.goto(f"{site.url}/portal/alerts")  # at 390 px the menu is folded: the address, as from a bookmark
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    rows = page.locator("#alerts-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Limnimètre du Vistre")
    expect(rows.first.locator(".rule")).to_have_text("Crue du Vistre")
    expect(rows.first.locator(".value")).to_have_text("0.56\u00a0m")
    expect(rows.first.locator(".count")).to_have_text("raised 2 times since 23 Nov 2026, 09:00")
    expect(page.locator("#alerts-table")).not_to_contain_text("Uzès")
    expect(page.locator("#alerts-table")).not_to_contain_text("Château d'eau")
    shots(page, screenshots, "alerts-lessee")

    # Max acknowledges it from his own session first; Lea's click then says so, in English
    with site.portal.factory() as s:
        alert_id = s.scalar(select(Alert.id).where(Alert.subject == VISTRE, Alert.state == "raised"))
    assert alert_id is not None
    net.service.acknowledge(alert_id, "max@aquareseau.test", tenant_id=net.devices[VISTRE].tenant_id)
    keyboard_fill(page, [], rows.first.get_by_role("button", name="Acknowledge"))
    expect(page.get_by_role("status")).to_have_text(
        "This alert had already been acknowledged, perhaps by a colleague.")
    expect(page.locator("#alerts-table tbody tr").first.locator(".state")).to_contain_text(
        "acknowledged (max@aquareseau.test)")
    # the history keeps the Vistre's earlier red alert, resolved
    keyboard_fill(page, [(page.get_by_label("Alerts shown"), "resolved")], page.get_by_role("button", name="Show"))
    expect(page.locator("#alerts-table tbody tr")).to_have_count(1)
    expect(page.locator("#alerts-table tbody tr").first.locator(".state")).to_contain_text("resolved")
    shots(page, screenshots, "alerts-lessee-history")
    ctx.close()


def test_lessee_writes_a_rule_for_its_own_gauge(alerts_site: tuple[Site, Network], browser: Browser,
                                                screenshots: Path) -> None:
    """Inès (French, 1366 px) writes a flood rule from the catalogue with the keyboard: each mistake beside its
    field, then the rule; the alert engine, reloading the stored rules as the alert sink does, raises it on her
    gauge (below the API-written rule's level) and not on the city's; Lea (English, 390 px) reads it; Inès deletes it after a confirmation."""
    site, net = alerts_site
    ctx = _context(browser, "fr-FR", 1366)
    page = ctx.new_page()
    site.login(page, "ines@aquareseau.test")
    page.get_by_role("navigation").get_by_role("link", name="Alertes").click()
    page.get_by_role("link", name="Règles d'alerte").click()
    expect(page.locator('#rules-table tr[data-rule="Crue du Vistre"]')).to_contain_text(
        "avertissement 0,5, critique 0,8")  # the one written through the API
    expect(page.locator("#rules-table")).not_to_contain_text("Crue des cadereaux")  # the city's own
    measurement = page.get_by_label("Mesure", exact=True)
    # the families whose shipped codecs send it (codecs/milesight-em500-swl for water_level)
    expect(measurement.locator('option[value="water_level"]')).to_have_text("Hauteur d'eau (m) · nombre · inondation")
    keyboard_fill(page, [(page.get_by_label("Nom de la règle"), "Vistre en crue"),
                         (measurement, "lamp_failure")], page.get_by_role("button", name="Créer la règle"))
    expect(page.locator("#r-measurement-error")).to_have_text(
        "Choisissez une mesure numérique (un seuil se compare à un nombre).")
    expect(page.locator("#r-warning-error")).to_have_text("Donnez au moins un seuil (avertissement ou critique).")
    expect(page.get_by_label("Nom de la règle")).to_have_value("Vistre en crue")  # what was typed is kept
    keyboard_fill(page, [(page.get_by_label("Mesure", exact=True), "water_level"),
                         (page.get_by_label("Seuil d'avertissement"), "0,9"),
                         (page.get_by_label("Seuil critique"), "0,6"),
                         (page.get_by_label("Délai avant l'alerte (minutes)"), "2000")],
                  page.get_by_role("button", name="Créer la règle"))
    expect(page.locator("#r-critical-error")).to_have_text(
        "Le seuil critique doit être au-dessus du seuil d'avertissement.")
    expect(page.locator("#r-hold-error")).to_have_text("Donnez un délai entre 0 et 1440 minutes (un jour).")
    shots(page, screenshots, "alert-rules-errors")
    keyboard_fill(page, [(page.get_by_label("Seuil d'avertissement"), "0,4"),
                         (page.get_by_label("Seuil critique"), "0,7"),
                         (page.get_by_label("Hystérésis"), "0,05"),
                         (page.get_by_label("Délai avant l'alerte (minutes)"), "10"),
                         (page.get_by_label("Délai avant le retour à la normale (minutes)"), "5")],
                  page.get_by_role("button", name="Créer la règle"))
    expect(page.get_by_role("status")).to_have_text("Règle créée : elle s'applique dès la prochaine mesure.")
    row = page.locator('#rules-table tr[data-rule="Vistre en crue"]')
    expect(row).to_contain_text("avertissement 0,4, critique 0,7")
    expect(row.locator(".delays")).to_have_text("levée après 10 min · résolue après 5 min de retour à la normale")
    expect(row).to_contain_text("tous mes capteurs")
    shots(page, screenshots, "alert-rules")

    # The alert sink reloads the stored rules; her rule watches her gauge only
    net.engine.set_rules(net.service.load_rules())
    net.water(VISTRE, 0.45, T0)
    net.water(UZES, 0.45, T0)
    with site.portal.factory() as s:  # above her line, but not yet for the 10 minutes she asked for
        assert s.scalar(select(Alert.id).where(Alert.subject == VISTRE)) is None
    net.water(VISTRE, 0.46, T0 + timedelta(minutes=10))  # held 10 minutes: raised
    page.get_by_role("link", name="Retour aux alertes").click()
    rows = page.locator("#alerts-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".rule")).to_have_text("Vistre en crue")
    expect(rows.first).to_contain_text("Limnimètre du Vistre")
    with site.portal.factory() as s:
        assert s.scalar(select(Alert.id).where(Alert.subject == UZES)) is None  # her rule never looked at it

    lea = _context(browser, "en-GB", 390)
    other = lea.new_page()
    other.goto(f"{site.url}/portal/login")
    keyboard_fill(other, [(other.get_by_label("E-mail address"), "lea@aquareseau.test"),
                          (other.get_by_label("Password"), PASSWORD)], other.get_by_role("button", name="Log in"))
    expect(other.get_by_role("heading", level=1)).to_have_text("Dashboard")
    other.goto(f"{site.url}/portal/alert-rules")
    expect(other.locator('#rules-table tr[data-rule="Vistre en crue"]')).to_contain_text(
        "warning 0.4, critical 0.7")
    expect(other.locator('#rules-table tr[data-rule="Vistre en crue"] .delays')).to_have_text(
        "raised after 10 min · resolved after 5 min back to normal")
    shots(other, screenshots, "alert-rules-en")
    lea.close()

    page.get_by_role("link", name="Règles d'alerte").click()
    page.locator('#rules-table tr[data-rule="Vistre en crue"]').get_by_role("link", name="Supprimer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supprimer la règle")
    page.get_by_role("button", name="Supprimer").click()
    expect(page.get_by_role("status")).to_have_text("Règle supprimée.")
    expect(page.locator('#rules-table tr[data-rule="Vistre en crue"]')).to_have_count(0)
    ctx.close()
