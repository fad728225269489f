"""A tenant's MQTT integration against real mosquitto brokers standing for the tenant's own: password
authentication, TLS with the tenant's CA and a client certificate, topic template and QoS, the outbox keeping
events while the broker refuses or is away, and every attempt in the delivery log. A stock paho client
subscribed on the tenant's broker is the receiver."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from sqlalchemy import select

from lora_city.metrics import Metrics
from lora_city.sinks.deliveries import DeliveryLog
from lora_city.sinks.events import StatusEvent
from lora_city.sinks.integration_sink import IntegrationSink
from lora_city.sinks.integrations import IntegrationStore, bump_generation, seal
from lora_city.sinks.outbox import Outbox
from lora_city.sinks.tenant_mqtt import MqttSender
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Integration, IntegrationDelivery
from tests.integration.sinks.test_influx import wait_for
from tests.integration.sinks.test_webhooks import add_tenants
from tests.support import services as svc
from tests.support.tls import TestCA
from tests.unit.sinks.factories import T0, device, uplink

pytestmark = pytest.mark.integration
VAULT = KeyVault("k")


def broker(**kw: Any) -> svc.Service:
    if shutil.which("mosquitto") is None and not os.environ.get("CI"):
        pytest.skip("mosquitto is not installed")
    return svc.start_mosquitto(**kw)


def password_file(users: dict[str, str]) -> bytes:
    path = Path(subprocess.check_output(["mktemp"], text=True).strip())
    try:
        for n, (user, password) in enumerate(users.items()):
            subprocess.run(["mosquitto_passwd", "-b", *([] if n else ["-c"]), str(path), user, password],
                           check=True, capture_output=True)
        return path.read_bytes()
    finally:
        path.unlink()


@contextmanager
def subscriber(port: int, topic: str, *, username: str | None = None, password: str | None = None,
               tls: tuple[Path, Path, Path] | None = None, client_id: str = ""
               ) -> Iterator[queue.Queue[paho.MQTTMessage]]:
    """A stock paho subscriber; with a ``client_id``, a persistent session (QoS 1 messages wait for it)."""
    received: queue.Queue[paho.MQTTMessage] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not client_id)
    client.reconnect_delay_set(0.05, 0.2)
    if username:
        client.username_pw_set(username, password)
    if tls:
        client.tls_set(ca_certs=str(tls[0]), certfile=str(tls[1]), keyfile=str(tls[2]))
    client.on_message = lambda _c, _u, msg: received.put(msg)
    client.on_subscribe = lambda *_a: subscribed.put(True)
    client.on_connect = lambda c, *_a: c.subscribe(topic, qos=2)
    client.connect("localhost" if tls else "127.0.0.1", port)
    client.loop_start()
    try:
        subscribed.get(timeout=10)
        yield received
    finally:
        client.loop_stop()
        client.disconnect()


def sink(factory: SessionFactory) -> IntegrationSink:
    return IntegrationSink(IntegrationStore(factory, VAULT), Outbox(factory), Metrics(),
                           DeliveryLog(factory, flush_interval_s=0.05), mqtt=MqttSender(timeout_s=3),
                           backoff_max_s=0.5)


def test_password_broker_refusal_then_fix_without_losing_events(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a")
    tenant_broker = broker(allow_anonymous=False, extra="password_file {workdir}/passwd",
                           files={"passwd": password_file({"acme": "right-password", "reader": "r"})})
    store = IntegrationStore(sqlite_factory, VAULT)
    try:
        integration_id = store.add_mqtt("tenant-a", f"mqtt://127.0.0.1:{tenant_broker.port}", username="acme",
                                        password="wrong-password", qos=1)
        with subscriber(tenant_broker.port, "application/#", username="reader", password="r") as received:

            async def run() -> None:
                s = sink(sqlite_factory)
                await s.start()
                for n in range(3):
                    s.submit(uplink(n))
                await asyncio.to_thread(wait_for, lambda: _errors(sqlite_factory, integration_id) >= 2, 10)
                assert s.pump.delivered == 0 and received.empty()
                with transaction(sqlite_factory) as db:  # the tenant fixes its password (as PATCH does)
                    row = db.get(Integration, integration_id)
                    assert row is not None
                    row.password_enc = seal(VAULT, integration_id, b"right-password")
                    bump_generation(db)
                s.submit(StatusEvent(T0, device(), 7, 55.0, False))
                await asyncio.to_thread(wait_for, lambda: s.pump.delivered == 4, 15)
                await s.stop()

            asyncio.run(run())
            messages = [received.get(timeout=5) for _ in range(4)]
    finally:
        tenant_broker.stop()
    app, eui = "app-1", "70b3d57ed0000001"
    assert [m.topic for m in messages] == [f"application/{app}/device/{eui}/event/{k}"
                                           for k in ("up", "up", "up", "status")]
    assert [json.loads(m.payload).get("fCnt") for m in messages[:3]] == [0, 1, 2]  # in order, none lost
    with sqlite_factory() as db:
        log = db.scalars(select(IntegrationDelivery).order_by(IntegrationDelivery.id)).all()
    failed = [d for d in log if not d.ok]
    assert failed and all("not authori" in (d.error or "").lower() for d in failed)
    assert failed[0].status == 5  # CONNACK 5, "not authorised" (MQTT 3.1.1 section 3.2.2.3)
    assert [d.ok for d in log[-4:]] == [True] * 4
    assert Outbox(sqlite_factory).size() == 0


def _errors(factory: SessionFactory, integration_id: str) -> int:
    with factory() as db:
        return len(db.scalars(select(IntegrationDelivery.id).where(
            IntegrationDelivery.integration_id == integration_id, IntegrationDelivery.ok.is_(False))).all())


def test_tls_with_client_certificate_topic_template_and_qos2(sqlite_factory: SessionFactory,
                                                             tmp_path: Path) -> None:
    add_tenants(sqlite_factory, "tenant-a")
    ca = TestCA()
    server = ca.issue("localhost", server=True)
    client = ca.issue("acme-integration", server=False)
    reader = ca.issue("acme-reader", server=False)
    tenant_broker = broker(
        allow_anonymous=True,
        listener="cafile {workdir}/ca.pem\ncertfile {workdir}/server.pem\nkeyfile {workdir}/server.key\n"
                 "require_certificate true\n",
        files={"ca.pem": ca.cert, "server.pem": server.cert, "server.key": server.key},
    )
    for name, text in {"ca.pem": ca.cert, "reader.pem": reader.cert, "reader.key": reader.key}.items():
        (tmp_path / name).write_text(text)
    store = IntegrationStore(sqlite_factory, VAULT)
    try:
        store.add_mqtt("tenant-a", f"mqtts://localhost:{tenant_broker.port}", ca_cert=ca.cert,
                       client_cert=client.cert, client_key=client.key, qos=2,
                       topic_template="acme/{tenant_id}/{application_id}/{dev_eui}/{event}")
        # A second integration of the same tenant without the client certificate: the broker refuses it.
        refused = store.add_mqtt("tenant-a", f"mqtts://localhost:{tenant_broker.port}", ca_cert=ca.cert)
        tls = (tmp_path / "ca.pem", tmp_path / "reader.pem", tmp_path / "reader.key")
        with subscriber(tenant_broker.port, "acme/#", tls=tls) as received:

            async def run() -> None:
                s = sink(sqlite_factory)
                await s.start()
                s.submit(uplink(5))
                await asyncio.to_thread(wait_for, lambda: s.pump.delivered == 1, 15)
                await asyncio.to_thread(wait_for, lambda: _errors(sqlite_factory, refused) >= 1, 15)
                await s.stop()

            asyncio.run(run())
            message = received.get(timeout=5)
    finally:
        tenant_broker.stop()
    assert message.topic == "acme/tenant-a/app-1/70b3d57ed0000001/up"
    assert message.qos == 2
    assert json.loads(message.payload)["fCnt"] == 5
    with sqlite_factory() as db:
        [error] = db.scalars(select(IntegrationDelivery.error).where(
            IntegrationDelivery.integration_id == refused).limit(1)).all()
    assert error is not None  # the handshake failed: no client certificate


def test_broker_outage_keeps_events_in_order(sqlite_factory: SessionFactory) -> None:
    """The tenant's broker stops (its subscriber's persistent session saved with it) and comes back: the
    events of the outage wait in the outbox and arrive afterwards, in order."""
    add_tenants(sqlite_factory, "tenant-a")
    tenant_broker = broker(persistence=True)
    store = IntegrationStore(sqlite_factory, VAULT)
    store.add_mqtt("tenant-a", f"mqtt://127.0.0.1:{tenant_broker.port}", qos=1)
    try:
        async def run() -> tuple[list[int], int]:
            s = sink(sqlite_factory)
            await s.start()
            with subscriber(tenant_broker.port, "application/#", client_id="acme-reader") as received:
                s.submit(uplink(0))
                await asyncio.to_thread(wait_for, lambda: s.pump.delivered == 1, 10)
                counters = [json.loads(received.get(timeout=5).payload)["fCnt"]]
                assert tenant_broker.proc is not None
                tenant_broker.proc.terminate()  # saves the sessions to its persistence file
                tenant_broker.proc.wait(10)
                for n in range(1, 6):
                    s.submit(uplink(n))
                await s.durable()
                await asyncio.sleep(1.0)
                waiting = Outbox(sqlite_factory).size()
                tenant_broker.restart()
                await asyncio.to_thread(wait_for, lambda: s.pump.delivered == 6, 20)
                counters += [json.loads(received.get(timeout=10).payload)["fCnt"] for _ in range(5)]
            await s.stop()
            return counters, waiting

        counters, waiting = asyncio.run(run())
    finally:
        tenant_broker.stop()
    assert waiting == 5
    assert counters == [0, 1, 2, 3, 4, 5]
    assert Outbox(sqlite_factory).size() == 0
