"""Readings store and session write-behind into SQLite, each beside its baseline measured in the same run:
- CPU per reading of the store's batch write (``write_batch``, 1,000 uplinks a transaction) vs the same rows
  through SQLAlchemy Core's dialect INSERT ... ON CONFLICT DO NOTHING (per-row bind processing, stdlib JSON),
  how the store wrote them before issue 18;
- CPU per session of the session flush (``SessionStore.write_rows``, --sessions sessions with a full ADR history
  and three gateways each) vs the same rows through the Core UPDATE executemany it used before issue 18.

    python3 bench/store.py [--batches 30] [--prefill 0] [--sessions 5000] [--flushes 6]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Table, bindparam, update  # noqa: E402
from sqlalchemy.dialects import sqlite  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lora_city.sinks.events import UplinkEvent  # noqa: E402
from lora_city.sinks.store import reading_row, write_batch  # noqa: E402
from lora_city.storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from lora_city.storage.keys import KeyVault  # noqa: E402
from lora_city.storage.migrate import upgrade  # noqa: E402
from lora_city.storage.models import Device, DeviceSession, Reading  # noqa: E402
from lora_city.storage.sessions import SessionStore  # noqa: E402
from lora_city.uplink.adr import UplinkSample  # noqa: E402
from tests.unit.sinks.factories import uplink  # noqa: E402


def core_insert(session: Session, events: list[UplinkEvent]) -> None:
    session.execute(sqlite.insert(Reading).on_conflict_do_nothing(index_elements=["uplink_id"]),
                    [reading_row(e) for e in events])


def core_flush(factory: Any, rows: list[dict[str, Any]]) -> None:
    """The session flush as it was before issue 18: SQLAlchemy Core UPDATE executemany, two tables."""
    sessions, devices = DeviceSession.__table__, Device.__table__
    assert isinstance(sessions, Table) and isinstance(devices, Table)
    now = datetime.now(UTC)
    with transaction(factory) as db:
        conn = db.connection()
        conn.execute(update(sessions).where(sessions.c.id == bindparam("b_id")).values(
            f_cnt_up=bindparam("b_f_cnt_up"), last_f_cnt_up=bindparam("b_last_f_cnt_up"),
            n_f_cnt_down=bindparam("b_n_f_cnt_down"), a_f_cnt_down=bindparam("b_a_f_cnt_down"),
            state=bindparam("b_state"), updated_at=bindparam("b_updated_at"),
        ), [{**{f"b_{k}": v for k, v in r.items()}, "b_updated_at": now} for r in rows])
        conn.execute(update(devices).where(devices.c.dev_eui == bindparam("b_dev_eui")).values(
            last_seen_at=bindparam("b_last_seen_at")),
            [{"b_dev_eui": r["dev_eui"], "b_last_seen_at": r["last_seen_at"]} for r in rows])


def flush_figures(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import ingest  # the ingest benchmark's provisioning: the same sessions

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='lc-flush-')) / 'flush.db'}"
    ingest.provision(url, args.sessions)
    factory = make_session_factory(make_engine(url))
    store = SessionStore(factory, KeyVault(ingest.SECRET))
    store.preload()
    sessions = store.cached()
    for s in sessions:  # steady state: a full ADR history, three gateways
        for f_cnt in range(20):
            s.add_sample(UplinkSample(f_cnt, 3.5, 3))
        s.heard_by = tuple((g, 3.0, -90.0) for g in ingest.GATEWAYS)
    per: dict[str, list[float]] = {"flush (driver executemany, orjson)": [], "baseline (SQLAlchemy Core update)": []}
    for _ in range(args.flushes):
        for name in per:
            for s in sessions:
                s.f_cnt_up += 1
                s.last_seen_at = datetime.now(UTC)
                s.dirty = True
            rows = store.snapshot()
            c0 = time.process_time()
            if name.startswith("flush"):
                store.write_rows(rows)
            else:
                core_flush(factory, rows)
            per[name].append(1e6 * (time.process_time() - c0) / len(rows))
    print(f"session flush into SQLite, {args.flushes} flushes of {args.sessions:,} sessions each way; load average "
          f"{os.getloadavg()}")
    base = statistics.median(per["baseline (SQLAlchemy Core update)"])
    for name, values in per.items():
        med = statistics.median(values)
        print(f"{name:36s}: median {med:6.1f} µs CPU per session, min {min(values):6.1f} ({base / med:.2f}x baseline)")


def main(args: argparse.Namespace) -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='lc-store-')) / 'store.db'}"
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    template = [uplink(n) for n in range(1000)]
    counter = 0

    def batch() -> list[UplinkEvent]:
        nonlocal counter
        counter += 1
        return [dataclasses.replace(e, uplink_id=f"{counter:08x}-0000-4000-8000-{i:012x}")
                for i, e in enumerate(template)]

    for _ in range(args.prefill // 1000):
        with transaction(factory) as s:
            write_batch(s, batch())
    writers: dict[str, Callable[[Session, list[Any]], None]] = {
        "store (driver executemany, orjson)": write_batch,
        "baseline (SQLAlchemy Core insert)": core_insert,
    }
    per_reading: dict[str, list[float]] = {name: [] for name in writers}
    for _ in range(args.batches):  # interleaved, so both see the same machine load and table size
        for name, write in writers.items():
            events = batch()
            c0 = time.process_time()
            with transaction(factory) as s:
                write(s, events)
            per_reading[name].append(1e6 * (time.process_time() - c0) / len(events))
    print(f"readings store into SQLite, {args.batches} batches of 1,000 each way, table prefilled with "
          f"{args.prefill:,} rows; load average {os.getloadavg()}")
    base = statistics.median(per_reading["baseline (SQLAlchemy Core insert)"])
    for name, values in per_reading.items():
        med = statistics.median(values)
        print(f"{name:36s}: median {med:6.1f} µs CPU per reading, min {min(values):6.1f} ({base / med:.2f}x baseline)")
    flush_figures(args)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, default=30)
    p.add_argument("--prefill", type=int, default=0)
    p.add_argument("--sessions", type=int, default=5000)
    p.add_argument("--flushes", type=int, default=6)
    main(p.parse_args())
