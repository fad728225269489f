"""API benchmark (issue 6): with 100,000 registered devices, p99 latency of

- listing a page of 100 devices (``GET /api/v1/devices?limit=100&after=…``, keyset pages at random points),
- a device's last 100 readings (``GET /api/v1/devices/{dev_eui}/readings?limit=100``),

through the whole stack in process (ASGI, bearer API-key authentication, database, JSON), and the time of a
10,000-row CSV import (``POST /api/v1/devices/import``). Targets: p99 <= 50 ms, import <= 10 s.
Baseline printed beside each: the same query in bare SQLAlchemy, so the API's own cost is visible.

    python3 bench/api.py [--database-url URL] [--devices 100000] [--requests 500]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from lora_city.api import create_app
from lora_city.services.device_import import import_devices, import_text
from lora_city.services.principal import Principal, Role
from lora_city.settings import Settings
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import Device, Reading

KEY = "2b7e151628aed2a6abf7158809cf4f3c"
ADMIN = "bench-admin"


def csv_text(start: int, n: int) -> str:
    rows = ["dev_eui,name,join_eui,app_key,device_class"]
    rows += [f"{i:016x},meter {i},70b3d57ed0000000,{KEY},A" for i in range(start, start + n)]
    return "\n".join(rows) + "\n"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(name: str, api_ms: list[float], base_ms: list[float], target_ms: float) -> None:
    p99, base = percentile(api_ms, 99), percentile(base_ms, 99)
    verdict = "OK" if p99 <= target_ms else "OVER TARGET"
    print(f"{name:32} p50 {statistics.median(api_ms):6.2f} ms  p99 {p99:6.2f} ms  (target {target_ms:.0f} ms, "
          f"{verdict}); bare SQL p99 {base:5.2f} ms, ratio {p99 / base:4.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    vault = KeyVault("bench-secret")
    now = datetime.now(UTC)
    admin = Principal(Role.ADMIN, None)

    print(f"database: {engine.dialect.name}; registering {args.devices:,} devices by CSV import in 10,000-row files")
    t0 = time.perf_counter()
    for start in range(0, args.devices, 10_000):
        with factory() as s:
            import_devices(s, admin, vault, import_text(csv_text(start, min(10_000, args.devices - start))), now=now)
    print(f"  registered in {time.perf_counter() - t0:.1f} s")

    # Readings: 3 per device, plus 5,000 on the devices the readings benchmark asks for.
    hot = [f"{i:016x}" for i in random.Random(1).sample(range(args.devices), 20)]
    with factory() as s:
        tenant = s.scalar(select(Device.tenant_id).limit(1))
        rows, n = [], 0
        for i in range(args.devices):
            for k in range(3):
                n += 1
                rows.append({"uplink_id": f"u{n}", "dev_eui": f"{i:016x}", "tenant_id": tenant, "f_cnt": k,
                             "time": now - timedelta(hours=3 - k), "f_port": 1, "data": {"v": k},
                             "measurements": {"water_volume": {"value": k, "unit": "m3"}},
                             "rx": [{"gateway_id": "aa00000000000001", "rssi": -100, "snr": 2.5}],
                             "tx": {"spreading_factor": 9}})
            if len(rows) >= 20_000:
                s.execute(insert(Reading), rows)
                rows = []
        for dev in hot:
            for k in range(5_000):
                n += 1
                rows.append({"uplink_id": f"u{n}", "dev_eui": dev, "tenant_id": tenant, "f_cnt": 10 + k,
                             "time": now - timedelta(days=10) + timedelta(minutes=k), "f_port": 1,
                             "data": {"v": k}, "measurements": {}, "rx": [], "tx": {}})
            s.execute(insert(Reading), rows)
            rows = []
        if rows:
            s.execute(insert(Reading), rows)
        s.commit()
    print(f"  {n:,} readings stored")

    settings = Settings(database_url=url, admin_token=ADMIN, secret_key="bench-secret")
    app = create_app(settings, factory, vault)
    with TestClient(app) as client:
        key = client.post("/api/v1/api-keys", headers={"Authorization": f"Bearer {ADMIN}"},
                          json={"name": "bench", "role": "operator"}).json()["key"]
        auth = {"Authorization": f"Bearer {key}"}
        rnd = random.Random(2)

        def list_page() -> None:
            after = f"{rnd.randrange(args.devices - 200):016x}"
            r = client.get("/api/v1/devices", params={"limit": 100, "after": after}, headers=auth)
            assert r.status_code == 200 and len(r.json()["items"]) == 100, r.text

        def list_page_sql() -> None:
            after = f"{rnd.randrange(args.devices - 200):016x}"
            with factory() as s:
                assert len(list(s.scalars(select(Device).where(Device.dev_eui > after)
                                          .order_by(Device.dev_eui).limit(100)))) == 100

        def readings() -> None:
            r = client.get(f"/api/v1/devices/{rnd.choice(hot)}/readings", params={"limit": 100}, headers=auth)
            assert r.status_code == 200 and len(r.json()["items"]) == 100, r.text

        def readings_sql() -> None:
            with factory() as s:
                assert len(list(s.scalars(select(Reading).where(Reading.dev_eui == rnd.choice(hot))
                                          .order_by(Reading.time.desc(), Reading.id.desc()).limit(100)))) == 100

        for fn in (list_page, readings, list_page_sql, readings_sql):
            timed(fn, 20)  # warm caches and connection pool
        report("list 100 devices", timed(list_page, args.requests), timed(list_page_sql, args.requests), 50)
        report("last 100 readings of a device", timed(readings, args.requests), timed(readings_sql, args.requests), 50)

        text = csv_text(args.devices + 1_000, 10_000)
        t = time.perf_counter()
        r = client.post("/api/v1/devices/import", headers=auth, files={"file": ("d.csv", text, "text/csv")})
        api_s = time.perf_counter() - t
        assert r.status_code == 200 and r.json()["imported"] == 10_000, r.text[:300]
        bad = text.replace(f"{args.devices + 5_000:016x},", "nothex,")
        t = time.perf_counter()
        r = client.post("/api/v1/devices/import", headers=auth,
                        files={"file": ("d.csv", csv_text(args.devices + 20_000, 10_000) + bad[bad.index("\n") + 1:],
                                        "text/csv")})
        reject_s = time.perf_counter() - t
        assert r.status_code == 422, r.text[:300]
        print(f"{'CSV import, 10,000 rows':32} {api_s:6.2f} s (target 10 s, {'OK' if api_s <= 10 else 'OVER TARGET'}); "
              f"20,000 rows with one bad line rejected in {reject_s:.2f} s")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
