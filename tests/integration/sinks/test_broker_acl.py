"""The product's own broker is tenant-safe, on a real mosquitto with its dynamic-security plugin, configured by
``lora-city broker-config`` from the database and kept in step at run time by ``BrokerAccessSync``.

Stock paho clients stand for the tenants: tenant A's credentials cannot subscribe to tenant B's topics (nor to
``application/#``) and cannot publish anywhere; anonymous clients are refused; the gateways' account can only
use the gateway topics. A new application of A is readable by A within a second of its creation; a reset
password replaces the old one at once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import queue
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lora_city.mqtt import MqttClient
from lora_city.services import applications, broker
from lora_city.services.applications import ApplicationCreate
from lora_city.services.principal import Principal, Role
from lora_city.sinks.broker_acl import hash_password
from lora_city.sinks.broker_sync import BrokerAccessSync, DynsecControl
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import BrokerAccount, Tenant
from tests.support import services as svc

pytestmark = pytest.mark.integration
PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
PRODUCT = ("lora-city", "product-pass-1")
GATEWAY = ("gateway", "gateway-pass-1")


def admin() -> Principal:
    return Principal(Role.ADMIN, None)


def test_password_hash_is_the_plugins() -> None:
    """Known answer from the plugin's own tool: ``mosquitto_ctrl dynsec init`` hashes a password with a salt;
    hashing the same password with that salt and iteration count gives the same bytes."""
    if shutil.which("mosquitto_ctrl") is None and not os.environ.get("CI"):
        pytest.skip("mosquitto_ctrl is not installed")
    folder = Path(subprocess.check_output(["mktemp", "-d"], text=True).strip())
    try:
        path = folder / "d.json"
        subprocess.run(["mosquitto_ctrl", "dynsec", "init", str(path), "admin", "correct horse"], check=True,
                       capture_output=True)
        [client] = json.loads(path.read_text())["clients"]
    finally:
        shutil.rmtree(folder)
    ours = hash_password("correct horse", salt=base64.b64decode(client["salt"]), iterations=client["iterations"])
    assert ours.password == client["password"]


@contextmanager
def mqtt(port: int, username: str | None, password: str | None) -> Iterator[tuple[paho.Client, Any]]:
    """A paho client; yields (client, state) with its CONNACK and what it received."""
    state: dict[str, Any] = {"connack": queue.Queue(), "suback": queue.Queue(), "messages": queue.Queue()}
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    if username is not None:
        client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, rc, _p: state["connack"].put(rc)
    client.on_subscribe = lambda _c, _u, _mid, codes, _p: state["suback"].put(codes)
    client.on_message = lambda _c, _u, msg: state["messages"].put((msg.topic, msg.payload))
    client.reconnect_delay_set(5, 10)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        yield client, state
    finally:
        client.loop_stop()
        client.disconnect()


def connects(port: int, username: str | None, password: str | None) -> bool:
    with mqtt(port, username, password) as (_client, state):
        return not state["connack"].get(timeout=10).is_failure


def subscribe_ok(client: paho.Client, state: Any, topic: str) -> bool:
    client.subscribe(topic, qos=1)
    [code] = state["suback"].get(timeout=10)
    return not code.is_failure


def drain(state: Any, wait_s: float = 0.5) -> list[tuple[str, bytes]]:
    time.sleep(wait_s)
    out = []
    while not state["messages"].empty():
        out.append(state["messages"].get())
    return out


def publish_as_product(port: int, topics: list[str]) -> None:
    async def run() -> None:
        client = MqttClient(f"mqtt://{PRODUCT[0]}:{PRODUCT[1]}@127.0.0.1:{port}")
        await client.connect()
        for topic in topics:
            await client.publish(topic, b'{"from":"lora-city"}', qos=1)
        await client.close()

    asyncio.run(run())


def make_tenant(factory: SessionFactory, slug: str) -> tuple[str, str, str]:
    """(tenant id, application id, broker password)"""
    with transaction(factory) as s:
        tenant = Tenant(name=slug, slug=slug)
        s.add(tenant)
        s.flush()
        tenant_id = tenant.id
    with factory() as s:
        app = applications.create_application(s, admin(), ApplicationCreate(name=f"{slug} app", tenant_id=tenant_id))
        _account, password = broker.issue(s, admin(), tenant_id)
        return tenant_id, app.id, password


def write_config(factory: SessionFactory, database_url: str, path: Path) -> None:
    from lora_city.cli.main import app

    env = {"LORA_CITY_DATABASE_URL": database_url, "LORA_CITY_MQTT_URL": f"mqtt://{PRODUCT[0]}:{PRODUCT[1]}@b:1883",
           "LORA_CITY_BROKER_GATEWAY_PASSWORD": GATEWAY[1]}
    result = CliRunner().invoke(app, ["broker-config", "--output", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "2 tenant account(s)" in result.output


@pytest.fixture()
def dynsec_world(sqlite_factory: SessionFactory, tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not Path(PLUGIN).exists() and not os.environ.get("CI"):
        pytest.skip("mosquitto's dynamic-security plugin is not installed")
    url = str(sqlite_factory.kw["bind"].url)
    a = make_tenant(sqlite_factory, "acme")
    b = make_tenant(sqlite_factory, "bobco")
    config = tmp_path / "dynamic-security.json"
    write_config(sqlite_factory, url, config)
    service = svc.start_mosquitto(
        allow_anonymous=False,
        extra=f"plugin {PLUGIN}\nplugin_opt_config_file {{workdir}}/dynamic-security.json\n",
        files={"dynamic-security.json": config.read_text()},
    )
    try:
        yield {"port": service.port, "a": a, "b": b, "factory": sqlite_factory, "service": service}
    finally:
        service.stop()


def test_tenants_read_their_own_applications_only(dynsec_world: dict[str, Any]) -> None:
    port = dynsec_world["port"]
    (_a_id, a_app, a_pw), (_b_id, b_app, b_pw) = dynsec_world["a"], dynsec_world["b"]
    assert not connects(port, None, None)  # no anonymous access
    assert not connects(port, "tenant-acme", "wrong")
    with mqtt(port, "tenant-acme", a_pw) as (a, a_state), mqtt(port, "tenant-bobco", b_pw) as (b, b_state):
        assert not a_state["connack"].get(timeout=10).is_failure
        assert not b_state["connack"].get(timeout=10).is_failure
        assert subscribe_ok(a, a_state, f"application/{a_app}/#")
        assert subscribe_ok(a, a_state, f"application/{a_app}/device/+/event/up")
        assert not subscribe_ok(a, a_state, f"application/{b_app}/#")  # B's application
        assert not subscribe_ok(a, a_state, "application/#")  # everybody's
        assert not subscribe_ok(a, a_state, "#")
        assert not subscribe_ok(a, a_state, "eu868/gateway/#")
        assert subscribe_ok(b, b_state, f"application/{b_app}/#")
        # A tries to publish into B's application (and its own): the broker drops both
        a.publish(f"application/{b_app}/device/0000000000000001/event/up", b"forged", qos=1).wait_for_publish(5)
        a.publish(f"application/{a_app}/device/0000000000000001/event/up", b"forged", qos=1).wait_for_publish(5)
        # The product publishes each tenant's events: each tenant gets its own, only
        publish_as_product(port, [f"application/{a_app}/device/0000000000000001/event/up",
                                  f"application/{b_app}/device/0000000000000002/event/up"])
        got_a, got_b = drain(a_state), drain(b_state)
    assert [t for t, _ in got_a] == [f"application/{a_app}/device/0000000000000001/event/up"]  # not the forgeries
    assert [t for t, _ in got_b] == [f"application/{b_app}/device/0000000000000002/event/up"]
    assert all(p == b'{"from":"lora-city"}' for _, p in got_a + got_b)


def test_gateways_account_is_limited_to_gateway_topics(dynsec_world: dict[str, Any]) -> None:
    port = dynsec_world["port"]
    with mqtt(port, *GATEWAY) as (gw, state):
        assert not state["connack"].get(timeout=10).is_failure
        assert subscribe_ok(gw, state, "eu868/gateway/0016c001ff10a235/command/#")
        assert not subscribe_ok(gw, state, "application/#")
        assert not subscribe_ok(gw, state, "eu868/gateway/+/event/#")  # other gateways' traffic


def test_runtime_sync_follows_applications_and_password_resets(dynsec_world: dict[str, Any]) -> None:
    port, factory = dynsec_world["port"], dynsec_world["factory"]
    a_id, _a_app, a_pw = dynsec_world["a"]

    async def run() -> tuple[str, str]:
        sync = BrokerAccessSync(factory, DynsecControl(f"mqtt://{PRODUCT[0]}:{PRODUCT[1]}@127.0.0.1:{port}"),
                                poll_s=0.1)
        await sync.start()
        try:
            while sync.passes == 0:
                await asyncio.sleep(0.05)
            with factory() as s:  # a new application of A, created as the API does
                new_app = applications.create_application(s, admin(), ApplicationCreate(name="new", tenant_id=a_id)).id
            passes = sync.passes
            started = time.monotonic()
            while sync.passes == passes:
                await asyncio.sleep(0.05)
            assert time.monotonic() - started < 1.0
            with factory() as s:
                account, password = broker.issue(s, admin(), a_id)
            await sync.set_password(a_id, account.username, password)
            return new_app, password
        finally:
            await sync.stop()

    new_app, new_pw = asyncio.run(run())
    with mqtt(port, "tenant-acme", new_pw) as (a, state):
        assert not state["connack"].get(timeout=10).is_failure
        assert subscribe_ok(a, state, f"application/{new_app}/#")
    assert not connects(port, "tenant-acme", a_pw)  # the old password stopped working
    with factory() as s:
        assert s.scalars(select(BrokerAccount.username)).all() == ["tenant-acme", "tenant-bobco"]
