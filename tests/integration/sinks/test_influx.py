"""The InfluxDB sink against a real victoria-metrics (/api/v2/write), read back through /api/v1/export."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from lora_city.metrics import Metrics
from lora_city.sinks.influx import InfluxSink
from lora_city.sinks.line_protocol import timestamp_ns
from lora_city.sinks.outbox import Outbox
from lora_city.storage.db import SessionFactory
from tests.integration.sinks.conftest import export
from tests.support.services import Service
from tests.unit.sinks.factories import device, uplink

pytestmark = pytest.mark.integration


def make_sink(vm: Service, factory: SessionFactory, metrics: Metrics | None = None) -> InfluxSink:
    return InfluxSink(
        vm.url, token="t", org="city", bucket="city", outbox=Outbox(factory), metrics=metrics or Metrics(),
        flush_interval_s=0.1, backoff_max_s=0.5,
    )


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def stop_gracefully(vm: Service) -> None:
    """SIGTERM: victoria-metrics keeps recently accepted samples in memory for a few seconds, so a SIGKILL
    would make the server itself (not the sink) lose what it acknowledged."""
    assert vm.proc is not None
    vm.proc.terminate()
    vm.proc.wait(20)


def test_points_arrive_with_tags_fields_and_uplink_timestamps(
    victoria_metrics: Service, sqlite_factory: SessionFactory
) -> None:
    tricky = device(dev_eui="70b3d57ed00000aa", tenant_id="ville de lyon, eau=1", family="flood")

    async def run() -> None:
        sink = make_sink(victoria_metrics, sqlite_factory)
        await sink.start()
        for n in range(10):
            sink.submit(uplink(n, tricky, measurements={"water level": (0.5 + n, "m"), "alarm": (n > 5, None)}))
        await sink.stop()
        assert sink.pump.delivered == 10

    asyncio.run(run())
    series = export(victoria_metrics.url, '{__name__=~"flood_.*"}')
    by_name = {s["metric"]["__name__"]: s for s in series}
    assert set(by_name) == {
        "flood_water level", "flood_alarm", "flood_rssi", "flood_snr", "flood_spreading_factor",
        "flood_gateway_count", "flood_f_cnt",
    }
    level = by_name["flood_water level"]
    assert level["metric"]["tenant"] == "ville de lyon, eau=1"
    assert level["metric"]["dev_eui"] == "70b3d57ed00000aa"
    assert level["metric"]["family"] == "flood"
    assert level["metric"]["codec"] == "netvox-r718h"
    assert level["values"] == [0.5 + n for n in range(10)]
    assert level["timestamps"] == [timestamp_ns(uplink(n).time) // 1_000_000 for n in range(10)]
    assert by_name["flood_alarm"]["values"] == [0] * 6 + [1] * 4
    assert by_name["flood_rssi"]["values"] == [-97] * 10
    assert Outbox(sqlite_factory).size() == 0


def test_outage_loses_nothing_and_duplicates_nothing(
    victoria_metrics: Service, sqlite_factory: SessionFactory
) -> None:
    n_before, n_during = 50, 300
    metrics = Metrics()
    outbox_gauge = metrics.outbox_size.labels("influx")

    async def run() -> None:
        sink = make_sink(victoria_metrics, sqlite_factory, metrics)
        await sink.start()
        for n in range(n_before):
            sink.submit(uplink(n))
        await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == n_before)
        stop_gracefully(victoria_metrics)
        for n in range(n_before, n_before + n_during):
            sink.submit(uplink(n))
        # the lines wait in the outbox while the server is down
        await asyncio.to_thread(wait_for, lambda: Outbox(sqlite_factory).size("influx") == n_during)
        await asyncio.sleep(0.5)  # a few failed retries
        assert sink.pump.delivered == n_before
        assert outbox_gauge._value.get() == n_during
        assert metrics.sink_errors.labels("influx")._value.get() >= 2
        victoria_metrics.restart()
        await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == n_before + n_during)
        await sink.stop()

    asyncio.run(run())
    assert Outbox(sqlite_factory).size() == 0
    assert outbox_gauge._value.get() == 0
    [volume] = export(victoria_metrics.url, '{__name__="water_volume"}')
    expected = [timestamp_ns(uplink(n).time) // 1_000_000 for n in range(n_before + n_during)]
    assert sorted(volume["timestamps"]) == expected  # every point, each exactly once


def test_points_left_in_the_outbox_by_a_previous_run_are_replayed_first(
    victoria_metrics: Service, sqlite_factory: SessionFactory
) -> None:
    victoria_metrics.kill()

    async def first_run() -> None:
        sink = make_sink(victoria_metrics, sqlite_factory)
        await sink.start()
        for n in range(20):
            sink.submit(uplink(n))
        await sink.stop()  # the server is down: everything stays journaled

    asyncio.run(first_run())
    assert Outbox(sqlite_factory).size("influx") == 20
    victoria_metrics.restart()

    async def second_run() -> None:
        sink = make_sink(victoria_metrics, sqlite_factory)
        await sink.start()
        sink.submit(uplink(20))
        await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == 21)
        await sink.stop()

    asyncio.run(second_run())
    [volume] = export(victoria_metrics.url, '{__name__="water_volume"}')
    assert sorted(volume["timestamps"]) == [timestamp_ns(uplink(n).time) // 1_000_000 for n in range(21)]
