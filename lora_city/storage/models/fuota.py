"""Firmware updates over the air (issue 16): a campaign sends one image to a set of devices through TS005 remote
multicast setup and TS004 fragmentation; each member device's progress is a row of its own, so a restarted server
resumes every device where it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow


class FuotaCampaign(Base):
    __tablename__ = "fuota_campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # draft -> running <-> paused -> done | failed | cancelled
    state: Mapped[str] = mapped_column(String(12), default="draft")
    # the campaign-wide step the orchestrator is at (see lora_city/fuota/steps.py)
    step: Mapped[str] = mapped_column(String(32), default="created")
    image: Mapped[bytes] = mapped_column(LargeBinary)
    image_size: Mapped[int]
    image_sha256: Mapped[str] = mapped_column(String(64))
    frag_size: Mapped[int]
    redundancy_pct: Mapped[int] = mapped_column(default=10)
    group_class: Mapped[str] = mapped_column(String(1), default="C")  # C | B
    dr: Mapped[int] = mapped_column(default=5)
    frequency: Mapped[int] = mapped_column(default=869_525_000)
    ping_slot_periodicity: Mapped[int] = mapped_column(default=2)  # class B sessions
    # The server-side multicast group the fragments go through; created by the campaign unless one was chosen.
    multicast_group_id: Mapped[str | None] = mapped_column(String(36), default=None)
    owns_group: Mapped[bool] = mapped_column(default=True)
    mc_group_index: Mapped[int] = mapped_column(default=0)  # McGroupID on the devices (0..3)
    frag_index: Mapped[int] = mapped_column(default=0)  # FragIndex on the devices (0..3)
    descriptor: Mapped[str] = mapped_column(String(8), default="00000000")  # TS004 Descriptor, 4 octets hex
    session_cnt: Mapped[int] = mapped_column(default=0)  # TS004 v2 SessionCnt
    session_timeout_exp: Mapped[int] = mapped_column(default=12)  # class C: 2^n s; class B: 2^n beacon periods
    session_start_at: Mapped[datetime | None] = mapped_column(default=None)
    unicast_timeout_s: Mapped[int] = mapped_column(default=120)
    max_attempts: Mapped[int] = mapped_column(default=3)
    fragments_sent: Mapped[int] = mapped_column(default=0)
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class FuotaCampaignDevice(Base):
    __tablename__ = "fuota_campaign_devices"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("fuota_campaigns.id", ondelete="CASCADE"), primary_key=True)
    dev_eui: Mapped[str] = mapped_column(ForeignKey("devices.dev_eui", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    step: Mapped[str] = mapped_column(String(32), default="package_version")
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | ok | failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(String(300), default="")
    # What the device told us: package versions, clock offset, fragments received / missing
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
