"""City staff in a real browser: an operator of the digital directorate creates a tenant, sees the gateways on
the offline map with their health, and acknowledges an open alert."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from lora_city.alerts.engine import AlertChange, ChangeKind
from lora_city.alerts.rules import Rule, RuleKind, Severity
from lora_city.alerts.service import AlertService
from lora_city.services import assets, gateways
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.models import Gateway
from tests.browser.conftest import Site
from tests.unit.portal.build import ROOT


def _seed_network(site: Site) -> None:
    p = site.portal
    with p.factory() as s:
        city = ensure_city_tenant(s).id
        s.commit()
        for gid, name, lat, lon, online in (("aa555a0000000001", "Hôtel de ville", 45.764, 4.8357, True),
                                            ("aa555a0000000002", "Château d'eau", 45.75, 4.85, False)):
            gateways.create_gateway(s, ROOT, gateways.GatewayCreate(
                gateway_id=gid, name=name, latitude=lat, longitude=lon, tenant_id=city))
            row = s.get(Gateway, gid)
            assert row is not None
            row.online = online  # the gateway health tracker's verdict, as it stores it
            row.last_seen_at = p.clock()
        s.commit()
    with p.factory() as s:
        for ref, kind, lat, lon in (("LP-0042", "pole", 45.7601, 4.8402), ("FG-7", "gauge", 45.7555, 4.8431)):
            assets.create_asset(s, ROOT, assets.AssetCreate(external_ref=ref, name=ref, kind=kind, latitude=lat,
                                                            longitude=lon, tenant_id=city), now=p.clock())
    rule = Rule(id="rule-gw-offline", name="Passerelle hors ligne", kind=RuleKind.GATEWAY_OFFLINE, tenant_id=city)
    AlertService(p.factory, p.clock).record([AlertChange(
        kind=ChangeKind.RAISED, cause="rule-gw-offline:aa555a0000000002", rule=rule, subject="aa555a0000000002",
        tenant_id=city, severity=Severity.CRITICAL, level=None, value=None,
        message="Passerelle Château d'eau hors ligne", time=p.clock())])


def test_operator_creates_a_tenant_and_watches_the_network(site: Site, page: Page, screenshots: Path) -> None:
    _seed_network(site)
    site.login(page, "otto@city.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vue du réseau")
    page.keyboard.press("Tab")  # keyboard users first meet the skip link, which lands on the main content
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    expect(page.locator("#gateways-offline")).to_have_text("1")
    expect(page.locator("#uplinks-per-hour tbody tr")).to_have_count(24)

    page.get_by_role("navigation").get_by_role("link", name="Locataires").click()
    page.get_by_label("Nom", exact=True).fill("Parkings Lumière")
    page.get_by_label("Identifiant").fill("parkings-lumiere")
    page.get_by_label("Type").select_option("lessee")
    page.get_by_label("SIRET").fill("12345678901234")
    page.get_by_role("button", name="Créer").click()
    expect(page.get_by_role("status")).to_have_text("Locataire « parkings-lumiere » créé.")
    expect(page.locator('#tenants-table tr[data-slug="parkings-lumiere"]')).to_contain_text("Parkings Lumière")
    page.screenshot(path=screenshots / "console-tenant-created.png", full_page=True)

    page.get_by_label("Identifiant").fill("parkings-lumiere")  # the same slug again: refused, said on the page
    page.get_by_label("Nom", exact=True).fill("Doublon")
    page.get_by_role("button", name="Créer").click()
    expect(page.get_by_role("alert")).to_contain_text("erreurs")
    slug = page.get_by_label("Identifiant")  # the error sits beside the field, and the field says so
    expect(slug).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#t-slug-error")).to_have_text("Cet identifiant est déjà pris.")
    expect(slug).to_have_value("parkings-lumiere")  # what was typed is kept

    page.get_by_role("navigation").get_by_role("link", name="Passerelles").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passerelles et équipements")
    expect(page.locator("#map")).to_have_attribute("data-markers", "2")
    expect(page.locator("#map .gw-online")).to_have_count(1)
    expect(page.locator("#map .gw-offline")).to_have_count(1)
    expect(page.locator("#map")).to_have_attribute("data-assets", "2")
    expect(page.locator("#map .asset-dot")).to_have_count(2)
    expect(page.locator("#map .leaflet-tile")).to_have_count(0)  # no tile URL configured: nothing fetched
    page.screenshot(path=screenshots / "console-gateway-map.png", full_page=True)

    page.get_by_role("navigation").get_by_role("link", name="Alertes").click()
    row = page.locator("#alerts-table tbody tr", has_text="Château d'eau")
    expect(row).to_contain_text("critique")
    row.get_by_role("button", name="Prendre en compte").click()
    expect(page.locator("#alerts-table tbody tr", has_text="Château d'eau")).to_contain_text(
        "prise en compte (otto@city.test)")
