"""Tenant webhooks: each device event of a tenant POSTed, as ChirpStack v4's HTTP integration does (JSON body,
``?event=up|join|ack|txack|status|log``), to every enabled webhook of that tenant.

Signature: ``X-LoraCity-Timestamp: <unix seconds>`` and ``X-LoraCity-Signature: sha256=<hex>``, the HMAC-SHA256
with the webhook's secret of ``<timestamp>.<raw body>``. Signing the timestamp with the body lets a receiver
refuse replays of an old request (check it is recent), which a signature of the body alone cannot.
``verify_signature`` is the receiver's check, in Python.

Durability and retries come from ``OutboxPump``: a body is journaled per webhook before it is sent, and a 5xx,
a timeout or a refused connection leaves it in the outbox with exponential backoff (0.2 s doubling to
``backoff_max_s``), per webhook, oldest first. A 4xx other than 408/429 means the receiver refuses this body for
good: it is dropped and counted. Webhooks are delivered by up to ``parallel_webhooks`` workers, one webhook
per worker at a time, so a tenant's slow or dead endpoint does not hold back another tenant's.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Callable

import httpx

from lora_city.metrics import Metrics
from lora_city.sinks.chirpstack_json import event_kind, to_json_bytes
from lora_city.sinks.events import DeviceEvent
from lora_city.sinks.integrations import IntegrationStore, Webhook
from lora_city.sinks.outbox import Journaled, Outbox
from lora_city.sinks.pump import OutboxPump, PermanentFailure

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-LoraCity-Signature"
TIMESTAMP_HEADER = "X-LoraCity-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float,
                     tolerance_s: float = 300.0) -> bool:
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSink:
    name = "webhook"

    def __init__(
        self,
        integrations: IntegrationStore,
        outbox: Outbox,
        metrics: Metrics,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 5.0,
        backoff_max_s: float = 60.0,
        refresh_s: float = 30.0,
        parallel_webhooks: int = 8,
    ) -> None:
        self._integrations = integrations
        self._http = http or httpx.Client(timeout=timeout_s)
        self._clock = clock
        self._refresh_s = refresh_s
        self._by_tenant: dict[str, list[Webhook]] = {}
        self._by_target: dict[str, Webhook] = {}
        self._refresher: asyncio.Task[None] | None = None
        self.pump = OutboxPump(
            self.name, outbox, self._post, metrics,
            coalesce=False, batch_items=1000, rows_per_delivery=1, flush_interval_s=0.05,
            backoff_max_s=backoff_max_s, parallel_targets=parallel_webhooks,
        )

    def reload(self) -> None:
        """Read the enabled webhooks again (the API calls it after a change; a task every ``refresh_s``)."""
        hooks = self._integrations.webhooks()
        by_tenant: dict[str, list[Webhook]] = {}
        for h in hooks:
            by_tenant.setdefault(h.tenant_id, []).append(h)
        # Swapped whole: submit() on the event loop and the pump thread read them without locks.
        self._by_target = {h.target: h for h in hooks}
        self._by_tenant = by_tenant

    async def start(self) -> None:
        await asyncio.to_thread(self.reload)
        await asyncio.to_thread(self.pump.start)
        self._refresher = asyncio.create_task(self._refresh_forever(), name="sink-webhook-refresh")

    def submit(self, event: DeviceEvent) -> None:
        hooks = self._by_tenant.get(event.device.tenant_id)
        if not hooks:
            return
        # The row keeps the event kind for the ?event= query argument, then the exact body that is signed.
        body = event_kind(event).encode() + b"\n" + to_json_bytes(event)
        for h in hooks:
            self.pump.put(Journaled(h.target, body, dev_eui=event.device.dev_eui))

    async def durable(self) -> None:
        """Returns once every body submitted before the call is in the outbox."""
        await self.pump.durable()

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        await asyncio.to_thread(self.pump.stop)
        self._http.close()

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await asyncio.to_thread(self.reload)
            except Exception:
                log.exception("sink webhook: reloading integrations failed")

    def _post(self, target: str, bodies: list[bytes]) -> None:
        hook = self._by_target.get(target)
        if hook is None:
            raise PermanentFailure(f"{target} was deleted or disabled")
        for row in bodies:
            kind, _, body = row.partition(b"\n")
            timestamp = str(int(self._clock()))
            response = self._http.post(
                hook.url,
                params={"event": kind.decode()},
                content=body,
                headers={
                    "Content-Type": "application/json",
                    TIMESTAMP_HEADER: timestamp,
                    SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
                },
            )
            status = response.status_code
            if 400 <= status < 500 and status not in (408, 429):
                raise PermanentFailure(f"HTTP {status} from {hook.url}")
            if status >= 300:
                raise RuntimeError(f"HTTP {status} from {hook.url}")
