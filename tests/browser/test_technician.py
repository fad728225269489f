"""A technician on a phone-sized screen types a device's QR string and watches it join, driven through the real
network server: mosquitto, the MQTT gateway backend, a virtual gateway and a virtual OTAA device (the network
flow tests' harness), the readings store sink, and the portal on the same database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, expect

from lora_city.lorawan.tr005 import QRCode
from lora_city.simulate.devices import VirtualDevice
from lora_city.simulate.gateways import VirtualMqttGateway
from tests.browser.conftest import Site
from tests.integration.network.harness import Harness, join
from tests.support.services import Service

T = TypeVar("T")
pytestmark = pytest.mark.integration  # mosquitto, besides the browser


class LoopThread:
    """The network server's asyncio loop in a thread, beside uvicorn's and Playwright's."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="network-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def network(site: Site, mosquitto: Service) -> Iterator[tuple[LoopThread, Harness, VirtualMqttGateway]]:
    engine = site.portal.factory.kw["bind"]
    loop = LoopThread()
    harness = Harness(engine.url.render_as_string(hide_password=False), mosquitto.url)
    loop.run(harness.start())
    gateway = loop.run(harness.gateway())
    yield loop, harness, gateway
    loop.run(harness.stop())
    loop.run(harness.close())
    loop.stop()


def test_technician_scans_a_qr_and_watches_the_device_join(
    site: Site, browser: Browser, network: tuple[LoopThread, Harness, VirtualMqttGateway], screenshots: Path,
) -> None:
    loop, harness, gateway = network
    device = VirtualDevice.generate("milesight-em300-di")
    loop.run(harness.register(device))
    qr = QRCode(join_eui=device.join_eui, dev_eui=device.dev_eui, profile_id="00000000").to_string()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                has_touch=True, locale="fr-FR")
    phone.set_default_timeout(15_000)
    try:
        page = phone.new_page()
        site.login(page, "tom@city.test")
        expect(page.get_by_role("heading", level=1)).to_have_text("Installer un capteur")
        page.get_by_label("Code QR du capteur").fill(qr)
        page.get_by_role("button", name="Suivre l'installation").click()
        page.wait_for_url(f"**/portal/install/{device.dev_eui}")
        verdict = page.locator("#verdict")
        expect(verdict).to_have_text("PAS ENCORE : voir ci-dessous")
        expect(page.locator("#joined")).to_have_text("non")
        page.screenshot(path=screenshots / "technician-waiting.png", full_page=True)

        loop.run(join(harness, device, [gateway]))  # join-request -> join-accept opened by the device
        expect(page.locator("#joined")).to_have_text("oui", timeout=15_000)  # the page polls every 3 s
        expect(page.locator("#dev-addr")).to_have_text(device.dev_addr or "")

        loop.run(gateway.send_uplink(device.uplink(), snr=8.0, rssi=-101.0, spreading_factor=9))
        expect(verdict).to_have_text("OK : installation validée", timeout=15_000)
        expect(page.locator("#signal-table tbody")).to_contain_text(gateway.gateway_id)
        expect(page.locator("#best-margin")).to_have_text("20.5 dB")  # SNR 8 − (−12.5 dB needed at SF9)
        page.screenshot(path=screenshots / "technician-go.png", full_page=True)
    finally:
        phone.close()
