"""The embedded readings store: every decoded uplink, source of the API's readings and the portal's charts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base


class Reading(Base):
    __tablename__ = "readings"
    __table_args__ = (
        Index("ix_readings_dev_eui_time", "dev_eui", "time"),
        Index("ix_readings_tenant_time", "tenant_id", "time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # The uplink's identity: replays of a reading (outbox, restart) hit the unique key instead of duplicating.
    uplink_id: Mapped[str] = mapped_column(String(36), unique=True)
    dev_eui: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[str] = mapped_column(String(36))
    application_id: Mapped[str | None] = mapped_column(String(36), default=None)
    family: Mapped[str | None] = mapped_column(String(20), default=None)
    codec_id: Mapped[str | None] = mapped_column(String(100), default=None)
    time: Mapped[datetime]
    f_cnt: Mapped[int] = mapped_column(BigInteger)  # 32-bit unsigned
    f_port: Mapped[int | None] = mapped_column(default=None)
    payload: Mapped[bytes | None] = mapped_column(default=None)
    data: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # the codec's object
    measurements: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {name: {"value", "unit"}}
    rx: Mapped[list[Any]] = mapped_column(default=list)  # per-gateway rssi, snr, …
    tx: Mapped[dict[str, Any]] = mapped_column(default=dict)  # frequency, sf, bandwidth, airtime
