"""A real ``lora-city serve`` in a process of its own, for tests that must meet the server as an operator runs it:
``start_cli`` runs the console script; ``start`` goes through the zygote (tests/integration/reliability/zygote.py)
so that it can be killed and restarted many times quickly. ``provision`` creates ABP devices through its API,
``register_gateways`` the test's packet forwarders."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.support.abp_device import AbpDevice
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "reliability-admin-token"


@dataclass
class ServerProcesses:
    """``start`` a server, ``kill`` it (SIGKILL), ``stop`` it (SIGTERM: a clean shutdown)."""

    workdir: Path
    env: dict[str, str]
    http_port: int
    udp_port: int
    zygote: subprocess.Popen[str] | None = None
    cli: subprocess.Popen[bytes] | None = None  # a plain `lora-city serve` (start_cli)
    pid: int | None = None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    @classmethod
    def build(cls, workdir: Path, database_url: str, **settings: str) -> ServerProcesses:
        http_port, udp_port = free_port(), free_port()
        # the suite's own LORA_CITY_MQTT_URL (if any) is not this server's: only ``settings`` may name a broker
        inherited = {k: v for k, v in os.environ.items() if k != "LORA_CITY_MQTT_URL"}
        env = {
            **inherited, "PYTHONPATH": str(ROOT),
            "LORA_CITY_DATABASE_URL": database_url, "LORA_CITY_HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "LORA_CITY_UDP_LISTEN": f"127.0.0.1:{udp_port}", "LORA_CITY_ADMIN_TOKEN": ADMIN,
            "LORA_CITY_SECRET_KEY": "reliability-test-secret", "LORA_CITY_JOURNAL_DIR": str(workdir / "journal"),
            "LORA_CITY_EXPORT_DIR": str(workdir / "exports"), "LORA_CITY_LOG_LEVEL": "INFO",
            **{f"LORA_CITY_{k.upper()}": v for k, v in settings.items()},
        }
        return cls(workdir, env, http_port, udp_port)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> int:
        if self.zygote is None:
            self.zygote = subprocess.Popen(
                [sys.executable, "-m", "tests.integration.reliability.zygote"], cwd=self.workdir, env=self.env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert self._read() == "ready"
        self.starts += 1
        log = self.workdir / f"serve-{self.starts:02d}.log"
        self.logs.append(log)
        assert self.zygote.stdin is not None
        self.zygote.stdin.write(f"start {log}\n")
        self.zygote.stdin.flush()
        self.pid = int(self._read())
        return self.pid

    def start_cli(self) -> int:
        """``lora-city serve`` as an operator runs it (a fresh interpreter, no zygote)."""
        script = Path(sys.executable).parent / "lora-city"
        command = [str(script)] if script.exists() else [sys.executable, "-c",
                                                         "from lora_city.cli.main import app; app()"]
        self.starts += 1
        log = self.workdir / f"serve-{self.starts:02d}.log"
        self.logs.append(log)
        with log.open("ab") as out:
            self.cli = subprocess.Popen([*command, "serve"], cwd=self.workdir, env=self.env, stdout=out,
                                        stderr=subprocess.STDOUT)
        self.pid = self.cli.pid
        return self.pid

    def _read(self) -> str:
        stdout: IO[str] | None = self.zygote.stdout if self.zygote else None
        assert stdout is not None
        return stdout.readline().strip()

    def kill(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        self._wait_gone(self.pid, 10.0)
        self.pid = None

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM: uvicorn stops, the server closes its windows, flushes sessions and sinks, checkpoints."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGTERM)
            self._wait_gone(self.pid, timeout_s)
            self.pid = None

    def close(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.pid = None
        if self.cli is not None:
            self.cli.wait(10)
            self.cli = None
        if self.zygote is not None:
            assert self.zygote.stdin is not None
            try:
                self.zygote.stdin.write("exit\n")
                self.zygote.stdin.close()
                self.zygote.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.zygote.kill()
            self.zygote = None

    def _wait_gone(self, pid: int, timeout_s: float) -> None:
        if self.cli is not None and self.cli.pid == pid:
            self.cli.wait(timeout_s)
            self.cli = None
            return
        assert self.zygote is not None and self.zygote.stdin is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.zygote.stdin.write("\n")  # the zygote reaps its dead children on every line
            self.zygote.stdin.flush()
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)
        raise AssertionError(f"server {pid} still alive after {timeout_s} s; see {self.logs[-1]}")

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not ready after {timeout_s} s; see {self.logs[-1]}")

    def metric(self, name: str) -> float:
        body = httpx.get(f"{self.api}/metrics", timeout=5).text
        total = 0.0
        for line in body.splitlines():
            if line.startswith(name) and (len(line) == len(name) or line[len(name)] in " {"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())


def provision(api: str, count: int, *, first: int = 1) -> list[AbpDevice]:
    """``count`` ABP devices created and activated through the API (admin token), four requests at a time."""
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=f"{api}/api/v1", headers=headers, timeout=60) as client:

        def one(n: int) -> AbpDevice:
            device = AbpDevice(dev_eui=f"70b3d5{n:010x}", dev_addr=f"26{n:06x}", nwk_s_key=secrets.token_bytes(16),
                               app_s_key=secrets.token_bytes(16))
            r = client.post("/devices", json={"dev_eui": device.dev_eui, "name": f"meter {n}"})
            assert r.status_code == 201, r.text
            r = client.post(f"/devices/{device.dev_eui}/activate", json={
                "dev_addr": device.dev_addr, "nwk_s_key": device.nwk_s_key.hex(),
                "app_s_key": device.app_s_key.hex()})
            assert r.status_code == 200, r.text
            return device

        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(one, range(first, first + count)))


def register_gateways(api: str, *gateway_ids: str) -> None:
    """Registers the test's packet forwarders through the API: the server drops copies relayed by a gateway it does
    not know (``Settings.allow_unknown_gateways`` is off by default), so an unregistered forwarder would lose all."""
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=f"{api}/api/v1", headers=headers, timeout=60) as client:
        for gateway_id in gateway_ids:
            r = client.post("/gateways", json={"gateway_id": gateway_id, "name": f"forwarder {gateway_id}"})
            assert r.status_code == 201, r.text
