"""Billing run for 200 tenants and 100,000 devices with a month of daily usage rows (issue 7: <= 30 s).

    python3 bench/billing.py                 # SQLite file in a temp dir
    python3 bench/billing.py --postgres      # a throwaway PostgreSQL server (needs the PostgreSQL binaries)
    python3 bench/billing.py --database-url postgresql+psycopg://…   # an existing, empty database

Loads 31 days x 100,000 devices of ``billing_usage_daily`` rows (~3.1 M; 90 % of devices heard each day, some
past their allowance), then times the run (rating + one transaction per invoice) and a second, idempotent run.
Baseline, measured in the same run: one plain aggregate scan of the month (the floor for any rating). Also the
per-call cost of the quota policy and of the meter's ``submit``, the two calls on the radio path.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select  # noqa: E402

from billing.meter import UsageMeter  # noqa: E402
from billing.models import BillingConfig, Invoice, InvoiceLine, NumberSequence, PriceTable, UsageDaily  # noqa: E402
from billing.run import run_billing  # noqa: E402
from lora_city.metrics import Metrics  # noqa: E402
from lora_city.sinks.events import DeviceInfo, UplinkEvent  # noqa: E402
from lora_city.storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from lora_city.storage.migrate import upgrade  # noqa: E402
from lora_city.storage.models import Tenant  # noqa: E402
from tenants.models import Plan  # noqa: E402
from tenants.quota import Allowance, PlanQuotaPolicy, TenantQuota  # noqa: E402

TENANTS, DEVICES, DAYS = 200, 100_000, 31
PERIOD, FIRST = "2026-10", date(2026, 10, 1)


def load(url: str) -> None:
    upgrade(url, [ROOT / "tenants" / "migrations", ROOT / "billing" / "migrations"])
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(7)
    with transaction(factory) as s:
        s.add(BillingConfig(id=1, legal_name="Ville", address="1 place de la Mairie", siret="21990001200018",
                            vat_number="FR41219900012"))
        plans = [Plan(name=f"plan-{i}", uplinks_per_device_day=96, airtime_s_per_device_day=30,
                      over_quota_action="bill" if i % 2 else "drop") for i in range(4)]
        s.add_all(plans)
        s.flush()
        s.add_all(PriceTable(plan_id=p.id, monthly_fee_cents=4900 + i * 1000, overage_uplink_millicents=50,
                             overage_airtime_s_millicents=500,
                             device_tiers=[{"from": 0, "millicents": 100_000}, {"from": 200, "millicents": 80_000}])
                  for i, p in enumerate(plans))
        tenants = [Tenant(name=f"T{i}", slug=f"t{i:03d}", kind="city_service" if i < 10 else "lessee",
                          plan_id=plans[i % 4].id, siret="12345678900012", vat_number="FR32123456789")
                   for i in range(TENANTS)]
        s.add_all(tenants)
        s.flush()
        tenant_ids = [t.id for t in tenants]
    started = time.perf_counter()
    days = [FIRST + timedelta(days=day) for day in range(DAYS)]
    sql = ("INSERT INTO billing_usage_daily (tenant_id, dev_eui, day, uplinks, copies, downlinks, airtime_up_us,"
           " airtime_down_us, bytes_up, bytes_down) VALUES (%s)")
    batch: list[tuple[object, ...]] = []
    with engine.begin() as conn:
        raw = conn.connection.driver_connection  # the DB-API connection: fastest bulk insert, setup only
        cur = raw.cursor()  # type: ignore[union-attr]

        def write(rows: list[tuple[object, ...]]) -> None:
            if url.startswith("sqlite"):
                cur.executemany(sql % ", ".join(["?"] * 10), rows)
                return
            columns = sql.split("(", 1)[1].split(")", 1)[0]
            with cur.copy(f"COPY billing_usage_daily ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        # Day after day, as the meter writes them: a month's rows of one device are spread over the table.
        for day in days:
            for d in range(DEVICES):
                if rng.random() < 0.1:
                    continue  # not heard that day
                up = rng.randint(24, 110)
                batch.append((tenant_ids[d % TENANTS], f"{d:016x}", day, up, up * 2, rng.randint(0, 3),
                              up * 330_000, 41_216, up * 24, 13))
                if len(batch) >= 50_000:
                    write(batch)
                    batch.clear()
        if batch:
            write(batch)
    with engine.begin() as conn:  # a month-old table has statistics (autovacuum / a nightly ANALYZE)
        conn.exec_driver_sql("ANALYZE billing_usage_daily" if not url.startswith("sqlite") else "ANALYZE")
    with factory() as s:
        n = s.scalar(select(func.count()).select_from(UsageDaily))
    print(f"loaded {n:,} usage rows for {DEVICES:,} devices / {TENANTS} tenants in "
          f"{time.perf_counter() - started:.1f} s (setup, not timed)")
    engine.dispose()


def reset(url: str) -> None:
    """Empty the documents of a reused bench database (a throwaway copy: the Core delete skips the ORM guard
    that keeps real invoices final)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(InvoiceLine))
        conn.execute(delete(Invoice))
        conn.execute(delete(NumberSequence))
    engine.dispose()


def measure(url: str) -> float:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory() as s:
        s.execute(select(UsageDaily.tenant_id, func.count(func.distinct(UsageDaily.dev_eui)),
                         func.sum(UsageDaily.uplinks)).where(UsageDaily.day >= FIRST)
                  .group_by(UsageDaily.tenant_id)).all()
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    result = run_billing(factory, PERIOD, today=date(2026, 11, 2))
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    again = run_billing(factory, PERIOD, today=date(2026, 11, 2))
    rerun = time.perf_counter() - started
    with factory() as s:
        total = s.scalar(select(func.sum(Invoice.total_cents))) or 0
    print(f"baseline (one aggregate scan of the month): {baseline:.2f} s")
    print(f"billing run: {elapsed:.2f} s for {len(result.created)} documents "
          f"(ratio to baseline {elapsed / baseline:.1f}x; budget 30 s: {'OK' if elapsed <= 30 else 'OVER'})")
    print(f"second run: {rerun:.2f} s, {len(again.created)} created, {again.existing} already there")
    print(f"invoiced total: {total / 100:,.2f} EUR")
    engine.dispose()
    return elapsed


def radio_path() -> None:
    """Per-call cost of what the pipeline calls per uplink: the quota check and the meter's submit."""
    policy = PlanQuotaPolicy(Metrics(), lambda _e: None)
    policy.set_tenants({f"t{i}": TenantQuota(allowance=Allowance(uplinks=10**9, airtime_ms=1e12)) for i in range(200)})
    devices = [DeviceInfo(dev_eui=f"{d:016x}", tenant_id=f"t{d % 200}") for d in range(10_000)]
    n = 200_000
    started = time.perf_counter()
    for i in range(n):
        policy.allow_uplink(devices[i % 10_000], 24, 61.7)
    quota_us = (time.perf_counter() - started) / n * 1e6
    meter = UsageMeter(None, Metrics())  # type: ignore[arg-type]  # never flushed here
    now = datetime(2026, 10, 5, 12, tzinfo=UTC)
    events = [UplinkEvent(uplink_id=str(i), time=now, device=devices[i], dev_addr="0", f_cnt=0, f_port=1,
                          confirmed=False, adr=True, payload=b"", data=None, measurements={}, codec_errors=[],
                          codec_warnings=[], rx=[], frequency=868_100_000, spreading_factor=7, bandwidth=125_000,
                          dr=5, airtime_ms=61.7, phy_size=24, copies=2) for i in range(10_000)]
    started = time.perf_counter()
    for i in range(n):
        meter.submit(events[i % 10_000])
    meter_us = (time.perf_counter() - started) / n * 1e6
    print(f"radio path: quota allow_uplink {quota_us:.2f} us/call, meter submit {meter_us:.2f} us/call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server")
    parser.add_argument("--reuse", type=Path, help="a SQLite file kept between runs (loaded once)")
    args = parser.parse_args()
    radio_path()
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{args.reuse or Path(tmp) / 'bench.db'}"
        if args.postgres:
            from tests.support import services

            server = services.start_postgres()
            url = services.create_pg_database(server)
        try:
            print(f"database: {url.split(':')[0]}")
            if args.reuse is not None and args.reuse.exists():
                reset(url)
            else:
                load(url)
            elapsed = measure(url)
        finally:
            if server is not None:
                server.stop()
    sys.exit(0 if elapsed <= 30 else 1)


if __name__ == "__main__":
    main()
