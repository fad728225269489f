"""CPU cost per received MQTT message: paho (threaded loop), paho driven from asyncio, lora_city.mqtt.MqttClient,
and the whole MqttGatewayBackend inbound path (protobuf decode, conversion, metrics, health).

A real mosquitto is started by the bench (tests/support/services.py). A separate publisher process sends N
ChirpStack UplinkFrame protobufs per variant as fast as it can at QoS 0, so only the receiver's CPU is
measured: time.process_time() (all threads of this process) from the first to the last message received.

    python3 bench/mqtt_client.py [--messages 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as paho  # noqa: E402

from lora_city.gateway import chirpstack as cs  # noqa: E402
from lora_city.gateway.frames import (  # noqa: E402
    DownlinkTxAck,
    GatewayConnState,
    GatewayStats,
    LoRaModulation,
    RxInfo,
    Transport,
    UplinkFrame,
)
from lora_city.gateway.health import GatewayHealth  # noqa: E402
from lora_city.gateway.mqtt_backend import MqttGatewayBackend  # noqa: E402
from lora_city.metrics import Metrics  # noqa: E402
from lora_city.mqtt import MqttClient, MqttMessage  # noqa: E402
from lora_city.settings import Settings  # noqa: E402
from tests.support import services as svc  # noqa: E402

GATEWAY_ID = "0016c001ff10a235"
IDLE_S = 3.0  # the run ends when nothing arrived for this long (messages the broker dropped are not waited for)


def uplink_payload(i: int) -> bytes:
    frame = UplinkFrame(
        phy_payload=bytes([0x40, 0x01, 0x02, 0x03, 0x04, 0x80, i & 0xFF, i >> 8 & 0xFF, 0x01]) + bytes(12),
        modulation=LoRaModulation(868_100_000, 7, 125_000),
        rx_info=RxInfo(GATEWAY_ID, i, -80.0, 7.5, 0, 0, (i * 1000).to_bytes(4, "big"), datetime.now(UTC)),
        transport=Transport.MQTT_PROTOBUF,
    )
    return cs.encode(cs.uplink_to_pb(frame), as_json=False)


# --- publisher (child process) -----------------------------------------------------------------------------

async def publish(url: str, topic: str, n: int) -> None:
    client = MqttClient(url)
    await client.connect()
    payloads = [uplink_payload(i) for i in range(256)]
    for i in range(n):
        await client.publish(topic, payloads[i & 0xFF])
    # A PUBACK round trip on a topic nobody measures: everything before it has reached the broker.
    await client.publish(f"{topic}/end", b"", qos=1)
    await client.close()


def run_publisher(url: str, topic: str, n: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--publish", url, topic, str(n)])


# --- measurement ---------------------------------------------------------------------------------------------

class Meter:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.cpu_start = 0.0
        self.wall_start = 0.0
        self.cpu_end = 0.0
        self.wall_end = 0.0
        self.last_seen = time.monotonic()

    def hit(self) -> None:
        if self.count == 0:
            self.cpu_start, self.wall_start = time.process_time(), time.perf_counter()
        self.count += 1
        self.last_seen = time.monotonic()
        if self.count >= self.expected:
            self.cpu_end, self.wall_end = time.process_time(), time.perf_counter()

    def finish(self) -> None:
        if not self.cpu_end:
            self.cpu_end, self.wall_end = time.process_time(), time.perf_counter()

    def done(self) -> bool:
        return self.count >= self.expected or (self.count > 0 and time.monotonic() - self.last_seen > IDLE_S)

    def result(self) -> tuple[float, float, int]:
        n = max(self.count - 1, 1)
        return (self.cpu_end - self.cpu_start) / n * 1e6, n / max(self.wall_end - self.wall_start, 1e-9), self.count


async def drive(url: str, topic: str, n: int, meter: Meter) -> None:
    await asyncio.sleep(0.5)  # let the subscription settle
    proc = run_publisher(url, topic, n)
    while not meter.done():
        await asyncio.sleep(0.05)
    meter.finish()
    await asyncio.get_running_loop().run_in_executor(None, proc.wait)


def paho_threaded(url: str, topic: str, n: int) -> tuple[float, float, int]:
    meter = Meter(n)
    port = int(url.rsplit(":", 1)[1])
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, m: meter.hit()
    client.connect("127.0.0.1", port)
    client.subscribe(topic)
    client.loop_start()
    try:
        asyncio.run(drive(url, topic, n, meter))
    finally:
        client.loop_stop()
        client.disconnect()
    return meter.result()


def paho_asyncio(url: str, topic: str, n: int) -> tuple[float, float, int]:
    async def run() -> tuple[float, float, int]:
        meter = Meter(n)
        loop = asyncio.get_running_loop()
        port = int(url.rsplit(":", 1)[1])
        client = paho.Client(paho.CallbackAPIVersion.VERSION2)
        client.on_message = lambda c, u, m: meter.hit()
        # paho's "external loop": the event loop watches the socket and calls paho's read/write steps.
        client.on_socket_open = lambda c, u, sock: loop.add_reader(sock, c.loop_read)
        client.on_socket_close = lambda c, u, sock: loop.remove_reader(sock)
        client.on_socket_register_write = lambda c, u, sock: loop.add_writer(sock, c.loop_write)
        client.on_socket_unregister_write = lambda c, u, sock: loop.remove_writer(sock)
        client.connect("127.0.0.1", port)

        async def misc() -> None:
            while True:
                client.loop_misc()
                await asyncio.sleep(1)

        misc_task = asyncio.create_task(misc())
        client.subscribe(topic)
        await drive(url, topic, n, meter)
        misc_task.cancel()
        client.disconnect()
        return meter.result()

    return asyncio.run(run())


def lora_city_client(url: str, topic: str, n: int) -> tuple[float, float, int]:
    async def run() -> tuple[float, float, int]:
        meter = Meter(n)

        async def handler(msg: MqttMessage) -> None:
            meter.hit()

        client = MqttClient(url, on_message=handler)
        await client.connect()
        await client.subscribe(topic)
        await drive(url, topic, n, meter)
        await client.close()
        return meter.result()

    return asyncio.run(run())


class CountingEvents:
    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    async def on_uplink(self, frame: UplinkFrame) -> None:
        self.meter.hit()

    async def on_stats(self, stats: GatewayStats) -> None:
        pass

    async def on_tx_ack(self, ack: DownlinkTxAck) -> None:
        pass

    async def on_conn_state(self, state: GatewayConnState) -> None:
        pass


def gateway_backend(url: str, _topic: str, n: int) -> tuple[float, float, int]:
    async def run() -> tuple[float, float, int]:
        meter = Meter(n)
        prefix = f"bench{time.monotonic_ns()}"
        metrics = Metrics()
        backend = MqttGatewayBackend(Settings(mqtt_url=url, mqtt_topic_prefix=prefix), metrics,
                                     health=GatewayHealth(metrics))
        await backend.start(CountingEvents(meter))
        await drive(url, f"{prefix}/gateway/{GATEWAY_ID}/event/up", n, meter)
        await backend.stop()
        return meter.result()

    return asyncio.run(run())


# --- outbound: CPU per published message (downlinks, integrations) ------------------------------------------

def publish_paho(url: str, topic: str, n: int) -> float:
    port = int(url.rsplit(":", 1)[1])
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = uplink_payload(1)
    start = time.process_time()
    for _ in range(n):
        client.publish(topic, payload)
    client.publish(f"{topic}/end", b"", qos=1).wait_for_publish(30)
    cpu = time.process_time() - start
    client.loop_stop()
    client.disconnect()
    return cpu / n * 1e6


def publish_lora_city(url: str, topic: str, n: int) -> float:
    async def run() -> float:
        client = MqttClient(url)
        await client.connect()
        payload = uplink_payload(1)
        start = time.process_time()
        for _ in range(n):
            await client.publish(topic, payload)
        await client.publish(f"{topic}/end", b"", qos=1)
        cpu = time.process_time() - start
        await client.close()
        return cpu / n * 1e6

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--publish", nargs=3, metavar=("URL", "TOPIC", "N"))
    args = parser.parse_args()
    if args.publish:
        url, topic, n = args.publish
        asyncio.run(publish(url, topic, int(n)))
        return

    broker = svc.start_mosquitto()
    try:
        variants: list[tuple[str, Callable[[str, str, int], tuple[float, float, int]]]] = [
            ("paho, threaded loop_start (baseline)", paho_threaded),
            ("paho, external loop on asyncio", paho_asyncio),
            ("lora_city.mqtt.MqttClient", lora_city_client),
            ("MqttGatewayBackend inbound (whole path)", gateway_backend),
        ]
        print(f"{args.messages} UplinkFrame protobufs ({len(uplink_payload(0))} bytes) per variant, "
              f"QoS 0, mosquitto on loopback, receiver CPU only\n")
        print(f"{'variant':42} {'CPU µs/msg':>11} {'msgs/s':>9} {'received':>9} {'vs baseline':>12}")
        baseline = 0.0
        for i, (name, fn) in enumerate(variants):
            us, rate, got = fn(broker.url, f"bench/{i}/{time.monotonic_ns()}", args.messages)
            baseline = baseline or us
            print(f"{name:42} {us:11.2f} {rate:9.0f} {got:9d} {baseline / us:11.1f}x")
        print(f"\npublishing {args.messages} messages, QoS 0, publisher CPU only\n")
        print(f"{'variant':42} {'CPU µs/msg':>11} {'vs baseline':>12}")
        paho_us = publish_paho(broker.url, f"bench/out/{time.monotonic_ns()}", args.messages)
        ours_us = publish_lora_city(broker.url, f"bench/out/{time.monotonic_ns()}", args.messages)
        print(f"{'paho, threaded loop_start (baseline)':42} {paho_us:11.2f} {1.0:11.1f}x")
        print(f"{'lora_city.mqtt.MqttClient':42} {ours_us:11.2f} {paho_us / ours_us:11.1f}x")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()


