"""The sinks as the composition root wires them: ``build_sinks(...)`` returns a ``SinkHub`` to start, feed with
``submit(event)`` and stop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from lora_city.metrics import Metrics
from lora_city.settings import Settings
from lora_city.sinks.deliveries import DeliveryLog
from lora_city.sinks.erasure import Flavour, TimeSeriesEraser
from lora_city.sinks.events import Sink
from lora_city.sinks.hub import SinkHub
from lora_city.sinks.influx import InfluxSink
from lora_city.sinks.integration_sink import IntegrationSink
from lora_city.sinks.integrations import IntegrationStore
from lora_city.sinks.mqtt_integration import MqttIntegrationSink, Publisher
from lora_city.sinks.outbox import Outbox
from lora_city.sinks.retention import RetentionJob
from lora_city.sinks.store import ReadingStoreSink
from lora_city.sinks.webhooks import WebhookSender
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import utcnow


def build_sinks(
    settings: Settings,
    session_factory: SessionFactory,
    metrics: Metrics,
    *,
    mqtt: Publisher | None = None,
    http: httpx.Client | None = None,
    vault: KeyVault | None = None,
    integrations: bool = True,
    retention_default_days: int | None = None,
    retention_interval_s: float = 3600.0,
    clock: Callable[[], datetime] = utcnow,
) -> SinkHub:
    """The embedded store (always), InfluxDB (when ``settings.influx_url``), the tenants' integrations (their
    webhooks and MQTT brokers), and the product's own MQTT integration (when a publisher is given, e.g. a
    connected ``lora_city.mqtt.MqttClient``)."""
    outbox = Outbox(session_factory)
    sinks: list[Sink] = [ReadingStoreSink(session_factory, metrics)]
    if settings.influx_url:
        sinks.append(InfluxSink(
            settings.influx_url, token=settings.influx_token, org=settings.influx_org,
            bucket=settings.influx_bucket, outbox=outbox, metrics=metrics,
        ))
    if integrations:
        store = IntegrationStore(session_factory, vault or KeyVault(settings.secret_key))
        sinks.append(IntegrationSink(store, outbox, metrics, DeliveryLog(session_factory),
                                     webhook=WebhookSender(http) if http is not None else None))
    if mqtt is not None:
        sinks.append(MqttIntegrationSink(mqtt, metrics))
    retention = RetentionJob(
        session_factory, default_days=retention_default_days, interval_s=retention_interval_s, clock=clock
    )
    return SinkHub(sinks, metrics, services=[retention])


def build_timeseries_eraser(settings: Settings, flavour: Flavour = "influxdb2") -> TimeSeriesEraser | None:
    """For ``erase_device``: None when no time-series server is configured."""
    if not settings.influx_url:
        return None
    return TimeSeriesEraser(settings.influx_url, token=settings.influx_token, org=settings.influx_org,
                            bucket=settings.influx_bucket, flavour=flavour)
