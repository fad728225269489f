"""A lessee connects its own MQTT broker from the portal (issue 21 item 5: "MQTT with credentials/topic/TLS, a
test button, the last deliveries and errors, confirmation on delete"), in English, with the keyboard alone.

Its broker is a real mosquitto that wants TLS with a client certificate (signed by the lessee's own CA) AND a
username/password. A first integration typed with a wrong password: the test button says the broker refused,
and the list shows the failure as the last error; it is removed after its confirmation page. The second, with
the right password, its own topic template and QoS 1: the test event reaches a stock paho subscriber on that
topic, and the list shows the delivery."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Browser, expect

from lora_city.services.principal import Role
from tests.browser.conftest import Site
from tests.browser.helpers import keyboard_fill, shots
from tests.support import services as svc
from tests.support.tls import TestCA
from tests.unit.portal.build import PASSWORD

pytestmark = pytest.mark.slow


def _password_file(tmp_path: Path, users: dict[str, str]) -> bytes:
    path = tmp_path / "passwd"
    for n, (user, password) in enumerate(users.items()):
        subprocess.run(["mosquitto_passwd", "-b", *([] if n else ["-c"]), str(path), user, password], check=True,
                       capture_output=True)
    return path.read_bytes()


def test_lessee_connects_its_tls_broker_with_a_password_and_its_own_topic(
        site: Site, browser: Browser, screenshots: Path, tmp_path: Path) -> None:
    if shutil.which("mosquitto_passwd") is None:
        pytest.fail("mosquitto_passwd is missing (Debian package mosquitto)")
    ca = TestCA("Parkings Lumière CA")
    server, ours, reader = (ca.issue("localhost", server=True), ca.issue("lora-city", server=False),
                            ca.issue("reader", server=False))
    broker = svc.start_mosquitto(
        allow_anonymous=False, extra="password_file {workdir}/passwd",
        listener="cafile {workdir}/ca.pem\ncertfile {workdir}/server.pem\nkeyfile {workdir}/server.key\n"
                 "require_certificate true\n",
        files={"ca.pem": ca.cert, "server.pem": server.cert, "server.key": server.key,
               "passwd": _password_file(tmp_path, {"parkings": "right-password", "reader": "r"})})
    for name, text in {"ca.pem": ca.cert, "reader.pem": reader.cert, "reader.key": reader.key}.items():
        (tmp_path / name).write_text(text)
    received: queue.Queue[paho.MQTTMessage] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    sub = paho.Client(CallbackAPIVersion.VERSION2)
    sub.username_pw_set("reader", "r")
    sub.tls_set(ca_certs=str(tmp_path / "ca.pem"), certfile=str(tmp_path / "reader.pem"),
                keyfile=str(tmp_path / "reader.key"))
    sub.on_message = lambda _c, _u, msg: received.put(msg)
    sub.on_subscribe = lambda *_a: subscribed.put(True)
    sub.on_connect = lambda c, *_a: c.subscribe("parkings/#", qos=1)
    sub.connect("localhost", broker.port)
    sub.loop_start()
    site.portal.user("max@acme.test", Role.TENANT_ADMIN, "acme", language="en")
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    url = f"mqtts://localhost:{broker.port}"
    try:
        subscribed.get(timeout=15)
        page.goto(f"{site.url}/portal/login")
        keyboard_fill(page, [(page.get_by_label("E-mail address"), "max@acme.test"),
                             (page.get_by_label("Password"), PASSWORD)], page.get_by_role("button", name="Log in"))
        page.get_by_role("navigation").get_by_role("link", name="Integrations").click()

        def add(password: str) -> None:
            keyboard_fill(page, [
                (page.locator("#i-kind"), "mqtt"), (page.locator("#i-url"), url),
                (page.get_by_label("MQTT username"), "parkings"), (page.get_by_label("MQTT password"), password),
                (page.get_by_label("MQTT topic"), "parkings/{dev_eui}/{event}"),
                (page.get_by_label("QoS"), "1"),
                (page.get_by_label("CA certificate (PEM)"), ca.cert),
                (page.get_by_label("Client certificate (PEM)"), ours.cert),
                (page.get_by_label("Client certificate's private key (PEM)"), ours.key),
            ], page.get_by_role("button", name="Add the integration"))
            expect(page.locator(f'#integrations-table tr[data-url="{url}"]')).to_have_count(1)

        row = page.locator(f'#integrations-table tr[data-url="{url}"]')
        add("wrong-password")
        keyboard_fill(page, [], row.get_by_role("button", name=f"Send a test {url}"))
        expect(page.locator("#test-result")).to_contain_text(f"The test to {url} failed")
        expect(row.locator(".last-error")).to_contain_text("failed")
        expect(row.locator(".last-delivery")).to_have_text("never")
        assert received.empty()
        shots(page, screenshots, "lessee-mqtt-refused-en")
        row.get_by_role("link", name=f"Remove {url}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Delete the integration")
        keyboard_fill(page, [], page.get_by_role("button", name="Remove"))
        expect(page.get_by_role("status")).to_have_text("Integration deleted.")

        add("right-password")
        keyboard_fill(page, [], row.get_by_role("button", name=f"Send a test {url}"))
        expect(page.locator("#test-result")).to_contain_text(f"Test received by {url}")
        message = received.get(timeout=15)
        assert message.topic == "parkings/0000000000000000/log"  # its own template, the test event's DevEUI
        assert message.qos == 1
        assert isinstance(json.loads(message.payload), dict)
        expect(row.locator(".last-delivery")).not_to_have_text("never")
        expect(row.locator(".last-error")).to_have_text("—")
        shots(page, screenshots, "lessee-mqtt-delivered-en")
        # Its page: the last deliveries, the test among them, delivered
        row.get_by_role("link", name=url, exact=True).click()
        delivered = page.locator("#deliveries-table tbody tr.ok")
        expect(delivered).to_have_count(1)
        expect(delivered.locator("td").nth(1)).to_have_text("test")
        shots(page, screenshots, "lessee-mqtt-deliveries-en")
    finally:
        ctx.close()
        sub.loop_stop()
        sub.disconnect()
        broker.stop()
