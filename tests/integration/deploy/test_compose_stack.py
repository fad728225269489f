"""compose/docker-compose.yml run as written, without a Docker engine: each service it defines is started as a
local process with the environment the file gives it (variables from a .env made from .env.example, service
host names mapped to loopback ports), then uplinks go through the gateway path and each is handled once.

What runs as a process, from the compose file:
- ``postgres`` (the local PostgreSQL server, a fresh database owned by the compose user), ``redis``;
- ``influxdb``: victoria-metrics, which serves the same ``/api/v2/write`` (no InfluxDB binary here);
- ``mosquitto`` with compose/mosquitto/mosquitto.conf itself, only its port, plugin path and data folder
  rewritten for this machine;
- ``migrate``: its command (schema, then ``lora-city broker-config``) with its environment;
- ``lora-city-1`` and ``lora-city-2``: ``lora-city serve`` with each one's environment (own cluster member id).
Not run: ``grafana`` (no binary; its queries are checked by tests/unit/deploy) and ``chirpstack-gateway-bridge``
(no binary): the test's virtual gateways publish the bridge's MQTT protobuf with the bridge's account instead.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from lora_city.simulate.devices import VirtualDevice
from lora_city.simulate.gateways import VirtualMqttGateway
from tests.support import services as svc

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "compose"
PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}")


def dotenv() -> dict[str, str]:
    """A .env as an operator makes it from .env.example: every value replaced by a fresh secret."""
    values: dict[str, str] = {}
    for line in (COMPOSE / ".env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name = line.split("=", 1)[0].strip()
            values[name] = secrets.token_urlsafe(12)
    values["INFLUXDB_ORG"], values["INFLUXDB_BUCKET"] = "lora_city", "lora_city"
    return values


def substitute(value: Any, env: dict[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}."""
    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == "?":
            raise AssertionError(f"compose needs {name}: {arg}")
        return arg or ""
    return _VAR.sub(one, str(value))


class Stack:
    def __init__(self, tmp: Path, pg: svc.Service) -> None:
        self.tmp = tmp
        self.compose = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
        self.dotenv = dotenv()
        self.pg = pg
        self.procs: list[subprocess.Popen[bytes]] = []
        self.others: list[svc.Service] = []
        self.hosts: dict[str, str] = {}

    def environment(self, service: str, **extra: str) -> dict[str, str]:
        env = {k: substitute(v, self.dotenv) for k, v in (self.compose["services"][service].get("environment")
                                                          or {}).items()}
        for host, local in self.hosts.items():
            env = {k: v.replace(host, local) for k, v in env.items()}
        return {**env, **extra}

    def start_backing_services(self) -> None:
        database = f"lora_city_{uuid.uuid4().hex[:8]}"
        subprocess.run([svc._pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "lora",
                        database], check=True, capture_output=True)
        self.hosts["@postgres:5432/lora_city"] = f"@127.0.0.1:{self.pg.port}/{database}"
        redis = svc.start_redis()
        self.others.append(redis)
        self.hosts["redis:6379"] = f"127.0.0.1:{redis.port}"
        vm = svc.start_victoria_metrics()
        self.others.append(vm)
        self.vm_url = vm.url
        self.hosts["http://influxdb:8086"] = vm.url
        self.mqtt_port = svc.free_port()
        self.hosts["@mosquitto:1883"] = f"@127.0.0.1:{self.mqtt_port}"
        self.database_url = self.environment("migrate")["LORA_CITY_DATABASE_URL"]

    def mosquitto_conf(self, data: Path) -> Path:
        """compose/mosquitto/mosquitto.conf with this machine's port, plugin and data folder."""
        lines = []
        for line in (COMPOSE / "mosquitto" / "mosquitto.conf").read_text().splitlines():
            words = line.split()
            if words[:1] == ["listener"]:
                line = f"listener {self.mqtt_port} 127.0.0.1"
            elif words[:1] == ["plugin"]:
                line = f"plugin {PLUGIN}"
            line = line.replace("/mosquitto/data", str(data))
            lines.append(line)
        conf = data.parent / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def run_migrate(self, data: Path) -> None:
        """The migrate service's command with its environment; /broker is the broker's data folder here."""
        service = self.compose["services"]["migrate"]
        command = " ".join(service["command"][2:]) if service["command"][:2] == ["sh", "-c"] else \
            shlex.join(service["command"])
        owner = pwd.getpwnam("mosquitto") if os.geteuid() == 0 else None
        chown = f"{owner.pw_uid}:{owner.pw_gid}" if owner else f"{os.getuid()}:{os.getgid()}"
        command = command.replace("/broker/", f"{data}/").replace("1883:1883", chown)
        command = command.replace("lora-city ", f"{shlex.quote(str(Path(sys.executable).parent / 'lora-city'))} ")
        env = {**os.environ, **self.environment("migrate"), "PYTHONPATH": str(ROOT)}
        result = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, cwd=self.tmp,
                                timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr

    def start_mosquitto(self, data: Path) -> None:
        proc = subprocess.Popen([svc.mosquitto_binary(), "-c", str(self.mosquitto_conf(data))],
                                stdout=(self.tmp / "mosquitto.log").open("wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        svc.wait_for_port(self.mqtt_port, proc=proc)

    def start_replica(self, name: str) -> tuple[str, subprocess.Popen[bytes]]:
        port = svc.free_port()
        work = self.tmp / name
        work.mkdir()
        service = self.compose["services"][name]
        # The image's own environment (compose/Dockerfile ENV) with this machine's paths, then the service's.
        env = {**os.environ, "LORA_CITY_CODECS_PATH": str(ROOT / "codecs"), "PYTHONPATH": str(ROOT),
               **self.environment(name), "LORA_CITY_HTTP_LISTEN": f"127.0.0.1:{port}",
               "LORA_CITY_DEDUP_WINDOW_MS": "200"}
        assert service["command"][:2] == ["lora-city", "serve"]
        proc = subprocess.Popen([sys.executable, "-c", "from lora_city.cli.main import app; app()", "serve"],
                                env=env, cwd=work, stdout=(self.tmp / f"{name}.log").open("wb"),
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return f"http://127.0.0.1:{port}", proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        for other in self.others:
            other.stop()


async def ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} not ready:\n{log.read_text()[-3000:]}")


def test_compose_stack_runs_as_written(postgres_server: svc.Service, tmp_path: Path) -> None:
    for binary in ("mosquitto", "redis-server", "victoria-metrics"):
        if shutil.which(binary) is None and not os.environ.get("CI"):
            pytest.skip(f"{binary} is not installed")
    stack = Stack(tmp_path, postgres_server)
    # The broker's folder outside pytest's private tmp: as root, mosquitto drops to its own user, which must
    # reach its configuration and write its data folder (the plugin saves its file there).
    broker_dir = Path(tempfile.mkdtemp(prefix="lc-compose-mqtt-"))
    data = broker_dir / "data"
    data.mkdir()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("mosquitto")
        for path in (broker_dir, data):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    try:
        stack.start_backing_services()
        stack.run_migrate(data)
        assert (data / "dynamic-security.json").exists()
        stack.start_mosquitto(data)
        replicas = [name for name, s in stack.compose["services"].items() if s.get("command") == ["lora-city", "serve"]]
        assert replicas == ["lora-city-1", "lora-city-2"]
        started = {name: stack.start_replica(name) for name in replicas}
        token = stack.dotenv["LORA_CITY_ADMIN_TOKEN"]
        gateway_password = stack.dotenv["MQTT_GATEWAY_PASSWORD"]
        mqtt_port = stack.mqtt_port

        async def run() -> tuple[set[tuple[str, int]], Counter[tuple[str, int]]]:
            for name, (url, proc) in started.items():
                await ready(url, proc, tmp_path / f"{name}.log")
            url = started["lora-city-1"][0]
            gws = [VirtualMqttGateway(f"mqtt://gateway:{gateway_password}@127.0.0.1:{mqtt_port}",
                                      uuid.uuid4().hex[:16], prefix="eu868") for _ in range(2)]
            for gw in gws:
                await gw.start()
            devices = [VirtualDevice.generate("milesight-em300-di") for _ in range(4)]
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
                for gw in gws:
                    assert (await api.post("/api/v1/gateways", json={"gateway_id": gw.gateway_id,
                                                                      "name": "gw"})).status_code == 201
                for dev in devices:
                    r = await api.post("/api/v1/devices", json={
                        "dev_eui": dev.dev_eui, "join_eui": dev.join_eui, "app_key": dev.app_key.hex(),
                        "name": "meter", "codec": dev.codec})
                    assert r.status_code == 201, r.text
            for dev in devices:  # OTAA through both gateways
                phy = dev.join_request()
                for i, gw in enumerate(gws):
                    await gw.send_uplink(phy, snr=8.0 - 4 * i, spreading_factor=9)
            deadline = time.monotonic() + 20
            pending = {d.dev_eui: d for d in devices}
            while pending and time.monotonic() < deadline:
                for gw in gws:
                    while not gw.downlinks.empty():
                        down = gw.downlinks.get_nowait()
                        for eui, dev in list(pending.items()):
                            if dev.accept(down.phy_payload):
                                del pending[eui]
                await asyncio.sleep(0.05)
            assert not pending, "no join-accept through the compose stack"
            sent: set[tuple[str, int]] = set()
            for _ in range(5):
                for dev in devices:
                    f_cnt = dev.f_cnt_up
                    phy = dev.uplink()
                    for i, gw in enumerate(gws):  # both gateways hear it: copies reach either replica
                        await gw.send_uplink(phy, snr=6.0 - 3 * i)
                    sent.add((dev.dev_eui, f_cnt))
                await asyncio.sleep(0.1)
            got: Counter[tuple[str, int]] = Counter()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                got = readings(stack.database_url)
                if set(got) >= sent:
                    break
                await asyncio.sleep(0.3)
            await asyncio.sleep(1.0)  # a late double would show now
            got = readings(stack.database_url)
            for gw in gws:
                await gw.stop()
            return sent, got

        sent, got = asyncio.run(run())
        assert set(got) == sent, f"{len(sent - set(got))} uplink(s) lost"
        assert all(n == 1 for n in got.values()), "an uplink was handled twice"
        points = influx_points(stack.vm_url)
        assert points == len(sent), (points, len(sent))
    finally:
        stack.stop()
        shutil.rmtree(broker_dir, ignore_errors=True)
        for name in ("lora-city-1", "lora-city-2", "mosquitto"):
            log = tmp_path / f"{name}.log"
            if log.exists() and "Traceback" in log.read_text():
                print(f"--- {name}.log ---\n{log.read_text()[-4000:]}")


def readings(url: str) -> Counter[tuple[str, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT dev_eui, f_cnt FROM readings")).all()
    finally:
        engine.dispose()
    return Counter((str(r[0]), int(r[1])) for r in rows)


def influx_points(vm_url: str) -> int:
    """Samples of the f_cnt field the sink wrote (one per handled uplink), duplicates included."""
    httpx.get(f"{vm_url}/internal/force_flush", timeout=10).raise_for_status()
    time.sleep(1.0)
    r = httpx.get(f"{vm_url}/api/v1/export", params={"match[]": '{__name__="water_f_cnt"}'}, timeout=10)
    r.raise_for_status()
    import json

    return sum(len(json.loads(line)["values"]) for line in r.text.splitlines() if line.strip())
