"""The directorate invoices its lessees from the console alone, from an empty database: the issuer's legal details
and payment instructions, a plan WITH its prices, a lessee (invoiced in English) and a tenant without a plan; a
month of usage enters through the real billing meter while an injected clock moves to November; the run says
why a tenant was left out; the PDF (named after its number) carries the English lines and the IBAN; the invoice
is marked paid, back to unpaid, then cancelled by a credit note; the lessee finds both documents with their
status. Forms are filled with the keyboard; every page is saved at 1366 and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from billing.meter import UsageMeter
from billing.portal_extras import billing_extras
from lora_city.metrics import Metrics
from lora_city.services.principal import Role
from lora_city.sinks.events import DeviceInfo, UplinkEvent
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from tenants.quota import PlanQuotaPolicy
from tests.browser.conftest import Site, serving
from tests.browser.helpers import keyboard_fill, shots
from tests.support.pdf import pdf_text
from tests.support.schema import all_migration_locations
from tests.unit.portal.build import SECRET, Clock, build_portal, seed_device

DEVICES = ("70b3d57ed0000301", "70b3d57ed0000302", "70b3d57ed0000303")
IBAN = "FR76 3000 6000 0112 3456 7890 189"  # a French IBAN whose ISO 13616 check digits are right (76)


@pytest.fixture(scope="module")
def billing_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('billing') / 'portal.db'}"
    clock = Clock(datetime(2026, 10, 1, 8, 0, tzinfo=UTC))
    engine = make_engine(url)
    factory = make_session_factory(engine)
    policy = PlanQuotaPolicy(Metrics(), emit=lambda _event: None)
    portal = build_portal(url, clock=clock, migrations=all_migration_locations(),
                          extras=billing_extras(factory, clock, policy, KeyVault(SECRET),
                                                export_dir=tmp_path_factory.mktemp("exports")))
    portal.user("ada@city.test", Role.ADMIN, "city")  # the first account: `lora-city user create`
    with serving(portal) as site:
        yield site
    engine.dispose()


def _uplink(tenant_id: str, dev_eui: str, when: datetime, n: int) -> UplinkEvent:
    return UplinkEvent(
        uplink_id=f"{dev_eui}-{when.isoformat()}-{n}", time=when, device=DeviceInfo(dev_eui=dev_eui, tenant_id=tenant_id),
        dev_addr="01020304", f_cnt=n, f_port=1, confirmed=False, adr=True, payload=b"", data=None, measurements={},
        codec_errors=[], codec_warnings=[], rx=[], frequency=868_100_000, spreading_factor=7, bandwidth=125_000,
        dr=5, airtime_ms=60.0, phy_size=20, copies=1)


def test_operator_invoices_a_lessee_from_the_console(billing_site: Site, browser: Browser, screenshots: Path,
                                                     tmp_path: Path) -> None:
    site = billing_site
    context = browser.new_context(locale="fr-FR", accept_downloads=True, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    site.login(page, "ada@city.test")
    nav = page.get_by_role("navigation")

    # Billing before anything is set: the page says what is missing instead of failing.
    nav.get_by_role("link", name="Facturation").click()
    expect(page.locator("#issuer-missing")).to_contain_text("Renseignez d'abord l'émetteur")
    page.get_by_label("Mois à facturer").fill("2026-09")
    page.get_by_role("button", name="Lancer la facturation").click()
    expect(page.locator("#billing-error")).to_contain_text("Renseignez d'abord l'émetteur")

    # The issuer, with the keyboard alone; a wrong IBAN is refused beside its field.
    page.get_by_role("link", name="Modifier l'émetteur").first.click()
    keyboard_fill(page, [
        (page.get_by_label("Raison sociale"), "Ville de Rivebourg"),
        (page.get_by_label("Adresse", exact=True), "1 place de l'Hôtel de Ville, 99000 Rivebourg"),
        (page.get_by_label("SIRET"), "21990001200018"),
        (page.get_by_label("N° de TVA"), "FR41219900012"),
        (page.get_by_label("IBAN"), "FR76 3000 6000 0112 3456 7890 180"),
    ], page.get_by_role("button", name="Enregistrer l'émetteur"))
    expect(page.locator("#f-iban-error")).to_have_text("IBAN invalide (clé de contrôle ISO 13616 incorrecte).")
    expect(page.get_by_label("IBAN")).to_have_attribute("aria-invalid", "true")
    shots(page, screenshots, "billing-issuer-error")
    keyboard_fill(page, [(page.get_by_label("IBAN"), IBAN), (page.get_by_label("BIC"), "AGRIFRPP")],
                  page.get_by_role("button", name="Enregistrer l'émetteur"))
    expect(page.get_by_role("status")).to_have_text("Émetteur enregistré.")

    # A plan with its prices, by keyboard; a bad amount is explained beside its field first.
    nav.get_by_role("link", name="Forfaits").click()
    expect(page.locator("#plans-table")).to_contain_text("Aucun forfait")
    page.get_by_role("link", name="Nouveau forfait").click()
    keyboard_fill(page, [
        (page.get_by_label("Nom du forfait"), "pro"),
        (page.get_by_label("Nombre maximal de capteurs"), "10"),
        (page.get_by_label("Messages par capteur et par jour"), "3"),
        (page.get_by_label("Au-delà de l'allocation"), "bill"),
        (page.get_by_label("Abonnement mensuel HT (€)"), "49,00 €"),
        (page.get_by_label("Tranche 1 : prix par capteur actif et par mois (€ HT)"), "1,50"),
        (page.get_by_label("Tranche 1 : prix par message (€ HT)"), "0,025"),
    ], page.get_by_role("button", name="Enregistrer le forfait"))
    expect(page.locator("#f-monthly_fee-error")).to_have_text("Montant en euros attendu, par exemple 49,90.")
    shots(page, screenshots, "billing-plan-error")
    keyboard_fill(page, [(page.get_by_label("Abonnement mensuel HT (€)"), "49,00")],
                  page.get_by_role("button", name="Enregistrer le forfait"))
    row = page.locator('#plans-table tr[data-plan="pro"]')
    expect(row).to_contain_text("abonnement 49,00 € / mois")
    expect(row).to_contain_text("capteurs 1+ : 1,50 € / mois")
    shots(page, screenshots, "billing-plans")

    # A lessee on that plan, invoiced in English; another tenant without a plan.
    nav.get_by_role("link", name="Locataires").click()
    keyboard_fill(page, [
        (page.get_by_label("Nom", exact=True), "Parkings Lumière"),
        (page.get_by_label("Identifiant"), "parkings"),
        (page.get_by_label("Forfait", exact=True), "pro"),
        (page.get_by_label("Raison sociale"), "Parkings Lumière SAS"),
        (page.get_by_label("SIRET"), "12345678900012"),
        (page.get_by_label("Langue des factures"), "en"),
    ], page.get_by_role("button", name="Créer", exact=True))
    expect(page.locator("#plan-parkings option:checked")).to_have_text("pro")
    page.get_by_label("Nom", exact=True).fill("Sans Forfait")
    page.get_by_label("Identifiant").fill("sans-forfait")
    page.get_by_role("button", name="Créer", exact=True).click()
    shots(page, screenshots, "console-tenants")

    tenant_ids = {t.slug: t.id for t in _tenants(site)}
    for i, dev_eui in enumerate(DEVICES):
        seed_device(site.portal, tenant_ids["parkings"], dev_eui, f"Place {i + 1}")
    site.portal.user("ann@parkings.test", Role.TENANT_ADMIN, "parkings", language="en")

    # October: the network feeds the meter (two devices heard, one of them 5 times on 10 October: 2 over the
    # allowance of 3, billed as overage); then the clock reaches November.
    meter = UsageMeter(site.portal.factory, Metrics())
    for n in range(5):
        meter.submit(_uplink(tenant_ids["parkings"], DEVICES[0], datetime(2026, 10, 10, 9, n, tzinfo=UTC), n))
    meter.submit(_uplink(tenant_ids["parkings"], DEVICES[1], datetime(2026, 10, 20, 9, 0, tzinfo=UTC), 0))
    meter.flush()
    site.portal.clock.now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)

    site.login(page, "ada@city.test")  # a month later: yesterday's session has expired
    nav.get_by_role("link", name="Facturation").click()
    expect(page.get_by_label("Mois à facturer")).to_have_value("2026-10")  # last month is proposed
    keyboard_fill(page, [], page.get_by_role("button", name="Lancer la facturation"))
    result = page.locator("#billing-result")
    expect(result).to_contain_text("1 document(s) créé(s), 0 déjà émis, 2 locataire(s) non facturé(s)")
    expect(result).to_contain_text("F2026-000001")
    expect(page.locator('#skips-table tr[data-slug="sans-forfait"]')).to_contain_text("aucun forfait attribué")
    expect(page.locator('#skips-table tr[data-slug="city"]')).to_contain_text("la ville elle-même")
    shots(page, screenshots, "billing-run")
    page.get_by_role("button", name="Lancer la facturation").click()  # idempotent
    expect(result).to_contain_text("0 document(s) créé(s), 1 déjà émis")

    invoice = page.locator('#documents-table tr[data-number="F2026-000001"]')
    expect(invoice).to_contain_text("à payer")
    with page.expect_download() as info:
        invoice.get_by_role("link", name="PDF F2026-000001").click()
    assert info.value.suggested_filename == "F2026-000001.pdf"
    pdf = tmp_path / "invoice.pdf"
    info.value.save_as(pdf)
    text = pdf_text(pdf.read_bytes())
    # 49.00 fee + 2 active devices x 1.50 + 2 excess uplinks x 0.025 = 52.05; VAT 20 % 10.41; total 62.46
    for needle in ("INVOICE N° F2026-000001", "Plan pro: monthly fee", "Active devices (tier 1+)",
                   "Uplinks beyond the daily allowance", "52.05 EUR", "VAT 20 %", "10.41 EUR", "62.46 EUR",
                   "IBAN FR76 3000 6000 0112 3456 7890 189 - BIC AGRIFRPP", "Due date: 2026-12-03",
                   "SIRET: 21990001200018", "40 EUR"):
        assert needle in text, needle
    # Its CSV: the columns named in the operator's language (French), the lines as billing wrote them (English)
    with page.expect_download() as info:
        invoice.get_by_role("link", name="CSV F2026-000001").click()
    sheet = tmp_path / "invoice.csv"
    info.value.save_as(sheet)
    header, _, lines = sheet.read_text(encoding="utf-8").partition("\n")
    assert header.startswith("Numéro,Type de document,Période,Date d'émission,Ligne,Code,Désignation,Quantité,")
    assert "Plan pro: monthly fee" in lines and lines.splitlines()[-1].split(",")[5] == "total"

    invoice.get_by_role("button", name="Marquer payée F2026-000001").click()
    expect(page.locator("#billing-notice")).to_have_text("Paiement enregistré.")
    expect(invoice).to_contain_text("payée (2026-11-03)")
    invoice.get_by_role("button", name="Marquer impayée F2026-000001").click()
    expect(invoice).to_contain_text("à payer")
    invoice.get_by_role("link", name="Avoir… F2026-000001").click()
    page.get_by_role("button", name="Émettre l'avoir").click()  # no reason: refused beside the field
    expect(page.locator("#f-reason-error")).to_have_text("Ce champ est obligatoire.")
    keyboard_fill(page, [(page.get_by_label("Motif"), "wrong plan")], page.get_by_role("button", name="Émettre l'avoir"))
    expect(page.locator("#billing-notice")).to_have_text("Avoir émis.")
    expect(invoice).to_contain_text("annulée par avoir")
    expect(page.locator('#documents-table tr[data-number="F2026-000002"]')).to_contain_text("avoir")
    shots(page, screenshots, "billing-documents")
    page.get_by_role("button", name="Se déconnecter").click()

    # The lessee (English) sees both documents with their status and downloads the invoice, named by number.
    site.login(page, "ann@parkings.test")
    page.get_by_role("navigation").get_by_role("link", name="Invoices").click()
    rows = page.locator("#invoices-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator('tr[data-number="F2026-000001"]')).to_contain_text("cancelled by a credit note")
    expect(page.locator('tr[data-number="F2026-000002"]')).to_contain_text("credit note")
    with page.expect_download() as info:
        page.get_by_role("link", name="PDF F2026-000002").click()
    assert info.value.suggested_filename == "F2026-000002.pdf"
    note = tmp_path / "note.pdf"
    info.value.save_as(note)
    assert "CREDIT NOTE N° F2026-000002" in pdf_text(note.read_bytes())
    assert "Credit note on invoice F2026-000001: wrong plan" in pdf_text(note.read_bytes())
    shots(page, screenshots, "lessee-invoices-en")
    context.close()


def _tenants(site: Site) -> list:  # type: ignore[type-arg]
    from sqlalchemy import select

    from lora_city.storage.models import Tenant

    with site.portal.factory() as s:
        return list(s.scalars(select(Tenant)))


def test_console_billing_pages_in_english(billing_site: Site, page: Page, screenshots: Path) -> None:
    """Every billing page of the console in English, at both widths, with no message key left untranslated."""
    site = billing_site
    site.portal.user("otto@city.test", Role.OPERATOR, "city", language="en")
    site.login(page, "otto@city.test")
    for path, name in (("/portal/console/plans", "plans"), ("/portal/console/plans/new", "plan-new"),
                       ("/portal/console/billing", "billing"), ("/portal/console/billing/issuer", "issuer"),
                       ("/portal/console/tenants", "tenants")):
        page.goto(site.url + path)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        body = page.locator("main").inner_text()
        for prefix in ("plans.", "billing.", "issuer.", "form.", "tenants.", "invoice_"):
            assert prefix not in body, (path, prefix)
        shots(page, screenshots, f"console-{name}-en")
