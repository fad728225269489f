"""Lighting schedules (issue 24): a schedule's steps, which groups or devices follow it, exceptions by date, the
crisis override, and a record of every command the scheduler sent (so each step is sent once)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow


class LightingSchedule(Base):
    __tablename__ = "lighting_schedules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # [{"at": "dusk" | "dawn" | "sunset" | "sunrise" | "HH:MM", "offset_min": int, "level": 0..100}, ...]
    steps: Mapped[list[Any]] = mapped_column(default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    # where the sun is computed when a target has no position of its own (the city's centre)
    latitude: Mapped[float | None] = mapped_column(default=None)
    longitude: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LightingAssignment(Base):
    """A multicast group or a single device following a schedule (one schedule per target)."""

    __tablename__ = "lighting_assignments"
    __table_args__ = (UniqueConstraint("target_kind", "target_id", name="uq_lighting_assignments_target"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    schedule_id: Mapped[str] = mapped_column(ForeignKey("lighting_schedules.id", ondelete="CASCADE"), index=True)
    target_kind: Mapped[str] = mapped_column(String(10))  # group | device
    target_id: Mapped[str] = mapped_column(String(36))  # multicast group id, or DevEUI
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LightingException(Base):
    """Other steps for the nights of a date range (a festival all lit, a sports event): the night of a local date
    runs from its noon to the next day's noon."""

    __tablename__ = "lighting_exceptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    schedule_id: Mapped[str] = mapped_column(ForeignKey("lighting_schedules.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    steps: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LightingOverride(Base):
    """A crisis override from the supervision centre: every lamp of the tenant at ``level`` until released."""

    __tablename__ = "lighting_overrides"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(default=100)
    reason: Mapped[str] = mapped_column(String(500), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by: Mapped[str] = mapped_column(String(200), default="")
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    released_by: Mapped[str | None] = mapped_column(String(200), default=None)


class LightingCommand(Base):
    """One command the scheduler (or an operator) sent to a target. ``key`` is unique: a schedule step at its
    instant, an override or its release, so a step goes out once whatever the number of scheduler processes."""

    __tablename__ = "lighting_commands"
    __table_args__ = (Index("ix_lighting_commands_target", "target_kind", "target_id", "sent_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[str | None] = mapped_column(String(36), default=None)
    target_kind: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(20))  # step | override | release | manual | retry
    level: Mapped[int]
    step_at: Mapped[datetime | None] = mapped_column(default=None)  # the step's instant (UTC)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(12), default="sent")  # sent | confirmed | unconfirmed | failed
    queue_ids: Mapped[list[Any]] = mapped_column(default=list)  # device queue / multicast queue item ids
    retries: Mapped[int] = mapped_column(default=0)
    retried_at: Mapped[datetime | None] = mapped_column(default=None)
    confirmed: Mapped[int] = mapped_column(default=0)  # lamps that reported the level since
    expected: Mapped[int] = mapped_column(default=0)  # lamps that should have
    detail: Mapped[str] = mapped_column(String(500), default="")
