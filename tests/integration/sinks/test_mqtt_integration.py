"""The MQTT integration on a real mosquitto: a plain paho subscriber receives ChirpStack-shaped events."""

from __future__ import annotations

import asyncio
import queue
import uuid
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
from chirpstack_api.integration import integration_pb2 as pb
from google.protobuf import json_format

from lora_city.metrics import Metrics
from lora_city.mqtt import MqttClient
from lora_city.sinks.events import AckEvent, JoinEvent, LogEvent, StatusEvent, TxAckEvent
from lora_city.sinks.mqtt_integration import MqttIntegrationSink
from tests.support.services import Service
from tests.unit.sinks.factories import T0, device, uplink

pytestmark = pytest.mark.integration


def test_chirpstack_consumer_receives_every_event(mosquitto: Service) -> None:
    app = f"app-{uuid.uuid4().hex[:8]}"  # a unique topic per test run on the shared broker
    dev = device(application_id=app)
    received: queue.Queue[paho.MQTTMessage] = queue.Queue()
    sub = paho.Client(paho.CallbackAPIVersion.VERSION2)
    sub.on_message = lambda _c, _u, msg: received.put(msg)
    subscribed = queue.Queue[bool]()
    sub.on_subscribe = lambda *_a: subscribed.put(True)
    parts = urlsplit(mosquitto.url)
    sub.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    sub.subscribe(f"application/{app}/device/+/event/+", qos=1)
    sub.loop_start()
    subscribed.get(timeout=10)
    events = [
        uplink(1, dev), JoinEvent(T0, dev, "01020304", []), AckEvent(T0, dev, "q", True, 2),
        TxAckEvent(T0, dev, 3, "0016c001ff10a235", "OK", 2, None, 50.0, 12), StatusEvent(T0, dev, 9, 55.5, False),
        LogEvent(T0, dev, "ERROR", "UPLINK_CODEC", "bad"),
    ] + [uplink(n, dev) for n in range(2, 52)]

    async def run() -> MqttIntegrationSink:
        client = MqttClient(mosquitto.url)
        await client.connect()
        sink = MqttIntegrationSink(client, Metrics())
        await sink.start()
        for e in events:
            sink.submit(e)
        await sink.stop()
        await client.close()
        return sink

    try:
        sink = asyncio.run(run())
        got = [received.get(timeout=10) for _ in events]
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert sink.published == len(events)
    base = f"application/{app}/device/70b3d57ed0000001/event/"
    assert [m.topic.removeprefix(base) for m in got[:6]] == ["up", "join", "ack", "txack", "status", "log"]
    kinds = [pb.UplinkEvent, pb.JoinEvent, pb.AckEvent, pb.TxAckEvent, pb.StatusEvent, pb.LogEvent]
    for msg, kind in zip(got[:6], kinds, strict=True):
        parsed = json_format.Parse(msg.payload, kind())
        assert parsed.device_info.application_id == app  # type: ignore[attr-defined]
    ups = [json_format.Parse(m.payload, pb.UplinkEvent()) for m in got if m.topic.endswith("/up")]
    assert [u.f_cnt for u in ups] == [1, *range(2, 52)]
    assert ups[0].object["volume"] == 13.5
