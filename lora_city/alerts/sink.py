"""``AlertSink``: the alert engine plugged into the sink hub. It evaluates every uplink, records the changes,
announces them on the supervision feed, and every ``tick_s`` checks silent devices and escalations.

A rule created or deleted through the API or the portal applies to the next uplink, in every process: before
evaluating what it took from its queue, the sink reads the rules' change counter (one row) and reloads the rules
when it moved (lora_city/storage/generations.py). The tick reloads them too, as a fallback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from lora_city.alerts.engine import AlertChange, AlertEngine
from lora_city.alerts.feed import AlertMessage, SupervisionFeed
from lora_city.alerts.service import AlertService
from lora_city.sinks.events import DeviceEvent, UplinkEvent

log = logging.getLogger(__name__)


class AlertSink:
    name = "alerts"

    def __init__(self, service: AlertService, feed: SupervisionFeed | None, clock: Callable[[], datetime], *,
                 tick_s: float = 30.0, queue_size: int = 10_000) -> None:
        self._service = service
        self._feed = feed
        self._clock = clock
        self._tick_s = tick_s
        self._queue: asyncio.Queue[UplinkEvent] = asyncio.Queue(queue_size)
        self.engine: AlertEngine = AlertEngine()
        self._tasks: list[asyncio.Task[None]] = []
        self._rules_generation: int | None = None
        self.dropped = 0

    async def start(self) -> None:
        self._rules_generation = await asyncio.to_thread(self._service.rules_generation)
        self.engine = await asyncio.to_thread(self._service.build_engine)
        self._tasks = [asyncio.create_task(self._consume()), asyncio.create_task(self._ticker())]

    def submit(self, event: DeviceEvent) -> None:
        if isinstance(event, UplinkEvent):
            try:
                self._queue.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped += 1  # the readings store keeps the data; only the alert evaluation is late
                log.warning("alert queue full; uplink %s not evaluated", event.uplink_id)

    async def stop(self) -> None:
        await self._queue.join()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def on_gateway_state(self, gateway_id: str, tenant_id: str, online: bool) -> None:
        await self._apply(self.engine.on_gateway_state(gateway_id, tenant_id, online, self._clock()))

    async def on_gateways_never_seen(self, gateways: list[tuple[str, str, datetime]]) -> None:
        if gateways:
            await self._apply(self.engine.on_gateways_never_seen(gateways, self._clock()))

    async def tick(self) -> None:
        # rules edited through the API take effect here, within one tick
        self.engine.set_rules(await asyncio.to_thread(self._service.load_rules))
        await self._apply(self.engine.tick(self._clock()))
        await self._announce(await asyncio.to_thread(self._service.escalate_due))

    async def _refresh_rules(self) -> None:
        """Reload the rules if any changed since the last look (an event taken after the change was committed is
        evaluated under it)."""
        try:
            changed = await asyncio.to_thread(self._service.rules_if_changed, self._rules_generation)
        except Exception:
            log.exception("alert rules not reloaded; the previous ones stay in force")
            return
        if changed is not None:
            self._rules_generation, rules = changed
            self.engine.set_rules(rules)

    async def _consume(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < 500:  # one look at the rules' counter per batch, not per uplink
                try:
                    batch.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            await self._refresh_rules()
            for event in batch:
                try:
                    await self._apply(self.engine.on_uplink(event))
                    if self._feed is not None:
                        await self._feed.publish_reading(event)
                except Exception:
                    log.exception("alert evaluation failed", extra={"dev_eui": event.device.dev_eui})
                finally:
                    self._queue.task_done()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                await self.tick()
            except Exception:
                log.exception("alert tick failed")

    async def _apply(self, changes: list[AlertChange]) -> None:
        if changes:
            await self._announce(await asyncio.to_thread(self._service.record, changes))

    async def _announce(self, messages: list[AlertMessage]) -> None:
        if self._feed is not None:
            for msg in messages:
                await self._feed.publish_alert(msg)
