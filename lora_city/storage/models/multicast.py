"""Multicast groups (TS001 class B/C multicast, TS005 key terms): the group, its member devices and its queue.

A group is owned by one tenant like a device; its members are devices of the same tenant. McKey and the two
session keys derived from it (McNwkSKey, McAppSKey) are encrypted at rest under the group id as AEAD context,
and never returned by the API. ``f_cnt`` is the next multicast frame counter: each enqueued item takes one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow


class MulticastGroup(Base):
    __tablename__ = "multicast_groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[str | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), index=True, default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    mc_addr: Mapped[str] = mapped_column(String(8), unique=True)  # MSB-first hex, like a DevAddr
    # None: the group was given its session keys (ChirpStack's API), not a McKey: no TS005 remote setup for it
    mc_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    mc_nwk_s_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    mc_app_s_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    f_cnt: Mapped[int] = mapped_column(BigInteger, default=0)  # the next McFCnt (32-bit unsigned)
    group_class: Mapped[str] = mapped_column(String(1), default="C")  # C | B
    dr: Mapped[int] = mapped_column(default=0)
    frequency: Mapped[int] = mapped_column(default=869_525_000)  # Hz
    ping_slot_periodicity: Mapped[int] = mapped_column(default=7)  # class B: pingNb = 2^(7 - periodicity)
    codec_id: Mapped[str | None] = mapped_column(String(100), default=None)  # encodes objects for the members
    latitude: Mapped[float | None] = mapped_column(default=None)  # where the group is (lighting schedules)
    longitude: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MulticastGroupDevice(Base):
    __tablename__ = "multicast_group_devices"

    group_id: Mapped[str] = mapped_column(ForeignKey("multicast_groups.id", ondelete="CASCADE"), primary_key=True)
    dev_eui: Mapped[str] = mapped_column(
        ForeignKey("devices.dev_eui", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MulticastQueueItem(Base):
    """One group downlink. ``state``: queued -> sent (or expired / failed); claimed atomically by the sender,
    so two server processes never send the same item."""

    __tablename__ = "multicast_queue"
    __table_args__ = (Index("ix_multicast_queue_group_state", "group_id", "state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    group_id: Mapped[str] = mapped_column(ForeignKey("multicast_groups.id", ondelete="CASCADE"))
    f_cnt: Mapped[int] = mapped_column(BigInteger)
    f_port: Mapped[int]
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(12), default="queued")  # queued | sending | sent | expired | failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    gateways: Mapped[list[Any]] = mapped_column(default=list)  # the gateways that transmitted it
    detail: Mapped[str] = mapped_column(String(500), default="")
