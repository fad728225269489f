"""The application-layer sink: it takes every uplink decoded as package commands (``decode.py``), answers TS003
clock synchronisation itself and hands every other command to its listeners (the FUOTA orchestrator).

Answers go through the device's ordinary downlink queue on the package's FPort, so class A devices get them in their
next receive window and class C devices at once (the network server's notifier), with the same duty-cycle and
gateway choice as any other downlink: no second queue beside lora_city/downlink.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from lora_city.applayer.decode import commands_of
from lora_city.applayer.profile import PackagePort, package_on
from lora_city.lorawan.applayer import clock_sync
from lora_city.lorawan.applayer.commands import AppCommand
from lora_city.lorawan.gps_time import gps_seconds_mod32
from lora_city.sinks.events import DeviceEvent, UplinkEvent
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import DeviceQueueItem

log = logging.getLogger(__name__)

Listener = Callable[[str, PackagePort, AppCommand, datetime], Awaitable[None]]
Notifier = Callable[[str], None]


def clock_answers(commands: list[AppCommand], received_at: datetime) -> list[AppCommand]:
    """TS003 §3.2: an AppTimeReq is answered with the correction to the server's GPS clock at reception, when the
    device asked for an answer (AnsRequired) or its clock is off by at least a second."""
    now = gps_seconds_mod32(received_at)
    answers = []
    for cmd in commands:
        if cmd.name == "AppTimeReq":
            answer = clock_sync.app_time_answer(cmd, now)
            if cmd["ans_required"] or answer["time_correction"] != 0:
                answers.append(answer)
    return answers


class AppLayerService:
    name = "app_layer"

    def __init__(self, factory: SessionFactory, *, notifier: Notifier | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._factory = factory
        self._notifier = notifier
        self._clock = clock
        self._queue: asyncio.Queue[UplinkEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.listeners: list[Listener] = []
        self.handled = 0

    def set_notifier(self, notifier: Notifier) -> None:
        self._notifier = notifier

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="app-layer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def submit(self, event: DeviceEvent) -> None:
        if isinstance(event, UplinkEvent) and event.data and "app_layer" in event.data:
            self._queue.put_nowait(event)

    async def idle(self) -> None:
        """Wait until every submitted uplink has been handled (tests)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self.handle(event)
            except Exception:  # one device's bad exchange must not stop the others
                log.exception("application-layer uplink failed: dev_eui=%s uplink_id=%s", event.device.dev_eui,
                              event.uplink_id)
            finally:
                self._queue.task_done()

    def answer(self, dev_eui: str, entry: PackagePort, commands: list[AppCommand], received_at: datetime) -> bool:
        """Called by the uplink pipeline before the class A answer is built, so that a clock answer leaves in the
        receive windows of the very uplink that asked (TS003 §3.2: the device measures the correction from its
        request). One small insert, on the rare uplinks of this port."""
        if entry.name != "clock_sync":
            return False
        answers = clock_answers(commands, received_at)
        if not answers:
            return False
        self.send(dev_eui, entry, answers, notify=False)
        return True

    async def handle(self, event: UplinkEvent) -> None:
        entry = package_on(event.device.app_layer, event.f_port)
        if entry is None:
            return
        commands = commands_of(event.data)
        dev_eui = event.device.dev_eui
        for cmd in commands:
            for listener in self.listeners:
                await listener(dev_eui, entry, cmd, event.time)
        self.handled += 1

    def queue_item(self, dev_eui: str, entry: PackagePort, commands: list[AppCommand]) -> DeviceQueueItem:
        """The queue row carrying ``commands`` on the package's port, for a caller's own transaction (then
        :meth:`notify` once it committed)."""
        return DeviceQueueItem(dev_eui=dev_eui, f_port=entry.port, payload=entry.package.encode(commands),
                               confirmed=False, created_at=self._clock())

    def notify(self, dev_eui: str) -> None:
        """Tell the network server the device has something queued (class C: sent at once; class A: next uplink)."""
        if self._notifier is None:
            return
        try:
            self._notifier(dev_eui)
        except Exception:  # the item stays queued and leaves at the device's next opportunity
            log.exception("downlink notifier failed: dev_eui=%s", dev_eui)

    def send(self, dev_eui: str, entry: PackagePort, commands: list[AppCommand], *, notify: bool = True) -> str:
        """Queue ``commands`` for one device in a transaction of its own (blocking: from a thread, or from the
        pipeline for one row); ``notify`` tells the network server."""
        with transaction(self._factory) as db:
            item = self.queue_item(dev_eui, entry, commands)
            db.add(item)
            db.flush()
            item_id = item.id
        if notify:
            self.notify(dev_eui)
        return item_id
