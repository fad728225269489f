"""OutboxPump against a real local HTTP server (outbox on SQLite and PostgreSQL): a long outage overflows the in-memory mirror, and the pump
catches up from the table in order, each item exactly once; permanent refusals are dropped and counted."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from lora_city.metrics import Metrics
from lora_city.sinks.outbox import Journaled, Outbox
from lora_city.sinks.pump import OutboxPump, PermanentFailure
from lora_city.storage.db import SessionFactory
from tests.integration.sinks.test_influx import wait_for
from tests.integration.sinks.webhook_server import webhook_receiver

pytestmark = pytest.mark.integration


def post_to(url: str) -> Callable[[str, list[bytes]], None]:
    def deliver(_target: str, bodies: list[bytes]) -> None:
        r = httpx.post(url, content=b"\n".join(bodies), timeout=5)
        if r.status_code == 400:
            raise PermanentFailure("bad request")
        r.raise_for_status()

    return deliver


def test_outage_longer_than_the_mirror_is_replayed_from_the_table(db_factory: SessionFactory) -> None:
    with webhook_receiver([503] * 5) as server:
        pump = OutboxPump("p", Outbox(db_factory), post_to(server.url), Metrics(), coalesce=True,
                          batch_items=40, flush_interval_s=0.02, journal_interval_s=0.01, mirror_items=50,
                          backoff_min_s=0.05, backoff_max_s=0.1)
        pump.start()
        for n in range(300):
            pump.put_line(f"line {n}")
            if n % 20 == 0:
                time.sleep(0.02)  # several journal turns, so several rows
        wait_for(lambda: pump.delivered == 300)
        pump.stop()
    accepted = [r for r in server.requests if r.status == 200]
    lines = [line for r in accepted for line in r.body.decode().split("\n")]
    assert lines == [f"line {n}" for n in range(300)]  # in order, each once
    assert all(len(r.body.split(b"\n")) <= 40 for r in accepted)
    assert Outbox(db_factory).size() == 0


def test_permanent_refusal_is_dropped_and_the_next_rows_go_through(sqlite_factory: SessionFactory) -> None:
    with webhook_receiver([400]) as server:
        pump = OutboxPump("p", Outbox(sqlite_factory), post_to(server.url), Metrics(), coalesce=False,
                          flush_interval_s=0.02)
        pump.start()
        for n in range(3):
            pump.put(Journaled("p:x", f"item {n}".encode()))
        wait_for(lambda: pump.delivered == 2)
        pump.stop()
    assert [r.body for r in server.requests] == [b"item 0", b"item 1", b"item 2"]
    assert pump.dropped == 1
    assert Outbox(sqlite_factory).size() == 0


def test_an_item_put_while_the_pump_idles_is_journaled_within_the_journal_interval(
    sqlite_factory: SessionFactory,
) -> None:
    with webhook_receiver() as server:
        pump = OutboxPump("p", Outbox(sqlite_factory), post_to(server.url), Metrics(), coalesce=True,
                          flush_interval_s=5.0, journal_interval_s=0.05)
        pump.start()
        time.sleep(0.3)  # idle: nothing to journal, nothing due for 5 s
        pump.put_line("late line")
        started = time.monotonic()
        wait_for(lambda: pump.journaled == 1, timeout_s=5)
        elapsed = time.monotonic() - started
        pump.stop()
    assert elapsed < 1.0, f"journaled after {elapsed:.2f}s"
    assert [r.body for r in server.requests] == [b"late line"]  # delivered at stop
