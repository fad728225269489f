"""The supervision feed: alerts and selected live readings on the city's data bus, so the hypervisor and other
services subscribe without touching the database. One JSON schema (``feed.schema.json`` beside this file,
``docs/supervision-feed.md`` for people), two transports: MQTT topics and signed webhooks.

Topics (``<prefix>`` is the subscription's target, e.g. ``city``):
- ``<prefix>/supervision/<service>/alert``            every alert transition of the service
- ``<prefix>/supervision/<service>/reading/<family>`` live readings of the families the service follows
Webhooks receive the same JSON, POSTed with ``X-LoraCity-Signature: sha256=<hex HMAC of the body>``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from lora_city.alerts.rules import SEVERITY_ORDER, Severity
from lora_city.sinks.events import UplinkEvent
from lora_city.sinks.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from lora_city.sinks.webhooks import sign as webhook_sign

log = logging.getLogger(__name__)
SCHEMA_ID = "https://lora-city.example/schemas/supervision-feed/1"


class Publisher(Protocol):
    async def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None: ...


@dataclass(frozen=True, slots=True)
class Subscription:
    service: str
    kind: str  # mqtt | webhook
    target: str  # topic prefix or URL
    secret: str | None = None
    families: tuple[str, ...] = ()
    min_severity: Severity = Severity.INFO


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What the feed says of one alert transition."""

    alert_id: str
    transition: str  # raised | level_changed | acknowledged | escalated | resolved
    service: str
    tenant_id: str
    severity: Severity
    state: str
    subject: str
    level: str | None
    value: float | None
    message: str
    rule_id: str
    rule_name: str
    time: datetime
    actor: str = "system"
    count: int = 1  # how many times the alert has been raised: > 1, reopened by a flapping condition
    extra: dict[str, Any] = field(default_factory=dict)


def alert_document(msg: AlertMessage) -> dict[str, Any]:
    return {
        "schema": SCHEMA_ID,
        "type": "alert",
        "time": msg.time.isoformat(),
        "service": msg.service,
        "alert": {
            "id": msg.alert_id, "transition": msg.transition, "state": msg.state, "severity": msg.severity.value,
            "level": msg.level, "value": msg.value, "subject": msg.subject, "tenant_id": msg.tenant_id,
            "rule": {"id": msg.rule_id, "name": msg.rule_name}, "message": msg.message, "actor": msg.actor,
            "count": msg.count,
        },
    }


def reading_document(service: str, event: UplinkEvent) -> dict[str, Any]:
    best = max(event.rx, key=lambda r: r.snr, default=None)
    return {
        "schema": SCHEMA_ID,
        "type": "reading",
        "time": event.time.isoformat(),
        "service": service,
        "reading": {
            "dev_eui": event.device.dev_eui,
            "device_name": event.device.device_name,
            "family": event.device.family,
            "asset_id": event.device.tags.get("asset_id"),
            "measurements": {k: {"value": v, "unit": u} for k, (v, u) in event.measurements.items()},
            "location": {"latitude": best.latitude, "longitude": best.longitude} if best and best.latitude else None,
        },
    }


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """The same signature as the tenants' webhooks (lora_city/sinks/webhooks.py, docs/integrations.md):
    HMAC-SHA256 of ``<timestamp>.<body>``, so one verification snippet serves both and old requests can be
    refused by their time."""
    return webhook_sign(secret.encode(), timestamp, body)


class SupervisionFeed:
    """Fans feed documents out to the subscriptions. Delivery failures are logged and counted, never raised:
    the alert itself is already stored, and the console shows it whatever the bus does."""

    def __init__(self, subscriptions: list[Subscription], *, mqtt: Publisher | None = None,
                 http: httpx.AsyncClient | None = None) -> None:
        self.subscriptions = subscriptions
        self._mqtt = mqtt
        self._http = http
        self.failures = 0

    async def publish_alert(self, msg: AlertMessage) -> None:
        body = json.dumps(alert_document(msg)).encode()
        for sub in self.subscriptions:
            if sub.service == msg.service and SEVERITY_ORDER[msg.severity] >= SEVERITY_ORDER[sub.min_severity]:
                await self._send(sub, f"supervision/{sub.service}/alert", body)

    async def publish_reading(self, event: UplinkEvent) -> None:
        family = event.device.family or "other"
        for sub in self.subscriptions:
            if family in sub.families:
                body = json.dumps(reading_document(sub.service, event)).encode()
                await self._send(sub, f"supervision/{sub.service}/reading/{family}", body)

    async def _send(self, sub: Subscription, suffix: str, body: bytes) -> None:
        try:
            if sub.kind == "mqtt" and self._mqtt is not None:
                # QoS 1: the crisis post must not miss a transition over a flaky link
                await self._mqtt.publish(f"{sub.target.rstrip('/')}/{suffix}", body, qos=1)
            elif sub.kind == "webhook" and self._http is not None:
                headers = {"Content-Type": "application/json"}
                if sub.secret:
                    timestamp = str(int(time.time()))
                    headers[TIMESTAMP_HEADER] = timestamp
                    headers[SIGNATURE_HEADER] = sign(sub.secret, body, timestamp)
                response = await self._http.post(sub.target, content=body, headers=headers, timeout=5.0)
                response.raise_for_status()
        except Exception as exc:  # a subscriber's failure must not stop the others
            self.failures += 1
            log.warning("supervision feed delivery to %s %s failed: %s", sub.kind, sub.target, exc)
