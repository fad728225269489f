"""Alert rules, alerts with their lifecycle, the audit log of every transition, and supervision-feed
subscriptions (which city service receives what, over MQTT or a webhook)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow


class AlertRule(Base):
    __tablename__ = "alert_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(50), default="supervision")
    scope_kind: Mapped[str] = mapped_column(String(20), default="all")
    scope_value: Mapped[str] = mapped_column(String(100), default="")
    measurement: Mapped[str | None] = mapped_column(String(50), default=None)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)  # levels, hysteresis, delta, window_s, …
    escalate_after_s: Mapped[float | None] = mapped_column(default=None)
    # issue 21: the condition held this long before raising, gone this long before resolving; raised again
    # within flap_window_s of resolving, the alert is reopened with its count incremented (alerts/rules.py)
    hold_s: Mapped[float] = mapped_column(default=0.0, server_default="0")
    clear_s: Mapped[float] = mapped_column(default=0.0, server_default="0")
    flap_window_s: Mapped[float] = mapped_column(default=3600.0, server_default="3600")
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_cause_state", "cause", "state"), Index("ix_alerts_tenant_state", "tenant_id", "state"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(String(36))
    rule_id: Mapped[str] = mapped_column(String(36))
    cause: Mapped[str] = mapped_column(String(120))  # rule id + subject: one open alert per cause
    subject: Mapped[str] = mapped_column(String(32))  # dev_eui or gateway_id
    service: Mapped[str] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(20), default="raised")  # raised | acknowledged | resolved
    severity: Mapped[str] = mapped_column(String(20))
    level: Mapped[str | None] = mapped_column(String(30), default=None)
    value: Mapped[float | None] = mapped_column(default=None)
    message: Mapped[str] = mapped_column(String(500))
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)  # the latest raise (a reopened alert: its reopening)
    raise_count: Mapped[int] = mapped_column(default=1, server_default="1")  # > 1: reopened after flapping
    first_raised_at: Mapped[datetime | None] = mapped_column(default=None)  # set when reopened: the first raise
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertAudit(Base):
    __tablename__ = "alert_audit"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(30))  # raised | level_changed | acknowledged | escalated | resolved
    actor: Mapped[str] = mapped_column(String(200), default="system")
    detail: Mapped[str] = mapped_column(String(500), default="")


class FeedSubscription(Base):
    """A city service's subscription to the supervision feed."""

    __tablename__ = "feed_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    service: Mapped[str] = mapped_column(String(50), index=True)  # flood_cell, traffic, streetlights, crisis
    kind: Mapped[str] = mapped_column(String(10))  # mqtt | webhook
    target: Mapped[str] = mapped_column(String(500))  # topic prefix or URL
    secret: Mapped[str | None] = mapped_column(String(200), default=None)  # webhook HMAC secret
    families: Mapped[list[Any]] = mapped_column(default=list)  # live readings of these families; [] = alerts only
    min_severity: Mapped[str] = mapped_column(String(20), default="info")
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
