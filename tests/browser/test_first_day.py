"""The first day of the directorate's operator and of a lessee, in the portal alone, from an empty database
(issue 21). The operator (French) registers a gateway placing it on the map, creates the lessee and a device
profile whose codec it checks on its documented example, imports the lessee's devices from a French Excel CSV
(first refused line by line, then a dry run showing the column mapping), creates a plan WITH prices and the
invoices' issuer, and invites the lessee's administrator by link. A month of usage later (an injected clock; the
real billing meter fed as the network feeds it) it issues the invoices and checks the PDF.

Every form is filled with the keyboard; every page is saved at 1366 and 390 px (with a check that the phone
needs no sideways scroll)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


def test_first_day_of_the_operator(journey: Journey, browser: Browser, screenshots: Path, tmp_path: Path) -> None:
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
    _a_month_later(page, journey, tmp_path, screenshots)
    ctx.close()
