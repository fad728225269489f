"""SIGKILL mid-stream, then restart: everything the sinks had made durable reaches victoria-metrics and the
readings store, each uplink exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lora_city.sinks.line_protocol import timestamp_ns
from lora_city.storage.models import Reading
from tests.integration.sinks.conftest import export, migrated
from tests.integration.sinks.test_influx import stop_gracefully
from tests.support.services import Service
from tests.unit.sinks.factories import uplink

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


def child(mode: str, vm: Service, database_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.sinks.kill_child", mode, vm.url, database_url],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def read_until(proc: subprocess.Popen[str], key: str, at_least: int) -> dict[str, Any]:
    assert proc.stdout is not None
    for line in proc.stdout:
        status: dict[str, Any] = json.loads(line)
        if status[key] >= at_least:
            return status
    raise AssertionError(f"child ended before {key} reached {at_least}")


def test_sigkill_mid_stream_loses_nothing(victoria_metrics: Service, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'kill.db'}"
    factory = migrated(database_url)
    proc = child("stream", victoria_metrics, database_url)
    try:
        up = read_until(proc, "delivered", 2000)  # points flow to the server …
        stop_gracefully(victoria_metrics)  # … then it goes away and lines pile up in the outbox
        status = read_until(proc, "journaled", up["journaled"] + 3000)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # What the last status line reported durable is a lower bound: the child may have journaled more since.
    journaled, stored = status["journaled"], status["stored"]
    victoria_metrics.restart()
    drain = child("drain", victoria_metrics, database_url)
    assert drain.wait(60) == 0

    [volume] = export(victoria_metrics.url, '{__name__="water_volume"}')
    timestamps = volume["timestamps"]
    assert len(timestamps) == len(set(timestamps)), "a point was written twice"
    expected = {timestamp_ns(uplink(n).time) // 1_000_000 for n in range(journaled)}
    assert expected <= set(timestamps), f"{len(expected - set(timestamps))} durable point(s) lost"
    with factory() as s:
        rows = s.scalar(select(func.count()).select_from(Reading)) or 0
        distinct = s.scalar(select(func.count(func.distinct(Reading.uplink_id)))) or 0
        max_f_cnt = s.scalar(select(func.max(Reading.f_cnt))) or 0
    assert rows >= stored and rows == distinct and max_f_cnt + 1 == rows  # a gap-free prefix of the stream
    factory.kw["bind"].dispose()
