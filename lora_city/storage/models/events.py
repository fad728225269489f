"""The event log: joins, uplinks, acks, tx acks, status and log events, as ChirpStack's integration events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, utcnow


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_dev_eui_time", "dev_eui", "time"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    dev_eui: Mapped[str | None] = mapped_column(String(16), default=None)
    gateway_id: Mapped[str | None] = mapped_column(String(16), index=True, default=None)
    kind: Mapped[str] = mapped_column(String(20))  # up | join | ack | txack | status | log
    time: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
