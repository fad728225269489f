"""docs/integrations.md as a tenant uses it: its signature-verification snippets (Python, Node.js, shell) run
against real signed deliveries from the integration sink, accept them, and refuse a tampered body, a wrong
secret and a stale timestamp; every JSON example of an event parses into ChirpStack's integration message."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from chirpstack_api.integration import integration_pb2 as pb
from google.protobuf import json_format

from lora_city.metrics import Metrics
from lora_city.sinks.deliveries import DeliveryLog
from lora_city.sinks.events import StatusEvent
from lora_city.sinks.integration_sink import IntegrationSink
from lora_city.sinks.integrations import IntegrationStore
from lora_city.sinks.outbox import Outbox
from lora_city.sinks.webhooks import sign
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault
from tests.integration.sinks.test_influx import wait_for
from tests.integration.sinks.test_webhooks import add_tenants
from tests.integration.sinks.webhook_server import webhook_receiver
from tests.support.services import free_port, wait_for_port
from tests.unit.sinks.factories import T0, device, uplink

pytestmark = pytest.mark.integration
DOC = Path(__file__).resolve().parents[3] / "docs" / "integrations.md"
MESSAGES = {"up": pb.UplinkEvent, "join": pb.JoinEvent, "status": pb.StatusEvent, "ack": pb.AckEvent,
            "txack": pb.TxAckEvent, "log": pb.LogEvent}


def blocks(marker: str) -> list[tuple[str, str]]:
    """(name, code) of each fenced block right after ``<!-- marker: name -->`` in the guide."""
    pattern = re.compile(rf"<!-- {marker}: ([\w-]+) -->\n```\w*\n(.*?)\n```", re.S)
    return pattern.findall(DOC.read_text())


def snippet(name: str) -> str:
    [code] = [code for n, code in blocks("snippet") if n == name]
    return code


def test_every_event_example_is_a_chirpstack_message() -> None:
    examples = blocks("event")
    assert {kind for kind, _ in examples} == set(MESSAGES)
    for kind, text in examples:
        message = json_format.Parse(text, MESSAGES[kind](), ignore_unknown_fields=False)
        assert message.device_info.dev_eui == "24e124136d1e0517"  # type: ignore[attr-defined]


def deliver_through_sink(factory: SessionFactory, url: str) -> tuple[str, IntegrationSink]:
    store = IntegrationStore(factory, KeyVault("k"))
    _id, secret = store.add_webhook("tenant-a", url)

    async def run() -> IntegrationSink:
        sink = IntegrationSink(store, Outbox(factory), Metrics(), DeliveryLog(factory))
        await sink.start()
        sink.submit(uplink(7))
        sink.submit(StatusEvent(T0, device(), 9, 80.0, False))
        await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == 2, 15)
        await sink.stop()
        return sink

    return secret, asyncio.run(run())


def forged_requests(url: str, secret: str) -> list[int]:
    """What a receiver must refuse: a tampered body, a wrong secret, a stale timestamp, no signature."""
    body = json.dumps({"deviceInfo": {"devEui": "70b3d57ed0000001"}}).encode()
    now = str(int(time.time()))
    old = str(int(time.time()) - 3600)
    cases = [
        (now, sign(secret.encode(), now, body), body + b" "),
        (now, sign(b"not-the-secret", now, body), body),
        (old, sign(secret.encode(), old, body), body),
        (now, "", body),
    ]
    return [httpx.post(url, content=b, headers={"X-LoraCity-Timestamp": ts, "X-LoraCity-Signature": sig,
                                                "X-LoraCity-Event": "up"}).status_code
            for ts, sig, b in cases]


@pytest.mark.parametrize("language", ["python", "node"])
def test_receiver_snippet_accepts_real_deliveries_and_refuses_forgeries(
    language: str, sqlite_factory: SessionFactory, tmp_path: Path
) -> None:
    if language == "node" and shutil.which("node") is None and not os.environ.get("CI"):
        pytest.skip("node is not installed")
    add_tenants(sqlite_factory, "tenant-a")
    if language == "python":
        script = tmp_path / "receiver.py"
        script.write_text(snippet("python-receiver"))
        command = [sys.executable, str(script)]
    else:
        script = tmp_path / "receiver.js"
        script.write_text(snippet("node-receiver"))
        command = ["node", str(script)]
    # The secret is only known once the webhook exists: start the receiver on a port chosen first.
    store = IntegrationStore(sqlite_factory, KeyVault("k"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/lora"
    _id, secret = store.add_webhook("tenant-a", url)
    log = tmp_path / "receiver.log"
    proc = subprocess.Popen(command, env={**os.environ, "WEBHOOK_SECRET": secret, "PORT": str(port)},
                            stdout=log.open("wb"), stderr=(tmp_path / "stderr.log").open("wb"), cwd=tmp_path)
    try:
        wait_for_port(port, proc=proc)

        async def run() -> IntegrationSink:
            sink = IntegrationSink(store, Outbox(sqlite_factory), Metrics(), DeliveryLog(sqlite_factory))
            await sink.start()
            sink.submit(uplink(7))
            sink.submit(StatusEvent(T0, device(), 9, 80.0, False))
            await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == 2, 15)
            await sink.stop()
            return sink

        sink = asyncio.run(run())
        refused = forged_requests(url, secret)
    finally:
        proc.terminate()
        proc.wait(10)
    assert sink.pump.dropped == 0  # both real deliveries were accepted (204), none refused
    assert log.read_text().split() == ["up", "70b3d57ed0000001", "status", "70b3d57ed0000001"]
    assert refused == [401, 401, 401, 401]


def test_shell_snippet_verifies_a_saved_delivery(sqlite_factory: SessionFactory, tmp_path: Path) -> None:
    if shutil.which("openssl") is None and not os.environ.get("CI"):
        pytest.skip("openssl is not installed")
    add_tenants(sqlite_factory, "tenant-a")
    script = tmp_path / "verify.sh"
    script.write_text(snippet("shell-verify"))
    with webhook_receiver() as saved:
        secret, _sink = deliver_through_sink(sqlite_factory, saved.url)
    request = saved.requests[0]
    body = tmp_path / "body.json"
    body.write_bytes(request.body)
    timestamp, signature = request.headers["X-LoraCity-Timestamp"], request.headers["X-LoraCity-Signature"]

    def verify(sig: str = signature, ts: str = timestamp, key: str = secret) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", str(script), ts, sig, str(body)], env={**os.environ, "WEBHOOK_SECRET": key},
                              capture_output=True, text=True)

    ok = verify()
    assert ok.returncode == 0 and ok.stdout.strip() == "verified", ok.stderr
    assert verify(key="not-the-secret").returncode == 1
    old = str(int(timestamp) - 3600)
    assert verify(sig=sign(secret.encode(), old, request.body), ts=old).returncode == 1  # stale
    body.write_bytes(request.body.replace(b'"fCnt":7', b'"fCnt":8'))
    assert verify().returncode == 1  # tampered body
