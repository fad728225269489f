"""Live troubleshooting in the portal, as ChirpStack's frames and events tabs: an operator and a lessee watch a
device's uplinks arrive (per-gateway RSSI/SNR, DR, frequency, FCnt, MAC commands, the codec's result) and its
downlinks go out, pushed by server-sent events, through the real network server (virtual gateways and a
virtual street-light controller). The device page groups charts by measurement family, draws the relays as
state timelines and names everything in the page's language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from lora_city.services.principal import Role
from lora_city.simulate.devices import VirtualDevice
from lora_city.simulate.gateways import VirtualMqttGateway
from lora_city.storage.models import Device
from tests.browser import network_site
from tests.browser.conftest import Site
from tests.browser.network_site import LoopThread, portal_site
from tests.integration.network.harness import Harness, join
from tests.support.services import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # mosquitto, besides the browser
Network = tuple[LoopThread, Harness, list[VirtualMqttGateway]]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with portal_site(str(tmp_path_factory.mktemp("live-browser") / "portal.db"), {
        "otto@city.test": (Role.OPERATOR, "city", "fr"), "ann@acme.test": (Role.TENANT_ADMIN, "acme", "en"),
    }) as s:
        yield s


@pytest.fixture(scope="module")
def network(site: Site, mosquitto: Service) -> Iterator[Network]:
    with network_site.network(site, mosquitto.url) as n:
        yield n


def test_operator_watches_uplinks_and_downlinks_arrive_live(
    site: Site, browser: Browser, network: Network, screenshots: Path,
) -> None:
    loop, harness, (gw1, gw2) = network
    lamp = VirtualDevice.generate("milesight-ws558")
    loop.run(harness.register(lamp))
    loop.run(join(harness, lamp, [gw1, gw2]))
    first = lamp.uplink()
    loop.run(gw1.send_uplink(first, snr=5.5, rssi=-101.0, spreading_factor=9))
    loop.run(gw2.send_uplink(first, snr=-6.0, rssi=-117.0, spreading_factor=9))
    # the server's class-A answer to a session's first uplink asks for the battery (DevStatusReq, 1.0.4 §5.6)
    down = loop.run(gw1.downlinks.get(), timeout=10)
    heard = lamp.receive(down.phy_payload)
    assert heard is not None
    sent = {c.name for c in heard.mac_commands}
    assert "DevStatusReq" in sent

    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    ctx.set_default_timeout(20_000)
    try:
        page = ctx.new_page()
        site.login(page, "otto@city.test")
        page.goto(f"{site.url}/portal/devices/{lamp.dev_eui}")
        log = page.locator("#live-log")
        expect(log).to_have_attribute("data-state", "open")
        # the join, the first uplink and the answer are there at once (the latest entries)
        expect(log.locator("li[data-kind='join']")).to_have_count(1)
        expect(log.locator("li[data-kind='up']")).to_have_count(1)
        downlink = log.locator("li[data-kind='down']").first
        expect(downlink.locator("summary")).to_contain_text("réponse classe A")
        for name in sent:
            expect(downlink.locator("summary")).to_contain_text(name)

        # a new uplink arrives while the page is open: pushed, no reload; it carries the device's answer
        second = lamp.uplink()
        loop.run(gw1.send_uplink(second, snr=7.5, rssi=-98.0, spreading_factor=9))
        entry = log.locator("li[data-kind='up'][data-f-cnt='1']")
        expect(entry).to_have_count(1)
        summary = entry.locator("summary")
        expect(summary).to_contain_text("FCnt 1")
        expect(summary).to_contain_text("DR3")  # SF9 BW125 in EU868 (RP002-1.0.4 §2.1.3)
        expect(summary).to_contain_text("868,1 MHz")
        expect(summary).to_contain_text("RSSI -98 · SNR 7,5")
        expect(summary.locator(".mac")).to_contain_text("DevStatusAns")
        summary.click()
        body = entry.locator(".entry-body")
        expect(body).to_contain_text("Mairie - toit")
        expect(body).to_contain_text("20,0 dB")  # 7.5 dB above SF9's -12.5 dB floor
        expect(body).to_contain_text("DevStatusAns battery=")  # the MAC command's fields, decoded
        expect(body).to_contain_text("Tension : ")  # the codec's measurements, translated
        expect(body.locator("pre.json")).to_contain_text('"voltage"')
        assert "True" not in body.inner_text() and "False" not in body.inner_text()
        page.screenshot(path=screenshots / "live-log-device-1366.png", full_page=True)

        # the device page: charts by family, relays as state timelines, names translated
        chart = page.locator("#chart")
        page.get_by_role("button", name="Afficher").click()  # the chart as of now: both uplinks
        expect(chart).to_have_attribute("data-points", "2")
        expect(chart.locator("figure[data-family='electrical']")).to_have_count(1)
        expect(chart.locator("figure[data-family='states'] .state-row")).to_have_count(8)
        expect(chart.locator("figure[data-family='states']")).to_contain_text("Lampe allumée (voie 1)")
        assert chart.locator("figure").count() <= 4, "one chart per family, not per measurement"
        recent = page.locator("#recent-readings")
        expect(recent).to_contain_text("Lampe allumée (voie 3)")
        assert not re.search(r"\b(True|False)\b", recent.inner_text())
        # time on the charts: Paris time, 24-hour clock (the legend shows the hovered time)
        figure = chart.locator("figure[data-family='electrical'] .u-over")
        box = figure.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] - 5, box["y"] + box["height"] / 2)
        legend_time = chart.locator("figure[data-family='electrical'] .u-legend .u-series").first.inner_text()
        assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", legend_time), legend_time
        assert not re.search(r"[AP]M", legend_time)
        page.screenshot(path=screenshots / "device-page-1366.png", full_page=True)

        # the gateway's own live page shows the same frames, with the device
        page.goto(f"{site.url}/portal/gateways/{gw1.gateway_id}/live")
        gw_log = page.locator("#live-log")
        expect(gw_log.locator("li[data-kind='up']").first).to_contain_text(lamp.dev_eui)
        loop.run(gw1.send_uplink(lamp.uplink(), snr=4.0, rssi=-104.0, spreading_factor=9))
        expect(gw_log.locator("li[data-kind='up'][data-f-cnt='2']")).to_have_count(1)
    finally:
        ctx.close()


def test_a_lessee_follows_its_own_device_in_english_on_a_phone(
    site: Site, browser: Browser, network: Network, screenshots: Path,
) -> None:
    loop, harness, (gw1, _gw2) = network
    meter = VirtualDevice.generate("milesight-em300-di")
    with site.portal.factory() as s:
        from sqlalchemy import select

        from lora_city.storage.models import Tenant

        acme = s.scalar(select(Tenant.id).where(Tenant.slug == "acme"))
    record = loop.run(harness.register(meter))
    with site.portal.factory() as s:
        row = s.get(Device, record["dev_eui"])
        assert row is not None
        row.tenant_id = acme
        s.commit()
    harness.server.forget_device(meter.dev_eui)
    loop.run(join(harness, meter, [gw1]))
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB", is_mobile=True)
    ctx.set_default_timeout(20_000)
    try:
        page = ctx.new_page()
        page.goto(f"{site.url}/portal/login")
        page.get_by_label("E-mail address").fill("ann@acme.test")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda u: "/login" not in u)
        page.goto(f"{site.url}/portal/devices/{meter.dev_eui}")
        log = page.locator("#live-log")
        expect(log).to_have_attribute("data-state", "open")
        loop.run(gw1.send_uplink(meter.uplink(), snr=3.5, rssi=-108.0, spreading_factor=9))
        entry = log.locator("li[data-kind='up']").first
        expect(entry.locator("summary")).to_contain_text("↑ Uplink")
        expect(entry.locator("summary")).to_contain_text("868.1 MHz")
        entry.locator("summary").click()
        expect(entry.locator(".entry-body")).to_contain_text("Pulse count")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page is {width}px wide"
        page.screenshot(path=screenshots / "live-log-device-390-en.png", full_page=True)
        # another tenant's device: no stream
        other = page.request.get(f"{site.url}/portal/devices/{'0' * 15}1/live/stream")
        assert other.status == 404
    finally:
        ctx.close()
