"""The live quota policy, fed as the pipeline feeds it (one call per uplink / downlink), with a manual clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from lora_city.metrics import Metrics
from lora_city.sinks.events import DeviceEvent, DeviceInfo, LogEvent
from tenants.quota import Allowance, PlanQuotaPolicy, TenantQuota


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now

    def at(self, iso: str) -> None:
        self.now = datetime.fromisoformat(iso).astimezone(UTC).timestamp()


def make(allowance: Allowance | None, *, status: str = "active", critical: bool = False,
         start: str = "2026-11-10T12:00:00+00:00") -> tuple[PlanQuotaPolicy, list[DeviceEvent], Metrics, Clock]:
    events: list[DeviceEvent] = []
    metrics = Metrics()
    clock = Clock(0.0)
    clock.at(start)
    policy = PlanQuotaPolicy(metrics, events.append, now=clock)
    policy.set_tenants({"t1": TenantQuota(status, critical, allowance)})
    return policy, events, metrics, clock


DEV = DeviceInfo(dev_eui="0000000000000001", tenant_id="t1")


def hits(metrics: Metrics, kind: str, action: str) -> float:
    value = metrics.registry.get_sample_value("lora_city_quota_hits_total", {"kind": kind, "action": action})
    return value or 0.0


def quota_events(events: list[DeviceEvent]) -> list[tuple[str, str, str]]:
    return [(e.level, e.context["kind"], e.context["percent"]) for e in events
            if isinstance(e, LogEvent) and e.code == "QUOTA"]


def test_drop_plan_warns_at_80_percent_and_drops_beyond_the_daily_uplinks() -> None:
    policy, events, metrics, _ = make(Allowance(uplinks=10, action="drop"))
    verdicts = [policy.allow_uplink(DEV, 20, 50.0) for _ in range(13)]
    assert verdicts == [True] * 10 + [False] * 3
    # the 8th uplink is 80 %: one warning; the 11th is the first refused: one ERROR, not one per drop
    assert quota_events(events) == [("WARNING", "uplinks", "80"), ("ERROR", "uplinks", "100")]
    assert hits(metrics, "uplinks", "warn") == 1
    assert hits(metrics, "uplinks", "drop") == 1


def test_airtime_allowance_counts_milliseconds_on_air() -> None:
    policy, events, _, _ = make(Allowance(airtime_ms=1000.0, action="drop"))
    # 300 ms frames: used before each = 0, 300, 600, 900 (< 1000: allowed), 1200 (refused)
    assert [policy.allow_uplink(DEV, 51, 300.0) for _ in range(5)] == [True, True, True, True, False]
    assert quota_events(events) == [("WARNING", "airtime_ms", "80"), ("ERROR", "airtime_ms", "100")]
    gauges = {g.kind: g for g in policy.device_gauges("t1", [DEV.dev_eui])[DEV.dev_eui]}
    assert gauges["airtime_ms"].used == 1200.0 and gauges["airtime_ms"].limit == 1000.0
    assert gauges["airtime_ms"].percent == 120.0


def test_bill_plan_never_drops_and_reports_the_excess_once() -> None:
    policy, events, metrics, _ = make(Allowance(uplinks=5, action="bill"))
    assert all(policy.allow_uplink(DEV, 20, 40.0) for _ in range(9))
    assert quota_events(events) == [("WARNING", "uplinks", "80"), ("ERROR", "uplinks", "100")]
    assert hits(metrics, "uplinks", "bill") == 1
    assert policy.tenant_gauges("t1")[0].used == 9


def test_downlinks_only_within_budget_even_when_uplinks_are_billed() -> None:
    policy, events, metrics, _ = make(Allowance(downlinks=2, action="bill"))
    assert [policy.allow_downlink(DEV, 17, 60.0) for _ in range(4)] == [True, True, False, False]
    assert ("ERROR", "downlinks", "100") in quota_events(events)
    assert hits(metrics, "downlinks", "refuse") == 1


@pytest.mark.parametrize("critical_device", [True, False])
def test_critical_services_are_never_limited(critical_device: bool) -> None:
    # either the device is flagged critical, or its whole tenant is (the flood cell)
    policy, events, _, _ = make(Allowance(uplinks=1, downlinks=0), critical=not critical_device)
    dev = DeviceInfo(dev_eui="00000000000000f1", tenant_id="t1", is_critical=critical_device)
    assert all(policy.allow_uplink(dev, 20, 1000.0) for _ in range(50))
    assert policy.allow_downlink(dev, 20, 100.0)
    assert events == []


def test_suspended_tenant_is_dropped_and_resumed_tenant_is_not() -> None:
    policy, _, metrics, _ = make(None, status="suspended")
    assert not policy.allow_uplink(DEV, 20, 10.0)
    assert not policy.allow_downlink(DEV, 20, 10.0)
    assert hits(metrics, "tenant", "suspended") == 1
    policy.set_tenants({"t1": TenantQuota("active", False, None)})
    assert policy.allow_uplink(DEV, 20, 10.0)


def test_unknown_tenant_is_not_limited() -> None:
    policy, _, _, _ = make(Allowance(uplinks=0))
    stranger = DeviceInfo(dev_eui="00000000000000aa", tenant_id="nobody")
    assert policy.allow_uplink(stranger, 20, 10.0)


def test_counters_restart_at_paris_midnight_on_the_25_hour_day() -> None:
    # 2026-10-25 (DST ends): Paris midnight is 22:00Z on the 24th, the next one 23:00Z on the 25th.
    policy, _, _, clock = make(Allowance(uplinks=1), start="2026-10-24T21:59:59+00:00")
    assert policy.allow_uplink(DEV, 20, 10.0)
    assert not policy.allow_uplink(DEV, 20, 10.0)  # still 24 October in Paris
    clock.at("2026-10-24T22:00:00+00:00")  # Paris 25 October 00:00 CEST
    assert policy.allow_uplink(DEV, 20, 10.0)
    assert str(policy.day) == "2026-10-25"
    clock.at("2026-10-25T22:59:59+00:00")  # Paris 23:59:59 CET, 25 hours later: the same day
    assert not policy.allow_uplink(DEV, 20, 10.0)
    clock.at("2026-10-25T23:00:00+00:00")  # Paris 26 October 00:00 CET
    assert policy.allow_uplink(DEV, 20, 10.0)
    assert str(policy.day) == "2026-10-26"


def test_resume_after_restart_counts_what_was_used_today() -> None:
    from tenants.quota import DeviceDayUsage

    policy, events, _, _ = make(Allowance(uplinks=10, action="drop"))
    # before the restart the device sent 9 uplinks (the 80 % warning was already emitted then)
    assert policy.resume([DeviceDayUsage("t1", DEV.dev_eui, 9, 400.0, 0)]) == 1
    verdicts = [policy.allow_uplink(DEV, 20, 50.0) for _ in range(3)]
    assert verdicts == [True, False, False]
    assert quota_events(events) == [("ERROR", "uplinks", "100")]  # no second 80 % warning
    gauges = {g.kind: g.used for g in policy.tenant_gauges("t1")}
    assert gauges["uplinks"] == 10 and gauges["airtime_ms"] == 450.0
