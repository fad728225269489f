"""Tables of the sinks (issue 5): the durable outbox and retention policies (tenant integrations: integrations.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, utcnow


class OutboxRow(Base):
    """A payload journaled for a downstream target (``influx``, ``webhook:<integration id>``) before it is sent;
    deleted once the target accepted it. Rows of one target are replayed in ``id`` order."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_target_id", "target", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(80))
    # Set when the row holds one device's data (webhooks); None for a batch of many devices (InfluxDB lines).
    dev_eui: Mapped[str | None] = mapped_column(String(16), index=True, default=None)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    items: Mapped[int] = mapped_column(default=1)  # points or events in ``body``
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionPolicy(Base):
    """How long readings and events are kept. The most specific policy wins: (tenant, family), (tenant, any),
    (any tenant, family), then the global default passed to the purge."""

    __tablename__ = "retention_policies"
    __table_args__ = (UniqueConstraint("tenant_id", "family", name="uq_retention_policies_tenant_family"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), default=None)
    family: Mapped[str | None] = mapped_column(String(20), default=None)
    days: Mapped[int]
