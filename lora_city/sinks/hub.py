"""``SinkHub``: hands every device event to every sink. Each sink has its own bounded queue and its own thread
or task, so ``submit`` here costs a few microseconds per sink and one slow or failing sink never holds up
another, nor the radio side. A sink whose ``submit`` raises anyway is counted and skipped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from lora_city.metrics import Metrics
from lora_city.sinks.events import DeviceEvent, Sink

log = logging.getLogger(__name__)


class Service(Protocol):
    """A background job started and stopped with the sinks (the retention purge)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class SinkHub:
    name = "hub"

    def __init__(self, sinks: Sequence[Sink], metrics: Metrics, *, services: Sequence[Service] = ()) -> None:
        self.sinks = list(sinks)
        self.services = list(services)
        self._metrics = metrics

    def get(self, name: str) -> Sink | None:
        return next((s for s in self.sinks if s.name == name), None)

    def submit(self, event: DeviceEvent) -> None:
        for sink in self.sinks:
            try:
                sink.submit(event)
            except Exception:
                self._metrics.sink_errors.labels(sink.name).inc()
                log.exception("sink %s: submit failed (dev_eui=%s)", sink.name, event.device.dev_eui)

    async def durable(self, timeout_s: float = 5.0) -> None:
        """Returns once every event submitted before the call is committed by every durable sink (readings
        store, outboxes): a caller that must not lose an event (e.g. before acknowledging a confirmed uplink)
        awaits this. Raises TimeoutError while the database cannot take them."""
        waits = [d() for s in self.sinks if (d := getattr(s, "durable", None)) is not None]
        await asyncio.wait_for(asyncio.gather(*waits), timeout_s)

    def reread_outboxes(self) -> None:
        """After ``erasure.erase_device`` rewrote outbox rows: durable sinks drop their in-memory copies."""
        for sink in self.sinks:
            pump = getattr(sink, "pump", None)
            if pump is not None:
                pump.reread_outbox()

    async def start(self) -> None:
        for sink in self.sinks:
            await sink.start()
        for service in self.services:
            await service.start()

    async def stop(self) -> None:
        for service in self.services:
            await service.stop()
        # Every sink flushes what it holds, even when another one fails to stop.
        for sink in self.sinks:
            try:
                await sink.stop()
            except Exception:
                self._metrics.sink_errors.labels(sink.name).inc()
                log.exception("sink %s: stop failed", sink.name)
