"""A recording GatewayEvents sink shared by the gateway integration tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from lora_city.gateway.frames import DownlinkTxAck, GatewayConnState, GatewayStats, UplinkFrame
from lora_city.metrics import Metrics

T = TypeVar("T")


class RecordingEvents:
    """Implements GatewayEvents by queueing whatever arrives, so tests can await each event."""

    def __init__(self) -> None:
        self.uplinks: asyncio.Queue[UplinkFrame] = asyncio.Queue()
        self.stats: asyncio.Queue[GatewayStats] = asyncio.Queue()
        self.acks: asyncio.Queue[DownlinkTxAck] = asyncio.Queue()
        self.states: asyncio.Queue[GatewayConnState] = asyncio.Queue()

    async def on_uplink(self, frame: UplinkFrame) -> None:
        self.uplinks.put_nowait(frame)

    async def on_stats(self, stats: GatewayStats) -> None:
        self.stats.put_nowait(stats)

    async def on_tx_ack(self, ack: DownlinkTxAck) -> None:
        self.acks.put_nowait(ack)

    async def on_conn_state(self, state: GatewayConnState) -> None:
        self.states.put_nowait(state)


async def next_item(queue: asyncio.Queue[T], timeout: float = 5.0) -> T:
    return await asyncio.wait_for(queue.get(), timeout)


def bad_input(metrics: Metrics, transport: str, reason: str) -> float:
    return metrics.registry.get_sample_value(
        "lora_city_gateway_bad_input_total", {"transport": transport, "reason": reason}
    ) or 0.0


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def gateway_id() -> str:
    return uuid.uuid4().hex[:16]


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
