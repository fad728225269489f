"""Tables of tenants/: the plans a tenant leases under. The tenant itself is the core ``tenants`` row, whose
``plan_id`` points here (no foreign key: the core table cannot know this package)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lora_city.storage.models.base import Base, new_id, utcnow

# What happens when a device passes 100 % of a daily allowance. Downlinks beyond their budget are refused
# under every action: they spend the gateways' legal duty cycle, which is shared with the city.
ACTIONS = ("drop", "bill")


class Plan(Base):
    __tablename__ = "tenant_plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Caps (None: unlimited)
    max_devices: Mapped[int | None] = mapped_column(default=None)
    max_gateways: Mapped[int | None] = mapped_column(default=None)
    # Daily allowances per device (None: unlimited); the day is the Europe/Paris calendar day.
    airtime_s_per_device_day: Mapped[int | None] = mapped_column(default=None)
    uplinks_per_device_day: Mapped[int | None] = mapped_column(default=None)
    downlinks_per_device_day: Mapped[int | None] = mapped_column(default=None)
    over_quota_action: Mapped[str] = mapped_column(String(10), default="drop")  # drop | bill
    # May the tenant keep its own gateways to itself (not shared for uplinks / downlinks)?
    private_up_allowed: Mapped[bool] = mapped_column(default=False)
    private_down_allowed: Mapped[bool] = mapped_column(default=False)
    # The tenant's API rate limit (requests per second, burst); None: the server's defaults (Settings.api_rate_*)
    api_requests_per_s: Mapped[int | None] = mapped_column(default=None)
    api_burst: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
