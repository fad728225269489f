"""Live quotas: the core's ``QuotaPolicy`` backed by in-memory counters per device and per tenant.

Per uplink the cost is a few dict lookups and additions: limits are loaded from the database beforehand
(``load``, called at start and after a plan or status change), never read on the radio path. Counters restart at
Paris midnight. Crossing 80 % of an allowance emits one ``LogEvent`` (code QUOTA, level WARNING); reaching 100 %
applies the plan's action once per device, allowance and day (another QUOTA event, level ERROR):
``drop`` drops the excess uplinks, ``bill`` lets them through (the rating bills the excess from the metered
usage). Downlinks beyond their daily budget are refused under both actions. The city's critical tenants are
never limited, and a suspended tenant's devices are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.api.rate_limit import Limit
from lora_city.metrics import Metrics
from lora_city.sinks.events import DeviceEvent, DeviceInfo, LogEvent
from lora_city.storage.db import SessionFactory
from lora_city.storage.models import Tenant
from tenants.calendar import next_midnight_epoch, paris_day
from tenants.models import Plan

log = logging.getLogger(__name__)

WARN_FRACTION = 0.8
UPLINKS, AIRTIME, DOWNLINKS = "uplinks", "airtime_ms", "downlinks"
KINDS = (UPLINKS, AIRTIME, DOWNLINKS)


@dataclass(frozen=True, slots=True)
class Allowance:
    """Daily allowances of one device (None: unlimited), and the action at 100 %."""

    uplinks: int | None = None
    airtime_ms: float | None = None
    downlinks: int | None = None
    action: str = "drop"
    api_per_s: int | None = None  # the plan's API rate limit (None: the server's default)
    api_burst: int | None = None

    def limit(self, kind: str) -> float | None:
        return self.uplinks if kind == UPLINKS else self.airtime_ms if kind == AIRTIME else self.downlinks

    @classmethod
    def of_plan(cls, plan: Plan) -> Allowance:
        airtime = plan.airtime_s_per_device_day
        return cls(plan.uplinks_per_device_day, None if airtime is None else airtime * 1000.0,
                   plan.downlinks_per_device_day, plan.over_quota_action, plan.api_requests_per_s, plan.api_burst)


@dataclass(frozen=True, slots=True)
class DeviceDayUsage:
    """What one device used so far today, as the billing meter stored it (``resume``)."""

    tenant_id: str
    dev_eui: str
    uplinks: int
    airtime_ms: float
    downlinks: int


@dataclass(frozen=True, slots=True)
class TenantQuota:
    status: str = "active"
    critical: bool = False
    allowance: Allowance | None = None  # None: no plan, nothing to count against


class Usage:
    """Today's counters of one device or tenant; ``flags`` remembers which events were already emitted."""

    __slots__ = ("airtime_ms", "downlinks", "flags", "uplinks")

    def __init__(self) -> None:
        self.uplinks = 0
        self.airtime_ms = 0.0
        self.downlinks = 0
        self.flags: set[tuple[str, str]] = set()

    def value(self, kind: str) -> float:
        return self.uplinks if kind == UPLINKS else self.airtime_ms if kind == AIRTIME else self.downlinks


@dataclass(frozen=True, slots=True)
class Gauge:
    kind: str
    used: float
    limit: float | None

    @property
    def percent(self) -> float | None:
        return None if not self.limit else round(100.0 * self.used / self.limit, 1)


def _load_with(factory: SessionFactory) -> dict[str, TenantQuota]:
    with factory() as session:
        return load_tenant_quotas(session)


def load_tenant_quotas(session: Session) -> dict[str, TenantQuota]:
    plans = {p.id: p for p in session.scalars(select(Plan))}
    result: dict[str, TenantQuota] = {}
    for tenant in session.scalars(select(Tenant)):
        plan = plans.get(tenant.plan_id) if tenant.plan_id else None
        result[tenant.id] = TenantQuota(tenant.status, tenant.is_critical,
                                        Allowance.of_plan(plan) if plan else None)
    return result


class PlanQuotaPolicy:
    """Implements ``lora_city.uplink.quota.QuotaPolicy``. ``emit`` receives the QUOTA log events (wire it to
    the sinks, as the network server's own events are); ``now`` is POSIX seconds."""

    def __init__(
        self, metrics: Metrics, emit: Callable[[DeviceEvent], None], *, now: Callable[[], float] = time.time,
    ) -> None:
        self._metrics = metrics
        self._emit = emit
        self._now = now
        self._tenants: dict[str, TenantQuota] = {}
        self._devices: dict[str, Usage] = {}
        self._tenant_usage: dict[str, Usage] = {}
        self._day_end = 0.0
        self.day: date | None = None

    # --- configuration (off the radio path) ----------------------------------------------------------

    def load(self, session: Session) -> None:
        self.set_tenants(load_tenant_quotas(session))

    def set_tenants(self, tenants: dict[str, TenantQuota]) -> None:
        self._tenants = tenants  # one assignment: the radio side sees the old or the new map, never half

    def api_limit(self, tenant_id: str) -> Limit | None:
        """The tenant's plan's API rate limit (api/rate_limit.py), None for the server's default."""
        quota = self._tenants.get(tenant_id)
        allowance = quota.allowance if quota is not None else None
        if allowance is None or allowance.api_per_s is None:
            return None
        return Limit(float(allowance.api_per_s), float(allowance.api_burst or 5 * allowance.api_per_s))

    async def refresh_loop(self, factory: SessionFactory, interval_s: float = 30.0) -> None:
        """Reload limits and statuses periodically (run as a task by the composition root), so tenants and plans
        changed elsewhere than through tenants.api (the portal, the CLI, another node) apply within a minute."""
        while True:
            try:
                tenants = await asyncio.to_thread(_load_with, factory)
                self.set_tenants(tenants)
            except Exception:  # the database away for a while: keep the limits we have
                log.exception("quota limits reload failed")
            await asyncio.sleep(interval_s)

    def resume(self, used_today: Iterable[DeviceDayUsage]) -> int:
        """Start from what each device already used today (the billing meter's rows), so a restart does not
        hand every device a fresh allowance. Warnings and actions already reached are not signalled again.
        Returns the number of devices resumed."""
        self._roll_day()
        count = 0
        for row in used_today:
            device, tenant = self._usage(DeviceInfo(dev_eui=row.dev_eui, tenant_id=row.tenant_id))
            for usage in (device, tenant):
                usage.uplinks += row.uplinks
                usage.airtime_ms += row.airtime_ms
                usage.downlinks += row.downlinks
            quota = self._tenants.get(row.tenant_id)
            allowance = quota.allowance if quota else None
            for kind in KINDS:
                limit = allowance.limit(kind) if allowance else None
                if limit is not None and device.value(kind) >= WARN_FRACTION * limit:
                    device.flags.add((kind, "warn"))
                if limit is not None and device.value(kind) >= limit:
                    device.flags.add((kind, "full"))
            count += 1
        return count

    # --- QuotaPolicy -------------------------------------------------------------------------------------

    def allow_uplink(self, device: DeviceInfo, phy_size: int, airtime_ms: float) -> bool:
        quota = self._quota(device)
        if quota is None:
            return True
        if quota.status != "active":
            self._metrics.quota_hits.labels("tenant", "suspended").inc()
            return False
        device_usage, tenant_usage = self._usage(device)
        allowance = quota.allowance
        if allowance is not None and allowance.action == "drop" and (
            self._exhausted(device, device_usage, allowance, UPLINKS)
            or self._exhausted(device, device_usage, allowance, AIRTIME)
        ):
            return False
        device_usage.uplinks += 1
        device_usage.airtime_ms += airtime_ms
        tenant_usage.uplinks += 1
        tenant_usage.airtime_ms += airtime_ms
        if allowance is not None:
            self._after_use(device, device_usage, allowance, UPLINKS)
            self._after_use(device, device_usage, allowance, AIRTIME)
        return True

    def allow_downlink(self, device: DeviceInfo, phy_size: int, airtime_ms: float) -> bool:
        """Asked before a downlink is scheduled: granted only within the device's daily budget."""
        quota = self._quota(device)
        if quota is None:
            return True
        if quota.status != "active":
            return False
        device_usage, tenant_usage = self._usage(device)
        allowance = quota.allowance
        if allowance is not None and self._exhausted(device, device_usage, allowance, DOWNLINKS, action="refuse"):
            return False
        device_usage.downlinks += 1
        tenant_usage.downlinks += 1
        if allowance is not None:
            self._after_use(device, device_usage, allowance, DOWNLINKS, action="refuse")
        return True

    # --- gauges (API) ------------------------------------------------------------------------------------

    def tenant_gauges(self, tenant_id: str) -> list[Gauge]:
        """Today's totals of a tenant. Limits are per device, so the tenant's have none."""
        self._roll_day()
        usage = self._tenant_usage.get(tenant_id) or Usage()
        return [Gauge(kind, usage.value(kind), None) for kind in KINDS]

    def device_gauges(self, tenant_id: str, dev_euis: Iterable[str]) -> dict[str, list[Gauge]]:
        self._roll_day()
        quota = self._tenants.get(tenant_id)
        allowance = quota.allowance if quota else None
        result: dict[str, list[Gauge]] = {}
        for dev_eui in dev_euis:
            usage = self._devices.get(dev_eui) or Usage()
            result[dev_eui] = [Gauge(k, usage.value(k), allowance.limit(k) if allowance else None) for k in KINDS]
        return result

    # --- internals -----------------------------------------------------------------------------------------

    def _quota(self, device: DeviceInfo) -> TenantQuota | None:
        """None when nothing limits this device: critical, or a tenant without a known plan or status."""
        if device.is_critical:
            return None
        quota = self._tenants.get(device.tenant_id)
        if quota is None or quota.critical:
            return None
        return quota

    def _roll_day(self) -> None:
        now = self._now()
        if now >= self._day_end:
            self._devices.clear()
            self._tenant_usage.clear()
            self._day_end = next_midnight_epoch(now)
            self.day = paris_day(datetime.fromtimestamp(now, UTC))

    def _usage(self, device: DeviceInfo) -> tuple[Usage, Usage]:
        self._roll_day()
        usage = self._devices.get(device.dev_eui)
        if usage is None:
            usage = self._devices[device.dev_eui] = Usage()
        tenant = self._tenant_usage.get(device.tenant_id)
        if tenant is None:
            tenant = self._tenant_usage[device.tenant_id] = Usage()
        return usage, tenant

    def _exhausted(self, device: DeviceInfo, usage: Usage, allowance: Allowance, kind: str,
                   action: str | None = None) -> bool:
        limit = allowance.limit(kind)
        if limit is None or usage.value(kind) < limit:
            return False
        self._signal(device, usage, kind, "full", action or allowance.action, limit)
        return True

    def _after_use(self, device: DeviceInfo, usage: Usage, allowance: Allowance, kind: str,
                   action: str | None = None) -> None:
        limit = allowance.limit(kind)
        if limit is None:
            return
        used = usage.value(kind)
        if used >= WARN_FRACTION * limit:  # one frame may jump from below 80 % past 100 %: warn first
            self._signal(device, usage, kind, "warn", "warn", limit)
        if used > limit and (action or allowance.action) == "bill":
            # "bill" passes the allowance without ever being refused: say so once, the rating bills the excess.
            self._signal(device, usage, kind, "full", "bill", limit)

    def _signal(self, device: DeviceInfo, usage: Usage, kind: str, stage: str, action: str, limit: float) -> None:
        if (kind, stage) in usage.flags:
            return
        usage.flags.add((kind, stage))
        self._metrics.quota_hits.labels(kind, action).inc()
        percent = 80 if stage == "warn" else 100
        level = "WARNING" if stage == "warn" else "ERROR"
        what = {"warn": "used", "drop": "reached: excess uplinks dropped", "bill": "passed: excess billed",
                "refuse": "reached: further downlinks refused"}[action]
        self._emit(LogEvent(
            time=datetime.fromtimestamp(self._now(), UTC), device=device, level=level, code="QUOTA",
            description=f"{percent} % of the daily {kind} allowance {what}",
            context={"kind": kind, "percent": str(percent), "limit": f"{limit:g}", "action": action},
        ))
