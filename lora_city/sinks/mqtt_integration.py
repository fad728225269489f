"""The MQTT integration: every device event published with ChirpStack v4's topic and JSON, so consumers written
for ChirpStack work unchanged: ``application/{application_id}/device/{dev_eui}/event/{up|join|ack|txack|status|log}``.

Publishing goes through a ``Publisher`` (``lora_city.mqtt.MqttClient`` in production) with QoS 1 by default:
the client resends unacknowledged publishes after a reconnect. Events queue in memory (bounded) while the
broker is away; there is no SQL outbox for MQTT, the broker is the product's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from lora_city.metrics import Metrics
from lora_city.sinks.chirpstack_json import to_json_bytes, topic
from lora_city.sinks.events import DeviceEvent

log = logging.getLogger(__name__)


class Publisher(Protocol):
    async def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None: ...


class MqttIntegrationSink:
    name = "mqtt"

    def __init__(
        self,
        publisher: Publisher,
        metrics: Metrics,
        *,
        qos: int = 1,
        queue_size: int = 50_000,
        max_in_flight: int = 100,
    ) -> None:
        self._publisher = publisher
        self._metrics = metrics
        self._qos = qos
        self._queue: asyncio.Queue[DeviceEvent | None] = asyncio.Queue(queue_size)
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._pending: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self.published = 0
        self.dropped = 0

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="sink-mqtt")

    def submit(self, event: DeviceEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            self._metrics.sink_errors.labels(self.name).inc()

    async def stop(self, timeout_s: float = 10.0) -> None:
        if self._worker is None:
            return
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._worker), timeout_s)
            if self._pending:
                await asyncio.wait(self._pending, timeout=timeout_s)
        except TimeoutError:
            log.warning("sink mqtt: %d event(s) unpublished at shutdown", self._queue.qsize() + len(self._pending))
        self._worker.cancel()
        self._worker = None  # a second stop() is a no-op
        for task in self._pending:
            task.cancel()

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            self._metrics.sink_queue_depth.labels(self.name).set(self._queue.qsize())
            try:
                message_topic, payload = topic(event), to_json_bytes(event)
            except Exception:
                log.exception("sink mqtt: cannot encode event (dev_eui=%s)", event.device.dev_eui)
                self._metrics.sink_errors.labels(self.name).inc()
                continue
            # Several QoS 1 publishes in flight (each waits for its PUBACK); packets still leave in order.
            await self._in_flight.acquire()
            task = asyncio.create_task(self._publish(message_topic, payload, event.device.dev_eui))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _publish(self, message_topic: str, payload: bytes, dev_eui: str) -> None:
        try:
            await self._publisher.publish(message_topic, payload, qos=self._qos)
            self.published += 1
        except Exception as exc:
            self._metrics.sink_errors.labels(self.name).inc()
            log.warning("sink mqtt: publish to %s failed (dev_eui=%s): %s", message_topic, dev_eui, exc)
        finally:
            self._in_flight.release()
