"""The supervision feed end to end: simulated traffic → AlertSink → database → real MQTT subscriber and real
webhook receiver; every message valid against the documented JSON schema."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from lora_city.alerts.feed import Subscription, SupervisionFeed
from lora_city.alerts.rules import Severity
from lora_city.alerts.service import AlertService
from lora_city.alerts.sink import AlertSink
from lora_city.mqtt.client import MqttClient
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import AlertRule
from tests.integration.alerts.conftest import FakeClock
from tests.support.receivers import MqttSubscriber, WebhookReceiver
from tests.support.services import Service
from tests.unit.alerts.factories import device, uplink

SCHEMA = json.loads((Path(__file__).resolve().parents[3] / "lora_city" / "alerts" / "feed.schema.json").read_text())


def _rules(sessions: SessionFactory, tenant_id: str) -> None:
    with transaction(sessions) as s:
        s.add_all([
            AlertRule(tenant_id=tenant_id, name="Cadereau level", kind="threshold", service="flood_cell",
                      scope_kind="family", scope_value="flood", measurement="water_level",
                      params={"hysteresis": 0.1, "levels": [{"name": "yellow", "value": 0.5, "severity": "warning"},
                                                            {"name": "red", "value": 1.5, "severity": "critical"}]}),
            AlertRule(tenant_id=tenant_id, name="silent gauge", kind="absence", service="flood_cell",
                      scope_kind="family", scope_value="flood", params={"max_silence_s": 600, "severity": "critical"}),
            AlertRule(tenant_id=tenant_id, name="lamp failure", kind="flag", service="streetlights",
                      scope_kind="family", scope_value="streetlight", measurement="lamp_failure",
                      params={"severity": "major"}),
        ])


def test_flood_event_reaches_mqtt_and_webhook(mosquitto: Service, sessions: SessionFactory, city_id: str,
                                              clock: FakeClock) -> None:
    _rules(sessions, city_id)
    hook = WebhookReceiver()
    subscriber = MqttSubscriber(mosquitto.port, "nimes/supervision/#")
    try:
        asyncio.run(_drive(mosquitto, sessions, city_id, clock, hook.url))
        mqtt_msgs = subscriber.take(8, timeout=10)
    finally:
        subscriber.close()
        hook.close()
    docs: list[dict[str, Any]] = [json.loads(p) for _, p in mqtt_msgs]
    for doc in docs:
        jsonschema.validate(doc, SCHEMA)
    alerts = [(d["service"], d["alert"]["transition"], d["alert"]["rule"]["name"]) for d in docs if d["type"] == "alert"]
    assert ("flood_cell", "raised", "Cadereau level") in alerts
    assert ("flood_cell", "level_changed", "Cadereau level") in alerts
    silent = [d["alert"]["subject"] for d in docs if d["type"] == "alert" and d["alert"]["rule"]["name"] == "silent gauge"]
    assert silent == ["00000000000000f2"]  # the gauge that stopped in the storm, not the one still reporting
    assert len(alerts) == 3
    readings = [d for d in docs if d["type"] == "reading"]
    assert readings and readings[0]["reading"]["measurements"]["water_level"]["unit"] == "m"
    topics = {t for t, _ in mqtt_msgs}
    assert "nimes/supervision/flood_cell/alert" in topics
    # streetlights service: webhook, signed, only major and above
    [req] = hook.wait_for(1)
    # HMAC-SHA256 of "<timestamp>.<body>" (docs/supervision-feed.md), timestamp within 5 minutes
    timestamp = req.headers["x-loracity-timestamp"]
    assert abs(int(timestamp) - time.time()) < 300
    expected = "sha256=" + hmac.new(b"hook-secret", timestamp.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-loracity-signature"] == expected
    body = json.loads(req.body)
    jsonschema.validate(body, SCHEMA)
    assert body["alert"]["rule"]["name"] == "lamp failure" and body["alert"]["severity"] == "major"


async def _drive(mosquitto: Service, sessions: SessionFactory, city_id: str, clock: FakeClock, hook_url: str) -> None:
    mqtt = MqttClient(mosquitto.url, client_id="feed-test")
    await mqtt.connect()
    async with httpx.AsyncClient() as http:
        feed = SupervisionFeed([
            Subscription("flood_cell", "mqtt", "nimes", families=("flood",)),
            Subscription("streetlights", "webhook", hook_url, secret="hook-secret", min_severity=Severity.MAJOR),
        ], mqtt=mqtt, http=http)
        sink = AlertSink(AlertService(sessions, clock), feed, clock, tick_s=3600)
        await sink.start()
        gauge, other = device("00000000000000f1", tenant=city_id), device("00000000000000f2", tenant=city_id)
        lamp = device("00000000000000c1", family="streetlight", tenant=city_id)
        sink.submit(uplink(other, 0, water_level=0.2))
        for i, level in enumerate([0.3, 0.7, 1.6]):  # a rising flood
            sink.submit(uplink(gauge, 60 * (i + 1), water_level=level))
        sink.submit(uplink(lamp, 200, lamp_failure=True))
        sink.submit(uplink(gauge, 1150, water_level=1.7))  # this gauge keeps reporting
        await asyncio.sleep(0)
        await sink._queue.join()
        clock.advance(1200)  # the other gauge has been silent for 20 minutes
        await sink.tick()
        await sink.stop()
    await mqtt.close()
    assert feed.failures == 0
