"""Twenty SIGKILLs at random moments while two gateways stream uplinks: every uplink a gateway delivered (got its
PUSH_ACK for) is in the readings store exactly once and is exactly one InfluxDB point; none is doubled.

The server is a real ``serve`` process (SQLite or PostgreSQL, InfluxDB = victoria-metrics) started through the
zygote so that twenty restarts stay affordable; the devices are the test's own ABP emulator and the gateways its
own Semtech forwarder, which, like Semtech's, never resends: a copy acknowledged and then lost in a crash would
be lost for good, which is what the copy journal prevents (lora_city/gateway/journal.py)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.reliability.conftest import (
    ServerProcesses,
    influx_points,
    provision,
    register_gateways,
    stored_readings,
)
from tests.support.abp_device import AbpDevice
from tests.support.forwarder import Forwarder
from tests.support.services import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILLS = 20
RATE = 100.0  # uplinks per second, each heard by two gateways
GATEWAYS = ("aa555a0000000001", "aa555a0000000002")  # near, far
UNKNOWN_GATEWAY_DROPS = 'lora_city_uplink_drops_total{reason="unknown_gateway"}'


@dataclass
class Stream:
    sent: list[tuple[str, int]]
    delivered: set[tuple[str, int]]


async def stream_with_kills(servers: ServerProcesses, devices: list[AbpDevice], rng: random.Random) -> Stream:
    loop = asyncio.get_running_loop()
    server = ("127.0.0.1", servers.udp_port)
    near = Forwarder(GATEWAYS[0], server, snr=9.25, rssi=-71.0)
    far = Forwarder(GATEWAYS[1], server, snr=-3.5, rssi=-112.0)
    for gw in (near, far):
        await gw.start()
    sent: list[tuple[str, int]] = []
    stop = asyncio.Event()

    async def traffic() -> None:
        started = loop.time()
        n = 0
        while not stop.is_set():
            device = devices[n % len(devices)]
            f_cnt, phy = device.uplink(1, n.to_bytes(4, "big"))
            key = (device.dev_eui, f_cnt)
            near.send(key, phy)
            loop.call_later(rng.uniform(0.0, 0.08), far.send, key, phy)  # the farther gateway's backhaul is slower
            sent.append(key)
            n += 1
            await asyncio.sleep(max(0.0, started + n / RATE - loop.time()))

    async def serving() -> None:  # the new server acknowledges copies again
        acks = near.acks
        deadline = loop.time() + 180
        while near.acks == acks and loop.time() < deadline:
            await asyncio.sleep(0.02)

    task = asyncio.create_task(traffic())
    try:
        for k in range(KILLS):
            if k % 4 == 3:  # while it starts, opens its journal or replays
                await asyncio.sleep(rng.uniform(0.0, 1.5))
            else:  # in full flow: copies in the kernel's buffer, in dedup windows, in the sinks' batches
                await serving()
                await asyncio.sleep(rng.uniform(0.05, 1.5))
            await asyncio.to_thread(servers.kill)
            await asyncio.to_thread(servers.start)
        await asyncio.to_thread(servers.wait_ready)
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        await task
    await asyncio.sleep(1.0)  # the last acknowledgements
    for gw in (near, far):
        gw.stop()
    return Stream(sent, near.acked | far.acked)


def test_sigkill_at_random_moments_loses_and_doubles_no_delivered_uplink(
    database_url: str, victoria_metrics: Service, tmp_path: Path
) -> None:
    seed = int(time.time())
    rng = random.Random(seed)
    servers = ServerProcesses.build(tmp_path, database_url, influx_url=victoria_metrics.url)
    try:
        servers.start()
        servers.wait_ready()
        devices = provision(servers.api, 40)
        register_gateways(servers.api, *GATEWAYS)  # the server drops what unregistered gateways relay
        stream = asyncio.run(stream_with_kills(servers, devices, rng))
        time.sleep(1.0)
        unknown_gateway_drops = servers.metric(UNKNOWN_GATEWAY_DROPS)  # the last server's count
        servers.stop()  # a clean stop: the last windows close, sessions and sinks flush, the journal checkpoints
        logs = servers.log_text()
    finally:
        servers.close()

    readings = stored_readings(database_url)
    doubled = {k: v for k, v in readings.items() if len(v) > 1}
    lost = stream.delivered - readings.keys()
    deadline = time.monotonic() + 30
    while True:  # the outbox may still be delivering what the last server journaled
        influx = influx_points(victoria_metrics.url)
        if readings.keys() <= influx.points.keys() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    influx_lost = stream.delivered - influx.points.keys()
    influx_doubled = {k: ts for k, ts in influx.points.items() if len(ts) != 1}
    replays = logs.count("journal replay:")
    figures = {"seed": seed, "kills": KILLS, "sent": len(stream.sent), "delivered": len(stream.delivered),
               "stored": len(readings), "lost": len(lost), "doubled": len(doubled),
               "influx_points": len(influx.points), "influx_lost": len(influx_lost),
               "influx_doubled": len(influx_doubled), "influx_raw_samples": influx.raw_samples,
               "restarts_that_replayed": replays, "unknown_gateway_drops": unknown_gateway_drops,
               "database": database_url.split(":")[0]}
    print("kill loop:", json.dumps(figures))
    (tmp_path / "figures.json").write_text(json.dumps(figures))

    assert len(stream.delivered) >= 1000, figures  # a real stream went through the twenty servers
    assert unknown_gateway_drops == 0, figures  # both forwarders are registered: every copy reaches the pipeline
    assert not lost, f"{len(lost)} delivered uplink(s) lost, e.g. {sorted(lost)[:5]}; {figures}"
    assert not doubled, f"{len(doubled)} uplink(s) stored twice, e.g. {list(doubled.items())[:3]}"
    assert not influx_lost, f"{len(influx_lost)} delivered uplink(s) missing in InfluxDB; {figures}"
    assert not influx_doubled, f"uplinks written as two InfluxDB points: {list(influx_doubled.items())[:3]}"
    # the same uplink has the same time in both stores (a replay re-dates nothing)
    some = sorted(stream.delivered)[:: max(1, len(stream.delivered) // 200)]
    for key in some:
        [stored_time] = readings[key]
        [point_ms] = influx.points[key]
        assert abs(_epoch_ms(stored_time) - point_ms) <= 1, (key, stored_time, point_ms)
    assert replays >= KILLS // 2, f"only {replays} restarts found copies to replay: few kills hit uplinks in flight"
    assert "Traceback" not in logs, logs[logs.index("Traceback") - 2000:][:4000]


def _epoch_ms(value: object) -> int:
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)
