"""A broker that is down is not fatal (issue 15 §6): ``lora-city serve`` with LORA_CITY_MQTT_URL starts while
mosquitto is down, /readyz answers 503 naming "mqtt" (the database ready), the gateway backend retries with
backoff, and once mosquitto comes up readiness turns green and a gateway's messages arrive (the subscriptions
made before the broker was there were sent on connect)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lora_city.simulate.gateways import VirtualMqttGateway
from tests.support import services as svc

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _frames(metrics: str, kind: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("lora_city_gateway_frames_total{") and f'kind="{kind}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_serve_starts_without_its_broker_and_turns_ready_when_it_comes(tmp_path: Path) -> None:
    try:
        broker = svc.start_mosquitto()
    except svc.ServiceUnavailable as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"required service unavailable in CI: {exc}")
        pytest.skip(str(exc))
    broker.kill()  # its port and configuration stay; restart() brings it back on the same port
    port = svc.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LORA_CITY_")}
    env.update(LORA_CITY_DATABASE_URL=f"sqlite:///{tmp_path / 'city.db'}", LORA_CITY_HTTP_LISTEN=f"127.0.0.1:{port}",
               LORA_CITY_UDP_LISTEN="", LORA_CITY_MQTT_URL=broker.url, LORA_CITY_MQTT_TOPIC_PREFIX="late")
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "lora_city.cli.main", "serve"], env=env, cwd=tmp_path,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        svc.wait_for_port(port, timeout=90, proc=server)  # type: ignore[arg-type]
        down = httpx.get(f"{base}/readyz", timeout=30)
        assert down.status_code == 503, down.text
        assert down.json()["checks"] == {"database": True, "mqtt": False}
        assert down.json()["not_ready"] == ["mqtt"]
        assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200  # alive, only not ready
        time.sleep(1.0)  # a few refused attempts under backoff, then the broker arrives
        broker.restart()
        deadline = time.monotonic() + 60  # backoff is capped at 30 s; the first retries come much sooner
        ready = httpx.get(f"{base}/readyz", timeout=30)
        while ready.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.25)
            ready = httpx.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "checks": {"database": True, "mqtt": True}, "not_ready": []}

        async def gateway_comes_online() -> None:
            gw = VirtualMqttGateway(broker.url, "aa555a00000000b1", prefix="late")
            await gw.start()  # publishes its retained ONLINE state on .../state/conn
            await gw.stop()

        asyncio.run(gateway_comes_online())
        deadline = time.monotonic() + 15
        while _frames(httpx.get(f"{base}/metrics", timeout=30).text, "conn") < 1 and time.monotonic() < deadline:
            time.sleep(0.25)
        assert _frames(httpx.get(f"{base}/metrics", timeout=30).text, "conn") >= 1
        assert server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        log.close()
        broker.stop()
    text = (tmp_path / "serve.log").read_text()
    assert "retrying in" in text  # the refused attempts were logged with their backoff
