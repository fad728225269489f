"""Tenant integrations (issue 22): where a tenant's device events are delivered (its webhooks, its MQTT broker),
the last delivery attempts of each, and the change counter that makes an edit apply to the very next event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow


class Integration(Base):
    """A tenant's integration. ``kind`` "webhook": events POSTed to ``url`` (or a per-event URL), signed with
    ``secret``; ``kind`` "mqtt": events published on the tenant's broker at ``url``.

    Encrypted at rest with KeyVault, context ``b"integration:" + id`` (a blob copied onto another row does not
    decrypt): ``secret`` (the webhook's HMAC key), ``headers_enc`` (JSON of the extra HTTP headers, which often
    carry a bearer token), ``password_enc`` and ``client_key_enc`` (MQTT). None of them is returned by the API.
    """

    __tablename__ = "integrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # webhook | mqtt
    name: Mapped[str] = mapped_column(String(100), default="")
    url: Mapped[str] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Event kinds delivered (up, join, ack, txack, status, log); None: all of them.
    events: Mapped[list[Any] | None] = mapped_column(default=None)
    encoding: Mapped[str] = mapped_column(String(10), default="json")  # json | protobuf (as ChirpStack's)
    # webhook
    secret: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    headers_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    event_urls: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # kind -> URL replacing ``url``
    # mqtt
    username: Mapped[str | None] = mapped_column(String(200), default=None)
    password_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    ca_cert: Mapped[str | None] = mapped_column(Text, default=None)  # PEM; None: the system's CAs
    client_cert: Mapped[str | None] = mapped_column(Text, default=None)  # PEM, with client_key_enc
    client_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    topic_template: Mapped[str | None] = mapped_column(String(300), default=None)
    qos: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntegrationDelivery(Base):
    """One delivery attempt of an integration (the last ``KEEP`` per integration are kept), for the tenant to see
    what reached its endpoint and why the rest did not."""

    __tablename__ = "integration_deliveries"
    __table_args__ = (Index("ix_integration_deliveries_integration_id_id", "integration_id", "id"),)
    KEEP = 100

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    integration_id: Mapped[str] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    time: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(10))  # up, join, … or "test"
    dev_eui: Mapped[str | None] = mapped_column(String(16), default=None)
    ok: Mapped[bool]
    status: Mapped[int | None] = mapped_column(default=None)  # the HTTP status, or the MQTT reason code
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    attempt: Mapped[int] = mapped_column(default=1)  # 1 for the first try of that event, 2 for its first retry…
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)


class ConfigGeneration(Base):
    """A counter per kind of configuration, bumped in the same transaction as every change of it. A process that
    caches the configuration reads the counter (one primary-key row) before it uses the cache for new work, so a
    change committed before an event was produced applies to that event, in every process."""

    __tablename__ = "config_generations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class BrokerAccount(Base):
    """A tenant's account on the product's own MQTT broker, where it reads its applications' events
    (``application/{id}/…``) and nothing else. The password is kept only as mosquitto's dynamic-security hash
    (PBKDF2-SHA512, base64), so ``lora-city broker-config`` can write the broker's file from the database."""

    __tablename__ = "broker_accounts"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    salt: Mapped[str] = mapped_column(String(40))
    iterations: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
