"""An operator prepares and steers a firmware update in the city console, in a real browser: the campaign form
(image file, devices, fragmentation and radio settings) with its field errors, the campaign's figures and per-device
progress, start / pause / resume / cancel; in French at desktop width and in English on a phone."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from lora_city.services.devices import DeviceCreate, register_device
from lora_city.services.profiles import ProfileCreate, create_profile
from lora_city.storage.bootstrap import ensure_city_tenant
from tests.browser.conftest import Site
from tests.unit.portal.build import PASSWORD, ROOT

IMAGE = os.urandom(1234)


def _seed(site: Site) -> list[str]:
    p = site.portal
    euis = []
    with p.factory() as s:
        city = ensure_city_tenant(s).id
        s.commit()
        profile = create_profile(s, ROOT, ProfileCreate.model_validate({
            "name": "Contrôleur de luminaire", "tenant_id": city, "device_class": "C", "mac_version": "1.0.4",
            "app_layer": {"clock_sync": 2, "multicast_setup": 2, "fragmentation": 2}}))
        plain = create_profile(s, ROOT, ProfileCreate.model_validate({"name": "Compteur", "tenant_id": city}))
        for i, (name, prof) in enumerate((("Lampe avenue Feuchères", profile.id), ("Lampe quai de la Fontaine",
                                          profile.id), ("Compteur d'eau", plain.id))):
            eui = f"70b3d5e75e0000{i + 10:02x}"
            register_device(s, ROOT, p.vault, DeviceCreate.model_validate({
                "dev_eui": eui, "name": name, "tenant_id": city, "device_profile_id": prof,
                "app_key": os.urandom(16).hex(), "gen_app_key": os.urandom(16).hex()}), now=p.clock())
            euis.append(eui)
    return euis


@pytest.fixture(scope="module")
def lamps(site: Site) -> list[str]:
    """Seeded once per site, whichever test of the module runs first (xdist may run either one alone)."""
    return _seed(site)


def _create(page: Page, name: str, devices: list[str], submit: str, file: bool = True) -> None:
    page.locator("#c-name").fill(name)
    if file:
        page.locator("#c-image").set_input_files({"name": "lamp-2.1.bin", "mimeType": "application/octet-stream",
                                                  "buffer": IMAGE})
    for eui in devices:
        page.locator(f"input[name=dev_euis][value='{eui}']").check()
    page.locator("#c-frag").fill("50")
    page.get_by_role("button", name=submit).click()


def test_operator_creates_starts_pauses_and_cancels_a_campaign(
    site: Site, page: Page, screenshots: Path, lamps: list[str]
) -> None:
    lamps = lamps[:2]
    site.login(page, "otto@city.test")
    page.get_by_role("link", name="Mises à jour").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mises à jour du micrologiciel")
    # only devices whose profile runs TS005 and TS004 can be chosen
    assert page.locator("input[name=dev_euis]").count() == 2

    _create(page, "Luminaires 2.1", lamps, "Créer la campagne", file=False)
    expect(page.locator("#c-image-error")).to_have_text("Choisissez le fichier du micrologiciel.")
    expect(page.locator("#c-image")).to_have_attribute("aria-invalid", "true")

    _create(page, "Luminaires 2.1", lamps, "Créer la campagne")
    expect(page.get_by_role("heading", level=1)).to_have_text("Luminaires 2.1")
    expect(page.locator("#campaign-state")).to_have_text("brouillon")
    expect(page.get_by_text(hashlib.sha256(IMAGE).hexdigest())).to_be_visible()
    expect(page.get_by_text("25 fragments de 50 octets + 3 de parité")).to_be_visible()  # 1234 B, 10 %
    rows = page.locator("#campaign-devices tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Lampe avenue Feuchères")
    page.screenshot(path=str(screenshots / "fuota-campaign-fr-1366.png"), full_page=True)

    page.get_by_role("button", name="Démarrer").click()
    expect(page.get_by_role("status")).to_have_text("Campagne démarrée.")
    expect(page.locator("#campaign-state")).to_have_text("en cours")
    expect(rows.first).to_contain_text("versions des paquets")
    page.get_by_role("button", name="Suspendre").click()
    expect(page.locator("#campaign-state")).to_have_text("suspendue")
    page.get_by_role("button", name="Reprendre").click()
    expect(page.locator("#campaign-state")).to_have_text("en cours")
    asked: list[str] = []  # the question really shown (an inline onsubmit was blocked by the page's CSP)

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Annuler la campagne").click()
    expect(page.locator("#campaign-state")).to_have_text("annulée")
    assert asked == ["Annuler cette campagne ? Les appareils qui ne sont pas à jour restent en l'état."]
    expect(rows.first).to_contain_text("en échec")
    expect(rows.first).to_contain_text("campagne annulée")

    # the devices are free again: a new campaign takes them; one already in it cannot be taken twice
    page.get_by_role("link", name="Mises à jour du micrologiciel").click()
    _create(page, "Luminaires 2.2", lamps[:1], "Créer la campagne")
    expect(page.locator("#campaign-state")).to_have_text("brouillon")
    page.get_by_role("link", name="Mises à jour du micrologiciel").click()
    _create(page, "Doublon", lamps[:1], "Créer la campagne")
    expect(page.locator("#c-devices-error")).to_contain_text("déjà dans une autre campagne")
    expect(page.locator("#campaigns-table")).to_contain_text("annulée")
    page.screenshot(path=str(screenshots / "fuota-list-fr-1366.png"), full_page=True)


def test_campaign_pages_on_a_phone_in_english(
    site: Site, browser: Browser, screenshots: Path, lamps: list[str]
) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{site.url}/portal/login")
        page.get_by_label("E-mail address").fill("ada@city.test")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda u: "/login" not in u)
        # Ada reads French by default: she opens the phone's menu and switches the portal to English
        page.get_by_text("Menu", exact=True).click()
        page.locator("#language-switch").select_option("en")
        page.locator("#language-switch").locator("xpath=..").get_by_role("button").click()
        page.goto(f"{site.url}/portal/console/fuota")
        expect(page.get_by_role("heading", level=1)).to_have_text("Firmware updates")
        boxes = page.locator("input[name=dev_euis]")
        euis = [boxes.nth(i).get_attribute("value") or "" for i in range(boxes.count())]
        free = [e for e in euis if e]
        page.locator("#c-name").fill("Night lamps")
        page.locator("#c-image").set_input_files({"name": "fw.bin", "mimeType": "application/octet-stream",
                                                  "buffer": IMAGE})
        page.locator("#c-frag").fill("240")  # more than DR5 carries
        page.locator(f"input[name=dev_euis][value='{free[-1]}']").check()
        page.get_by_role("button", name="Create the campaign").click()
        expect(page.locator("#f-frag_size-error, #c-frag-error")).to_contain_text("Fragment size impossible")
        page.screenshot(path=str(screenshots / "fuota-form-en-390.png"), full_page=True)
        # no sideways scrolling on the phone
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
