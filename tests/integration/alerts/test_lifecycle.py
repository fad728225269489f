"""Alert lifecycle against a real database (SQLite and PostgreSQL): raise, dedup, acknowledge, escalate,
resolve, audit, restart."""

from __future__ import annotations

import pytest

from lora_city.alerts.service import AlertService
from lora_city.errors import Conflict, NotFound
from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.models import AlertRule, Tenant
from tests.integration.alerts.conftest import FakeClock
from tests.unit.alerts.factories import device, uplink


def _flood_rule(sessions: SessionFactory, tenant_id: str, escalate_after_s: float | None = 600) -> str:
    with transaction(sessions) as s:
        rule = AlertRule(tenant_id=tenant_id, name="Vistre at Nîmes", kind="threshold", service="flood_cell",
                         scope_kind="family", scope_value="flood", measurement="water_level",
                         params={"hysteresis": 0.2, "levels": [
                             {"name": "yellow", "value": 1.0, "severity": "warning"},
                             {"name": "orange", "value": 2.0, "severity": "major"},
                             {"name": "red", "value": 3.0, "severity": "critical"}]},
                         escalate_after_s=escalate_after_s)
        s.add(rule)
        s.flush()
        return rule.id


def test_rising_flood_is_one_alert_with_audit(sessions: SessionFactory, city_id: str, clock: FakeClock) -> None:
    _flood_rule(sessions, city_id)
    service = AlertService(sessions, clock)
    engine = service.build_engine()
    gauge = device(tenant=city_id)
    messages = []
    for i, level in enumerate([0.4, 1.2, 1.4, 2.3, 2.4, 3.1]):
        messages += service.record(engine.on_uplink(uplink(gauge, i * 60, water_level=level)))
    assert [(m.transition, m.level) for m in messages] == [
        ("raised", "yellow"), ("level_changed", "orange"), ("level_changed", "red")]
    [alert] = service.list_alerts(state="open")
    assert alert.level == "red" and alert.severity == "critical" and alert.value == pytest.approx(3.1)
    assert [a.action for a in service.audit(alert.id)] == ["raised", "level_changed", "level_changed"]


def test_acknowledge_then_resolve(sessions: SessionFactory, city_id: str, clock: FakeClock) -> None:
    _flood_rule(sessions, city_id)
    service = AlertService(sessions, clock)
    engine = service.build_engine()
    gauge = device(tenant=city_id)
    [raised] = service.record(engine.on_uplink(uplink(gauge, 0, water_level=1.5)))
    clock.advance(120)
    ack = service.acknowledge(raised.alert_id, "agent.dupont@nimes.fr")
    assert ack.state == "acknowledged" and ack.actor == "agent.dupont@nimes.fr"
    with pytest.raises(Conflict):
        service.acknowledge(raised.alert_id, "someone else")
    # water goes down: the engine resolves the acknowledged alert
    [resolved] = service.record(engine.on_uplink(uplink(gauge, 900, water_level=0.3)))
    assert resolved.transition == "resolved"
    [alert] = service.list_alerts()
    assert alert.state == "resolved" and alert.acknowledged_by == "agent.dupont@nimes.fr"
    assert [a.action for a in service.audit(alert.id)] == ["raised", "acknowledged", "resolved"]
    assert service.list_alerts(state="open") == []


def test_escalation_only_when_not_acknowledged_in_time(sessions: SessionFactory, city_id: str, clock: FakeClock) -> None:
    _flood_rule(sessions, city_id, escalate_after_s=600)
    service = AlertService(sessions, clock)
    engine = service.build_engine()
    a, b = device("00000000000000a1", tenant=city_id), device("00000000000000b2", tenant=city_id)
    [first] = service.record(engine.on_uplink(uplink(a, 0, water_level=1.5)))
    [second] = service.record(engine.on_uplink(uplink(b, 0, water_level=1.5)))
    clock.advance(300)
    service.acknowledge(first.alert_id, "agent")
    assert service.escalate_due() == []  # 5 minutes: not yet
    clock.advance(301)
    escalated = service.escalate_due()
    assert [(m.alert_id, m.transition) for m in escalated] == [(second.alert_id, "escalated")]
    assert service.escalate_due() == []  # escalated once


def test_restart_does_not_raise_twice(sessions: SessionFactory, city_id: str, clock: FakeClock) -> None:
    _flood_rule(sessions, city_id)
    service = AlertService(sessions, clock)
    gauge = device(tenant=city_id)
    service.record(service.build_engine().on_uplink(uplink(gauge, 0, water_level=2.5)))
    again = service.build_engine()  # a restarted process
    assert service.record(again.on_uplink(uplink(gauge, 60, water_level=2.6))) == []
    assert len(service.list_alerts()) == 1


def test_tenant_cannot_touch_another_tenants_alert(sessions: SessionFactory, city_id: str, clock: FakeClock) -> None:
    _flood_rule(sessions, city_id)
    service = AlertService(sessions, clock)
    [raised] = service.record(service.build_engine().on_uplink(uplink(device(tenant=city_id), 0, water_level=1.5)))
    with pytest.raises(NotFound):
        service.acknowledge(raised.alert_id, "intruder", tenant_id="another-tenant")
    assert service.list_alerts(tenant_id="another-tenant") == []


def test_a_lessees_rule_watches_only_its_own_devices_and_gateways(sessions: SessionFactory, city_id: str,
                                                                  clock: FakeClock) -> None:
    """A lessee may write rules (issue 21); whatever scope it types ("all", a family, another tenant's DevEUI),
    its rule never raises on another tenant's device or gateway, while the city's rules supervise everything."""
    with transaction(sessions) as s:
        lessee, rival = Tenant(name="Aquaréseau", slug="aquareseau"), Tenant(name="Rival", slug="rival")
        s.add_all([lessee, rival])
        s.flush()
        lessee_id, rival_id = lessee.id, rival.id
        levels = {"levels": [{"name": "high", "value": 1.0, "severity": "warning"}]}
        for tenant_id, scope_kind, scope_value in ((lessee_id, "all", ""), (lessee_id, "family", "flood"),
                                                   (lessee_id, "device", "00000000000000c3")):
            s.add(AlertRule(tenant_id=tenant_id, name=f"lessee {scope_kind}", kind="threshold", scope_kind=scope_kind,
                            scope_value=scope_value, measurement="water_level", params=levels))
        s.add(AlertRule(tenant_id=lessee_id, name="lessee gateways", kind="gateway_offline", params={}))
        s.add(AlertRule(tenant_id=city_id, name="city", kind="threshold", measurement="water_level", params=levels))
    service = AlertService(sessions, clock)
    engine = service.build_engine()
    own = device("00000000000000a1", tenant=lessee_id)
    others = [device("00000000000000b2", tenant=city_id), device("00000000000000c3", tenant=rival_id)]
    raised = service.record(engine.on_uplink(uplink(own, 0, water_level=1.5)))
    assert sorted(m.rule_name for m in raised) == ["city", "lessee all", "lessee family"]
    for other in others:
        assert [m.rule_name for m in service.record(engine.on_uplink(uplink(other, 0, water_level=1.5)))] == ["city"]
    assert service.record(engine.on_gateway_state("aa555a0000000001", city_id, False, clock())) == []
    [down] = service.record(engine.on_gateway_state("aa555a0000000002", lessee_id, False, clock()))
    assert (down.rule_name, down.tenant_id) == ("lessee gateways", lessee_id)
    # the same after a restart, and with the rules reloaded as the sink does every tick
    engine.set_rules(service.load_rules())
    assert [m.rule_name for m in service.record(engine.on_uplink(uplink(others[1], 60, water_level=0.2)))] == [
        "city"]  # the city's alert on the rival's gauge resolves; no lessee rule ever looked at it


def test_a_reopened_alert_must_be_looked_at_again_even_after_a_restart(sessions: SessionFactory, city_id: str,
                                                                       clock: FakeClock) -> None:
    """Raised, acknowledged, resolved; the process restarts; raised again within the rule's flap window (1 h by
    default): the same stored alert is reopened, count 2, its acknowledgement cleared, its first raise kept."""
    _flood_rule(sessions, city_id)
    service = AlertService(sessions, clock)
    gauge = device(tenant=city_id)
    engine = service.build_engine()
    [raised] = service.record(engine.on_uplink(uplink(gauge, 0, water_level=1.5)))
    service.acknowledge(raised.alert_id, "otto@city.test")
    service.record(engine.on_uplink(uplink(gauge, 60, water_level=0.3)))
    clock.advance(600)  # the restart, ten minutes later (the window counts from the resolve at 60 s)
    restarted = service.build_engine()
    [again] = service.record(restarted.on_uplink(uplink(gauge, 900, water_level=1.6)))
    assert (again.alert_id, again.transition, again.count, again.state) == (raised.alert_id, "raised", 2, "raised")
    [alert] = service.list_alerts(state="open")
    assert alert.acknowledged_by is None and alert.raise_count == 2 and alert.value == pytest.approx(1.6)
    assert alert.first_raised_at is not None and alert.first_raised_at < alert.raised_at
    assert [a.action for a in service.audit(alert.id)] == ["raised", "acknowledged", "resolved", "reopened"]
    # past the window, a new alert of its own
    service.record(restarted.on_uplink(uplink(gauge, 960, water_level=0.3)))
    [fresh] = service.record(restarted.on_uplink(uplink(gauge, 960 + 3601, water_level=1.6)))
    assert fresh.alert_id != raised.alert_id and fresh.count == 1
