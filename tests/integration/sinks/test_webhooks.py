"""Webhooks against a real local HTTP server: signatures, retries with backoff, per-tenant isolation."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from chirpstack_api.integration import integration_pb2 as pb
from google.protobuf import json_format
from sqlalchemy import select

from lora_city.metrics import Metrics
from lora_city.sinks.events import StatusEvent
from lora_city.sinks.integrations import IntegrationStore
from lora_city.sinks.outbox import Outbox
from lora_city.sinks.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSink, verify_signature
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Integration, Tenant
from tests.integration.sinks.test_influx import wait_for
from tests.integration.sinks.webhook_server import webhook_receiver
from tests.support.services import free_port
from tests.unit.sinks.factories import T0, device, uplink

pytestmark = pytest.mark.integration


def add_tenants(factory: SessionFactory, *ids: str) -> None:
    with transaction(factory) as s:
        for i in ids:
            s.add(Tenant(id=i, name=i, slug=i))


def make_sink(factory: SessionFactory, integrations: IntegrationStore) -> WebhookSink:
    return WebhookSink(integrations, Outbox(factory), Metrics(), timeout_s=2, backoff_max_s=1)


def test_signed_posts_are_retried_until_accepted(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a")
    integrations = IntegrationStore(sqlite_factory, KeyVault("test master key"))
    with webhook_receiver([500, 503]) as receiver:
        _id, secret = integrations.add_webhook("tenant-a", receiver.url)

        async def run() -> None:
            sink = make_sink(sqlite_factory, integrations)
            await sink.start()
            sink.submit(uplink(1))
            sink.submit(StatusEvent(T0, device(), 5, 90.0, False))
            sink.submit(uplink(2, device(tenant_id="tenant-without-webhook")))
            await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == 2)
            await sink.stop()

        asyncio.run(run())
    statuses = [r.status for r in receiver.requests]
    assert statuses == [500, 503, 200, 200]
    first_three = receiver.requests[:3]
    assert len({r.body for r in first_three}) == 1  # the same body each retry
    for r in receiver.requests:
        assert verify_signature(secret.encode(), r.headers[TIMESTAMP_HEADER], r.body,
                                r.headers[SIGNATURE_HEADER], now=time.time())
        assert not verify_signature(b"wrong", r.headers[TIMESTAMP_HEADER], r.body,
                                    r.headers[SIGNATURE_HEADER], now=time.time())
    assert receiver.requests[0].path == "/hook?event=up"
    assert receiver.requests[3].path == "/hook?event=status"
    up = json_format.Parse(receiver.requests[0].body, pb.UplinkEvent())
    assert up.f_cnt == 1 and up.device_info.dev_eui == "70b3d57ed0000001"
    assert json.loads(receiver.requests[3].body)["batteryLevel"] == 90.0
    assert Outbox(sqlite_factory).size() == 0


def test_a_dead_webhook_does_not_hold_back_another_tenant(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a", "tenant-b")
    integrations = IntegrationStore(sqlite_factory, KeyVault("test master key"))
    integrations.add_webhook("tenant-b", f"http://127.0.0.1:{free_port()}/nobody-listens")
    with webhook_receiver() as receiver:
        integrations.add_webhook("tenant-a", receiver.url)

        async def run() -> WebhookSink:
            sink = make_sink(sqlite_factory, integrations)
            await sink.start()
            for n in range(10):
                sink.submit(uplink(n, device(tenant_id="tenant-b")))
                sink.submit(uplink(n, device(tenant_id="tenant-a")))
            await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == 10)
            await asyncio.sleep(0.3)
            await sink.stop()
            return sink

        sink = asyncio.run(run())
    assert [json.loads(r.body)["fCnt"] for r in receiver.requests] == list(range(10))  # in order
    assert sink.pump.delivered == 10
    assert Outbox(sqlite_factory).size() == 10  # tenant b's events wait for their webhook


def test_a_slow_webhook_does_not_delay_another_tenant(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a", "tenant-b")
    integrations = IntegrationStore(sqlite_factory, KeyVault("test master key"))
    with webhook_receiver(delay_s=3.0) as slow, webhook_receiver() as fast:
        integrations.add_webhook("tenant-b", slow.url)
        integrations.add_webhook("tenant-a", fast.url)

        async def run() -> float:
            sink = WebhookSink(integrations, Outbox(sqlite_factory), Metrics(), timeout_s=2, backoff_max_s=10)
            await sink.start()
            started = time.monotonic()
            for n in range(5):
                sink.submit(uplink(n, device(tenant_id="tenant-b")))  # first in line, and it times out
                sink.submit(uplink(n, device(tenant_id="tenant-a")))
            await asyncio.to_thread(wait_for, lambda: len(fast.requests) == 5)
            elapsed = time.monotonic() - started
            await sink.stop()
            return elapsed

        elapsed = asyncio.run(run())
    assert elapsed < 1.5, f"tenant a waited {elapsed:.1f}s behind tenant b's slow webhook"
    assert [json.loads(r.body)["fCnt"] for r in fast.requests] == list(range(5))


def test_secret_is_stored_encrypted(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a")
    integrations = IntegrationStore(sqlite_factory, KeyVault("test master key"))
    _id, secret = integrations.add_webhook("tenant-a", "http://example.invalid/")
    with sqlite_factory() as s:
        stored = s.scalars(select(Integration.secret)).one()
    assert stored is not None and secret.encode() not in stored
    assert integrations.webhooks()[0].secret == secret.encode()
