"""build_sinks as the composition root uses it: one uplink reaches the store, victoria-metrics, a tenant webhook
and the MQTT integration; metrics show the queues and the outbox."""

from __future__ import annotations

import asyncio
import json
import queue
import uuid
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
from sqlalchemy import select

from lora_city.metrics import Metrics
from lora_city.mqtt import MqttClient
from lora_city.settings import Settings
from lora_city.sinks.build import build_sinks, build_timeseries_eraser
from lora_city.sinks.events import StatusEvent
from lora_city.sinks.integration_sink import IntegrationSink
from lora_city.sinks.integrations import IntegrationStore
from lora_city.sinks.outbox import Outbox
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Event, Reading, Tenant
from tests.integration.sinks.conftest import export
from tests.integration.sinks.test_influx import wait_for
from tests.integration.sinks.webhook_server import webhook_receiver
from tests.support.services import Service
from tests.unit.sinks.factories import T0, device, uplink

pytestmark = pytest.mark.integration


def test_one_uplink_reaches_every_sink(
    victoria_metrics: Service, mosquitto: Service, sqlite_factory: SessionFactory
) -> None:
    app = f"app-{uuid.uuid4().hex[:8]}"
    dev = device(application_id=app)
    settings = Settings(influx_url=victoria_metrics.url, secret_key="k")
    with transaction(sqlite_factory) as s:
        s.add(Tenant(id="tenant-a", name="A", slug="a"))
    received: queue.Queue[paho.MQTTMessage] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    sub = paho.Client(paho.CallbackAPIVersion.VERSION2)
    sub.on_message = lambda _c, _u, msg: received.put(msg)
    sub.on_subscribe = lambda *_a: subscribed.put(True)
    parts = urlsplit(mosquitto.url)
    sub.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    sub.subscribe(f"application/{app}/#", qos=1)
    sub.loop_start()
    subscribed.get(timeout=10)
    metrics = Metrics()
    try:
        with webhook_receiver() as hook:
            IntegrationStore(sqlite_factory, KeyVault("k")).add_webhook("tenant-a", hook.url)

            async def run() -> None:
                client = MqttClient(mosquitto.url)
                await client.connect()
                hub = build_sinks(settings, sqlite_factory, metrics, mqtt=client)
                assert [s.name for s in hub.sinks] == ["store", "influx", "integration", "mqtt"]
                await hub.start()
                hub.submit(uplink(1, dev))
                hub.submit(StatusEvent(T0, dev, 10, 75.0, False))
                webhook = hub.get("integration")
                assert isinstance(webhook, IntegrationSink)
                await asyncio.to_thread(wait_for, lambda: webhook.pump.delivered == 2)
                await hub.stop()
                await client.close()

            asyncio.run(run())
        topics = sorted(received.get(timeout=10).topic.rsplit("/", 1)[1] for _ in range(2))
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert topics == ["status", "up"]
    assert [r.path.split("=")[1] for r in hook.requests] == ["up", "status"]
    assert json.loads(hook.requests[0].body)["deduplicationId"] == uplink(1).uplink_id
    with sqlite_factory() as s:
        assert s.scalars(select(Reading.uplink_id)).all() == [uplink(1).uplink_id]
        assert s.scalars(select(Event.kind)).all() == ["status"]
    [volume] = export(victoria_metrics.url, '{__name__="water_volume"}')
    assert volume["values"] == [13.5]
    assert metrics.outbox_size.labels("influx")._value.get() == 0
    assert metrics.sink_errors.labels("influx")._value.get() == 0
    eraser = build_timeseries_eraser(settings, "victoria-metrics")
    assert eraser is not None
    assert build_timeseries_eraser(Settings()) is None


def test_durable_returns_once_every_submitted_event_is_committed(
    victoria_metrics: Service, db_factory: SessionFactory
) -> None:
    """What ``await hub.durable()`` vouches for is in the database at that moment, whatever happens next."""
    victoria_metrics.kill()  # lines can only be in the outbox
    settings = Settings(influx_url=victoria_metrics.url, secret_key="k")

    async def run() -> tuple[int, int]:
        hub = build_sinks(settings, db_factory, Metrics(), integrations=False)
        await hub.start()
        for n in range(300):
            hub.submit(uplink(n))
        await hub.durable()
        with db_factory() as s:
            readings = len(s.scalars(select(Reading.id)).all())
        lines = Outbox(db_factory).size("influx")
        await hub.stop()
        return readings, lines

    assert asyncio.run(run()) == (300, 300)
