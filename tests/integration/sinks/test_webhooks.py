"""Webhooks against a real local HTTP server: signatures, headers, per-event URLs, retries with backoff,
per-tenant isolation, changes that apply to the next event, the delivery log."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import pytest
from chirpstack_api.integration import integration_pb2 as pb
from google.protobuf import json_format
from sqlalchemy import select

from lora_city.metrics import Metrics
from lora_city.sinks.deliveries import DeliveryLog
from lora_city.sinks.events import JoinEvent, StatusEvent
from lora_city.sinks.integration_sink import IntegrationSink
from lora_city.sinks.integrations import IntegrationStore
from lora_city.sinks.outbox import Outbox
from lora_city.sinks.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, verify_signature
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Integration, IntegrationDelivery, Tenant
from tests.integration.sinks.test_influx import wait_for
from tests.integration.sinks.webhook_server import webhook_receiver
from tests.support.services import free_port
from tests.unit.sinks.factories import T0, device, uplink

pytestmark = pytest.mark.integration


def add_tenants(factory: SessionFactory, *ids: str) -> None:
    with transaction(factory) as s:
        for i in ids:
            s.add(Tenant(id=i, name=i, slug=i))


def make_sink(factory: SessionFactory, integrations: IntegrationStore, *, backoff_max_s: float = 1.0
              ) -> IntegrationSink:
    return IntegrationSink(integrations, Outbox(factory), Metrics(), DeliveryLog(factory, flush_interval_s=0.05),
                           webhook=WebhookSender(timeout_s=2), backoff_max_s=backoff_max_s)


def run_sink(factory: SessionFactory, integrations: IntegrationStore,
             body: Callable[[IntegrationSink], Awaitable[None]], **kw: float) -> IntegrationSink:
    async def main() -> IntegrationSink:
        sink = make_sink(factory, integrations, **kw)
        await sink.start()
        try:
            await body(sink)
        finally:
            await sink.stop()
        return sink

    return asyncio.run(main())


def test_signed_posts_with_headers_are_retried_until_accepted(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a")
    integrations = IntegrationStore(sqlite_factory, KeyVault("test master key"))
    with webhook_receiver([500, 503]) as receiver:
        hook_id, secret = integrations.add_webhook("tenant-a", receiver.url,
                                                   headers={"Authorization": "Bearer tenant-token"})

        async def body(sink: IntegrationSink) -> None:
            sink.submit(uplink(1))
            sink.submit(StatusEvent(T0, device(), 5, 90.0, False))
            sink.submit(uplink(2, device(tenant_id="tenant-without-webhook")))
            await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == 2)

        run_sink(sqlite_factory, integrations, body)
    statuses = [r.status for r in receiver.requests]
    assert statuses == [500, 503, 200, 200]
    first_three = receiver.requests[:3]
    assert len({r.body for r in first_three}) == 1  # the same body each retry
    for r in receiver.requests:
        assert r.headers["Authorization"] == "Bearer tenant-token"
        assert r.headers["Content-Type"] == "application/json"
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
    with sqlite_factory() as s:  # every attempt is in the delivery log, with its attempt number
        log = s.scalars(select(IntegrationDelivery).order_by(IntegrationDelivery.id)).all()
    assert [(d.event, d.ok, d.status, d.attempt) for d in log] == [
        ("up", False, 500, 1), ("up", False, 503, 2), ("up", True, 200, 3), ("status", True, 200, 1)]
    assert all(d.integration_id == hook_id and d.dev_eui == "70b3d57ed0000001" for d in log)
    assert log[0].error == f"HTTP 500 from {receiver.url}"


def test_per_event_urls_event_filter_and_protobuf(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a")
    integrations = IntegrationStore(sqlite_factory, KeyVault("k"))
    with webhook_receiver() as main, webhook_receiver() as statuses:
        integrations.add_webhook("tenant-a", main.url, events=["up", "status"], encoding="protobuf",
                                 event_urls={"status": statuses.url + "/status"})

        async def body(sink: IntegrationSink) -> None:
            sink.submit(JoinEvent(T0, device(), "01020304", []))  # not wanted
            sink.submit(uplink(1))
            sink.submit(StatusEvent(T0, device(), 5, 90.0, False))
            await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == 2)

        run_sink(sqlite_factory, integrations, body)
    [up] = main.requests
    [status] = statuses.requests
    assert up.path == "/hook?event=up" and status.path == "/hook/status?event=status"
    assert up.headers["Content-Type"] == "application/octet-stream"
    message = pb.UplinkEvent()
    message.ParseFromString(up.body)  # ChirpStack's PROTOBUF marshaler: the integration message itself
    assert message.f_cnt == 1 and message.deduplication_id == uplink(1).uplink_id
    status_message = pb.StatusEvent()
    status_message.ParseFromString(status.body)
    assert status_message.battery_level == 90.0


def test_changes_apply_to_the_next_event(sqlite_factory: SessionFactory) -> None:
    """No reload timer: a webhook created, repointed, disabled or deleted applies to the very next event."""
    add_tenants(sqlite_factory, "tenant-a")
    integrations = IntegrationStore(sqlite_factory, KeyVault("k"))
    with webhook_receiver() as first, webhook_receiver() as second:

        async def body(sink: IntegrationSink) -> None:
            sink.submit(uplink(0))  # no webhook yet: nobody gets it
            await sink.durable()
            hook_id, _secret = integrations.add_webhook("tenant-a", first.url)
            sink.submit(uplink(1))
            await asyncio.to_thread(wait_for, lambda: len(first.requests) == 1, 3.0)
            with transaction(sqlite_factory) as s:  # repointed (as the API does: row + generation)
                from lora_city.sinks.integrations import bump_generation

                row = s.get(Integration, hook_id)
                assert row is not None
                row.url = second.url
                bump_generation(s)
            sink.submit(uplink(2))
            await asyncio.to_thread(wait_for, lambda: len(second.requests) == 1, 3.0)
            integrations.set_enabled(hook_id, False)
            sink.submit(uplink(3))
            await sink.durable()
            integrations.set_enabled(hook_id, True)
            sink.submit(uplink(4))
            await asyncio.to_thread(wait_for, lambda: len(second.requests) == 2, 3.0)
            integrations.delete(hook_id)
            sink.submit(uplink(5))
            await sink.durable()
            await asyncio.sleep(0.3)

        run_sink(sqlite_factory, integrations, body)
    assert [json.loads(r.body)["fCnt"] for r in first.requests] == [1]
    assert [json.loads(r.body)["fCnt"] for r in second.requests] == [2, 4]
    assert Outbox(sqlite_factory).size() == 0


def test_a_refused_body_is_dropped_and_logged(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a")
    integrations = IntegrationStore(sqlite_factory, KeyVault("k"))
    with webhook_receiver([400]) as receiver:
        integrations.add_webhook("tenant-a", receiver.url)

        async def body(sink: IntegrationSink) -> None:
            sink.submit(uplink(1))
            sink.submit(uplink(2))
            await asyncio.to_thread(wait_for, lambda: len(receiver.requests) == 2)
            await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == 1)

        sink = run_sink(sqlite_factory, integrations, body)
    assert [json.loads(r.body)["fCnt"] for r in receiver.requests] == [1, 2]  # 1 was not retried
    assert sink.pump.dropped == 1
    with sqlite_factory() as s:
        log = s.scalars(select(IntegrationDelivery).order_by(IntegrationDelivery.id)).all()
    assert [(d.ok, d.status) for d in log] == [(False, 400), (True, 200)]


def test_a_dead_webhook_does_not_hold_back_another_tenant(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a", "tenant-b")
    integrations = IntegrationStore(sqlite_factory, KeyVault("test master key"))
    dead_id, _ = integrations.add_webhook("tenant-b", f"http://127.0.0.1:{free_port()}/nobody-listens")
    with webhook_receiver() as receiver:
        integrations.add_webhook("tenant-a", receiver.url)

        async def body(sink: IntegrationSink) -> None:
            for n in range(10):
                sink.submit(uplink(n, device(tenant_id="tenant-b")))
                sink.submit(uplink(n, device(tenant_id="tenant-a")))
            await asyncio.to_thread(wait_for, lambda: sink.pump.delivered == 10)
            await asyncio.sleep(0.3)

        sink = run_sink(sqlite_factory, integrations, body, backoff_max_s=10)
    assert [json.loads(r.body)["fCnt"] for r in receiver.requests] == list(range(10))  # in order
    assert sink.pump.delivered == 10
    assert Outbox(sqlite_factory).size() == 10  # tenant b's events wait for their webhook
    with sqlite_factory() as s:
        errors = s.scalars(select(IntegrationDelivery.error).where(IntegrationDelivery.integration_id == dead_id)
                           ).all()
    assert errors and all(e and "ConnectError" in e for e in errors)


def test_a_slow_webhook_does_not_delay_another_tenant(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a", "tenant-b")
    integrations = IntegrationStore(sqlite_factory, KeyVault("test master key"))
    with webhook_receiver(delay_s=3.0) as slow, webhook_receiver() as fast:
        integrations.add_webhook("tenant-b", slow.url)
        integrations.add_webhook("tenant-a", fast.url)
        elapsed: list[float] = []

        async def body(sink: IntegrationSink) -> None:
            started = time.monotonic()
            for n in range(5):
                sink.submit(uplink(n, device(tenant_id="tenant-b")))  # first in line, and it times out
                sink.submit(uplink(n, device(tenant_id="tenant-a")))
            await asyncio.to_thread(wait_for, lambda: len(fast.requests) == 5)
            elapsed.append(time.monotonic() - started)

        run_sink(sqlite_factory, integrations, body, backoff_max_s=10)
    assert elapsed[0] < 1.5, f"tenant a waited {elapsed[0]:.1f}s behind tenant b's slow webhook"
    assert [json.loads(r.body)["fCnt"] for r in fast.requests] == list(range(5))


def test_secrets_are_stored_encrypted(sqlite_factory: SessionFactory) -> None:
    add_tenants(sqlite_factory, "tenant-a")
    integrations = IntegrationStore(sqlite_factory, KeyVault("test master key"))
    hook_id, secret = integrations.add_webhook("tenant-a", "http://example.invalid/",
                                               headers={"Authorization": "Bearer s3cr3t-token"})
    with sqlite_factory() as s:
        row = s.scalars(select(Integration)).one()
    assert row.secret is not None and secret.encode() not in row.secret
    assert row.headers_enc is not None and b"s3cr3t-token" not in row.headers_enc
    config = integrations.get(hook_id)
    assert config is not None
    assert config.secret == secret.encode() and config.headers == (("Authorization", "Bearer s3cr3t-token"),)
