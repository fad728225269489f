"""A technician on a phone (390 x 844) installs devices through the real network server: mosquitto, the MQTT
gateway backend, virtual gateways and virtual OTAA devices (the network flow tests' harness), the readings store
sink, and the portal on the same database.

The whole job through the pages: scan an unknown device's label with the camera (Chromium's fake camera
playing a segno QR code; the page decodes it with jsQR), register it on the spot with the AppKey scanned from a
key sheet (a canvas stream), watch it join with one row per gateway, put it on a new asset with the phone's
position and a photo, then swap it for a new unit with the confirmation step, offline at the moment of
confirming (the write waits in the phone and goes out when the network returns), and read both units' readings.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import segno
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from lora_city.lorawan.tr005 import QRCode
from lora_city.services.principal import Role
from lora_city.simulate.devices import VirtualDevice
from lora_city.simulate.gateways import VirtualMqttGateway
from lora_city.storage.models import Asset, AssetDevice, Device
from tests.browser import network_site
from tests.browser.conftest import CHROMIUM_ARGS, Site
from tests.browser.network_site import LoopThread, drain, portal_site
from tests.integration.network.harness import Harness, join
from tests.support.camera import canvas_camera_script, qr_y4m
from tests.support.services import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # mosquitto, besides the browser
PHONE = {"width": 390, "height": 844}
POSITION = {"latitude": 43.61092, "longitude": 3.87723}  # place Jean-Jaurès, Montpellier
MILESIGHT_EU868 = "02590001"  # TR005 ProfileID: Milesight's vendor id, its shared EU868 profile


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with portal_site(str(tmp_path_factory.mktemp("tech-browser") / "portal.db"), {
        "tom@city.test": (Role.TECHNICIAN, "city", "fr"), "tom.en@city.test": (Role.TECHNICIAN, "city", "en"),
    }) as s:
        yield s


@pytest.fixture(scope="module")
def network(site: Site, mosquitto: Service) -> Iterator[tuple[LoopThread, Harness, list[VirtualMqttGateway]]]:
    with network_site.network(site, mosquitto.url) as n:
        yield n


def _label(device: VirtualDevice) -> str:
    return QRCode(join_eui=device.join_eui, dev_eui=device.dev_eui, profile_id=MILESIGHT_EU868).to_string(
        with_checksum=True)


def _phone(browser: Browser, site: Site, email: str, locale: str = "fr-FR", **extra: Any) -> BrowserContext:
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                              locale=locale, **extra)
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    site.login(page, email) if locale.startswith("fr") else site.login_en(page, email)
    page.close()
    return ctx



def _fits_the_phone(page: Page) -> None:
    """Nothing wider than the phone: the figures are read without scrolling sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide"


def test_technician_installs_registers_binds_and_swaps_from_a_phone(
    site: Site, browser: Browser, chromium: str, network: tuple[LoopThread, Harness, list[VirtualMqttGateway]],
    screenshots: Path, tmp_path: Path,
) -> None:
    loop, harness, (gw1, gw2) = network
    unit = VirtualDevice.generate("milesight-em300-di")  # unknown to the network: registered on site
    key_sheet = "AppKey: " + " ".join(unit.app_key.hex().upper()[i:i + 4] for i in range(0, 32, 4))
    # Chromium's fake camera films the device's label; the key sheet comes from a canvas on the register page.
    camera = browser.browser_type.launch(
        executable_path=chromium, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              f"--use-file-for-fake-video-capture={qr_y4m(_label(unit), tmp_path / 'label.y4m')}"])
    try:
        phone = _phone(camera, site, "tom@city.test", geolocation=POSITION,
                       permissions=["camera", "geolocation"])
        phone.add_init_script(canvas_camera_script("/install/register", key_sheet))
        page = phone.new_page()
        page.goto(f"{site.url}/portal/install")
        expect(page.get_by_role("heading", level=1)).to_have_text("Installer un capteur")
        header = page.locator("header.top").bounding_box()
        assert header is not None and header["height"] < 80  # one line, not a quarter of the screen
        page.screenshot(path=screenshots / "technician-390-scan.png")

        # 1. Scan the label with the camera: decoded in the page (jsQR), sent, unknown -> registration
        page.get_by_role("button", name="Scanner avec l'appareil photo").click()
        page.wait_for_url("**/portal/install/register?**")
        expect(page.get_by_role("heading", level=1)).to_have_text("Enregistrer un capteur")
        expect(page.locator("dl.facts")).to_contain_text(unit.dev_eui)
        expect(page.locator("#checksum-warning")).to_have_count(0)
        # the ProfileID is Milesight's shared one: the page suggests the vendor's models, the technician picks
        suggested = page.locator("#codec optgroup").first
        expect(suggested).to_contain_text("EM300-DI")
        page.get_by_label("Modèle").select_option("milesight-em300-di")
        page.get_by_label("Nom").fill("Compteur rue Foch")
        page.get_by_role("button", name="Scanner la clé").click()
        expect(page.get_by_label("AppKey")).to_have_value(unit.app_key.hex().upper())
        assert page.locator("#key-camera").get_attribute("data-decoder") == "jsqr"
        page.screenshot(path=screenshots / "technician-390-register.png", full_page=True)
        page.get_by_role("button", name="Enregistrer le capteur").click()
        page.wait_for_url(f"**/portal/install/{unit.dev_eui}?registered=1")
        expect(page.locator("#verdict")).to_have_text("PAS ENCORE : voir ci-dessous")
        expect(page.locator("#reasons")).to_contain_text("Pas encore connecté")
        with site.portal.factory() as s:
            device = s.get(Device, unit.dev_eui)
            assert device is not None and device.codec_id == "milesight-em300-di" and device.name == "Compteur rue Foch"

        # 2. The device joins and sends: one row per gateway, names, verdict on the latest uplinks
        loop.run(join(harness, unit, [gw1, gw2]))
        for _ in range(3):
            phy = unit.uplink()
            loop.run(gw1.send_uplink(phy, snr=6.5, rssi=-99.0, spreading_factor=9))
            loop.run(gw2.send_uplink(phy, snr=-4.0, rssi=-114.0, spreading_factor=9))
            loop.run(asyncio.sleep(0.4))
        verdict = page.locator("#verdict")
        expect(verdict).to_have_text("OK : installation validée", timeout=20_000)
        rows = page.locator("#signal-table tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Mairie - toit")
        expect(rows.nth(0)).to_contain_text("19,0")  # 6.5 dB above SF9's -12.5 dB floor, French decimals
        expect(rows.nth(1)).to_contain_text("Château d'eau")
        expect(page.locator("h2", has_text="Points à vérifier")).to_have_count(0)
        _fits_the_phone(page)
        page.screenshot(path=screenshots / "technician-390-live-go.png")

        # 3. Put it on a new asset: the phone's position and a photo
        page.get_by_role("link", name="Poser sur un équipement").click()
        page.wait_for_url(f"**/install/{unit.dev_eui}/bind")
        form = page.locator("#new-asset")
        form.get_by_role("button", name="Utiliser ma position").click()
        expect(form.get_by_label("Latitude")).to_have_value("43.61092")
        expect(form.get_by_label("Longitude")).to_have_value("3.87723")
        form.get_by_label("Référence").fill("CPT-0042")
        form.get_by_label("Nom").fill("Compteur rue Foch")
        form.get_by_label("Type").select_option("meter")
        photo = tmp_path / "meter.png"
        segno.make("photo of the meter").save(str(photo), scale=6)
        form.get_by_label("Photo").set_input_files(str(photo))
        expect(page.locator("#photo-preview")).to_be_visible()
        page.screenshot(path=screenshots / "technician-390-bind.png", full_page=True)
        form.get_by_role("button", name="Enregistrer").click()
        page.wait_for_url("**/portal/install/assets/**")
        expect(page.locator("#bound-ok")).to_be_visible()
        expect(page.locator("#asset-position")).to_have_text("43,610920, 3,877230")
        expect(page.locator("#asset-photo")).to_be_visible()
        assert page.locator("#asset-photo").evaluate("img => img.naturalWidth") > 0
        page.screenshot(path=screenshots / "technician-390-asset.png", full_page=True)
        asset_url = page.url.split("?")[0]
        loop.run(gw1.send_uplink(unit.uplink(), snr=6.0, rssi=-99.0, spreading_factor=9))  # on the asset now

        # 4. Swap for a new unit (already registered by the directorate): typed code, confirmation with both
        new = VirtualDevice.generate("milesight-em300-di")
        loop.run(harness.register(new))
        loop.run(drain(gw1))  # the first unit's class-A answers (ADR, DevStatusReq) are not this join-accept
        loop.run(join(harness, new, [gw1]))
        page.get_by_role("link", name="Remplacer ce capteur").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Scanner le nouveau capteur")
        page.get_by_label("Code QR du capteur").fill(_label(new))
        page.get_by_role("button", name="Suivre l'installation").click()
        page.wait_for_url("**/swap?old=**")
        expect(page.locator("#old-unit")).to_contain_text(unit.dev_eui)
        expect(page.locator("#new-unit")).to_contain_text(new.dev_eui)
        expect(page.locator("#old-unit .family")).to_have_text("eau")
        expect(page.locator("#new-unit .family")).to_have_text("eau")
        _fits_the_phone(page)
        page.screenshot(path=screenshots / "technician-390-swap-confirm.png", full_page=True)
        # the network drops as the technician confirms: the swap waits in the phone ...
        phone.set_offline(True)
        page.get_by_role("button", name="Confirmer le remplacement").click()
        expect(page.locator("#outbox")).to_have_attribute("data-state", "queued")
        expect(page.locator("#outbox")).to_contain_text("Pas de réseau")
        page.screenshot(path=screenshots / "technician-390-offline.png")
        with site.portal.factory() as s:
            assert s.scalar(select(func.count()).select_from(AssetDevice).where(
                AssetDevice.dev_eui == new.dev_eui)) == 0
        # ... and goes out, once, when the network returns
        phone.set_offline(False)
        expect(page.locator("#outbox")).to_have_attribute("data-state", "sent", timeout=20_000)
        with site.portal.factory() as s:
            spans = s.scalars(select(AssetDevice).where(AssetDevice.dev_eui.in_([unit.dev_eui, new.dev_eui]))
                              .order_by(AssetDevice.id)).all()
            assert [(b.dev_eui, b.unbound_at is None) for b in spans] == [(unit.dev_eui, False), (new.dev_eui, True)]
            old_row = s.get(Device, unit.dev_eui)
            assert old_row is not None and old_row.is_disabled

        # 5. The new unit reports: the asset's page shows both units' readings on one screen
        loop.run(gw1.send_uplink(new.uplink(), snr=7.0, rssi=-95.0, spreading_factor=9))
        deadline = time.monotonic() + 20
        while True:  # the page shows what is stored when it loads: reload until the new unit's uplink is in
            page.goto(asset_url)
            devs = page.locator("#asset-readings li").evaluate_all("items => items.map(i => i.dataset.dev)")
            if (devs and devs[0] == new.dev_eui) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert devs == [new.dev_eui, unit.dev_eui]  # newest first: the new unit continues the old one's history
        expect(page.locator("#asset-readings")).not_to_contain_text("True")
        page.screenshot(path=screenshots / "technician-390-after-swap.png", full_page=True)
        phone.close()
    finally:
        camera.close()


def test_a_swap_between_families_is_refused_until_confirmed_and_the_english_page(
    site: Site, browser: Browser, network: tuple[LoopThread, Harness, list[VirtualMqttGateway]], screenshots: Path,
) -> None:
    loop, harness, _gateways = network
    meter, relay = VirtualDevice.generate("milesight-em300-di"), VirtualDevice.generate("milesight-ws558")
    for d in (meter, relay):
        loop.run(harness.register(d))
    phone = _phone(browser, site, "tom.en@city.test", locale="en-GB")
    try:
        page = phone.new_page()
        page.goto(f"{site.url}/portal/install")
        expect(page.get_by_role("heading", level=1)).to_have_text("Install a device")
        page.get_by_label("Device QR code").fill(_label(meter))
        page.get_by_role("button", name="Follow the installation").click()
        page.wait_for_url(f"**/install/{meter.dev_eui}")
        page.get_by_role("link", name="Put on an asset").click()
        form = page.locator("#new-asset")
        form.get_by_label("Reference").fill("WM-7")
        form.get_by_role("button", name="Save").click()
        page.wait_for_url("**/install/assets/**")
        asset_id = page.url.split("/assets/")[1].split("?")[0]
        page.goto(f"{site.url}/portal/install/assets/{asset_id}/swap?old={meter.dev_eui}&new={relay.dev_eui}")
        problems = page.locator("#swap-problems")
        expect(problems).to_contain_text("Different families (water → street lighting)")
        page.get_by_role("button", name="Confirm the swap").click()
        expect(page.locator("#swap-error")).to_contain_text("different families")
        with site.portal.factory() as s:
            assert s.scalar(select(func.count()).select_from(AssetDevice).where(
                AssetDevice.dev_eui == relay.dev_eui)) == 0
        page.get_by_label("I confirm: the two devices are of different families.").check()
        page.screenshot(path=screenshots / "technician-390-swap-family-en.png", full_page=True)
        page.get_by_role("button", name="Confirm the swap").click()
        page.wait_for_url(f"**/install/assets/{asset_id}?swapped={relay.dev_eui}")
        expect(page.locator("#swapped-ok")).to_contain_text(relay.dev_eui)
        html = page.content()
        assert not re.search(r"\b(Capteur|Équipement|Remplacer)\b", html), "French words in an English page"
    finally:
        phone.close()
    with site.portal.factory() as s:
        asset = s.get(Asset, asset_id)
        assert asset is not None and asset.external_ref == "WM-7"
