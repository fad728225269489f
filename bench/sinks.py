"""Points per second into victoria-metrics through the InfluxDB sink, beside the raw ceiling.

Raw ceiling: pre-formatted line protocol POSTed in 5,000-line batches to /api/v2/write, one request after the
other (no formatting, no outbox). Sink: UplinkEvents submitted to ``InfluxSink`` (format each line, journal to
the SQLite outbox, write 5,000-line batches with influxdb-client, delete from the outbox), timed from the first
submit until victoria-metrics accepted the last point. Both runs use the same number of points with the same
shape (7 fields each), on the same server, in the same run. Target: >= 50,000 points/s and >= 0.5 of the raw
ceiling.

    python3 bench/sinks.py [points]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lora_city.metrics import Metrics  # noqa: E402
from lora_city.sinks.events import UplinkEvent  # noqa: E402
from lora_city.sinks.influx import InfluxSink  # noqa: E402
from lora_city.sinks.line_protocol import format_uplink  # noqa: E402
from lora_city.sinks.outbox import Outbox  # noqa: E402
from lora_city.sinks.store import ReadingStoreSink  # noqa: E402
from lora_city.storage.db import make_engine, make_session_factory  # noqa: E402
from lora_city.storage.migrate import upgrade  # noqa: E402
from tests.support.services import start_victoria_metrics  # noqa: E402
from tests.unit.sinks.factories import T0, device, uplink  # noqa: E402

BATCH = 5000


def events(n: int, family: str) -> list[UplinkEvent]:
    devices = [device(dev_eui=f"70b3d57e{family[:2].encode().hex()}{i:04x}", family=family) for i in range(1000)]
    return [uplink(i, devices[i % 1000], time=T0 + timedelta(milliseconds=i)) for i in range(n)]


def raw_ceiling(url: str, lines: list[str]) -> float:
    bodies = ["\n".join(lines[i:i + BATCH]).encode() for i in range(0, len(lines), BATCH)]
    with httpx.Client(timeout=60) as client:
        start = time.perf_counter()
        for body in bodies:
            client.post(f"{url}/api/v2/write", params={"org": "city", "bucket": "city"}, content=body).raise_for_status()
        return len(lines) / (time.perf_counter() - start)


async def through_sink(url: str, evs: list[UplinkEvent], workdir: Path) -> tuple[float, int]:
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(database_url)
    sink = InfluxSink(url, token="", org="city", bucket="city", outbox=Outbox(make_session_factory(
        make_engine(database_url))), metrics=Metrics())
    await sink.start()
    start = time.perf_counter()
    for i in range(0, len(evs), BATCH):
        for e in evs[i:i + BATCH]:
            sink.submit(e)
        await asyncio.sleep(0)  # the radio side yields between frames
    while sink.pump.delivered < len(evs):
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - start
    await sink.stop()
    return len(evs) / elapsed, sink.pump.dropped


async def store_rate(evs: list[UplinkEvent], workdir: Path) -> float:
    """Readings per second into the embedded store (SQLite), batched on its thread."""
    database_url = f"sqlite:///{workdir / 'store.db'}"
    upgrade(database_url)
    sink = ReadingStoreSink(make_session_factory(make_engine(database_url)), Metrics())
    await sink.start()
    start = time.perf_counter()
    for i in range(0, len(evs), BATCH):
        for e in evs[i:i + BATCH]:
            sink.submit(e)
        await asyncio.sleep(0)
    while sink.written < len(evs):
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - start
    await sink.stop()
    return len(evs) / elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 150_000
    vm = start_victoria_metrics()
    try:
        raw_events, sink_events = events(n, "flood"), events(n, "water")
        start = time.perf_counter()
        raw_lines = [format_uplink(e) for e in raw_events]
        format_us = (time.perf_counter() - start) / n * 1e6
        # warm up both paths (connections, victoria-metrics' first series registration) on other series
        raw_ceiling(vm.url, [format_uplink(e) for e in events(BATCH, "streetlight")])
        ceiling = raw_ceiling(vm.url, raw_lines)
        with tempfile.TemporaryDirectory() as tmp:
            rate, dropped = asyncio.run(through_sink(vm.url, sink_events, Path(tmp)))
            stored = asyncio.run(store_rate(sink_events[:30_000], Path(tmp)))
        print(f"points:                          {n} (7 fields each, {1000} devices)")
        print(f"format_uplink:                   {format_us:.2f} µs/line")
        print(f"raw ceiling (5,000-line POSTs):  {ceiling:,.0f} points/s")
        print(f"InfluxDB sink (outbox, batches): {rate:,.0f} points/s  (dropped {dropped})")
        print(f"ratio sink / raw ceiling:        {rate / ceiling:.2f}   (target >= 0.5, and >= 50,000 points/s)")
        print(f"embedded store (SQLite):         {stored:,.0f} readings/s  (30,000 uplinks, batches of 1,000)")
        print(f"machine load average:            {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        vm.stop()


if __name__ == "__main__":
    main()
