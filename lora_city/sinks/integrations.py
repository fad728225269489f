"""Tenant integrations as the sinks read them: the ``integrations`` rows with their secrets decrypted, and the
change counter that tells a process its cached copy is stale.

Why a counter and not a reload timer: an integration created, changed or deleted through the API must apply to
the very next event, in every process sharing the database (cluster members, the API process). Every writer
bumps ``config_generations['integrations']`` in the same transaction as its change
(``bump_generation``); the integration sink reads that one row each time before it routes a batch of events
it has already taken from its queue, so an event produced after the change was committed is routed with it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lora_city.storage import generations
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import ConfigGeneration, Integration, new_id, utcnow

GENERATION = "integrations"
EVENT_KINDS = ("up", "join", "ack", "txack", "status", "log")
# ChirpStack v4's MQTT integration topic (chirpstack/src/integration/mqtt.rs, default event_topic).
DEFAULT_TOPIC = "application/{application_id}/device/{dev_eui}/event/{event}"


def context(integration_id: str) -> bytes:
    # Binds the ciphertext to its row: a secret copied onto another integration does not decrypt.
    return b"integration:" + integration_id.encode()


def seal(vault: KeyVault, integration_id: str, value: bytes | None) -> bytes | None:
    return None if value is None else vault.encrypt(value, context=context(integration_id))


def unseal(vault: KeyVault, integration_id: str, blob: bytes | None) -> bytes | None:
    return None if blob is None else vault.decrypt(blob, context=context(integration_id))


def bump_generation(session: Session, name: str = GENERATION) -> None:
    """Call in the transaction that changes an integration: every process applies it before its next event."""
    generations.bump_generation(session, name)


@dataclass(frozen=True, slots=True)
class IntegrationConfig:
    """One integration with its secrets in clear, as the delivery code uses it. Compared whole to tell whether
    an MQTT connection must be reopened after a change."""

    id: str
    tenant_id: str
    kind: str  # webhook | mqtt
    url: str
    name: str = ""
    enabled: bool = True
    events: frozenset[str] | None = None
    encoding: str = "json"
    secret: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    event_urls: tuple[tuple[str, str], ...] = ()
    username: str | None = None
    password: str | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    topic_template: str = DEFAULT_TOPIC
    qos: int = 1

    @property
    def target(self) -> str:
        """The outbox target of this integration's rows."""
        return f"integration:{self.id}"

    def wants(self, event_kind: str) -> bool:
        return self.events is None or event_kind in self.events

    def url_for(self, event_kind: str) -> str:
        """A webhook's URL for that kind of event: its own URL when it has one, else the integration's."""
        return dict(self.event_urls).get(event_kind) or self.url


def to_config(row: Integration, vault: KeyVault) -> IntegrationConfig:
    headers = unseal(vault, row.id, row.headers_enc)
    password = unseal(vault, row.id, row.password_enc)
    key = unseal(vault, row.id, row.client_key_enc)
    return IntegrationConfig(
        id=row.id, tenant_id=row.tenant_id, kind=row.kind, url=row.url, name=row.name, enabled=row.enabled,
        events=frozenset(row.events) if row.events is not None else None,
        encoding=row.encoding,
        secret=unseal(vault, row.id, row.secret) or b"",
        headers=tuple(sorted(json.loads(headers).items())) if headers else (),
        event_urls=tuple(sorted((row.event_urls or {}).items())),
        username=row.username,
        password=password.decode() if password is not None else None,
        ca_cert=row.ca_cert, client_cert=row.client_cert,
        client_key=key.decode() if key is not None else None,
        topic_template=row.topic_template or DEFAULT_TOPIC,
        qos=row.qos,
    )


class IntegrationStore:
    def __init__(self, session_factory: SessionFactory, vault: KeyVault) -> None:
        self._factory = session_factory
        self._vault = vault

    @property
    def vault(self) -> KeyVault:
        return self._vault

    def generation(self) -> int:
        with self._factory() as s:
            return int(s.scalar(select(ConfigGeneration.value).where(ConfigGeneration.name == GENERATION)) or 0)

    def enabled(self) -> tuple[int, list[IntegrationConfig]]:
        """(generation, every enabled integration), read in one transaction so they belong together."""
        with self._factory() as s, s.begin():
            gen = int(s.scalar(select(ConfigGeneration.value).where(ConfigGeneration.name == GENERATION)) or 0)
            rows = s.scalars(select(Integration).where(Integration.enabled).order_by(Integration.id))
            return gen, [to_config(r, self._vault) for r in rows]

    def get(self, integration_id: str) -> IntegrationConfig | None:
        with self._factory() as s:
            row = s.get(Integration, integration_id)
            return None if row is None else to_config(row, self._vault)

    # --- writes used by tests and tools; the API writes through lora_city.services.integrations -------------

    def add_webhook(self, tenant_id: str, url: str, secret: str | None = None, **fields: Any) -> tuple[str, str]:
        """Returns (integration id, the secret): shown once to the tenant, then only kept encrypted."""
        secret = secret or secrets.token_urlsafe(32)
        integration_id = new_id()
        headers = fields.pop("headers", None)
        with transaction(self._factory) as s:
            s.add(Integration(
                id=integration_id, tenant_id=tenant_id, kind="webhook", url=url,
                secret=seal(self._vault, integration_id, secret.encode()),
                headers_enc=seal(self._vault, integration_id, json.dumps(headers).encode()) if headers else None,
                **fields,
            ))
            bump_generation(s)
        return integration_id, secret

    def add_mqtt(self, tenant_id: str, url: str, *, password: str | None = None, client_key: str | None = None,
                 **fields: Any) -> str:
        integration_id = new_id()
        with transaction(self._factory) as s:
            s.add(Integration(
                id=integration_id, tenant_id=tenant_id, kind="mqtt", url=url,
                password_enc=seal(self._vault, integration_id, password.encode() if password else None),
                client_key_enc=seal(self._vault, integration_id, client_key.encode() if client_key else None),
                **fields,
            ))
            bump_generation(s)
        return integration_id

    def set_enabled(self, integration_id: str, enabled: bool) -> None:
        with transaction(self._factory) as s:
            s.execute(update(Integration).where(Integration.id == integration_id)
                      .values(enabled=enabled, updated_at=utcnow()))
            bump_generation(s)

    def delete(self, integration_id: str) -> None:
        with transaction(self._factory) as s:
            row = s.get(Integration, integration_id)
            if row is not None:
                s.delete(row)
            bump_generation(s)
