"""Authentication failures (the audit log) and the throttles they set (services/auth_throttle.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow


class AuthFailure(Base):
    """One refused authentication: a wrong portal password, an unknown API key, a failed gRPC login."""

    __tablename__ = "auth_failures"
    __table_args__ = (Index("ix_auth_failures_time", "time"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # portal_login | api_key | grpc_login
    account: Mapped[str | None] = mapped_column(String(200), default=None)  # e-mail, or an API key's prefix
    address: Mapped[str | None] = mapped_column(String(64), default=None)  # the client's IP address
    reason: Mapped[str] = mapped_column(String(40))


class AuthLock(Base):
    """A throttled account or client address: delayed (growing) after a few failures, locked after more."""

    __tablename__ = "auth_locks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(String(20))  # account | address
    subject: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime] = mapped_column(default=utcnow)
    locked: Mapped[bool] = mapped_column(default=False)  # the long lock, not just the growing delay
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_auth_locks_subject", "scope", "subject", unique=True),)
