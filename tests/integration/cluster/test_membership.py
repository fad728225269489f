"""Membership over a real mosquitto (a private one: the test restarts it): members see each other join and
leave, and a member that loses the broker says so (its devices reload) and comes back in the list."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest

from lora_city.cluster.membership import Membership
from tests.support.services import ServiceUnavailable, start_mosquitto

pytestmark = pytest.mark.integration


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def test_join_leave_and_broker_loss() -> None:
    try:
        broker = start_mosquitto()
    except ServiceUnavailable as exc:
        pytest.skip(str(exc))

    async def run() -> None:
        root = f"lora-city/t{uuid.uuid4().hex[:8]}/ns"
        views: dict[str, list[set[str]]] = {"m1": [], "m2": []}
        lost: list[str] = []

        def member(name: str) -> Membership:
            return Membership(broker.url, root, name, lambda now, _gone: views[name].append(now),
                              on_lost=lambda: lost.append(name), heartbeat_s=0.5)

        m1 = member("m1")
        await m1.start()
        assert views["m1"] == [{"m1"}]
        m2 = member("m2")
        await m2.start()
        assert views["m2"][-1] == {"m1", "m2"}  # the retained presence of m1 was there before m2's own
        await until(lambda: views["m1"][-1] == {"m1", "m2"})

        broker.kill()
        await until(lambda: sorted(lost) == ["m1", "m2"])
        broker.restart()  # a broker without persistence: the presence comes back with the re-announcements
        await asyncio.sleep(1.0)
        views["m3"] = []
        m3 = member("m3")  # a newcomer learns the members from the retained presences alone
        await m3.start()
        await until(lambda: views["m3"][-1] == {"m1", "m2", "m3"})

        await m2.stop()
        await until(lambda: views["m1"][-1] == {"m1", "m3"} and views["m3"][-1] == {"m1", "m3"})
        await m1.stop()
        await m3.stop()

    try:
        asyncio.run(run())
    finally:
        broker.stop()
