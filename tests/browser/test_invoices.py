"""Invoices through billing/ (wired as a composition root would): an administrator triggers the October billing
run from the console, then the lessee downloads its invoice as PDF and CSV; another tenant's invoice is a 404."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from billing.meter import UsageMeter
from billing.models import BillingConfig, Invoice, PriceTable
from billing.portal_extras import billing_extras
from lora_city.metrics import Metrics
from lora_city.services.principal import Role
from lora_city.sinks.events import DeviceInfo, UplinkEvent
from lora_city.storage.db import make_engine, make_session_factory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Tenant
from tenants.models import Plan
from tenants.quota import PlanQuotaPolicy
from tests.browser.conftest import ServerThread, Site
from tests.support.schema import all_migration_locations
from tests.unit.portal.build import SECRET, Clock, build_portal, seed_device

DEVICES = ("70b3d57ed0000301", "70b3d57ed0000302")


def _uplink(tenant_id: str, dev_eui: str, iso: str) -> UplinkEvent:
    return UplinkEvent(
        uplink_id=f"{dev_eui}-{iso}", time=datetime.fromisoformat(iso).astimezone(UTC),
        device=DeviceInfo(dev_eui=dev_eui, tenant_id=tenant_id), dev_addr="01020304", f_cnt=0, f_port=1,
        confirmed=False, adr=True, payload=b"", data=None, measurements={}, codec_errors=[], codec_warnings=[],
        rx=[], frequency=868_100_000, spreading_factor=7, bandwidth=125_000, dr=5, airtime_ms=60.0, phy_size=20,
        copies=1)


@pytest.fixture(scope="module")
def billing_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('billing') / 'portal.db'}"
    clock = Clock()
    migrations = all_migration_locations()
    engine = make_engine(url)  # the adapters' own pool (a composition root would share one factory)
    factory = make_session_factory(engine)
    policy = PlanQuotaPolicy(Metrics(), emit=lambda _event: None)
    portal = build_portal(url, clock=clock, extras=billing_extras(factory, clock, policy, KeyVault(SECRET)), migrations=migrations)
    acme, rival = portal.tenant("acme"), portal.tenant("rival")
    with transaction(portal.factory) as s:
        s.add(BillingConfig(id=1, legal_name="Ville de Rivebourg", address="1 place de l'Hôtel de Ville",
                            siret="21990001200018", vat_number="FR41219900012"))
        plan = Plan(name="pro", uplinks_per_device_day=10)
        s.add(plan)
        s.flush()
        s.add(PriceTable(plan_id=plan.id, monthly_fee_cents=4900, device_tiers=[{"from": 0, "millicents": 100_000}]))
        for tid in (acme, rival):
            tenant = s.get(Tenant, tid)
            assert tenant is not None
            tenant.plan_id, tenant.legal_name, tenant.siret = plan.id, f"{tenant.name} SAS", "12345678900012"
    seed_device(portal, acme, DEVICES[0], "Compteur A")
    seed_device(portal, rival, DEVICES[1], "Compteur R")
    meter = UsageMeter(portal.factory, Metrics())  # usage enters through the real meter, as the pipeline feeds it
    for tid, dev in ((acme, DEVICES[0]), (rival, DEVICES[1])):
        meter.submit(_uplink(tid, dev, "2026-10-10T10:00:00+00:00"))
    meter.flush()
    with portal.factory() as s:
        policy.load(s)
    for _ in range(3):  # today's traffic as the network server's quota check counts it
        assert policy.allow_uplink(DeviceInfo(dev_eui=DEVICES[0], tenant_id=acme), 20, 60.0)
    portal.user("ann@acme.test", Role.TENANT_ADMIN, "acme")
    portal.user("ada@city.test", Role.ADMIN, "city")
    server = ServerThread(portal.app)
    server.start()
    yield Site(portal, server.url)
    server.stop()
    engine.dispose()


def test_billing_run_then_lessee_downloads_its_invoice(billing_site: Site, page: Page, screenshots: Path,
                                                       tmp_path: Path) -> None:
    site = billing_site
    site.login(page, "ada@city.test")
    page.get_by_role("navigation").get_by_role("link", name="Facturation").click()
    page.get_by_label("Mois").fill("2026-10")
    page.get_by_role("button", name="Lancer la facturation").click()
    expect(page.locator("#billing-result")).to_contain_text("2 document(s) created")
    page.get_by_role("button", name="Lancer la facturation").click()  # idempotent: nothing new the second time
    expect(page.locator("#billing-result")).to_contain_text("0 document(s) created")
    page.get_by_role("navigation").get_by_role("link", name="Locataires").click()
    expect(page.locator("#plan-acme option:checked")).to_have_text("pro")
    page.get_by_label("Nom", exact=True).fill("Parkings Lumière")
    page.get_by_label("Identifiant").fill("parkings")
    page.get_by_label("Forfait", exact=True).select_option(label="pro")  # tenants/ assigns it
    page.get_by_role("button", name="Créer", exact=True).click()
    expect(page.locator("#plan-parkings option:checked")).to_have_text("pro")
    page.get_by_label("Forfait Parkings Lumière").select_option(label="aucun forfait")
    page.get_by_role("button", name="Changer de forfait Parkings Lumière").click()
    expect(page.locator("#plan-parkings option:checked")).to_have_text("aucun forfait")
    page.get_by_role("button", name="Suspendre Parkings Lumière").click()
    expect(page.locator('#tenants-table tr[data-slug="parkings"]')).to_contain_text("suspendu")
    page.get_by_role("button", name="Réactiver Parkings Lumière").click()
    expect(page.locator('#tenants-table tr[data-slug="parkings"]')).to_contain_text("actif")
    page.get_by_role("button", name="Se déconnecter").click()

    site.login(page, "ann@acme.test")
    gauge = page.locator('[data-gauge="device_uplinks"] meter')
    expect(gauge).to_have_attribute("value", "3")
    expect(gauge).to_have_attribute("max", "10")
    expect(page.locator('[data-gauge="uplinks"]')).to_contain_text("3")
    page.screenshot(path=screenshots / "lessee-dashboard-quotas.png", full_page=True)

    page.get_by_role("navigation").get_by_role("link", name="Consommation").click()
    page.get_by_label("Mois").fill("2026-10")
    with page.expect_download() as usage_info:
        page.get_by_role("button", name="Télécharger (CSV)").click()
    usage_csv = tmp_path / "usage.csv"
    usage_info.value.save_as(usage_csv)
    lines = usage_csv.read_text().splitlines()
    assert lines[0].startswith("dev_eui,uplinks,")  # billing's metered export, not the readings fallback
    assert [line.split(",")[:2] for line in lines[1:]] == [[DEVICES[0], "1"]]

    page.get_by_role("navigation").get_by_role("link", name="Intégrations").click()
    page.get_by_label("Type").select_option("webhook")
    page.get_by_label("URL").fill("https://hooks.acme.test/lora")
    page.get_by_role("button", name="Ajouter").click()
    secret = page.locator("#webhook-secret").input_value()
    assert len(secret) >= 16
    row = page.locator("#integrations-table tbody tr", has_text="https://hooks.acme.test/lora")
    expect(row).to_contain_text("webhook")
    page.goto(f"{site.url}/portal/integrations")
    assert secret not in page.content()  # shown once
    page.get_by_role("button", name="Supprimer https://hooks.acme.test/lora").click()
    expect(page.locator("#integrations-table tbody")).to_contain_text("Aucune intégration configurée.")

    page.get_by_role("navigation").get_by_role("link", name="Factures").click()
    rows = page.locator("#invoices-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("2026-10")
    number = rows.first.locator("td").first.inner_text()
    page.screenshot(path=screenshots / "lessee-invoices.png", full_page=True)

    with page.expect_download() as pdf_info:
        rows.first.get_by_role("link", name=f"PDF {number}").click()
    pdf = tmp_path / "invoice.pdf"
    pdf_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    with page.expect_download() as csv_info:
        rows.first.get_by_role("link", name=f"CSV {number}").click()
    csv_path = tmp_path / "invoice.csv"
    csv_info.value.save_as(csv_path)
    assert number in csv_path.read_text(encoding="utf-8")

    with site.portal.factory() as s:
        acme_id = s.scalar(select(Tenant.id).where(Tenant.slug == "acme"))
        foreign = s.scalar(select(Invoice.id).where(Invoice.tenant_id != acme_id))
    assert foreign is not None
    response = page.request.get(f"{site.url}/portal/invoices/{foreign}.pdf")
    assert response.status == 404
