"""The console's open-data page (issue 21, "Open data a newcomer understands"), in real Chromium from an empty
database. The city's operator (French, 1366 px) opens "Données ouvertes": yesterday's files, the rules in plain
words, how many devices count and, for each device left out, why (a lessee's meter, a silent one, a gauge with no
position). She follows the gauge's link, gives it its position with the keyboard, comes back: it counts, and the
downloaded CSV has its row. Another day picked with the keyboard shows its own account. Her English colleague
(390 px) reads the same page in English. Screenshots at 1366 and 390 px."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from lora_city.services.principal import Role
from lora_city.sinks.events import DeviceInfo, GatewayRx, UplinkEvent
from lora_city.sinks.store import write_batch
from lora_city.storage.db import transaction
from tests.browser.conftest import Site, serving
from tests.browser.helpers import keyboard_fill, shots
from tests.unit.portal.build import Clock, Portal, build_portal, seed_device

pytestmark = pytest.mark.slow
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Nîmes: "yesterday" is 23 November
DAY_START = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # local midnight opening 23 November
VISTRE = "70b3d57ed0001001"  # a flood gauge registered without a position
FONTAINE = "70b3d57ed0001002"  # a flood gauge with one
LAMPS = "70b3d57ed0002001"  # streetlights of the Écusson
MUTE = "70b3d57ed0002002"  # streetlights that said nothing that day
PRIVATE = "70b3d57ed0003001"  # the lessee's water meter


def _readings(portal: Portal, tenant_id: str, dev_eui: str, family: str, name: str, values: list[float]) -> None:
    """A day of hourly readings, written by the readings store's own batch writer."""
    info = DeviceInfo(dev_eui=dev_eui, tenant_id=tenant_id, codec_id="test", family=family)
    rx = [GatewayRx(gateway_id="aa555a0000000001", rssi=-97.0, snr=6.5)]
    events = [UplinkEvent(
        uplink_id=str(uuid.uuid4()), time=DAY_START + timedelta(hours=h, minutes=5), device=info,
        dev_addr="01020304", f_cnt=h, f_port=1, confirmed=False, adr=True, payload=b"\x01", data={name: v},
        measurements={name: (v, None)}, codec_errors=[], codec_warnings=[], rx=rx, frequency=868_100_000,
        spreading_factor=9, bandwidth=125_000, dr=3, airtime_ms=185.3, phy_size=15, copies=1)
        for h, v in enumerate(values)]
    with transaction(portal.factory) as s:
        write_batch(s, list(events))


@pytest.fixture()
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    portal = build_portal(f"sqlite:///{tmp_path_factory.mktemp('opendata') / 'portal.db'}", clock=Clock(T0))
    city = portal.tenant("ville-services", kind="city_service")  # a city service: its data is the city's
    lessee = portal.tenant("aquareseau")
    seed_device(portal, city, VISTRE, "Limnimètre du Vistre")
    seed_device(portal, city, FONTAINE, "Limnimètre de la Fontaine", latitude=43.8383, longitude=4.3541)
    seed_device(portal, city, LAMPS, "Lampadaires rue de la Madeleine", tags={"district": "Écusson"})
    seed_device(portal, city, MUTE, "Lampadaires place d'Assas", tags={"district": "Écusson"})
    seed_device(portal, lessee, PRIVATE, "Compteur privé")
    _readings(portal, city, VISTRE, "flood", "water_level", [0.40 + 0.01 * h for h in range(24)])
    _readings(portal, city, FONTAINE, "flood", "water_level", [0.20] * 24)
    _readings(portal, city, LAMPS, "streetlight", "energy", [10_000.0 + 150.0 * h for h in range(24)])
    _readings(portal, lessee, PRIVATE, "water", "volume", [120.0 + 0.01 * h for h in range(24)])
    portal.user("otto@city.test", Role.OPERATOR, "city")
    portal.user("olivia@city.test", Role.OPERATOR, "city", language="en")
    with serving(portal) as site:
        yield site


def test_the_operator_sees_who_counts_and_fixes_a_gauge(site: Site, browser: Browser, screenshots: Path) -> None:
    ctx = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    site.login(page, "otto@city.test")
    page.get_by_role("navigation").get_by_role("link", name="Données ouvertes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Données ouvertes")
    expect(page.get_by_role("heading", name="Fichiers du 23 nov. 2026")).to_be_visible()
    expect(page.locator("#opendata-rows")).to_have_text("2 ligne(s) publiée(s).")
    expect(page.locator("#opendata-summary")).to_have_text("5 capteur(s) : 2 compté(s), 3 laissé(s) de côté.")
    expect(page.locator("#opendata-rules")).to_contain_text("au moins 5 compteurs")
    counts = page.locator("#opendata-counts")
    expect(counts.locator('tr[data-dataset="flood_levels"] td').last).to_have_text("1")
    expect(counts.locator('tr[data-reason="no_position"] td').first).to_have_text(
        "laissés de côté : pas de position (un limnimètre est publié comme un point sur la carte)")
    left = page.locator("#opendata-left-out tbody tr")
    expect(left).to_have_count(3)
    expect(page.locator(f'tr[data-dev-eui="{PRIVATE}"] .reasons')).to_have_text(
        "capteur d'un locataire (seules les données de la ville et de ses services sont publiées)")
    expect(page.locator(f'tr[data-dev-eui="{MUTE}"] .reasons')).to_have_text("aucun relevé ce jour-là")
    expect(page.locator(f'tr[data-dev-eui="{VISTRE}"] td').nth(2)).to_have_text("inondation")
    shots(page, screenshots, "opendata-console")

    # The gauge left out for want of a position: to its page, "Modifier", its position typed with the keyboard
    page.locator(f'tr[data-dev-eui="{VISTRE}"]').get_by_role("link", name="Limnimètre du Vistre").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Limnimètre du Vistre")
    page.get_by_role("link", name="Modifier", exact=True).click()
    keyboard_fill(page, [(page.get_by_label("Latitude"), "43,8240"), (page.get_by_label("Longitude"), "4,3790")],
                  page.get_by_role("button", name="Enregistrer le capteur"))
    expect(page.locator("p.ok[role=status]")).to_contain_text("Capteur enregistré")
    page.get_by_role("navigation").get_by_role("link", name="Données ouvertes").click()
    expect(page.locator("#opendata-summary")).to_have_text("5 capteur(s) : 3 compté(s), 2 laissé(s) de côté.")
    expect(page.locator(f'tr[data-dev-eui="{VISTRE}"]')).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le CSV").click()
    assert download.value.suggested_filename == "opendata-2026-11-23.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    vistre = [r for r in rows if r["subject"] == VISTRE]
    assert len(vistre) == 1 and vistre[0]["latitude"] == "43.824" and vistre[0]["max"] == "0.63"
    assert {r["dataset"] for r in rows} == {"flood_levels", "streetlight_energy"}
    assert PRIVATE not in Path(download.value.path()).read_text()

    # Another day, picked with the keyboard: nothing heard, each device says so
    keyboard_fill(page, [(page.get_by_label("Jour"), "2026-11-21")], page.get_by_role("button", name="Afficher"))
    expect(page.get_by_role("heading", name="Fichiers du 21 nov. 2026")).to_be_visible()
    expect(page.locator("#opendata-rows")).to_have_text("0 ligne(s) publiée(s).")
    expect(page.locator('#opendata-counts tr[data-reason="no_readings"] td').last).to_have_text("4")
    shots(page, screenshots, "opendata-console-other-day")
    ctx.close()


def test_the_page_in_english_on_a_phone(site: Site, browser: Browser, screenshots: Path) -> None:
    ctx = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    page.goto(f"{site.url}/portal/login")
    keyboard_fill(page, [(page.get_by_label("E-mail address"), "olivia@city.test"),
                         (page.get_by_label("Password"), "correct horse battery")],
                  page.get_by_role("button", name="Log in"))
    page.wait_for_url(lambda u: "/login" not in u)
    page.goto(f"{site.url}/portal/console/opendata")  # at 390 px the menu is folded: the address, as a bookmark
    expect(page.get_by_role("heading", level=1)).to_have_text("Open data")
    expect(page.locator("#opendata-summary")).to_have_text("5 device(s): 2 counted, 3 left out.")
    expect(page.locator(f'tr[data-dev-eui="{VISTRE}"] .reasons')).to_have_text(
        "no position (a flood gauge is published as a point on the map)")
    expect(page.locator(f'tr[data-dev-eui="{PRIVATE}"] .reasons')).to_have_text(
        "a lessee's device (only the city's and its services' data is published)")
    expect(page.locator('#opendata-counts tr[data-dataset="streetlight_energy"] td').first).to_have_text(
        'counted in "streetlight energy per district"')
    keyboard_fill(page, [(page.get_by_label("Day"), "2026-11-21")], page.get_by_role("button", name="Show"))
    expect(page.get_by_role("heading", name="Files of 21 Nov 2026")).to_be_visible()
    expect(page.locator('#opendata-counts tr[data-reason="no_readings"] td').first).to_have_text(
        "left out: no reading that day")
    shots(page, screenshots, "opendata-console-en")
    ctx.close()
