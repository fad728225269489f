"""A consumer too slow for the broker's queue limits: mosquitto drops, and the loss shows as a metric and a log
line (issue 19 item 2, the MQTT side of overload).

mosquitto.conf(5): a client holds at most ``max_inflight_messages`` QoS 1 messages in flight and
``max_queued_messages`` queued beyond those; more are dropped and counted in
``$SYS/broker/publish/messages/dropped`` (mosquitto(8), "Broker Status"), published every ``sys_interval``.
Here the network server's uplink handling stalls while a gateway publishes at QoS 1 into a persistent QoS 1
subscription: every uplink is then either handled or counted as dropped, none lost silently."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator

import pytest

from lora_city.gateway.frames import UplinkFrame
from lora_city.gateway.mqtt_backend import MqttGatewayBackend
from lora_city.metrics import Metrics
from lora_city.settings import Settings
from lora_city.simulate.gateways import VirtualMqttGateway
from tests.conftest import _start
from tests.integration.gateway.conftest import RecordingEvents, gateway_id, unique_prefix, wait_until
from tests.support import services as svc

pytestmark = pytest.mark.integration

INFLIGHT, QUEUED, SENT = 2, 10, 100


@pytest.fixture()
def tight_broker() -> Iterator[svc.Service]:
    """A mosquitto with small per-client limits (later lines of its configuration win over the fixture's
    generous defaults) and a $SYS report every second."""
    broker = _start(lambda: svc.start_mosquitto(
        extra=f"max_inflight_messages {INFLIGHT}\nmax_queued_messages {QUEUED}\nsys_interval 1"))
    yield broker
    broker.stop()


class StalledEvents(RecordingEvents):
    """The network server stuck on something slow (a database, a sink): uplinks wait until ``gate`` opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.handled = 0

    async def on_uplink(self, frame: UplinkFrame) -> None:
        await self.gate.wait()
        self.handled += 1
        await super().on_uplink(frame)


def dropped(metrics: Metrics) -> float:
    return metrics.registry.get_sample_value("lora_city_mqtt_broker_dropped") or 0.0


def test_a_slow_consumer_s_losses_at_the_broker_are_counted_and_logged(
        tight_broker: svc.Service, caplog: pytest.LogCaptureFixture) -> None:
    async def run() -> None:
        prefix = unique_prefix()
        metrics = Metrics()
        settings = Settings(mqtt_url=tight_broker.url, mqtt_topic_prefix=prefix,
                            mqtt_client_id=f"lc-slow-{uuid.uuid4().hex[:8]}")  # persistent session, QoS 1
        backend = MqttGatewayBackend(settings, metrics)
        events = StalledEvents()
        await backend.start(events)
        gw = VirtualMqttGateway(tight_broker.url, gateway_id(), prefix=prefix)
        try:
            await gw.start()
            for n in range(SENT):
                await gw.send_uplink(bytes([0x40, 1, 2, 3, 4, 0, n, 0, 1, 0xAA]), qos=1)
            # still stalled: the drop count is read on a connection of its own, so it is seen now, not only
            # after the backlog it reports has been worked through
            await wait_until(lambda: dropped(metrics) > 0, timeout=60)
            assert events.handled == 0
            events.gate.set()
            # every uplink is handled or counted as dropped: none lost without a counter moving
            await wait_until(lambda: events.handled + dropped(metrics) == SENT, timeout=60)
            assert events.handled >= INFLIGHT  # the broker kept what its limits allow
        finally:
            await gw.stop()
            await backend.stop()

    with caplog.at_level(logging.WARNING, logger="lora_city.gateway.mqtt_backend"):
        asyncio.run(run())
    warnings = [r.getMessage() for r in caplog.records if "broker dropped" in r.getMessage()]
    assert warnings, caplog.text
    # one line per $SYS report at most (rate-limited by the broker's sys_interval), not one per lost message
    assert len(warnings) < SENT
