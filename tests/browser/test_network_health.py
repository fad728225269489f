"""Network health in the console (issue 21 item 3), from an empty database: the operator (French) registers a
gateway through the pages; before it connects the network page lists it as never seen. Then the installer's
packet forwarder (the independent emulator's Semtech UDP forwarder, PROTOCOL.TXT v2) connects to the real UDP
connector, a device (the emulator's OTAA device, TS001-1.0.4) joins and sends uplinks on two channels and two
data rates, one with a broken MIC. The gateway page shows the last time it was seen, the traffic per hour (chart
and table), per channel and per DR, the TX acknowledgements and the duty-cycle use of RX1's sub-band; the network
page shows the join, the MIC failure and the drop by reason. A gateway-offline rule written in the rules form raised
its alert for the gateway while it had never connected, and the first connection resolved it. An English-speaking administrator reads the same
pages in English. Every page saved at 1366 and 390 px."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from lora_city.alerts.service import AlertService
from lora_city.gateway.health import GatewayHealth
from lora_city.network.gateway_status import GatewayStatusWriter
from lora_city.services.principal import Role
from tests.browser.conftest import Site
from tests.browser.helpers import keyboard_fill, shots
from tests.browser.network_site import LoopThread, portal_site
from tests.integration.conformance.network import Network, wait_until
from tests.integration.network.harness import Harness
from tests.support.emulator.device import Device
from tests.support.emulator.forwarder import UdpForwarder
from tests.support.services import Service
from tests.unit.portal.build import SECRET

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # mosquitto and the UDP connector, besides the browser
GATEWAY = "b827ebfffe6c2a21"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with portal_site(str(tmp_path_factory.mktemp("network-health") / "portal.db"), {
        "otto@city.test": (Role.OPERATOR, "city", "fr"), "ada@city.test": (Role.ADMIN, "city", "en"),
    }) as s:
        yield s


def context(browser: Browser) -> BrowserContext:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    ctx.set_default_timeout(30_000)
    return ctx


def register_gateway(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/portal/console/gateways")
    page.get_by_role("link", name="Enregistrer une passerelle").click()
    keyboard_fill(page, [(page.get_by_label("EUI de la passerelle"), GATEWAY), (page.get_by_label("Nom", exact=True),
                                                                                 "Toit de la médiathèque")],
                  page.get_by_role("button", name="Enregistrer la passerelle"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Toit de la médiathèque")
    expect(page.locator("#gw-state")).to_contain_text("jamais connectée")
    expect(page.locator("#traffic-channels")).to_contain_text("Aucun trafic")


class Alerts:
    """The alert engine on the portal's database, fed by the gateway status writer as `lora-city serve` feeds it
    (never-seen gateways and online/offline transitions)."""

    def __init__(self, site: Site) -> None:
        self.service = AlertService(site.portal.factory, lambda: datetime.now(UTC))
        self.engine = self.service.build_engine()

    async def never_seen(self, gateways: list[tuple[str, str, datetime]]) -> None:
        self.service.record(self.engine.on_gateways_never_seen(gateways, datetime.now(UTC)))

    async def transition(self, gateway_id: str, tenant_id: str, online: bool) -> None:
        self.service.record(self.engine.on_gateway_state(gateway_id, tenant_id, online, datetime.now(UTC)))


def create_gateway_rule(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/portal/alert-rules")
    keyboard_fill(page, [(page.locator("#r-name"), "Passerelle muette"), (page.locator("#r-kind"), "gateway_offline")],
                  page.get_by_role("button", name="Créer la règle"))
    expect(page.get_by_role("status")).to_contain_text("Règle créée")
    expect(page.locator("tbody")).to_contain_text("Passerelle hors ligne")


def traffic_through_udp(site: Site, mqtt_url: str, alerts: Alerts) -> dict[str, int]:
    """The network server on the portal's database: the forwarder connects, a device joins and sends."""
    engine = site.portal.factory.kw["bind"]
    loop = LoopThread()
    health = GatewayHealth()
    harness = Harness(engine.url.render_as_string(hide_password=False), mqtt_url, udp=True, secret_key=SECRET,
                      health=health)
    net = Network(harness)

    async def run() -> dict[str, int]:
        await harness.start()
        writer = GatewayStatusWriter(harness.factory, health, duty_cycle=harness.server.duty_cycle,
                                     listeners=[alerts.transition], never_seen=[alerts.never_seen])
        forwarder = UdpForwarder(harness.udp.local_address if harness.udp else ("", 0), GATEWAY)
        await forwarder.start()
        net.gateways.append(forwarder)
        try:
            dev = Device.generate(rng=random.Random(2103))
            await net.register(dev)
            request = dev.join_request(dr=0)
            got = await net.air.receive(dev, net.air.send(request, join=True), timeout=15)
            assert got is not None and got.accepted
            sent = [dev.uplink(1, b"\x01", channel=0, dr=5), dev.uplink(1, b"\x02", channel=0, dr=5),
                    dev.uplink(1, b"\x03", channel=1, dr=3)]
            for up in sent:
                net.send(up)
                await asyncio.sleep(0.3)
            bad = dev.uplink(1, b"\x04", channel=1, dr=3)
            forwarder.send(type(bad)(bad.phy[:-1] + bytes((bad.phy[-1] ^ 1,)), bad.frequency, bad.dr))
            await wait_until(lambda: harness.counter("lora_city_uplinks_total", kind="data") == 3
                             and harness.drops("bad_mic") == 1, timeout=30)
            await asyncio.sleep(2.5)  # the class A answers go out in RX1/RX2, then come their TX_ACKs
            await harness.server.flush_traffic()
            await writer.tick()  # last seen, online, duty cycle into the gateways table
            return {"join_frequency": request.frequency, "ch0": sent[0].frequency, "ch1": sent[2].frequency}
        finally:
            await forwarder.stop()
            await harness.stop()
            await harness.close()

    try:
        return loop.run(run(), timeout=120)
    finally:
        loop.stop()


def test_operator_follows_a_new_gateways_health(site: Site, browser: Browser, mosquitto: Service,
                                                screenshots: Path) -> None:
    ctx = context(browser)
    try:
        page = ctx.new_page()
        site.login(page, "otto@city.test")
        create_gateway_rule(page, site)
        register_gateway(page, site)
        shots(page, screenshots, "network-health-gateway-new-fr")
        # the gateway status task of the server finds it registered and never heard: the rule raises at once
        # (its silence is 0: the network's own silence rule, here 0 s instead of 30 s to keep the test short)
        alerts = Alerts(site)
        writer = GatewayStatusWriter(site.portal.factory, GatewayHealth(), never_seen=[alerts.never_seen],
                                     offline_after_s=0)
        ticker = LoopThread()  # Playwright's sync API owns this thread's event loop
        try:
            ticker.run(writer.tick())
        finally:
            ticker.stop()
        page.goto(f"{site.url}/portal/console/alerts")
        expect(page.locator("main")).to_contain_text("Passerelle Toit de la médiathèque hors ligne")
        shots(page, screenshots, "network-health-alert-fr")
        page.get_by_role("link", name="Santé du réseau").first.click()
        expect(page.locator("#never-seen")).to_contain_text("Toit de la médiathèque")
        expect(page.locator("#net-never-seen")).to_have_text("1")
        shots(page, screenshots, "network-health-never-seen-fr")

        radio = traffic_through_udp(site, mosquitto.url, alerts)
        ch0, ch1 = radio["ch0"], radio["ch1"]

        page.goto(f"{site.url}/portal/console/gateways/{GATEWAY}")
        expect(page.locator("#gw-state")).to_contain_text("en ligne")
        expect(page.locator("#gw-last-seen")).not_to_have_text("—")
        # 1 join-request + 3 data uplinks + the broken one, all heard by this gateway
        expect(page.locator("#gw-uplinks-7d")).to_have_text("5")
        expect(page.locator("#traffic-chart rect.up")).not_to_have_count(0)
        page.get_by_text("Heures avec du trafic").click()
        hours = page.locator("#traffic-hours tbody tr")
        expect(hours.first.locator("td").nth(1)).not_to_have_text("0")
        total = sum(int(hours.nth(i).locator("td").nth(1).inner_text()) for i in range(hours.count()))
        assert total == 5  # an hour boundary may split them over two rows; the sum is what was sent
        channels = page.locator("#traffic-channels")
        by_channel: dict[int, int] = {}
        for f in (radio["join_frequency"], ch0, ch0, ch1, ch1):
            by_channel[f] = by_channel.get(f, 0) + 1
        for frequency, count in by_channel.items():
            row = channels.locator(f"tr[data-frequency='{frequency}']")
            expect(row.locator("td").nth(0)).to_have_text(f"{frequency / 1e6:.1f}\u00a0MHz".replace(".", ","))
            expect(row.locator("td").nth(1)).to_have_text(str(count))
        rates = page.locator("#traffic-rates")
        # RP002-1.0.4 §2.4.3: DR0 the join-request, DR5 two uplinks, DR3 one uplink and the broken one
        for dr, count in ((0, 1), (5, 2), (3, 2)):
            expect(rates.locator(f"tr[data-dr='{dr}'] td").nth(0)).to_have_text(f"DR{dr}")
            expect(rates.locator(f"tr[data-dr='{dr}'] td").nth(1)).to_have_text(str(count))
        expect(rates.locator("tr[data-dr='0'] td").nth(2)).not_to_have_text("0")  # the join-accept in RX1 at DR0
        expect(page.locator("#tx-acks tr[data-status='OK']")).to_contain_text("émise")
        # the join-accept went out in RX1 on the join's channel: sub-band g1 (868.0-868.6 MHz, 1 %)
        g1 = page.locator("#duty-cycle tr[data-band='g1']")
        expect(g1.locator("td").nth(1)).to_have_text("1\u202f%")  # CLDR fr: narrow no-break space before %
        assert g1.locator("meter").get_attribute("value") not in (None, "0", "0.0")
        shots(page, screenshots, "network-health-gateway-fr")

        page.goto(f"{site.url}/portal/console/network")
        expect(page.locator("#net-joins-24h")).to_have_text("1")
        expect(page.locator("#net-mic-24h")).to_have_text("1")
        expect(page.locator("#network-counters tr[data-counter='uplinks'] td").first).to_have_text("3")
        expect(page.locator("#drops-by-reason tr[data-reason='bad_mic']")).to_contain_text("MIC invalide")
        expect(page.locator("#drops-by-reason tr[data-reason='bad_mic'] td").nth(1)).to_have_text("1")
        expect(page.locator("#never-seen-none")).to_be_visible()
        # its first connection resolved the alert
        page.goto(f"{site.url}/portal/console/alerts")
        expect(page.locator("main")).not_to_contain_text("Passerelle Toit de la médiathèque hors ligne")
        page.goto(f"{site.url}/portal/console/network")
        shots(page, screenshots, "network-health-network-fr")
    finally:
        ctx.close()

    ctx = context(browser)
    try:
        page = ctx.new_page()
        site.login(page, "ada@city.test")
        page.goto(f"{site.url}/portal/console/network")
        expect(page.get_by_role("heading", level=1)).to_have_text("Network health")
        expect(page.locator("#drops-by-reason tr[data-reason='bad_mic']")).to_contain_text("MIC does not verify")
        expect(page.locator("#network-counters tr[data-counter='joins'] th")).to_have_text("Joins accepted")
        shots(page, screenshots, "network-health-network-en")
        page.get_by_role("link", name="Gateways", exact=True).first.click()
        page.get_by_role("link", name="Toit de la médiathèque").click()
        expect(page.get_by_role("heading", name="Traffic over 7 days")).to_be_visible()
        expect(page.locator("#tx-acks tr[data-status='OK']")).to_contain_text("sent")
        expect(page.locator("#traffic-rates tr[data-dr='5'] td").nth(1)).to_have_text("2")
        shots(page, screenshots, "network-health-gateway-en")
    finally:
        ctx.close()
