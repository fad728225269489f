"""Webhook delivery: one event POSTed as ChirpStack v4's HTTP integration does it (the event JSON, or its
protobuf, as the body; ``?event=up|join|ack|txack|status|log``), to the integration's URL or the URL it set for
that kind of event, with the tenant's own headers.

Signature: ``X-LoraCity-Timestamp: <unix seconds>`` and ``X-LoraCity-Signature: sha256=<hex>``, the HMAC-SHA256
with the webhook's secret of ``<timestamp>.<raw body>`` (the timestamp's decimal digits, one dot, the body bytes
as received). Signing the timestamp with the body lets a receiver refuse a replay of an old request (check it is
recent), which a signature of the body alone cannot. ``verify_signature`` is the receiver's check in Python;
docs/integrations.md gives it in Node.js and shell too (tests/integration/sinks/test_docs_snippets.py runs them).

A 2xx accepts the event. A 4xx other than 408/429 refuses this body for good (``Outcome.permanent``): retrying
the same bytes cannot help. Anything else (5xx, 408, 429, timeout, refused connection) is worth a retry.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from lora_city.sinks.integrations import IntegrationConfig

SIGNATURE_HEADER = "X-LoraCity-Signature"
TIMESTAMP_HEADER = "X-LoraCity-Timestamp"
EVENT_HEADER = "X-LoraCity-Event"
# Headers the product sets itself: a tenant's header of the same name is refused by the API.
RESERVED_HEADERS = frozenset(h.lower() for h in (
    SIGNATURE_HEADER, TIMESTAMP_HEADER, EVENT_HEADER, "Content-Type", "Content-Length", "Host",
    "Transfer-Encoding", "Connection",
))
CONTENT_TYPES = {"json": "application/json", "protobuf": "application/octet-stream"}


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float,
                     tolerance_s: float = 300.0) -> bool:
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status: int | None = None  # HTTP status, or MQTT CONNACK/PUBACK reason
    error: str | None = None
    permanent: bool = False  # refused for good: do not retry this body


class WebhookSender:
    """Sends one event to one webhook; thread-safe (one ``httpx.Client`` with its connection pool)."""

    def __init__(self, http: httpx.Client | None = None, *, timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._http = http or httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._clock = clock

    def send(self, config: IntegrationConfig, event_kind: str, body: bytes) -> Outcome:
        timestamp = str(int(self._clock()))
        headers = dict(config.headers)
        headers.update({
            "Content-Type": CONTENT_TYPES.get(config.encoding, CONTENT_TYPES["json"]),
            EVENT_HEADER: event_kind,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(config.secret, timestamp, body),
        })
        url = config.url_for(event_kind)
        try:
            response = self._http.post(url, params={"event": event_kind}, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(True, status)
        permanent = 400 <= status < 500 and status not in (408, 429)
        return Outcome(False, status, f"HTTP {status} from {url}", permanent=permanent)

    def close(self) -> None:
        self._http.close()
