"""lora_city.mqtt.MqttClient against a real mosquitto: QoS 0/1, retained, handler errors, reconnect."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest

from lora_city.mqtt import MqttClient, MqttConnectError, MqttMessage, MqttNotConnected
from tests.integration.gateway.conftest import next_item, unique_prefix, wait_until
from tests.support import services as svc

pytestmark = pytest.mark.integration


@pytest.fixture()
def private_broker() -> Iterator[svc.Service]:
    """A broker of our own: the reconnect test kills it, which must not disturb the shared one."""
    try:
        s = svc.start_mosquitto()
    except svc.ServiceUnavailable as exc:
        pytest.skip(str(exc))
    yield s
    s.stop()


def test_publish_subscribe_qos_and_retain(mosquitto: svc.Service) -> None:
    async def run() -> None:
        topic = unique_prefix()
        received: asyncio.Queue[MqttMessage] = asyncio.Queue()

        async def handler(msg: MqttMessage) -> None:
            if msg.payload == b"boom":
                raise RuntimeError("handler bug")  # must be logged, not kill the reader
            received.put_nowait(msg)

        pub = MqttClient(mosquitto.url)
        await pub.connect()
        await pub.publish(f"{topic}/retained", b"kept", qos=1, retain=True)
        sub = MqttClient(mosquitto.url, on_message=handler)
        await sub.connect()
        try:
            await sub.subscribe(f"{topic}/#", qos=1)
            first = await next_item(received)
            assert first == MqttMessage(f"{topic}/retained", b"kept", retain=True, qos=1)
            await pub.publish(f"{topic}/a", b"boom")
            await pub.publish(f"{topic}/a", b"zero")
            await pub.publish(f"{topic}/b", b"one" * 1000, qos=1)
            assert await next_item(received) == MqttMessage(f"{topic}/a", b"zero", False, 0)
            assert await next_item(received) == MqttMessage(f"{topic}/b", b"one" * 1000, False, 1)
            await sub.unsubscribe(f"{topic}/#")
            await pub.publish(f"{topic}/a", b"unheard", qos=1)
            await asyncio.sleep(0.1)
            assert received.empty()
        finally:
            await pub.publish(f"{topic}/retained", b"", qos=1, retain=True)  # clear the retained message
            await pub.close()
            await sub.close()

    asyncio.run(run())


def test_message_iterator_without_handler(mosquitto: svc.Service) -> None:
    async def run() -> None:
        topic = unique_prefix()
        client = MqttClient(mosquitto.url)
        await client.connect()
        await client.subscribe(topic)
        for i in range(3):
            await client.publish(topic, bytes([i]))
        got = []
        async for msg in client.messages():
            got.append(msg.payload)
            if len(got) == 3:
                break
        assert got == [b"\x00", b"\x01", b"\x02"]
        await client.close()

    asyncio.run(run())


def test_first_connect_failure_raises() -> None:
    async def run() -> None:
        client = MqttClient(f"mqtt://127.0.0.1:{svc.free_port()}", connect_timeout_s=2)
        with pytest.raises(MqttConnectError):
            await client.connect()

    asyncio.run(run())


def test_reconnects_and_resubscribes_after_broker_restart(private_broker: svc.Service) -> None:
    async def run() -> None:
        topic = unique_prefix()
        received: asyncio.Queue[MqttMessage] = asyncio.Queue()

        async def handler(msg: MqttMessage) -> None:
            received.put_nowait(msg)

        sub = MqttClient(private_broker.url, on_message=handler, reconnect_min_s=0.05, reconnect_max_s=0.2)
        pub = MqttClient(private_broker.url, reconnect_min_s=0.05, reconnect_max_s=0.2)
        await sub.connect()
        await pub.connect()
        try:
            await sub.subscribe(topic)
            await pub.publish(topic, b"before")
            assert (await next_item(received)).payload == b"before"

            private_broker.kill()
            await wait_until(lambda: not sub.connected and not pub.connected)
            with pytest.raises(MqttNotConnected):
                await pub.publish(topic, b"lost")
            private_broker.restart()
            await asyncio.wait_for(sub.wait_connected(), 10)
            await asyncio.wait_for(pub.wait_connected(), 10)
            # The resubscription is still in flight right after CONNACK: publish until it is heard.
            for _ in range(50):
                await pub.publish(topic, b"after", qos=1)
                if not received.empty():
                    break
                await asyncio.sleep(0.1)
            assert (await next_item(received)).payload == b"after"
        finally:
            await pub.close()
            await sub.close()

    asyncio.run(run())


def test_silent_broker_is_dropped_and_reconnected(private_broker: svc.Service) -> None:
    """A frozen broker (SIGSTOP: the TCP connection stays up, nothing answers) is detected by the keep-alive."""

    async def run() -> None:
        client = MqttClient(private_broker.url, keepalive_s=1, connect_timeout_s=1,
                            reconnect_min_s=0.05, reconnect_max_s=0.2)
        await client.connect()
        assert private_broker.proc is not None
        pid = private_broker.proc.pid
        try:
            os.kill(pid, signal.SIGSTOP)
            await wait_until(lambda: not client.connected, timeout=5)
            os.kill(pid, signal.SIGCONT)
            await asyncio.wait_for(client.wait_connected(), 10)
            assert client.connected
        finally:
            os.kill(pid, signal.SIGCONT)
            await client.close()

    asyncio.run(run())


def test_qos1_publish_made_while_disconnected_is_delivered_after_reconnect(private_broker: svc.Service) -> None:
    async def run() -> None:
        topic = unique_prefix()
        pub = MqttClient(private_broker.url, reconnect_min_s=0.05, reconnect_max_s=0.2)
        await pub.connect()
        private_broker.kill()
        await wait_until(lambda: not pub.connected)
        # retained, so the subscriber below sees it whenever it subscribes (the broker kept no state)
        pending = asyncio.create_task(pub.publish(topic, b"queued", qos=1, retain=True))
        await asyncio.sleep(0.1)
        assert not pending.done()  # waits for the PUBACK, which needs the broker back
        private_broker.restart()
        await asyncio.wait_for(pending, 10)
        sub = MqttClient(private_broker.url)
        await sub.connect()
        try:
            await sub.subscribe(topic, qos=1)
            msg = await asyncio.wait_for(anext(aiter(sub.messages())), 5)
            assert (msg.payload, msg.retain) == (b"queued", True)
        finally:
            await sub.close()
            await pub.close()

    asyncio.run(run())
