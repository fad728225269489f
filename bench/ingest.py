"""Ingest benchmark: the embedded network server under gateway traffic, measured from outside.

Three processes and a real mosquitto (started here, tests/support/services.py):
- the SERVER: NetworkServer + MqttGatewayBackend + the embedded readings store (SQLite), with N provisioned
  device sessions (ABP-style rows: real keys, encrypted at rest) preloaded at start;
- the SIMULATOR: pre-builds real LoRaWAN uplinks (AES FRMPayload, CMAC MIC) as ChirpStack protobuf
  ``event/up`` messages, 3 gateway copies each, publishes them at a fixed rate and listens on ``command/down``
  to time the ACKs of confirmed uplinks (gateway publish of the first copy -> downlink publish received);
- a COUNTER for the broker's own ceiling: one publisher, one subscriber, nothing else.

Figures: sustained unique uplinks/s (sent vs handled vs lost), server CPU µs per uplink (process_time of the
server process, all threads, incl. the readings store), p50/p99 ACK latency at the latency rate with the dedup
window, the cyclic collector's full collections (count, longest pause, from ``gc.callbacks``), server RSS
before/after loading N sessions, the sessions' memory in steady state (a separate process where every one of
``--memory-devices`` devices has sent 20 uplinks through 3 gateways), and the broker ceiling in the same run.

    python3 bench/ingest.py [--devices 100000] [--rate 5000] [--duration 20] [--latency-rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chirpstack_api.gw import gw_pb2  # noqa: E402

from lora_city.lorawan.crypto import data_mic_10, encrypt_frm_payload  # noqa: E402
from lora_city.lorawan.frames import DataFrame, FCtrl, MType  # noqa: E402
from lora_city.mqtt import MqttClient, MqttMessage  # noqa: E402

SECRET = "bench-secret"
GATEWAYS = ("b0b0b0b0b0b00001", "b0b0b0b0b0b00002", "b0b0b0b0b0b00003")
PREFIX = "bench"


def device(i: int) -> tuple[str, str, bytes, bytes]:
    """(dev_eui, dev_addr, nwk_s_key, app_s_key) of bench device ``i``, the same in every process."""
    h = hashlib.sha256(f"bench-device-{i}".encode()).digest()
    return f"{0x70B3D5E75E000000 + i:016x}", f"{0x00100000 + i:08x}", h[:16], h[16:]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --- provisioning --------------------------------------------------------------------------------------------

def provision(database_url: str, n: int) -> float:
    from sqlalchemy import insert

    from lora_city.storage import migrate
    from lora_city.storage.bootstrap import ensure_city_tenant
    from lora_city.storage.db import make_engine, make_session_factory, transaction
    from lora_city.storage.keys import KeyVault
    from lora_city.storage.models import Device, DeviceSession, Gateway

    started = time.monotonic()
    migrate.upgrade(database_url, ())
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    vault = KeyVault(SECRET)
    with transaction(factory) as db:
        tenant_id = ensure_city_tenant(db).id
        # the server drops frames of unregistered gateways (issue 23)
        db.execute(insert(Gateway), [{"gateway_id": gw, "tenant_id": tenant_id, "name": gw} for gw in GATEWAYS])
    # Devices in steady state: they already answered DevStatus and took the network's radio plan (RX settings,
    # extra channels), so their uplinks carry no MAC requests: downlinks are the ACKs of confirmed uplinks only
    # (otherwise NewChannelReq to every device spends the gateways' duty-cycle budget before the ACK phase).
    from lora_city.lorawan.region import region_named
    from lora_city.settings import Settings
    from lora_city.uplink.mac_requests import RadioPlan

    region = region_named(Settings(database_url=database_url, secret_key=SECRET).region)
    plan = RadioPlan.from_settings(Settings(database_url=database_url, secret_key=SECRET), region)
    first = len(region.default_channels)
    state = {"uplinks_since_status": 2, "status_requested": False, "rx_delay": plan.rx_delay,
             "rx1_dr_offset": plan.rx1_dr_offset, "rx2_dr": plan.rx2_dr, "rx2_frequency": plan.rx2_frequency,
             "max_duty_cycle": plan.max_duty_cycle,
             "extra_channels": {str(first + i): f for i, f in enumerate(plan.extra_channels)}}
    for start in range(0, n, 10_000):
        devices, sessions = [], []
        for i in range(start, min(n, start + 10_000)):
            dev_eui, dev_addr, nwk, app = device(i)
            ctx = dev_eui.encode()
            nwk_enc = vault.encrypt(nwk, context=ctx)
            devices.append({"dev_eui": dev_eui, "tenant_id": tenant_id, "name": f"bench {i}",
                            "codec_id": "milesight-em300-di", "device_class": "A", "dev_addr": dev_addr,
                            "join_eui": "0000000000000000", "tags": {}})
            sessions.append({"id": f"00000000-0000-4000-8000-{i:012x}", "dev_eui": dev_eui, "dev_addr": dev_addr,
                             "mac_version": "1.0.3", "f_nwk_s_int_key_enc": nwk_enc, "s_nwk_s_int_key_enc": nwk_enc,
                             "nwk_s_enc_key_enc": nwk_enc, "app_s_key_enc": vault.encrypt(app, context=ctx),
                             "is_active": True, "state": state})
        with transaction(factory) as db:
            db.execute(insert(Device), devices)
            db.execute(insert(DeviceSession), sessions)
    engine.dispose()
    return time.monotonic() - started


# --- server role --------------------------------------------------------------------------------------------

async def server_role(args: argparse.Namespace) -> None:
    from lora_city.codec.registry import CodecRegistry
    from lora_city.gateway.mqtt_backend import MqttGatewayBackend
    from lora_city.metrics import Metrics
    from lora_city.network.server import NetworkServer
    from lora_city.settings import Settings
    from lora_city.sinks.store import ReadingStoreSink
    from lora_city.storage.db import make_engine, make_session_factory
    from lora_city.storage.keys import KeyVault

    stats_path = Path(args.stats)
    settings = Settings(database_url=args.db, mqtt_url=args.mqtt, mqtt_topic_prefix=PREFIX, udp_listen="",
                        secret_key=SECRET, dedup_window_ms=args.dedup_ms)
    metrics = Metrics()
    factory = make_session_factory(make_engine(args.db))
    codecs = CodecRegistry.load(settings.codecs_path, entry_points=False)
    rss_base = rss_mb()
    server = NetworkServer(settings, metrics, factory, KeyVault(SECRET), codecs=codecs,
                           sinks=[ReadingStoreSink(factory, metrics)],
                           backends=[MqttGatewayBackend(settings, metrics)])
    t0 = time.monotonic()
    await server.start()
    load_s = time.monotonic() - t0
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    def sample(name: str, **labels: str) -> float:
        return metrics.registry.get_sample_value(name, labels) or 0.0

    def drops() -> dict[str, float]:
        return {s.labels["reason"]: s.value for m in metrics.uplink_drops.collect() for s in m.samples
                if s.name.endswith("_total")}

    collections = CollectionTimer()
    gc.callbacks.append(collections)
    while not stop.is_set():
        stats = {
            "ready": True, "cpu": time.process_time(), "rss_base_mb": rss_base, "rss_mb": rss_mb(),
            "sessions": server.sessions.count(), "load_s": load_s, **collections.stats(),
            "uplinks": sample("lora_city_uplinks_total", kind="data"),
            "downlinks": sum(s.value for m in metrics.downlinks.collect() for s in m.samples
                             if s.name.endswith("_total")),
            "drops": drops(), "copies": sample("lora_city_dedup_copies_total"),
            "refused": {s.labels["reason"]: s.value for m in metrics.downlink_refused.collect() for s in m.samples
                        if s.name.endswith("_total")},
        }
        tmp = stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats))
        tmp.replace(stats_path)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)
    await server.stop()


class CollectionTimer:
    """``gc.callbacks`` hook: how many full (generation 2) collections ran, their total and longest pause, in
    wall time and in the collecting thread's CPU time (on a loaded machine the wall time includes waiting for a
    core; the CPU time is the collector's own work)."""

    def __init__(self) -> None:
        self.started = (0.0, 0.0)
        self.full = 0
        self.full_s = 0.0
        self.full_max_s = 0.0
        self.full_max_cpu_s = 0.0
        self.young_s = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = (time.perf_counter(), time.thread_time())
            return
        took, cpu = time.perf_counter() - self.started[0], time.thread_time() - self.started[1]
        if info["generation"] == 2:
            self.full += 1
            self.full_s += cpu
            self.full_max_s = max(self.full_max_s, took)
            self.full_max_cpu_s = max(self.full_max_cpu_s, cpu)
        else:
            self.young_s += cpu

    def stats(self) -> dict[str, float]:
        return {"gc_full": self.full, "gc_full_s": self.full_s, "gc_full_max_ms": 1000 * self.full_max_s,
                "gc_full_max_cpu_ms": 1000 * self.full_max_cpu_s, "gc_young_s": self.young_s}


# --- simulator role -----------------------------------------------------------------------------------------

def build_uplink(i: int, f_cnt: int, confirmed: bool) -> bytes:
    _dev_eui, dev_addr, nwk, app = device(i)
    pulses = (i * 7 + f_cnt) & 0xFFFFFFFF
    payload = b"\x01\x75\x5c\x05\xc8" + pulses.to_bytes(4, "little")
    frame = DataFrame(MType.CONFIRMED_DATA_UP if confirmed else MType.UNCONFIRMED_DATA_UP, dev_addr,
                      FCtrl(adr=False), f_cnt & 0xFFFF, b"", 85,
                      encrypt_frm_payload(app, dev_addr, f_cnt, True, payload))
    msg = frame.mic_input()
    return msg + data_mic_10(nwk, msg, dev_addr, f_cnt, True)


def gateway_messages(phy: bytes, seq: int) -> list[tuple[str, bytes]]:
    out = []
    for g, gw in enumerate(GATEWAYS):
        pb = gw_pb2.UplinkFrame(phy_payload=phy)
        pb.tx_info.frequency = 868_100_000
        lora = pb.tx_info.modulation.lora
        lora.bandwidth, lora.spreading_factor, lora.code_rate = 125_000, 7, gw_pb2.CR_4_5
        rx = pb.rx_info
        rx.gateway_id, rx.uplink_id, rx.rssi, rx.snr = gw, seq * 3 + g, -80 - 5 * g, 8.0 - 3 * g
        rx.context, rx.crc_status = ((seq * 1000) & 0xFFFFFFFF).to_bytes(4, "big"), gw_pb2.CRC_OK
        out.append((f"{PREFIX}/gateway/{gw}/event/up", pb.SerializeToString()))
    return out


async def sim_role(args: argparse.Namespace) -> None:
    n_up = int(args.rate * args.duration)
    t_build = time.monotonic()
    plan: list[tuple[str | None, list[tuple[str, bytes]]]] = []
    for k in range(n_up):
        i = (args.first + k) % args.devices
        f_cnt = args.fcnt_base + (args.first + k) // args.devices
        confirmed = args.confirmed > 0 and k % int(1 / args.confirmed) == 0
        phy = build_uplink(i, f_cnt, confirmed)
        plan.append((device(i)[1] if confirmed else None, gateway_messages(phy, k)))
    build_s = time.monotonic() - t_build

    sent_at: dict[str, float] = {}
    latencies: list[float] = []

    async def on_down(msg: MqttMessage) -> None:
        pb = gw_pb2.DownlinkFrame()
        pb.ParseFromString(msg.payload)
        phy = pb.items[0].phy_payload if pb.items else b""
        if len(phy) >= 12 and phy[5] & 0x20:  # FCtrl.ACK: the answer to a confirmed uplink
            t = sent_at.pop(phy[4:0:-1].hex(), None)
            if t is not None:
                latencies.append(time.monotonic() - t)

    client = MqttClient(args.mqtt, on_message=on_down, queue_size=100_000)
    await client.connect()
    await client.subscribe(f"{PREFIX}/gateway/+/command/down")
    loop = asyncio.get_running_loop()
    start = loop.time()
    tick = 0.005
    per_tick = args.rate * tick
    due = 0.0
    k = 0
    while k < n_up:
        due += per_tick
        while k < min(n_up, int(due)):
            dev_addr, messages = plan[k]
            if dev_addr is not None:
                sent_at[dev_addr] = time.monotonic()
            for topic, payload in messages:
                await client.publish(topic, payload)
            k += 1
        next_tick = start + (due / per_tick) * tick
        delay = next_tick - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
    send_s = loop.time() - start
    await asyncio.sleep(args.dedup_ms / 1000 + 5.0)  # the last ACKs (late ones count too: they show the lag)
    await client.close()
    print(json.dumps({"sent": n_up, "send_s": send_s, "build_s": build_s, "latencies": latencies,
                      "confirmed_sent": sum(1 for d, _ in plan if d is not None)}), flush=True)


# --- in-process pipeline cost ----------------------------------------------------------------------------------

async def inproc_role(args: argparse.Namespace) -> None:
    """The pipeline alone (dedup -> MIC/FCnt -> decrypt -> MAC -> codec -> sinks, plus the session flush), fed
    UplinkFrames directly: no MQTT, no protobuf. With ``--store`` the embedded readings store is the sink."""
    from lora_city.codec.registry import CodecRegistry
    from lora_city.gateway import chirpstack as cs
    from lora_city.gateway.frames import Transport
    from lora_city.metrics import Metrics
    from lora_city.network.server import NetworkServer
    from lora_city.settings import Settings
    from lora_city.sinks.events import Sink
    from lora_city.sinks.store import ReadingStoreSink
    from lora_city.storage.db import make_engine, make_session_factory
    from lora_city.storage.keys import KeyVault

    settings = Settings(database_url=args.db, udp_listen="", secret_key=SECRET, dedup_window_ms=20)
    metrics = Metrics()
    factory = make_session_factory(make_engine(args.db))
    sinks: list[Sink] = [ReadingStoreSink(factory, metrics)] if args.store else []
    server = NetworkServer(settings, metrics, factory, KeyVault(SECRET),
                           codecs=CodecRegistry.load(settings.codecs_path, entry_points=False), sinks=sinks)
    await server.start()
    frames = []
    for k in range(args.messages):
        i = (args.first + k) % args.devices
        phy = build_uplink(i, args.fcnt_base, False)
        for _topic, payload in gateway_messages(phy, k):
            pb = gw_pb2.UplinkFrame()
            pb.ParseFromString(payload)
            frames.append(cs.uplink_from_pb(pb, pb.rx_info.gateway_id, Transport.MQTT_PROTOBUF, time.monotonic()))
    c0 = time.process_time()
    for start in range(0, len(frames), 600):
        for frame in frames[start:start + 600]:
            await server.on_uplink(frame)
        await asyncio.sleep(0.03)
    await asyncio.sleep(0.1)
    await server.stop()  # includes the final session flush and the store's last batch
    cpu = time.process_time() - c0
    handled = metrics.registry.get_sample_value("lora_city_uplinks_total", {"kind": "data"}) or 0.0
    print(json.dumps({"handled": handled, "cpu_us_per_uplink": 1e6 * cpu / max(handled, 1.0)}), flush=True)


async def memory_role(args: argparse.Namespace) -> None:
    """Sessions in steady state: every device sends 20 uplinks through 3 gateways (ADR history full, heard-by
    set), through the real pipeline (no sink, so no queue holds events); RSS before loading, after loading, and
    after the traffic with the session flushes done and a full collection."""
    from lora_city.codec.registry import CodecRegistry
    from lora_city.gateway import chirpstack as cs
    from lora_city.gateway.frames import Transport
    from lora_city.metrics import Metrics
    from lora_city.network.server import NetworkServer
    from lora_city.settings import Settings
    from lora_city.storage.db import make_engine, make_session_factory
    from lora_city.storage.keys import KeyVault

    settings = Settings(database_url=args.db, udp_listen="", secret_key=SECRET, dedup_window_ms=20)
    metrics = Metrics()
    factory = make_session_factory(make_engine(args.db))
    server = NetworkServer(settings, metrics, factory, KeyVault(SECRET),
                           codecs=CodecRegistry.load(settings.codecs_path, entry_points=False))
    rss_base = rss_mb()
    await server.start()
    rss_loaded = rss_mb()
    n = server.sessions.count()  # every loaded session gets the traffic: nothing measured half-filled
    sent = 0
    for r in range(20):
        for start in range(0, n, 500):
            for i in range(start, min(n, start + 500)):
                phy = build_uplink(i, args.fcnt_base + r, False)
                for _topic, payload in gateway_messages(phy, r * n + i):
                    pb = gw_pb2.UplinkFrame()
                    pb.ParseFromString(payload)
                    await server.on_uplink(cs.uplink_from_pb(pb, pb.rx_info.gateway_id, Transport.MQTT_PROTOBUF,
                                                             time.monotonic()))
            await asyncio.sleep(0.03)  # the dedup windows close
            sent += 500
            if sent % 5000 == 0:  # the server flushes every second: 5,000 sessions a flush at 5,000 uplinks/s
                await server.flush()
        await asyncio.sleep(0.05)
        await server.flush()
    gc.collect()
    rss_steady = rss_mb()
    handled = metrics.registry.get_sample_value("lora_city_uplinks_total", {"kind": "data"}) or 0.0
    drops = {s.labels["reason"]: s.value for m in metrics.uplink_drops.collect() for s in m.samples
             if s.name.endswith("_total") and s.value}
    sessions = server.sessions.count()
    await server.stop()
    print(json.dumps({"devices": n, "sessions": sessions, "handled": handled, "drops": drops, "rss_base_mb": rss_base,
                      "rss_loaded_mb": rss_loaded, "rss_steady_mb": rss_steady}), flush=True)


# --- broker ceiling ----------------------------------------------------------------------------------------

async def count_role(args: argparse.Namespace) -> None:
    seen = 0
    first = last = 0.0
    done = asyncio.Event()

    async def on_msg(_msg: MqttMessage) -> None:
        nonlocal seen, first, last
        seen += 1
        last = time.monotonic()
        if seen == 1:
            first = last
        if seen >= args.messages:
            done.set()

    client = MqttClient(args.mqtt, on_message=on_msg, queue_size=200_000)
    await client.connect()
    await client.subscribe("ceiling/#")
    print("subscribed", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 120)
    await client.close()
    print(json.dumps({"received": seen, "rate": (seen - 1) / (last - first) if last > first else 0.0}), flush=True)


async def publish_role(args: argparse.Namespace) -> None:
    payload = gateway_messages(build_uplink(0, 0, False), 0)[0][1]
    client = MqttClient(args.mqtt)
    await client.connect()
    for k in range(args.messages):
        await client.publish("ceiling/gateway/x/event/up", payload)
        if k % 1000 == 0:
            await asyncio.sleep(0)
    await asyncio.sleep(1.0)
    await client.close()


# --- orchestration -----------------------------------------------------------------------------------------

def spawn(role: str, *extra: str, stdout: Any = subprocess.PIPE) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, "--role", role, *extra], stdout=stdout, text=True)


def read_stats(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def wait_stats(path: Path, timeout: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return read_stats(path)
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def settle(path: Path, expected: float, timeout: float = 60.0) -> dict[str, Any]:
    """Wait until the server handled ``expected`` uplinks, or its count stopped moving for 2 s."""
    deadline = time.monotonic() + timeout
    last, still_since = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        s = read_stats(path)
        handled = s["uplinks"] + sum(s["drops"].values())
        if handled >= expected:
            return s
        if handled != last:
            last, still_since = handled, time.monotonic()
        elif time.monotonic() - still_since > 2.0:
            return s
        time.sleep(0.1)
    return read_stats(path)


def quiesce(path: Path, timeout: float = 180.0) -> dict[str, Any]:
    """Wait until the server is idle (under 5 % of a core for a second): the readings store drains its backlog
    after the last uplink was counted, and that work belongs to the phase that caused it, not to the next."""
    deadline = time.monotonic() + timeout
    prev, prev_t = read_stats(path), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        s, t = read_stats(path), time.monotonic()
        if (s["cpu"] - prev["cpu"]) / (t - prev_t) < 0.05:
            return s
        prev, prev_t = s, t
    return read_stats(path)


def run_phase(mqtt: str, stats: Path, *, rate: float, duration: float, devices: int, first: int, fcnt_base: int,
              confirmed: float, dedup_ms: int) -> dict[str, Any]:
    before = read_stats(stats)
    sim = spawn("sim", "--mqtt", mqtt, "--rate", str(rate), "--duration", str(duration), "--devices", str(devices),
                "--first", str(first), "--fcnt-base", str(fcnt_base), "--confirmed", str(confirmed),
                "--dedup-ms", str(dedup_ms))
    out, _ = sim.communicate()
    result = json.loads(out.strip().splitlines()[-1])
    before_handled = before["uplinks"] + sum(before["drops"].values())
    settle(stats, before_handled + result["sent"])
    after = quiesce(stats)  # CPU of the whole phase, incl. the store's backlog
    handled = after["uplinks"] - before["uplinks"]
    drops = {k: v - before["drops"].get(k, 0.0) for k, v in after["drops"].items()
             if v - before["drops"].get(k, 0.0)}
    cpu = after["cpu"] - before["cpu"]
    lat = sorted(result["latencies"])
    return {
        "rate": rate, "sent": result["sent"], "send_s": result["send_s"], "build_s": result["build_s"],
        "sent_rate": result["sent"] / result["send_s"], "handled": handled, "drops": drops,
        "lost": result["sent"] - handled - sum(drops.values()), "cpu_s": cpu,
        "cpu_us_per_uplink": 1e6 * cpu / handled if handled else float("nan"),
        "downlinks": after["downlinks"] - before["downlinks"],
        "refused": {k: v - before["refused"].get(k, 0.0) for k, v in after["refused"].items()
                    if v - before["refused"].get(k, 0.0)},
        "confirmed_sent": result["confirmed_sent"], "acks": len(lat),
        "p50_ms": 1000 * statistics.median(lat) if lat else float("nan"),
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan"),
        "rss_mb": after["rss_mb"], "gc_full": after["gc_full"] - before["gc_full"],
        "gc_full_s": after["gc_full_s"] - before["gc_full_s"], "gc_young_s": after["gc_young_s"] - before["gc_young_s"],
        "gc_full_max_ms_so_far": after["gc_full_max_ms"], "gc_full_max_cpu_ms_so_far": after["gc_full_max_cpu_ms"],
    }


def broker_ceiling(mqtt: str, messages: int) -> float:
    counter = spawn("count", "--mqtt", mqtt, "--messages", str(messages))
    assert counter.stdout is not None
    counter.stdout.readline()  # "subscribed"
    publisher = spawn("publish", "--mqtt", mqtt, "--messages", str(messages), stdout=subprocess.DEVNULL)
    publisher.wait()
    out, _ = counter.communicate(timeout=180)
    return float(json.loads(out.strip().splitlines()[-1])["rate"])


def main(args: argparse.Namespace) -> None:
    from tests.support.services import start_mosquitto

    broker = start_mosquitto()
    workdir = Path(tempfile.mkdtemp(prefix="lc-bench-"))
    db = f"sqlite:///{workdir / 'bench.db'}"
    server: subprocess.Popen[str] | None = None
    try:
        print(f"provisioning {args.devices} devices with sessions ... (load average {os.getloadavg()})", flush=True)
        prov_s = provision(db, args.devices)
        stats = workdir / "server.json"
        server = spawn("server", "--mqtt", broker.url, "--db", db, "--stats", str(stats),
                       "--dedup-ms", str(args.dedup_ms), stdout=None)
        s0 = wait_stats(stats)
        print(f"server up: {s0['sessions']} sessions loaded in {s0['load_s']:.1f} s; RSS {s0['rss_base_mb']:.0f} MB "
              f"before, {s0['rss_mb']:.0f} MB after loading", flush=True)
        ceiling = broker_ceiling(broker.url, args.ceiling_messages)
        print(f"broker ceiling: {ceiling:,.0f} msg/s (one publisher, one subscriber)", flush=True)
        results = []
        fcnt_base = 0
        for rate in args.rates:
            r = run_phase(broker.url, stats, rate=rate, duration=args.duration, devices=args.devices, first=0,
                          fcnt_base=fcnt_base, confirmed=0.0, dedup_ms=args.dedup_ms)
            fcnt_base += 1 + int(rate * args.duration) // args.devices + 1
            results.append(("throughput", r))
            print(json.dumps(r), flush=True)
        lat = run_phase(broker.url, stats, rate=args.latency_rate, duration=args.latency_duration,
                        devices=args.devices, first=0, fcnt_base=fcnt_base, confirmed=args.confirmed,
                        dedup_ms=args.dedup_ms)
        results.append(("latency", lat))
        print(json.dumps(lat), flush=True)
        final = read_stats(stats)
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        server = None
        inproc = {}
        for label, extra in (("pipeline", []), ("pipeline+store", ["--store"])):
            out = subprocess.run(
                [sys.executable, __file__, "--role", "inproc", "--db", db, "--devices", str(args.devices),
                 "--messages", str(args.inproc_uplinks), "--fcnt-base", str(fcnt_base + 10), *extra],
                capture_output=True, text=True, check=True).stdout
            inproc[label] = json.loads(out.strip().splitlines()[-1])
            fcnt_base += 1
        memory_db = f"sqlite:///{workdir / 'memory.db'}"
        provision(memory_db, args.memory_devices)
        memory = json.loads(subprocess.run(
            [sys.executable, __file__, "--role", "memory", "--db", memory_db, "--devices", str(args.memory_devices)],
            capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        mem_per_100k = (s0["rss_mb"] - s0["rss_base_mb"]) * 100_000 / max(args.devices, 1)
        print(f"\n=== ingest benchmark (server in one process; dedup window {args.dedup_ms} ms) ===")
        print(f"provisioning: {args.devices} devices in {prov_s:.1f} s")
        print(f"broker ceiling:          {ceiling:10,.0f} msg/s  = {ceiling / 3:,.0f} uplinks/s at 3 copies")
        for kind, r in results:
            print(f"{kind:10s} @{r['rate']:6.0f}/s: sent {r['sent']:7d} ({r['sent_rate']:7,.0f}/s achieved), "
                  f"handled {r['handled']:7.0f}, lost {r['lost']:5.0f}, drops {r['drops']}, "
                  f"CPU {r['cpu_us_per_uplink']:6.1f} µs/uplink, ACK p50 {r['p50_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms "
                  f"({r['acks']}/{r['confirmed_sent']} confirmed answered); server load "
                  f"{r['cpu_s'] / r['send_s']:.2f} CPU-s/s; ratio to broker ceiling "
                  f"{3 * r['sent_rate'] / ceiling:.2f}; downlinks {r['downlinks']:.0f}, refused {r['refused']}; "
                  f"full collections {r['gc_full']} taking {r['gc_full_s']:.2f} CPU-s (young ones "
                  f"{r['gc_young_s']:.2f} CPU-s), longest so far {r['gc_full_max_cpu_ms_so_far']:.0f} ms CPU, "
                  f"{r['gc_full_max_ms_so_far']:.0f} ms wall")
        for label, r in inproc.items():
            print(f"in-process {label:15s}: {r['cpu_us_per_uplink']:6.1f} µs CPU per uplink (3 copies each, "
                  f"{r['handled']:.0f} uplinks over {args.devices} sessions, no MQTT)")
        print(f"load average of the machine at the end: {os.getloadavg()}")
        print(f"memory: {s0['rss_base_mb']:.0f} MB before sessions, {s0['rss_mb']:.0f} MB with {s0['sessions']} "
              f"sessions -> {mem_per_100k:.0f} MB per 100,000 devices; {final['rss_mb']:.0f} MB at the end "
              f"(incl. sink queues)")
        m = memory
        per_device = (m["rss_steady_mb"] - m["rss_base_mb"]) / max(m["sessions"], 1)  # incl. the fixed costs
        print(f"memory in steady state: {m['sessions']} sessions after 20 uplinks each through 3 gateways "
              f"({m['handled']:.0f} handled): {m['rss_base_mb']:.0f} MB before, {m['rss_loaded_mb']:.0f} MB loaded, "
              f"{m['rss_steady_mb']:.0f} MB steady -> {per_device * 100_000:.0f} MB per 100,000 devices "
              f"(empty sessions: {(m['rss_loaded_mb'] - m['rss_base_mb']) / max(m['sessions'], 1) * 100_000:.0f})")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        broker.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--role", default="main", choices=("main", "server", "sim", "count", "publish", "inproc", "memory"))
    p.add_argument("--devices", type=int, default=100_000)
    p.add_argument("--rates", type=float, nargs="+", default=[5000.0])
    p.add_argument("--rate", type=float, default=5000.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--latency-rate", type=float, default=1000.0)
    p.add_argument("--latency-duration", type=float, default=10.0)
    p.add_argument("--confirmed", type=float, default=0.1)
    p.add_argument("--dedup-ms", type=int, default=200)
    p.add_argument("--ceiling-messages", type=int, default=150_000)
    p.add_argument("--messages", type=int, default=150_000)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--fcnt-base", type=int, default=0)
    p.add_argument("--mqtt", default="")
    p.add_argument("--db", default="")
    p.add_argument("--stats", default="")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--store", action="store_true")
    p.add_argument("--inproc-uplinks", type=int, default=20_000)
    p.add_argument("--memory-devices", type=int, default=10_000)
    return p.parse_args()


if __name__ == "__main__":
    a = parse()
    if a.role == "main":
        main(a)
    elif a.role == "server":
        asyncio.run(server_role(a))
    elif a.role == "sim":
        asyncio.run(sim_role(a))
    elif a.role == "inproc":
        asyncio.run(inproc_role(a))
    elif a.role == "memory":
        asyncio.run(memory_role(a))
    elif a.role == "count":
        asyncio.run(count_role(a))
    else:
        asyncio.run(publish_role(a))
