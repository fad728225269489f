"""The tenant integrations sink: each device event of a tenant delivered to every enabled integration of that
tenant that wants its kind: POSTed to a webhook (``webhooks.py``) or published on the tenant's MQTT broker
(``tenant_mqtt.py``).

Flow: ``submit`` queues the event (no lookup on the radio side) → the outbox pump's thread takes a batch, reads
the configuration generation (one row), reloads the integrations if anything changed since the last batch, and
journals one outbox row per (event, integration) → a worker per integration delivers its rows in order, with
exponential backoff while the endpoint fails (``pump.py``). So an integration created, changed or deleted
through the API applies to the next event, in every process, and an endpoint's outage of any length loses
nothing. Every attempt goes to the delivery log (``deliveries.py``), which the API reads.

A row holds ``"<kind> <application id or -> <dev_eui>\\n"`` then the exact body to send (JSON or protobuf, as
the integration asked when the event was routed); the webhook URL and the MQTT topic are taken from the
configuration current when the row is delivered.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime

from lora_city.metrics import Metrics
from lora_city.sinks.chirpstack_json import event_kind, to_json_bytes, to_protobuf_bytes
from lora_city.sinks.deliveries import Attempt, DeliveryLog
from lora_city.sinks.events import DeviceEvent, DeviceInfo, LogEvent
from lora_city.sinks.integrations import IntegrationConfig, IntegrationStore
from lora_city.sinks.outbox import Journaled, Outbox
from lora_city.sinks.pump import OutboxPump, PermanentFailure, TargetGone
from lora_city.sinks.tenant_mqtt import MqttSender, render_topic
from lora_city.sinks.webhooks import Outcome, WebhookSender

log = logging.getLogger(__name__)


def encode_row(event_kind_: str, application_id: str | None, dev_eui: str, body: bytes) -> bytes:
    return f"{event_kind_} {application_id or '-'} {dev_eui}\n".encode() + body


def decode_row(row: bytes) -> tuple[str, str, str, bytes]:
    head, _, body = row.partition(b"\n")
    parts = head.decode().split(" ")
    if len(parts) == 1:  # a row journaled by the previous version: "<kind>\n<json>"
        return parts[0], "", "", body
    kind, application_id, dev_eui = parts
    return kind, "" if application_id == "-" else application_id, dev_eui, body


class Deliverer:
    """Sends one row to one integration, by kind; records the attempt. Shared by the sink and the API's test
    button."""

    def __init__(self, webhook: WebhookSender, mqtt: MqttSender, deliveries: DeliveryLog | None) -> None:
        self.webhook = webhook
        self.mqtt = mqtt
        self._deliveries = deliveries

    def send(self, config: IntegrationConfig, kind: str, application_id: str, dev_eui: str, body: bytes,
             *, attempt: int = 1, logged_as: str | None = None) -> Outcome:
        started = time.monotonic()
        if config.kind == "webhook":
            outcome = self.webhook.send(config, kind, body)
        elif config.kind == "mqtt":
            try:
                topic = render_topic(config.topic_template, application_id=application_id, dev_eui=dev_eui,
                                     event=kind, tenant_id=config.tenant_id)
            except (KeyError, IndexError, ValueError) as exc:
                outcome = Outcome(False, error=f"topic template {config.topic_template!r}: {exc}",
                                  permanent=True)
            else:
                outcome = self.mqtt.send(config, topic, body)
        else:
            outcome = Outcome(False, error=f"unknown integration kind {config.kind!r}", permanent=True)
        if self._deliveries is not None:
            self._deliveries.record(Attempt(
                config.id, logged_as or kind, outcome.ok, dev_eui=dev_eui or None, status=outcome.status, error=outcome.error,
                attempt=attempt, duration_ms=round((time.monotonic() - started) * 1000, 1),
            ))
        return outcome

    def close(self) -> None:
        self.webhook.close()
        self.mqtt.close()


class IntegrationSink:
    name = "integration"

    def __init__(
        self,
        store: IntegrationStore,
        outbox: Outbox,
        metrics: Metrics,
        deliveries: DeliveryLog,
        *,
        webhook: WebhookSender | None = None,
        mqtt: MqttSender | None = None,
        backoff_max_s: float = 60.0,
        parallel_integrations: int = 8,
        freshness_s: float = 0.05,
    ) -> None:
        self._store = store
        self._deliveries = deliveries
        self._deliverer = Deliverer(webhook or WebhookSender(), mqtt or MqttSender(), deliveries)
        self._freshness_s = freshness_s
        self._generation: int | None = None
        self._checked = 0.0
        self._by_tenant: dict[str, list[IntegrationConfig]] = {}
        self._by_target: dict[str, IntegrationConfig] = {}
        self._failures: dict[str, int] = {}  # consecutive failed attempts per target: the next attempt's number
        self._refresh_lock = threading.Lock()
        self.pump = OutboxPump(
            self.name, outbox, self._deliver, metrics,
            coalesce=False, batch_items=1000, rows_per_delivery=1, flush_interval_s=0.05,
            backoff_max_s=backoff_max_s, parallel_targets=parallel_integrations, route=self._route,
        )

    async def start(self) -> None:
        await asyncio.to_thread(self._refresh, True)
        self._deliveries.start()
        await asyncio.to_thread(self.pump.start)

    def submit(self, event: DeviceEvent) -> None:
        self.pump.put_unrouted(event)

    async def durable(self) -> None:
        """Returns once every event submitted before the call is routed and its rows are in the outbox."""
        await self.pump.durable()

    async def stop(self) -> None:
        await asyncio.to_thread(self.pump.stop)
        await asyncio.to_thread(self._deliveries.stop)
        self._deliverer.close()

    # --- the pump thread and its workers ------------------------------------------------------------------

    def _refresh(self, force: bool = False) -> None:
        """Reload the integrations when the generation moved (one primary-key read)."""
        with self._refresh_lock:
            now = time.monotonic()
            if not force and now - self._checked < self._freshness_s:
                return
            generation = self._store.generation()
            self._checked = now
            if generation == self._generation:
                return
            generation, configs = self._store.enabled()
            by_tenant: dict[str, list[IntegrationConfig]] = {}
            for c in configs:
                by_tenant.setdefault(c.tenant_id, []).append(c)
            # Swapped whole: the workers read them without the lock.
            self._by_target = {c.target: c for c in configs}
            self._by_tenant = by_tenant
            self._generation = generation
        self._deliverer.mqtt.sync(configs)
        log.info("integrations: %d enabled (configuration generation %d)", len(configs), generation)

    def _route(self, events: list[DeviceEvent]) -> list[Journaled]:
        self._refresh(force=True)  # these events were taken from the queue before this read
        rows: list[Journaled] = []
        by_tenant = self._by_tenant
        for event in events:
            configs = by_tenant.get(event.device.tenant_id)
            if not configs:
                continue
            kind = event_kind(event)
            bodies: dict[str, bytes] = {}
            for c in configs:
                if not c.wants(kind):
                    continue
                body = bodies.get(c.encoding)
                if body is None:
                    try:
                        body = bodies[c.encoding] = (to_protobuf_bytes(event) if c.encoding == "protobuf"
                                                     else to_json_bytes(event))
                    except Exception:
                        log.exception("integrations: cannot encode a %s event (dev_eui=%s)", kind,
                                      event.device.dev_eui)
                        break
                rows.append(Journaled(c.target, encode_row(kind, event.device.application_id,
                                                           event.device.dev_eui, body),
                                      dev_eui=event.device.dev_eui))
        return rows

    def _deliver(self, target: str, bodies: list[bytes]) -> None:
        self._refresh()
        config = self._by_target.get(target)
        if config is None:
            self._failures.pop(target, None)
            raise TargetGone("the integration was deleted or disabled")
        for row in bodies:
            kind, application_id, dev_eui, body = decode_row(row)
            if not config.wants(kind):
                continue  # the integration stopped taking this kind of event since it was routed
            attempt = self._failures.get(target, 0) + 1
            outcome = self._deliverer.send(config, kind, application_id, dev_eui, body, attempt=attempt)
            if outcome.ok:
                self._failures.pop(target, None)
                continue
            if outcome.permanent:
                self._failures.pop(target, None)
                raise PermanentFailure(outcome.error or "refused")
            self._failures[target] = attempt
            raise RuntimeError(outcome.error or "delivery failed")


def sample_event(config: IntegrationConfig, now: datetime | None = None) -> LogEvent:
    """What the test button sends: a ChirpStack ``log`` event of level INFO, for no device (DevEUI zero)."""
    return LogEvent(
        time=now or datetime.now(UTC),
        device=DeviceInfo(dev_eui="0000000000000000", tenant_id=config.tenant_id, device_name="lora_city test"),
        level="INFO", code="UNKNOWN",
        description="Test event sent from lora_city to check this integration.",
        context={"integration_id": config.id},
    )


def send_sample(deliverer: Deliverer, config: IntegrationConfig) -> Outcome:
    event = sample_event(config)
    body = to_protobuf_bytes(event) if config.encoding == "protobuf" else to_json_bytes(event)
    return deliverer.send(config, "log", "", event.device.dev_eui, body, logged_as="test")
