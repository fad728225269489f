"""Publishing a tenant's events on the tenant's own MQTT broker (its URL, credentials, TLS with its CA and client
certificate, topic template and QoS).

The adapter is paho-mqtt (in the lock): tenant brokers are few and quiet next to the gateway traffic our own
asyncio client (``lora_city.mqtt``) is tuned for, and paho brings what they need and that client lacks: TLS with
in-memory CA and client certificates, QoS 2, a blocking "wait until acknowledged" that fits the outbox pump's
worker threads. Nothing of paho leaves this module: callers get an ``Outcome``.

One connection per integration, opened on its first event and kept; closed when the integration is changed
(reopened with the new settings on the next event) or deleted. A publish counts as delivered when the broker
acknowledged it (QoS 1/2) or when it was written to the socket (QoS 0). On a failure or a timeout the connection
is dropped, so paho does not resend on its own what the outbox will retry; the event goes again, once the broker
is back, from the outbox (at least once: a consumer dedupes on ``deduplicationId``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from lora_city.sinks.integrations import IntegrationConfig
from lora_city.sinks.webhooks import Outcome

log = logging.getLogger(__name__)

TOPIC_FIELDS = ("application_id", "dev_eui", "event", "tenant_id")
# paho reports an MQTT 3.1.1 CONNACK return code as the MQTT 5 reason code it corresponds to; we speak 3.1.1,
# so the delivery log shows the 3.1.1 code (MQTT 3.1.1 section 3.2.2.3: 1 protocol, 2 identifier, 3 server
# unavailable, 4 bad user name or password, 5 not authorised).
CONNACK_3_1_1 = {132: 1, 133: 2, 136: 3, 134: 4, 135: 5}


def render_topic(template: str, *, application_id: str, dev_eui: str, event: str, tenant_id: str) -> str:
    return template.format(application_id=application_id or "_", dev_eui=dev_eui, event=event,
                           tenant_id=tenant_id)


def tls_context(config: IntegrationConfig) -> ssl.SSLContext:
    """The broker is verified against the tenant's CA (else the system's), hostname included. A client
    certificate, when given, is loaded through a private temporary file (ssl cannot read one from memory)."""
    ctx = ssl.create_default_context(cadata=config.ca_cert) if config.ca_cert else ssl.create_default_context()
    if config.client_cert and config.client_key:
        with tempfile.TemporaryDirectory(prefix="lc-mqtt-") as folder:  # mode 0700
            path = Path(folder) / "client.pem"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(config.client_cert.strip() + "\n" + config.client_key.strip() + "\n")
            ctx.load_cert_chain(path)
    return ctx


class _Connection:
    def __init__(self, config: IntegrationConfig, timeout_s: float) -> None:
        self.config = config
        self._timeout_s = timeout_s
        self._ready = threading.Event()
        self.connected = False
        self.last_error: str | None = None
        self.last_reason: int | None = None
        parts = urlsplit(config.url)
        self._host = parts.hostname or "127.0.0.1"
        tls = parts.scheme in ("mqtts", "ssl")
        self._port = parts.port or (8883 if tls else 1883)
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"lora-city-{uuid.uuid4().hex[:16]}",
                                  protocol=MQTTProtocolVersion.MQTTv311)
        self.client.reconnect_delay_set(1, 30)
        if config.username is not None:
            self.client.username_pw_set(config.username, config.password)
        if tls:
            self.client.tls_set_context(tls_context(config))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def open(self) -> None:
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()

    def wait_ready(self) -> bool:
        return self._ready.wait(self._timeout_s) and self.connected

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()
        with contextlib.suppress(Exception):
            self.client.loop_stop()

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        code = int(getattr(reason, "value", 0) or 0)
        self.last_reason = CONNACK_3_1_1.get(code, code)
        if reason.is_failure:
            self.connected = False
            self.last_error = f"broker refused the connection: {reason}"
        else:
            self.connected = True
            self.last_error = None
        self._ready.set()

    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected = False
        if reason is not None and getattr(reason, "is_failure", False) and self.last_error is None:
            self.last_error = f"connection lost: {reason}"


class MqttSender:
    """Publishes to tenants' brokers; ``send`` may be called from several threads (one integration at a time
    on each, as the outbox pump does)."""

    def __init__(self, *, timeout_s: float = 5.0) -> None:
        self._timeout_s = timeout_s
        self._connections: dict[str, _Connection] = {}
        self._lock = threading.Lock()

    def send(self, config: IntegrationConfig, topic: str, body: bytes) -> Outcome:
        try:
            conn = self._connection(config)
        except (ssl.SSLError, ValueError, OSError) as exc:  # unusable certificate or key, unknown host
            return Outcome(False, error=f"cannot set up the connection: {exc}")
        if not conn.wait_ready():
            error = conn.last_error or f"no connection to {config.url} within {self._timeout_s:.0f} s"
            reason = conn.last_reason
            if conn.last_error is not None or not conn.connected:
                self._drop(config.id, conn)
            return Outcome(False, status=reason, error=error)
        started = time.monotonic()
        try:
            info = conn.client.publish(topic, body, qos=config.qos)
            info.wait_for_publish(self._timeout_s)
            if info.is_published():
                return Outcome(True, status=0)
            error = f"no acknowledgement from {config.url} within {time.monotonic() - started:.1f} s"
        except (RuntimeError, ValueError) as exc:  # paho: not connected, queue full, bad topic
            error = f"publish failed: {exc}"
        self._drop(config.id, conn)
        return Outcome(False, error=error)

    def sync(self, configs: Iterable[IntegrationConfig]) -> None:
        """After a configuration change: close the connections of integrations deleted or changed."""
        current = {c.id: c for c in configs if c.kind == "mqtt"}
        with self._lock:
            stale = [(i, conn) for i, conn in self._connections.items() if current.get(i) != conn.config]
            for i, _conn in stale:
                del self._connections[i]
        for _i, conn in stale:
            conn.close()

    def close(self) -> None:
        with self._lock:
            connections, self._connections = list(self._connections.values()), {}
        for conn in connections:
            conn.close()

    def _connection(self, config: IntegrationConfig) -> _Connection:
        with self._lock:
            conn = self._connections.get(config.id)
            if conn is not None and conn.config == config:
                return conn
            old = self._connections.pop(config.id, None)
        if old is not None:
            old.close()
        conn = _Connection(config, self._timeout_s)
        conn.open()
        with self._lock:
            self._connections[config.id] = conn
        return conn

    def _drop(self, integration_id: str, conn: _Connection) -> None:
        with self._lock:
            if self._connections.get(integration_id) is conn:
                del self._connections[integration_id]
        conn.close()
