"""Readings store: CPU per reading of the store's batch write (``write_batch``, 1,000 uplinks a transaction) into
SQLite, beside the baseline measured in the same run: the same rows through SQLAlchemy Core's dialect INSERT ...
ON CONFLICT DO NOTHING (per-row bind processing, stdlib JSON), which is how the store wrote them before issue 18.

    python3 bench/store.py [--batches 30] [--prefill 0]
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.dialects import sqlite  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lora_city.sinks.events import UplinkEvent  # noqa: E402
from lora_city.sinks.store import reading_row, write_batch  # noqa: E402
from lora_city.storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from lora_city.storage.migrate import upgrade  # noqa: E402
from lora_city.storage.models import Reading  # noqa: E402
from tests.unit.sinks.factories import uplink  # noqa: E402


def core_insert(session: Session, events: list[UplinkEvent]) -> None:
    session.execute(sqlite.insert(Reading).on_conflict_do_nothing(index_elements=["uplink_id"]),
                    [reading_row(e) for e in events])


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


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, default=30)
    p.add_argument("--prefill", type=int, default=0)
    main(p.parse_args())
