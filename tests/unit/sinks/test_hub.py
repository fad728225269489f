"""The hub isolates sinks: one that raises in submit is counted and the others still get every event."""

import asyncio

from lora_city.metrics import Metrics
from lora_city.sinks.events import DeviceEvent
from lora_city.sinks.hub import SinkHub
from tests.unit.sinks.factories import uplink


class ListSink:
    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[DeviceEvent] = []
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    def submit(self, event: DeviceEvent) -> None:
        self.events.append(event)

    async def stop(self) -> None:
        self.stopped = True


class BrokenSink(ListSink):
    def submit(self, event: DeviceEvent) -> None:
        raise RuntimeError("disk on fire")

    async def stop(self) -> None:
        raise RuntimeError("still on fire")


def test_failing_sink_is_counted_and_isolated() -> None:
    metrics = Metrics()
    first, broken, last = ListSink("first"), BrokenSink("broken"), ListSink("last")
    hub = SinkHub([first, broken, last], metrics)

    async def run() -> None:
        await hub.start()
        for n in range(5):
            hub.submit(uplink(n))
        await hub.stop()

    asyncio.run(run())
    assert [e.f_cnt for e in first.events] == [0, 1, 2, 3, 4]  # type: ignore[union-attr]
    assert [e.f_cnt for e in last.events] == [0, 1, 2, 3, 4]  # type: ignore[union-attr]
    assert metrics.sink_errors.labels("broken")._value.get() == 6  # 5 submits + 1 stop
    assert metrics.sink_errors.labels("last")._value.get() == 0
    assert first.stopped and last.stopped
