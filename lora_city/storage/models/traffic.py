from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base


class TrafficCount(Base):
    """One hour of one counter: (gateway, hour, kind, key) -> count, kept for 7 days (network/traffic.py).

    ``gateway_id`` is ``""`` for the network-wide counters (joins, drops by reason). ``hour`` is the hour's start
    in Unix seconds (UTC): an integer buckets the same way on SQLite and PostgreSQL. Every network server process
    adds its own increments (an upsert ``count = count + n``), so the table is the sum over the cluster.
    """

    __tablename__ = "traffic_counts"

    gateway_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
