"""A lessee in a real browser: logs in, sees only its own devices (another tenant's device page is a 404), opens
a device chart drawn from real readings rows, downloads its usage export and creates an API key that then works
against the REST API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.unit.portal.build import seed_device, seed_uplinks

OWN, OWN_SILENT, RIVAL = "70b3d57ed0000101", "70b3d57ed0000102", "70b3d57ed0000201"
POINTS = 30


def _seed(site: Site) -> tuple[str, str]:
    p = site.portal
    with p.factory() as s:
        from sqlalchemy import select

        from lora_city.storage.models import Tenant

        ids = {t.slug: t.id for t in s.scalars(select(Tenant))}
    acme, rival = ids["acme"], ids["rival"]
    if not _seeded.get(site.url):
        seed_device(p, acme, OWN, "Jauge quai Nord")
        seed_device(p, acme, OWN_SILENT, "Jauge pont Sud")
        seed_device(p, rival, RIVAL, "Compteur concurrent")
        now = p.clock()
        seed_uplinks(p, acme, OWN, [(now - timedelta(minutes=20 * i), 120.0 + (i % 7) * 3) for i in range(POINTS)])
        seed_uplinks(p, acme, OWN_SILENT, [(now - timedelta(days=2), 80.0)])
        seed_uplinks(p, rival, RIVAL, [(now - timedelta(minutes=3), 5.0)])
        _seeded[site.url] = True
    return acme, rival


_seeded: dict[str, bool] = {}


def test_lessee_sees_only_its_devices_and_a_foreign_device_is_404(site: Site, page: Page, screenshots: Path) -> None:
    _seed(site)
    site.login(page, "ann@acme.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(page.locator("#devices-total")).to_have_text("2")
    expect(page.locator("#devices-silent")).to_have_text("1")
    page.screenshot(path=screenshots / "lessee-dashboard.png", full_page=True)

    page.get_by_role("navigation").get_by_role("link", name="Capteurs").click()
    rows = page.locator("#device-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(f'tr[data-dev-eui="{OWN}"]')).to_be_visible()
    expect(page.get_by_text(RIVAL)).to_have_count(0)
    expect(page.get_by_text("Compteur concurrent")).to_have_count(0)

    response = page.goto(f"{site.url}/portal/devices/{RIVAL}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Erreur 404")
    chart = page.request.get(f"{site.url}/portal/devices/{RIVAL}/readings.json?range=30d")
    assert chart.status == 404

    # The language switch, on a phone-sized screen (the layout wraps; nothing needs a desktop).
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_text("Menu", exact=True).click()  # on a phone the navigation folds behind "Menu"
    page.get_by_role("navigation").get_by_role("link", name="Tableau de bord").click()  # nav kept on the 404
    page.get_by_text("Menu", exact=True).click()
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.screenshot(path=screenshots / "lessee-dashboard-phone-en.png", full_page=True)
    page.get_by_text("Menu", exact=True).click()
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")


def test_device_chart_draws_the_stored_readings(site: Site, page: Page, screenshots: Path) -> None:
    _seed(site)
    site.login(page, "ann@acme.test")
    page.goto(f"{site.url}/portal/devices")
    page.get_by_role("link", name="Jauge quai Nord").click()
    chart = page.locator("#chart")
    # 30 readings every 20 minutes: the last 10 hours, all inside the default 24 h range.
    expect(chart).to_have_attribute("data-points", str(POINTS))
    canvas = chart.locator("figure[data-family='level'] canvas")  # water levels: the "levels" family's chart
    expect(canvas).to_be_visible()
    inked = canvas.evaluate("""c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; }""")
    assert inked > 500, "the chart's canvas is blank"
    page.screenshot(path=screenshots / "lessee-device-chart.png", full_page=True)

    page.get_by_label("Période").select_option("1h")
    page.get_by_role("button", name="Afficher").click()
    expect(chart).to_have_attribute("data-points", "4")  # 0, 20, 40 and 60 minutes ago (the start is inclusive)


def test_usage_export_downloads_this_tenants_csv(site: Site, page: Page, tmp_path: Path) -> None:
    _seed(site)
    site.login(page, "ann@acme.test")
    page.goto(f"{site.url}/portal/usage")
    period = site.portal.clock().strftime("%Y-%m")
    page.get_by_label("Mois").fill(period)
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger (CSV)").click()
    target = tmp_path / "usage.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows, "empty export"
    assert {r["DevEUI"] for r in rows} <= {OWN, OWN_SILENT}  # French headers in a French session
    assert RIVAL not in target.read_text()
    in_month = [r for r in rows if r["Jour"].startswith(period)]
    assert all(int(r["Messages montants"]) > 0 for r in in_month)


def test_api_key_is_shown_once_and_works_against_the_rest_api(site: Site, page: Page, screenshots: Path) -> None:
    _seed(site)
    site.login(page, "ann@acme.test")
    page.get_by_role("navigation").get_by_role("link", name="Clés d'API").click()
    page.get_by_label("Nom", exact=True).fill("supervision")
    page.get_by_label("Rôle").select_option("tenant_viewer")
    page.get_by_role("button", name="Créer la clé").click()
    secret_box = page.locator("#new-key-secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    assert secret.startswith("lck_")
    page.screenshot(path=screenshots / "lessee-api-key-created.png", full_page=True)

    r = httpx.get(f"{site.url}/api/v1/devices", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200, r.text
    euis = {d["dev_eui"] for d in r.json()["items"]}
    assert euis == {OWN, OWN_SILENT}

    page.goto(f"{site.url}/portal/keys")  # the list again: the secret is gone for good
    expect(page.locator("#new-key-secret")).to_have_count(0)
    assert secret not in page.content()
    row = page.locator("#keys-table tbody tr", has_text="supervision")
    row.get_by_role("button", name="Révoquer").click()
    expect(page.locator("#keys-table tbody tr", has_text="supervision")).to_contain_text("révoquée")
    assert httpx.get(f"{site.url}/api/v1/devices", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
