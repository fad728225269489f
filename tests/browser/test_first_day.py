"""The first day of the directorate's operator and of a lessee, in the portal alone, from an empty database
(issue 21). The operator (French) registers a gateway placing it on the map, creates the lessee and a device
profile whose codec it checks on its documented example, imports the lessee's devices from a French Excel CSV
(first refused line by line, then a dry run showing the column mapping), creates a plan WITH prices and the
invoices' issuer, and invites the lessee's administrator by link. A month of usage later (an injected clock; the
real billing meter fed as the network feeds it) it issues the invoices and checks the PDF.

Every form is filled with the keyboard; every page is saved at 1366 and 390 px (with a check that the phone
needs no sideways scroll)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from billing.meter import UsageMeter
from billing.portal_extras import billing_extras
from lora_city.codec.registry import CodecRegistry
from lora_city.metrics import Metrics
from lora_city.services.principal import Role
from lora_city.settings import Settings
from lora_city.sinks.events import DeviceInfo, UplinkEvent
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Device, Gateway, Tenant
from tenants.quota import PlanQuotaPolicy
from tests.browser.conftest import ServerThread, Site
from tests.browser.helpers import keyboard_fill, shots
from tests.support.pdf import pdf_text
from tests.support.schema import all_migration_locations
from tests.unit.portal.build import SECRET, Clock, build_portal

pytestmark = pytest.mark.slow
KEY = "2b7e151628aed2a6abf7158809cf4f3c"
LAMPS = ("70b3d57ed0000a01", "70b3d57ed0000a02", "70b3d57ed0000a03")
IBAN = "FR76 3000 6000 0112 3456 7890 189"  # ISO 13616 check digits 76 are right for this BBAN


@dataclass
class Journey:
    site: Site
    exports: Path
    memory: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    url = f"sqlite:///{tmp_path_factory.mktemp('first-day') / 'portal.db'}"
    clock = Clock(datetime(2026, 10, 1, 8, 0, tzinfo=UTC))
    engine = make_engine(url)
    factory = make_session_factory(engine)
    policy = PlanQuotaPolicy(Metrics(), emit=lambda _event: None)
    exports = tmp_path_factory.mktemp("exports")
    codecs = CodecRegistry.load(Settings().codecs_path, entry_points=False)
    portal = build_portal(url, clock=clock, migrations=all_migration_locations(), codecs=codecs,
                          extras=billing_extras(factory, clock, policy, KeyVault(SECRET), export_dir=exports))
    portal.user("ada@city.test", Role.ADMIN, "city")  # the one account made with `lora-city user create`
    server = ServerThread(portal.app)
    server.start()
    yield Journey(Site(portal, server.url), exports)
    server.stop()
    engine.dispose()


def _context(browser: Browser, locale: str) -> BrowserContext:
    ctx = browser.new_context(locale=locale, accept_downloads=True, viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(15_000)
    return ctx


def _uplink(tenant_id: str, dev_eui: str, when: datetime, n: int) -> UplinkEvent:
    return UplinkEvent(
        uplink_id=f"{dev_eui}-{when.isoformat()}-{n}", time=when, device=DeviceInfo(dev_eui=dev_eui, tenant_id=tenant_id),
        dev_addr="01020304", f_cnt=n, f_port=85, confirmed=False, adr=True, payload=b"", data=None,
        measurements={}, codec_errors=[], codec_warnings=[], rx=[], frequency=868_100_000, spreading_factor=7,
        bandwidth=125_000, dr=5, airtime_ms=60.0, phy_size=20, copies=1)


def _register_gateway(page: Page, journey: Journey, screenshots: Path) -> None:
    nav = page.get_by_role("navigation")
    nav.get_by_role("link", name="Passerelles").click()
    page.get_by_role("link", name="Enregistrer une passerelle").first.click()
    page.get_by_label("EUI de la passerelle").fill("zz")  # refused beside the field, in French
    page.get_by_label("Nom", exact=True).fill("Hôtel de ville")
    page.get_by_role("button", name="Enregistrer la passerelle").click()
    expect(page.locator("#f-gateway_id-error")).to_contain_text("16 chiffres hexadécimaux")
    # The position picked on the map (a click writes both fields), then the rest with the keyboard.
    pick = page.locator("#pick-map")
    expect(pick).to_have_attribute("data-ready", "1")
    pick.click(position={"x": 200, "y": 100})
    picked = pick.get_attribute("data-picked") or ""
    assert page.get_by_label("Latitude").input_value() == picked.split(",")[0] != ""
    assert page.get_by_label("Longitude").input_value() == picked.split(",")[1]
    keyboard_fill(page, [(page.get_by_label("EUI de la passerelle"), "AA-55-5A-00-00-00-00-01"),
                         (page.get_by_label("Latitude"), "45,764"), (page.get_by_label("Longitude"), "4,8357")],
                  page.get_by_role("button", name="Enregistrer la passerelle"))
    expect(page.get_by_role("status")).to_contain_text("Passerelle enregistrée")
    expect(page.locator("#gw-state")).to_have_text("jamais connectée")
    shots(page, screenshots, "first-day-gateway")
    with journey.site.portal.factory() as s:
        gw = s.get(Gateway, "aa555a0000000001")
        assert gw is not None and gw.name == "Hôtel de ville"
        assert (round(gw.latitude or 0, 3), round(gw.longitude or 0, 4)) == (45.764, 4.8357)


def _create_lessee(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Locataires").click()
    keyboard_fill(page, [
        (page.get_by_label("Nom", exact=True), "Parkings Lumière"),
        (page.get_by_label("Identifiant"), "parkings"),
        (page.get_by_label("Raison sociale"), "Parkings Lumière SAS"),
        (page.get_by_label("SIRET"), "12345678900012"),
        (page.get_by_label("Langue des factures"), "en"),
    ], page.get_by_role("button", name="Créer", exact=True))
    expect(page.get_by_role("status")).to_have_text("Locataire « parkings » créé.")


def _create_profile(page: Page, screenshots: Path) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Profils").click()
    page.get_by_role("link", name="Nouveau profil").click()
    keyboard_fill(page, [
        (page.get_by_label("Nom du profil"), "Contrôleurs WS558"),
        (page.get_by_label("Propriétaire"), "Parkings Lumière"),
        (page.get_by_label("Décodeur", exact=True), "milesight-ws558"),
    ], page.get_by_role("button", name="Voir l'exemple documenté"))
    # The vendor's documented example (Milesight: 03 74 b2 08 is 222.6 V) decoded by the codec now
    preview = page.locator("#codec-preview")
    expect(preview).to_contain_text("0374b208")
    expect(preview.locator('[data-measurement="voltage"]')).to_contain_text("222,6")
    shots(page, screenshots, "first-day-profile-preview")
    keyboard_fill(page, [(page.get_by_label("Classe", exact=True), "C"),
                         (page.get_by_label("Intervalle attendu entre deux messages (s)"), "600")],
                  page.get_by_role("button", name="Enregistrer le profil"))
    expect(page.get_by_role("status")).to_have_text("Profil créé.")
    expect(page.locator('#profiles-table tr[data-profile="Contrôleurs WS558"]')).to_contain_text("milesight-ws558")


def _import_devices(page: Page, tmp_path: Path, screenshots: Path) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Capteurs").click()
    page.get_by_role("link", name="Importer un fichier CSV").click()
    # What Excel saves on a French Windows: ';', Windows-1252, French column names, a wrong line first
    bad = tmp_path / "lampadaires.csv"
    bad.write_bytes((
        "DevEUI;Nom;AppKey;Profil;Locataire\r\n"
        f"{LAMPS[0].upper()};Parking Église - rangée 1;{KEY};Contrôleurs WS558;parkings\r\n"
        f"{LAMPS[1]};;12;Profil inconnu;parkings\r\n").encode("cp1252"))
    page.get_by_label("Fichier CSV").set_input_files(str(bad))
    page.get_by_label("Locataire des lignes sans colonne « Locataire »").select_option(label="Parkings Lumière")
    page.get_by_role("button", name="Envoyer le fichier").click()
    report = page.locator("#import-report")
    expect(page.get_by_role("heading", level=2, name="3 problème(s) sur 1 ligne(s) : rien n'a été importé")).to_be_visible()
    expect(report.locator('tr[data-line="3"][data-field="name"]')).to_contain_text("Le nom est obligatoire")
    expect(report.locator('tr[data-line="3"][data-field="app_key"]')).to_contain_text("32 chiffres hexadécimaux")
    expect(report.locator('tr[data-line="3"][data-field="device_profile_id"]')).to_contain_text("Profil inconnu")
    expect(page.locator("#import-separator")).to_have_text("Séparateur détecté : point-virgule.")
    expect(page.locator('#mapping-table tr[data-column="Nom"]')).to_contain_text("name")
    shots(page, screenshots, "first-day-import-report")
    good = tmp_path / "lampadaires-ok.csv"
    good.write_bytes(("DevEUI;Nom;AppKey;Profil\r\n" + "".join(
        f"{eui};Parking Église - rangée {i + 1};{KEY};Contrôleurs WS558\r\n" for i, eui in enumerate(LAMPS))
    ).encode("cp1252"))
    page.get_by_label("Fichier CSV").set_input_files(str(good))
    page.get_by_label("Locataire des lignes sans colonne « Locataire »").select_option(label="Parkings Lumière")
    page.get_by_role("button", name="Envoyer le fichier").click()  # "only check" is ticked by default
    expect(page.locator("#import-result")).to_have_text("Fichier correct : 3 capteur(s) seraient importés.")
    expect(page.locator('#mapping-table tr[data-column="Profil"]')).to_contain_text("device_profile_id")
    page.get_by_label("Fichier CSV").set_input_files(str(good))
    page.get_by_label("Locataire des lignes sans colonne « Locataire »").select_option(label="Parkings Lumière")
    page.get_by_label("Vérifier seulement (n'importe rien)").uncheck()
    page.get_by_role("button", name="Envoyer le fichier").click()
    expect(page.locator("#import-result")).to_have_text("3 capteur(s) importé(s).")


def _plan_issuer_and_assign(page: Page) -> None:
    nav = page.get_by_role("navigation")
    nav.get_by_role("link", name="Forfaits").click()
    page.get_by_role("link", name="Nouveau forfait").click()
    keyboard_fill(page, [
        (page.get_by_label("Nom du forfait"), "Éclairage pro"),
        (page.get_by_label("Nombre maximal de capteurs"), "50"),
        (page.get_by_label("Messages par capteur et par jour"), "3"),
        (page.get_by_label("Au-delà de l'allocation"), "bill"),
        (page.get_by_label("Abonnement mensuel HT (€)"), "49,00"),
        (page.get_by_label("Tranche 1 : prix par capteur actif et par mois (€ HT)"), "1,50"),
        (page.get_by_label("Tranche 1 : prix par message (€ HT)"), "0,025"),
    ], page.get_by_role("button", name="Enregistrer le forfait"))
    expect(page.locator('#plans-table tr[data-plan="Éclairage pro"]')).to_contain_text("49,00 € / mois")
    nav.get_by_role("link", name="Facturation").click()
    page.get_by_role("link", name="Modifier l'émetteur").first.click()
    keyboard_fill(page, [
        (page.get_by_label("Raison sociale"), "Ville de Rivebourg"),
        (page.get_by_label("Adresse", exact=True), "1 place de l'Hôtel de Ville, 99000 Rivebourg"),
        (page.get_by_label("SIRET"), "21990001200018"),
        (page.get_by_label("N° de TVA"), "FR41219900012"),
        (page.get_by_label("IBAN"), IBAN),
        (page.get_by_label("BIC"), "AGRIFRPP"),
    ], page.get_by_role("button", name="Enregistrer l'émetteur"))
    expect(page.get_by_role("status")).to_have_text("Émetteur enregistré.")
    nav.get_by_role("link", name="Locataires").click()
    page.get_by_role("link", name="Parkings Lumière").click()
    keyboard_fill(page, [(page.get_by_label("Forfait", exact=True), "Éclairage pro")],
                  page.get_by_role("button", name="Changer de forfait"))
    expect(page.get_by_role("status")).to_have_text("Forfait modifié.")
    expect(page.locator("#d-plan option:checked")).to_have_text("Éclairage pro")


def _invite_lessee(page: Page, journey: Journey, screenshots: Path) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Utilisateurs").click()
    keyboard_fill(page, [
        (page.get_by_label("Adresse e-mail"), "Ann.Martin@Parkings.test"),
        (page.get_by_label("Nom affiché"), "Ann Martin"),
        (page.get_by_label("Locataire", exact=True), "Parkings Lumière"),
        (page.get_by_label("Rôle"), "tenant_admin"),
        (page.get_by_label("Langue du portail pour cette personne"), "en"),
    ], page.get_by_role("button", name="Créer le compte et le lien"))
    link = page.locator("#invite-link").input_value()
    assert "/portal/invite/" in link
    journey.memory["invite"] = link
    expect(page.locator('#users-table tr[data-email="ann.martin@parkings.test"]')).to_contain_text(
        "invitation en attente")
    shots(page, screenshots, "first-day-invite")
    page.goto(f"{journey.site.url}/portal/users")
    assert link not in page.content()  # shown once


def _a_month_later(page: Page, journey: Journey, tmp_path: Path, screenshots: Path) -> None:
    site = journey.site
    with site.portal.factory() as s:
        tenant_id = s.scalar(select(Tenant.id).where(Tenant.slug == "parkings"))
        assert {d.dev_eui for d in s.scalars(select(Device).where(Device.tenant_id == tenant_id))} == set(LAMPS)
    assert tenant_id is not None
    meter = UsageMeter(site.portal.factory, Metrics())  # October, as the network server feeds the meter
    for n in range(5):  # 5 uplinks in a day: 2 beyond the plan's 3, billed as overage
        meter.submit(_uplink(tenant_id, LAMPS[0], datetime(2026, 10, 10, 9, n, tzinfo=UTC), n))
    meter.submit(_uplink(tenant_id, LAMPS[1], datetime(2026, 10, 20, 9, 0, tzinfo=UTC), 0))
    meter.flush()
    site.portal.clock.now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    site.login(page, "ada@city.test")  # the session of a month ago has expired
    page.get_by_role("navigation").get_by_role("link", name="Facturation").click()
    expect(page.get_by_label("Mois à facturer")).to_have_value("2026-10")
    keyboard_fill(page, [], page.get_by_role("button", name="Lancer la facturation"))
    result = page.locator("#billing-result")
    expect(result).to_contain_text("1 document(s) créé(s), 0 déjà émis, 1 locataire(s) non facturé(s)")
    expect(page.locator('#skips-table tr[data-slug="city"]')).to_contain_text("la ville elle-même")
    shots(page, screenshots, "first-day-billing-run")
    invoice = page.locator('#documents-table tr[data-number="F2026-000001"]')
    with page.expect_download() as info:
        invoice.get_by_role("link", name="PDF F2026-000001").click()
    assert info.value.suggested_filename == "F2026-000001.pdf"
    pdf = tmp_path / "F2026-000001.pdf"
    info.value.save_as(pdf)
    text = pdf_text(pdf.read_bytes())
    # 49.00 + 2 active devices x 1.50 + 2 excess uplinks x 0.025 = 52.05; VAT 20 % = 10.41; total 62.46; English
    for needle in ("INVOICE N° F2026-000001", "Plan Éclairage pro: monthly fee", "Active devices (tier 1+)",
                   "Uplinks beyond the daily allowance", "52.05 EUR", "10.41 EUR", "62.46 EUR",
                   "IBAN FR76 3000 6000 0112 3456 7890 189 - BIC AGRIFRPP", "Due date: 2026-12-03",
                   "Parkings Lumière SAS"):
        assert needle in text, needle
    invoice.get_by_role("button", name="Marquer payée F2026-000001").click()
    expect(invoice).to_contain_text("payée (2026-11-03)")
    invoice.get_by_role("button", name="Marquer impayée F2026-000001").click()
    expect(invoice).to_contain_text("à payer")


class Receiver:
    """A tenant's HTTP endpoint on this machine: records what the webhook sends."""

    def __init__(self) -> None:
        self.bodies: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.bodies.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/lora"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _lessee_first_day(browser: Browser, journey: Journey, screenshots: Path, tmp_path: Path) -> None:
    ctx = _context(browser, "en-GB")
    page = ctx.new_page()
    # The invitation link, opened by Ann: her first password (keyboard), then she is in, in English.
    page.goto(journey.memory["invite"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to the portal")
    keyboard_fill(page, [(page.get_by_label("Choose your password"), "lamp posts at dawn"),
                         (page.get_by_label("Confirm the password"), "lamp posts at dusk")],
                  page.get_by_role("button", name="Save and log in"))
    expect(page.locator("#confirm-error")).to_have_text("The two passwords differ.")
    keyboard_fill(page, [(page.get_by_label("Choose your password"), "lamp posts at dawn"),
                         (page.get_by_label("Confirm the password"), "lamp posts at dawn")],
                  page.get_by_role("button", name="Save and log in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator("#lease-plan")).to_contain_text("Éclairage pro")
    expect(page.locator("#lease-devices")).to_contain_text("3 of 50")
    shots(page, screenshots, "first-day-lessee-dashboard")
    nav = page.get_by_role("navigation")

    nav.get_by_role("link", name="Devices").click()
    expect(page.locator("#device-table tbody tr")).to_have_count(3)

    # A webhook: http:// to the Internet is refused; to this machine's receiver it is taken, tested, deleted.
    receiver = Receiver()
    try:
        nav.get_by_role("link", name="Integrations").click()
        keyboard_fill(page, [(page.locator("#i-kind"), "webhook"), (page.locator("#i-url"), "http://erp.example.com/lora")],
                      page.get_by_role("button", name="Add the integration"))
        expect(page.locator("#i-url-error")).to_contain_text("must use https://")
        keyboard_fill(page, [(page.locator("#i-url"), receiver.url)], page.get_by_role("button", name="Add the integration"))
        secret = page.locator("#webhook-secret").input_value()
        assert len(secret) >= 32
        row = page.locator(f'#integrations-table tr[data-url="{receiver.url}"]')
        expect(row.locator(".last-delivery")).to_have_text("never")
        row.get_by_role("button", name=f"Send a test {receiver.url}").click()
        expect(page.locator("#test-result")).to_contain_text(f"Test received by {receiver.url} (answer 204")
        assert len(receiver.bodies) == 1
        headers, body = receiver.bodies[0]
        assert isinstance(json.loads(body), dict)
        # signed as the integration guide says: HMAC-SHA256 over "<timestamp>.<body>" with the secret shown once
        expected = hmac.new(secret.encode(), headers["x-loracity-timestamp"].encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-loracity-signature"], f"sha256={expected}")
        expect(row.locator(".last-delivery")).not_to_have_text("never")
        shots(page, screenshots, "first-day-lessee-integrations")
        row.get_by_role("link", name=f"Remove {receiver.url}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Delete the integration")
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_role("status")).to_have_text("Integration deleted.")
        expect(page.locator("#integrations-table")).to_contain_text("No integration configured.")
    finally:
        receiver.close()

    # A command built from the WS558 codec: the encoder picks FPort 85; queued, then the queue emptied.
    nav.get_by_role("link", name="Devices").click()
    page.get_by_role("link", name="Parking Église - rangée 1").click()
    keyboard_fill(page, [(page.get_by_label("Command", exact=True), "Switch lamp 8 on in 600 s as task 2")],
                  page.get_by_role("button", name="Choose"))
    expect(page.get_by_label("delay_time")).to_have_value("600")
    keyboard_fill(page, [(page.get_by_label("delay_time"), "900")], page.get_by_role("button", name="Show the bytes"))
    # Milesight's documented layout (ff 32 task delay-LE mask state, example "ff320258028080" for 600 s):
    # 900 s is 0x0384, little-endian 84 03
    expect(page.locator("#encoded")).to_have_text("The codec will send, on port 85: ff320284038080")
    page.get_by_role("button", name="Queue it").click()
    expect(page.locator("#downlink-queued")).to_be_visible()
    queued = page.locator("#queue-table tbody tr")
    expect(queued).to_have_count(1)
    expect(queued.first).to_contain_text("ff320284038080")
    expect(queued.first.locator("td").nth(1)).to_have_text("85")
    shots(page, screenshots, "first-day-lessee-downlink")
    page.get_by_role("link", name="Empty the queue").click()
    page.get_by_role("button", name="Empty the queue").click()
    expect(page.locator("#queue-table")).to_contain_text("No command waiting.")

    ctx.close()


def _lessee_a_month_later(browser: Browser, journey: Journey, screenshots: Path, tmp_path: Path) -> None:
    ctx = _context(browser, "en-GB")
    page = ctx.new_page()
    page.goto(f"{journey.site.url}/portal/login")
    keyboard_fill(page, [(page.get_by_label("E-mail address"), "ann.martin@parkings.test"),
                         (page.get_by_label("Password"), "lamp posts at dawn")],
                  page.get_by_role("button", name="Log in"))
    nav = page.get_by_role("navigation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    # Usage: October day by day against the plan, and the CSV per device and per day with names.
    nav.get_by_role("link", name="Usage").click()
    keyboard_fill(page, [(page.get_by_label("Month shown"), "2026-10")], page.get_by_role("button", name="Show"))
    day = page.locator('#usage-days tr[data-day="2026-10-10"]')
    expect(day).to_contain_text("5")
    expect(day.locator("td").nth(1)).to_have_text("5 / 3")  # the busiest device, against the allowance
    expect(day.locator("td").nth(4)).to_have_text("1")  # one device past the allowance that day
    shots(page, screenshots, "first-day-lessee-usage")
    page.get_by_label("Month", exact=True).fill("2026-10")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download (CSV)").click()
    usage = tmp_path / "usage.csv"
    info.value.save_as(usage)
    rows = list(csv.DictReader(io.StringIO(usage.read_text())))
    assert [(r["Day"], r["DevEUI"], r["Name"], r["Uplinks"]) for r in rows] == [  # columns in her language
        ("2026-10-10", LAMPS[0], "Parking Église - rangée 1", "5"),
        ("2026-10-20", LAMPS[1], "Parking Église - rangée 2", "1")]

    # The invoice, named after its number
    nav.get_by_role("link", name="Invoices").click()
    expect(page.locator('tr[data-number="F2026-000001"]')).to_contain_text("unpaid")
    with page.expect_download() as info:
        page.get_by_role("link", name="PDF F2026-000001").click()
    assert info.value.suggested_filename == "F2026-000001.pdf"
    shots(page, screenshots, "first-day-lessee-invoices")
    ctx.close()


def test_first_day_operator_then_lessee(journey: Journey, browser: Browser, screenshots: Path,
                                        tmp_path: Path) -> None:
    """One test: the lessee's day starts from the operator's invitation (tests run spread over workers)."""
    ctx = _context(browser, "fr-FR")
    page = ctx.new_page()
    journey.site.login(page, "ada@city.test")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    _register_gateway(page, journey, screenshots)
    _create_lessee(page)
    _create_profile(page, screenshots)
    _import_devices(page, tmp_path, screenshots)
    _plan_issuer_and_assign(page)
    _invite_lessee(page, journey, screenshots)
    _lessee_first_day(browser, journey, screenshots, tmp_path)  # the same day: the link is valid 7 days
    _a_month_later(page, journey, tmp_path, screenshots)
    ctx.close()
    _lessee_a_month_later(browser, journey, screenshots, tmp_path)
