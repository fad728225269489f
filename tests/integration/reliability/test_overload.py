"""500 uplinks/s over Semtech UDP for 60 s into ``lora-city serve`` on SQLite and on PostgreSQL at once: every
uplink is stored exactly once or its loss is visible in a counter (the kernel's drops for the gateway socket,
the server's own overload and drop counters); no loss goes unexplained.

The two servers are fresh ``lora-city serve`` processes (the console script, as an operator runs it); the
traffic is the test's own ABP emulator behind its own packet forwarder, one copy per uplink."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.reliability.conftest import (
    ServerProcesses,
    provision,
    register_gateways,
    stored_readings,
)
from tests.support.abp_device import AbpDevice
from tests.support.forwarder import Forwarder
from tests.support.services import Service, create_pg_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 500  # uplinks per second, per server
SECONDS = 60
GATEWAY = "aa555a00000000f1"
DEVICES = 200  # each sends every 0.4 s: far more often than a real meter, as many frames as a city's busy hour


async def stream(targets: dict[str, tuple[Forwarder, list[AbpDevice]]]) -> dict[str, int]:
    loop = asyncio.get_running_loop()
    for forwarder, _ in targets.values():
        await forwarder.start()
    sent = dict.fromkeys(targets, 0)
    started = loop.time()
    tick = 0.01
    n = 0
    while n < RATE * SECONDS:
        due = min(RATE * SECONDS, int((loop.time() - started) * RATE) + 1)
        while n < due:  # a late tick catches up in a burst, as gateways behind one backhaul do
            for name, (forwarder, devices) in targets.items():
                device = devices[n % len(devices)]
                f_cnt, phy = device.uplink(2, n.to_bytes(4, "big"))
                forwarder.send((device.dev_eui, f_cnt), phy)
                sent[name] += 1
            n += 1
        await asyncio.sleep(tick)
    await asyncio.sleep(1.0)
    for forwarder, _ in targets.values():
        forwarder.stop()
    return sent


def test_500_uplinks_per_second_for_a_minute_lose_nothing_unseen(
    tmp_path: Path, sqlite_template: Path, postgres_server: Service, postgres_template: str
) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "overload.db")
    urls = {"sqlite": f"sqlite:///{tmp_path / 'overload.db'}",
            "postgresql": create_pg_database(postgres_server, template=postgres_template)}
    servers = {}
    for name, url in urls.items():
        (tmp_path / name).mkdir()
        servers[name] = ServerProcesses.build(tmp_path / name, url)
    try:
        for s in servers.values():
            s.start_cli()
        targets = {}
        for name, s in servers.items():
            s.wait_ready()
            devices = provision(s.api, DEVICES, first=1 if name == "sqlite" else 10_001)
            register_gateways(s.api, GATEWAY)  # the server drops what unregistered gateways relay
            targets[name] = (Forwarder(GATEWAY, ("127.0.0.1", s.udp_port)), devices)
        began = time.monotonic()
        sent = asyncio.run(stream(targets))
        streamed_s = time.monotonic() - began
        figures: dict[str, dict[str, Any]] = {}
        for name, s in servers.items():
            stored, waited = _settled(urls[name], sent[name])
            time.sleep(1.5)  # the kernel's counter is read every second
            drops = {
                "kernel": s.metric("lora_city_udp_receive_drops_total"),
                "overload": s.metric('lora_city_gateway_bad_input_total{transport="udp",reason="overload"}'),
                "pipeline": s.metric("lora_city_uplink_drops_total"),
            }
            figures[name] = {"sent": sent[name], "acked": len(targets[name][0].acked), "stored": len(stored),
                             "doubled": sum(1 for v in stored.values() if len(v) > 1), "drops": drops,
                             "settled_after_s": round(waited, 1), "streamed_s": round(streamed_s, 1),
                             "receive_buffer": s.metric("lora_city_udp_receive_buffer_bytes"),
                             "unknown_gateway_drops": s.metric('lora_city_uplink_drops_total{reason="unknown_gateway"}')}
        for s in servers.values():
            s.stop()
    finally:
        for s in servers.values():
            s.close()
    print("overload:", json.dumps(figures))
    (tmp_path / "figures.json").write_text(json.dumps(figures))
    for name, f in figures.items():
        assert f["sent"] == RATE * SECONDS, (name, f)
        assert f["doubled"] == 0, (name, f)
        assert f["unknown_gateway_drops"] == 0, (name, f)  # the forwarder is registered: the stream is really stored
        lost = f["sent"] - f["stored"]
        assert lost == sum(f["drops"].values()), f"{name}: {lost} uplink(s) lost, not all counted: {f}"
        assert f["acked"] <= f["stored"] + f["drops"]["overload"] + f["drops"]["pipeline"], (name, f)


def _settled(database_url: str, expected: int, quiet_s: float = 5.0, limit_s: float = 120.0
             ) -> tuple[dict[tuple[str, int], list[object]], float]:
    """The readings once the server has caught up: all there, or no new one for ``quiet_s``."""
    began = time.monotonic()
    last, last_change = -1, began
    while True:
        stored = stored_readings(database_url)
        now = time.monotonic()
        if len(stored) != last:
            last, last_change = len(stored), now
        if len(stored) >= expected or now - last_change > quiet_s or now - began > limit_s:
            return stored, now - began
        time.sleep(0.5)
