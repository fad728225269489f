"""A registered gateway that never connects (the case of every new installation, issue 21) raises the
gateway-offline alert once it has been registered longer than the rule's silence, and its first connection
resolves it; the gateway status written for the console carries the duty-cycle use per sub-band."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from lora_city.alerts.service import AlertService
from lora_city.downlink.duty_cycle import DutyCycleTracker
from lora_city.gateway.frames import Transport
from lora_city.gateway.health import GatewayHealth
from lora_city.lorawan.region import EU868
from lora_city.network.gateway_status import GatewayStatusWriter
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory, transaction
from lora_city.storage.models import AlertRule, Gateway

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
NEW, OLD, FRESH = "aa00000000000021", "aa00000000000022", "aa00000000000023"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()


@pytest.fixture()
def factory(database_url: str) -> Iterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_never_seen_gateway_alerted_after_the_rules_silence_then_resolved(factory: SessionFactory) -> None:
    clock = Clock()
    with transaction(factory) as s:
        city = ensure_city_tenant(s).id
        # registered 2 h ago and never heard; heard yesterday (offline, an ordinary case); registered just now
        s.add(Gateway(gateway_id=NEW, tenant_id=city, name="Gare", created_at=T0 - timedelta(hours=2)))
        s.add(Gateway(gateway_id=OLD, tenant_id=city, name="Arènes", created_at=T0 - timedelta(days=30),
                      last_seen_at=T0 - timedelta(days=1)))
        s.add(Gateway(gateway_id=FRESH, tenant_id=city, name="Stade", created_at=T0 - timedelta(seconds=5)))
        s.add(AlertRule(tenant_id=city, name="Passerelle muette 1 h", kind="gateway_offline",
                        params={"max_silence_s": 3600.0}))
        s.add(AlertRule(tenant_id=city, name="Passerelle muette 3 h", kind="gateway_offline",
                        params={"max_silence_s": 3 * 3600.0}))
    with factory() as s:
        rule_name = {r.id: r.name for r in s.query(AlertRule)}
    service = AlertService(factory, clock)
    engine = service.build_engine()
    told: list[list[str]] = []

    async def never_seen(gateways: list[tuple[str, str, datetime]]) -> None:
        told.append(sorted(g for g, _, _ in gateways))
        service.record(engine.on_gateways_never_seen(gateways, clock()))

    async def transition(gateway_id: str, tenant_id: str, online: bool) -> None:
        service.record(engine.on_gateway_state(gateway_id, tenant_id, online, clock()))

    health = GatewayHealth(clock=clock.seconds, offline_after_s=30)
    duty = DutyCycleTracker(clock.seconds, EU868)
    writer = GatewayStatusWriter(factory, health, listeners=[transition], never_seen=[never_seen], duty_cycle=duty,
                                 offline_after_s=30, clock=clock)
    asyncio.run(writer.tick())
    assert told == [[NEW]]  # FRESH is inside the network's 30 s; OLD was heard once
    [alert] = service.list_alerts(state="open")
    assert alert.subject == NEW and rule_name[alert.rule_id] == "Passerelle muette 1 h"
    asyncio.run(writer.tick())  # still silent: the same alert, not a new one
    assert len(service.list_alerts(state="open")) == 1

    clock.now += timedelta(hours=1, minutes=1)  # NEW registered 3 h 1 min ago: the 3 h rule raises too;
    asyncio.run(writer.tick())                  # FRESH 1 h 1 min ago: the 1 h rule only
    assert sorted((a.subject, rule_name[a.rule_id]) for a in service.list_alerts(state="open")) == [
        (NEW, "Passerelle muette 1 h"), (NEW, "Passerelle muette 3 h"), (FRESH, "Passerelle muette 1 h")]

    # the installer fixes the forwarder's address: the first uplink resolves both, and it is never listed again
    health.on_uplink(NEW, Transport.UDP)
    duty.record(NEW, 868_100_000, 1.5)  # 1.5 s of RX1 airtime in g1 (1 %: a 36 s budget per hour)
    asyncio.run(writer.tick())
    assert [a.subject for a in service.list_alerts(state="open")] == [FRESH]
    assert told[-1] == [FRESH]
    with factory() as s:
        gw = s.get(Gateway, NEW)
        assert gw is not None and gw.online and gw.last_seen_at is not None
        bands = {row["band"]: row for row in gw.stats["duty_cycle"]}
    # RP002-1.0.4 §2.4 / ETSI EN 300 220: g1 868.0-868.6 MHz at 1 %, g3 869.4-869.65 MHz at 10 %
    assert bands["g1"]["used_s"] == 1.5 and bands["g1"]["budget_s"] == 36.0
    assert bands["g3"]["used_s"] == 0.0 and bands["g3"]["budget_s"] == 360.0
