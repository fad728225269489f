"""Overload bench: the highest Semtech UDP uplink rate ``lora-city serve`` (SQLite) holds with nothing lost.

One ``lora-city serve`` process (the console script, as an operator runs it) on a fresh SQLite database, the
test's own ABP devices behind its own packet forwarder (tests/support/: written from the specifications and
PROTOCOL.TXT, not from lora_city), one copy per uplink. The rate steps up (500, 1000, 2000 … uplinks/s) for a
few seconds each; after each step the bench waits for the server to catch up, then reads what was stored and
the server's loss counters:

- kernel: ``lora_city_udp_receive_drops_total``, datagrams the kernel dropped for the gateway socket (its
  receive buffer full: the server did not read fast enough);
- overload: uplinks the server refused itself (``lora_city_gateway_bad_input_total{reason="overload"}``);
- pipeline: ``lora_city_uplink_drops_total`` (every reason, an unknown gateway included).

A step holds when every uplink sent is stored once; it kept pace when the server had caught up within 1.5 s of
the step's end ("behind" is what was still in the socket buffer, the pipeline or the store's batch then: a 16 MiB
receive buffer holds some 50,000 datagrams, so a short step can be held by the buffer alone). The baseline measured in the same run is the sender's own
achieved rate: a step the sender could not drive at its nominal rate measures the sender, and says so. The run
stops at the first step that loses uplinks. "unexplained" is what was lost and no counter shows (it must stay 0).
Machine load (1-minute load average) and the server's CPU time per uplink are printed beside each step: the
figures only mean something next to them.

    python3 bench/overload.py [--rates 500,1000,2000,4000,6000,8000] [--step 3] [--devices 200]

Keep it short on a shared machine: the default run takes about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from lora_city.storage.migrate import upgrade  # noqa: E402
from tests.support.abp_device import AbpDevice  # noqa: E402
from tests.support.forwarder import Forwarder  # noqa: E402
from tests.support.schema import all_migration_locations  # noqa: E402
from tests.support.serve import ServerProcesses, provision, register_gateways  # noqa: E402

GATEWAY = "aa555a00000000f2"
KERNEL = "lora_city_udp_receive_drops_total"
OVERLOAD = 'lora_city_gateway_bad_input_total{transport="udp",reason="overload"}'
PIPELINE = "lora_city_uplink_drops_total"


async def stream(forwarder: Forwarder, devices: list[AbpDevice], rate: int, seconds: float) -> tuple[int, float]:
    """Send ``rate`` uplinks/s for ``seconds``; returns (sent, the sender's achieved seconds)."""
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    started = loop.time()
    n = 0
    while n < total:
        due = min(total, int((loop.time() - started) * rate) + 1)
        while n < due:  # a late tick catches up in a burst, as gateways behind one backhaul do
            device = devices[n % len(devices)]
            f_cnt, phy = device.uplink(2, n.to_bytes(4, "big"))
            forwarder.send((device.dev_eui, f_cnt), phy)
            n += 1
        await asyncio.sleep(0.005)
    return n, loop.time() - started


def stored(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM readings")).scalar_one())
    finally:
        engine.dispose()


def settle(database_url: str, expected: int, quiet_s: float = 2.0, limit_s: float = 30.0) -> int:
    """The readings once the server has caught up: all there, or no new one for ``quiet_s``."""
    began = last_change = time.monotonic()
    last = -1
    while True:
        count = stored(database_url)
        now = time.monotonic()
        if count != last:
            last, last_change = count, now
        if count >= expected or now - last_change > quiet_s or now - began > limit_s:
            return count
        time.sleep(0.3)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="500,1000,2000,4000,6000,8000", help="uplinks/s, in increasing order")
    parser.add_argument("--step", type=float, default=3.0, help="seconds of traffic per rate")
    parser.add_argument("--devices", type=int, default=200)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]

    with tempfile.TemporaryDirectory(prefix="lc-overload-") as tmp:
        url = f"sqlite:///{tmp}/overload.db"
        upgrade(url, all_migration_locations())
        server = ServerProcesses.build(Path(tmp), url)
        try:
            pid = server.start_cli()
            server.wait_ready()
            devices = provision(server.api, args.devices)
            register_gateways(server.api, GATEWAY)
            rows = run_steps(server, pid, url, devices, rates, args.step)
            receive_buffer = server.metric("lora_city_udp_receive_buffer_bytes")
            server.stop()
        finally:
            server.close()

    held = [r["rate"] for r in rows if r["lost"] == 0 and not r["sender_bound"]]
    # kept pace: caught up within a second of the step's end (the store writes in batches), not carried by a
    # socket buffer that a longer step would have overflowed
    paced = [r["rate"] for r in rows if r["lost"] == 0 and not r["sender_bound"] and r["caught_up_s"] <= 1.5]
    print(f"\nreceive buffer granted by the kernel: {receive_buffer / 2**20:.0f} MiB, {os.cpu_count()} cores")
    print(f"{'rate/s':>7} {'sent':>7} {'sender/s':>9} {'stored':>7} {'lost':>5} {'kernel':>7} {'overload':>9} "
          f"{'pipeline':>9} {'unexplained':>11} {'behind':>7} {'caught up':>9} {'CPU µs/uplink':>13} {'load':>5}")
    for r in rows:
        print(f"{r['rate']:>7} {r['sent']:>7} {r['sender_rate']:>9.0f} {r['stored']:>7} {r['lost']:>5} "
              f"{r['kernel']:>7.0f} {r['overload']:>9.0f} {r['pipeline']:>9.0f} {r['unexplained']:>11} "
              f"{r['behind_at_end']:>7} {r['caught_up_s']:>8.1f}s "
              f"{r['server_cpu_us']:>13.0f} "
              f"{r['load']:>5.1f}" + ("  (sender-bound)" if r["sender_bound"] else ""))
    print(f"highest rate held with 0 losses: {max(held, default=0)}/s; "
          f"highest kept pace with (caught up within 1.5 s): {max(paced, default=0)}/s")
    print("json:", json.dumps(rows))


def run_steps(server: ServerProcesses, pid: int, url: str, devices: list[AbpDevice], rates: list[int],
              step_s: float) -> list[dict[str, float | int | bool]]:
    rows: list[dict[str, float | int | bool]] = []
    before = {name: server.metric(name) for name in (KERNEL, OVERLOAD, PIPELINE)}
    stored_before = stored(url)
    for rate in rates:
        forwarder = Forwarder(GATEWAY, ("127.0.0.1", server.udp_port))
        cpu0 = cpu_seconds(pid)

        async def one_step(forwarder: Forwarder = forwarder, rate: int = rate) -> tuple[int, float]:
            await forwarder.start()
            try:
                return await stream(forwarder, devices, rate, step_s)
            finally:
                forwarder.stop()

        sent, sender_s = asyncio.run(one_step())
        ended = time.monotonic()
        behind = sent - (stored(url) - stored_before)  # still in the socket buffer, the pipeline or the store
        count = settle(url, stored_before + sent)
        caught_up_s = time.monotonic() - ended
        cpu_us = (cpu_seconds(pid) - cpu0) / sent * 1e6  # settling included: the work of this step's uplinks
        time.sleep(1.5)  # the kernel's counter is read every second
        after = {name: server.metric(name) for name in (KERNEL, OVERLOAD, PIPELINE)}
        row: dict[str, float | int | bool] = {
            "rate": rate, "sent": sent, "sender_rate": sent / sender_s, "stored": count - stored_before,
            "lost": sent - (count - stored_before), "kernel": after[KERNEL] - before[KERNEL],
            "overload": after[OVERLOAD] - before[OVERLOAD], "pipeline": after[PIPELINE] - before[PIPELINE],
            "behind_at_end": behind, "caught_up_s": caught_up_s, "server_cpu_us": cpu_us, "load": os.getloadavg()[0],
            "sender_bound": sent / sender_s < 0.9 * rate,
        }
        row["unexplained"] = int(row["lost"]) - int(row["kernel"] + row["overload"] + row["pipeline"])
        rows.append(row)
        print(json.dumps(row), flush=True)
        before, stored_before = after, count
        if row["lost"] or row["sender_bound"]:
            break
    return rows


if __name__ == "__main__":
    main()
