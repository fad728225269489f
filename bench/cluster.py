"""Scale-out benchmark (issue 9 item 2): what it costs to keep dedup and FCnt correct across server processes.

Same run, same traffic, a real mosquitto and a real redis-server (tests/support/services.py), 3 gateway copies
per uplink published as ChirpStack ``event/up`` protobuf, the real MqttGatewayBackend and Deduplicator in every
member; the members share the gateway topics through ``$share/<group>/``. Three set-ups:

- single:  one process, no coordination (the baseline);
- (a) redis: 2 processes, shared state in Redis as ChirpStack does: per copy one pipelined round trip (dedup
  lock SET NX PX + the copy RPUSHed + PEXPIRE); the lock holder, when the window closes, reads the copies
  (LRANGE) and runs the FCnt check-and-set Lua script: 2 + copies round trips per uplink;
- (b) partition: 2 processes with lora_city.cluster (rendezvous ownership by DevAddr, copies forwarded to the
  owner over MQTT, in-memory FCnt, the FCnt high-water mark raised in Redis off the data path).

What is measured is the coordination only; the rest of the pipeline (MIC, decryption, codec, sinks) is the same
in every set-up and lives in bench/ingest.py. Each member accepts an uplink when its FCnt is new and records the
latency from the first gateway publish (time embedded in the frame) to the accept. Figures: handled vs sent
(exactly once?), CPU µs per uplink of the members and of members + broker + redis, p50/p99 latency (the dedup
window included), and the ratio to the single-process baseline.

    python3 bench/cluster.py [--rate 500] [--duration 8] [--devices 200] [--window-ms 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chirpstack_api.gw import gw_pb2  # noqa: E402
from redis.asyncio import BlockingConnectionPool, Redis  # noqa: E402

from lora_city.cluster.node import ClusterNode  # noqa: E402
from lora_city.gateway import chirpstack as cs  # noqa: E402
from lora_city.gateway.frames import DownlinkTxAck, GatewayConnState, GatewayStats, UplinkFrame  # noqa: E402
from lora_city.gateway.mqtt_backend import MqttGatewayBackend  # noqa: E402
from lora_city.metrics import Metrics  # noqa: E402
from lora_city.mqtt import MqttClient  # noqa: E402
from lora_city.settings import Settings  # noqa: E402
from lora_city.uplink.dedup import CollectedUplink, Deduplicator  # noqa: E402

GATEWAYS = ("c0c0c0c0c0c00001", "c0c0c0c0c0c00002", "c0c0c0c0c0c00003")
PREFIX = "benchcluster"
IDLE_S = 2.0  # a member writes its figures and exits after this long without a copy


def build_uplink(i: int, f_cnt: int) -> bytes:
    """A data uplink of device ``i``: DevAddr, FCnt, and the send time in the FRMPayload (no valid MIC: the
    coordination under test never checks it; bench/ingest.py measures the real pipeline)."""
    dev_addr = (0x00200000 + i).to_bytes(4, "little")
    return (b"\x40" + dev_addr + b"\x00" + (f_cnt & 0xFFFF).to_bytes(2, "little") + b"\x01"
            + struct.pack("<d", time.time()) + os.urandom(4))


def key_of(phy: bytes) -> tuple[str, int, float]:
    """(DevAddr, FCnt, sent at) of a bench frame."""
    return phy[4:0:-1].hex(), int.from_bytes(phy[6:8], "little"), struct.unpack("<d", phy[9:17])[0]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Tally:
    """What a member accepted: one per new FCnt; latencies from the first gateway publish."""

    def __init__(self) -> None:
        self.accepted = 0
        self.latencies: list[float] = []
        self.cpu_first: float | None = None
        self.cpu_last = 0.0
        self.last_copy = time.monotonic()

    def copy_seen(self) -> None:
        if self.cpu_first is None:
            self.cpu_first = time.process_time()
        self.last_copy = time.monotonic()

    def accept(self, sent_at: float) -> None:
        self.accepted += 1
        self.latencies.append(time.time() - sent_at)
        self.cpu_last = time.process_time()


class LocalServer:
    """GatewayEvents with the real Deduplicator and an in-memory FCnt check: the single server, and the owner
    in design (b) (``record`` raises the high-water mark there)."""

    def __init__(self, window_s: float, tally: Tally, record: Any = None) -> None:
        self.dedup = Deduplicator(window_s, self._on_collected)
        self._tally = tally
        self._record = record
        self._last: dict[str, int] = {}

    async def on_uplink(self, frame: UplinkFrame) -> None:
        self._tally.copy_seen()
        self.dedup.add(frame)

    def _on_collected(self, collected: CollectedUplink) -> None:
        dev_addr, f_cnt, sent_at = key_of(collected.phy_payload)
        if f_cnt > self._last.get(dev_addr, -1):
            self._last[dev_addr] = f_cnt
            if self._record is not None:
                self._record(dev_addr, f_cnt)
            self._tally.accept(sent_at)

    async def on_stats(self, stats: GatewayStats) -> None:
        return None

    async def on_tx_ack(self, ack: DownlinkTxAck) -> None:
        return None

    async def on_conn_state(self, state: GatewayConnState) -> None:
        return None


_FCNT_CAS = """
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class RedisSharedServer(LocalServer):
    """Design (a), ChirpStack's way: the dedup lock and the collected copies in Redis, the FCnt checked and set
    there; the member that took the lock handles the uplink with every member's copies."""

    def __init__(self, window_s: float, tally: Tally, redis: Redis) -> None:
        super().__init__(window_s, tally)
        self._window_s = window_s
        self._redis = redis
        self._cas = redis.register_script(_FCNT_CAS)
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_uplink(self, frame: UplinkFrame) -> None:
        self._tally.copy_seen()
        task = asyncio.get_running_loop().create_task(self._collect(frame))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _collect(self, frame: UplinkFrame) -> None:
        key = f"bench:dedup:{frame.phy_payload.hex()}"
        ttl = int(self._window_s * 2000)  # the lock lives two windows, as ChirpStack's deduplication lock
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(key + ":lock", b"1", nx=True, px=ttl)
            pipe.rpush(key, cs.uplink_to_pb(frame).SerializeToString())
            pipe.pexpire(key, 5_000)  # generous, so a slow round trip is measured as latency, not as a loss
            locked, _n, _e = await pipe.execute()
        if not locked:
            return
        await asyncio.sleep(self._window_s)
        copies = [gw_pb2.UplinkFrame.FromString(b) for b in await self._redis.lrange(key, 0, -1)]
        if not copies:  # overloaded: the round trips took longer than the keys live; the uplink is lost
            return
        dev_addr, f_cnt, sent_at = key_of(copies[0].phy_payload)
        if await self._cas(keys=[f"bench:fcnt:{dev_addr}"], args=[f_cnt, 3_600_000]):
            self._tally.accept(sent_at)


class FakeSessions:
    """The router's warm-up asks the session store for the DevAddr's sessions: none to load in this bench."""

    def for_dev_addr(self, dev_addr: str) -> list[Any]:
        return []

    def forget(self, dev_eui: str) -> None:
        return None


async def member_role(args: argparse.Namespace) -> None:
    design = args.design
    settings = Settings(
        mqtt_url=args.mqtt, mqtt_topic_prefix=PREFIX, dedup_window_ms=args.window_ms, redis_url=args.redis,
        mqtt_share_group=None if design == "single" else f"g{args.run}", cluster_member_id=args.member,
    )
    tally = Tally()
    backend = MqttGatewayBackend(settings, Metrics())
    window_s = args.window_ms / 1000
    node: ClusterNode | None = None
    redis: Redis | None = None
    if design == "partition":
        node = ClusterNode(settings)
        server: LocalServer = LocalServer(window_s, tally, record=node.high_water.record)
        node.router.bind(server, FakeSessions(), node.forwarder)  # type: ignore[arg-type]
        await node.start()
        await node.wrap(backend).start(server)
    elif design == "redis":
        # A bounded pool that makes callers wait for a connection, as ChirpStack's does (redis-py's default
        # pool raises "Too many connections" once a round trip per copy is in flight at this rate).
        redis = Redis(connection_pool=BlockingConnectionPool.from_url(args.redis, max_connections=32))
        server = RedisSharedServer(window_s, tally, redis)
        await backend.start(server)
    else:
        server = LocalServer(window_s, tally)
        await backend.start(server)
    Path(args.out + ".ready").write_text("1")
    while tally.cpu_first is None or time.monotonic() - tally.last_copy < IDLE_S:
        await asyncio.sleep(0.2)
    stats = {"accepted": tally.accepted, "latencies": tally.latencies,
             "cpu_s": tally.cpu_last - (tally.cpu_first or 0.0),
             "forwarded": node.router.forwarded if node else 0}
    Path(args.out).write_text(json.dumps(stats))
    await backend.stop()
    if node is not None:
        await node.leave()
        await node.stop()
    if redis is not None:
        await redis.aclose()


async def sim_role(args: argparse.Namespace) -> None:
    client = MqttClient(args.mqtt, queue_size=100_000)
    await client.connect()
    n_up = int(args.rate * args.duration)
    loop = asyncio.get_running_loop()
    start, tick, k = loop.time(), 0.005, 0
    per_tick, due = args.rate * tick, 0.0
    while k < n_up:
        due += per_tick
        while k < min(n_up, int(due)):
            phy = build_uplink(k % args.devices, k // args.devices)
            for g, gw in enumerate(GATEWAYS):
                pb = gw_pb2.UplinkFrame(phy_payload=phy)
                pb.tx_info.frequency = 868_100_000
                lora = pb.tx_info.modulation.lora
                lora.bandwidth, lora.spreading_factor, lora.code_rate = 125_000, 7, gw_pb2.CR_4_5
                rx = pb.rx_info
                rx.gateway_id, rx.uplink_id, rx.rssi, rx.snr = gw, k * 3 + g, -80 - 5 * g, 8.0 - 3 * g
                rx.crc_status = gw_pb2.CRC_OK
                await client.publish(f"{PREFIX}/gateway/{gw}/event/up", pb.SerializeToString())
            k += 1
        delay = start + (due / per_tick) * tick - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
    await client.close()
    print(json.dumps({"sent": n_up, "send_s": loop.time() - start}), flush=True)


def spawn(role: str, *extra: str, stdout: Any = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, "--role", role, *extra], stdout=stdout, text=True)


def run(design: str, members: int, args: argparse.Namespace, mosquitto: Any, redis: Any, tmp: Path,
        run_no: int) -> dict[str, Any]:
    outs = [tmp / f"{design}-{m}.json" for m in range(members)]
    procs = []
    for m, out in enumerate(outs):
        procs.append(spawn("member", "--design", design, "--member", f"m{m}", "--out", str(out),
                           "--mqtt", args.mqtt, "--redis", args.redis, "--window-ms", str(args.window_ms),
                           "--run", str(run_no)))
        while not Path(str(out) + ".ready").exists():  # one after the other: each sees the previous members
            time.sleep(0.05)
    time.sleep(0.5 + args.window_ms / 1000)  # membership settled, hand-over windows over
    broker0, redis0 = cpu_s(mosquitto.proc.pid), cpu_s(redis.proc.pid)
    sim = spawn("sim", "--mqtt", args.mqtt, "--rate", str(args.rate), "--duration", str(args.duration),
                "--devices", str(args.devices), stdout=subprocess.PIPE)
    sent = json.loads(sim.communicate()[0])["sent"]
    for p in procs:
        p.wait(120)
    broker_s, redis_s = cpu_s(mosquitto.proc.pid) - broker0, cpu_s(redis.proc.pid) - redis0
    stats = [json.loads(o.read_text()) for o in outs]
    accepted = sum(s["accepted"] for s in stats)
    latencies = sorted(x for s in stats for x in s["latencies"])
    member_cpu = sum(s["cpu_s"] for s in stats)
    return {
        "design": design, "members": members, "sent": sent, "accepted": accepted,
        "forwarded": sum(s["forwarded"] for s in stats),
        "member_us": 1e6 * member_cpu / max(accepted, 1),
        "total_us": 1e6 * (member_cpu + broker_s + redis_s) / max(accepted, 1),
        "redis_us": 1e6 * redis_s / max(accepted, 1), "broker_us": 1e6 * broker_s / max(accepted, 1),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
    }


def main(args: argparse.Namespace) -> None:
    import tempfile

    from tests.support.services import start_mosquitto, start_redis

    mosquitto, redis = start_mosquitto(), start_redis()
    args.mqtt, args.redis = mosquitto.url, redis.url
    results = []
    try:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            for n, (design, members) in enumerate((("single", 1), ("partition", 2), ("redis", 2))):
                results.append(run(design, members, args, mosquitto, redis, Path(tmp), n))
    finally:
        mosquitto.stop()
        redis.stop()
    base = results[0]
    print(f"{args.rate:.0f} uplinks/s x {args.duration:.0f} s, 3 copies each, {args.devices} devices, "
          f"dedup window {args.window_ms} ms, load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'set-up':<12}{'sent':>7}{'handled':>9}{'fwd':>7}{'members µs':>12}{'+broker+redis µs':>18}"
          f"{'(redis)':>9}{'(broker)':>10}{'p50 ms':>9}{'p99 ms':>9}{'x base':>8}")
    for r in results:
        print(f"{r['design']:<12}{r['sent']:>7}{r['accepted']:>9}{r['forwarded']:>7}{r['member_us']:>12.0f}"
              f"{r['total_us']:>18.0f}{r['redis_us']:>9.0f}{r['broker_us']:>10.0f}{r['p50_ms']:>9.1f}"
              f"{r['p99_ms']:>9.1f}{r['total_us'] / base['total_us']:>8.2f}")


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", default="main", choices=("main", "member", "sim"))
    ap.add_argument("--design", default="single")
    ap.add_argument("--member", default="m0")
    ap.add_argument("--out", default="")
    ap.add_argument("--mqtt", default="")
    ap.add_argument("--redis", default="")
    ap.add_argument("--run", default="0")
    ap.add_argument("--rate", type=float, default=500.0)
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--window-ms", type=int, default=200)
    return ap.parse_args()


if __name__ == "__main__":
    a = parse()
    if a.role == "member" and os.environ.get("BENCH_PROFILE"):  # where a member's CPU goes: <out>.prof
        import cProfile

        prof = cProfile.Profile(time.process_time)  # CPU, not wall time: idle epoll waits do not count
        prof.runcall(asyncio.run, member_role(a))
        prof.dump_stats(a.out + ".prof")
    elif a.role == "member":
        asyncio.run(member_role(a))
    elif a.role == "sim":
        asyncio.run(sim_role(a))
    else:
        main(a)
