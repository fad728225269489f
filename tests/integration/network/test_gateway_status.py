"""Gateway health reaches the gateways table (API, overview, map) and transitions reach the listeners."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from lora_city.gateway.frames import GatewayStats, Transport
from lora_city.gateway.health import GatewayHealth
from lora_city.network.gateway_status import GatewayStatusWriter
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory, transaction
from lora_city.storage.models import Event, Gateway


class Clock:
    def __init__(self) -> None:
        self.t = 1_795_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture()
def factory(database_url: str) -> Iterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_status_written_and_transitions_announced(factory: SessionFactory) -> None:
    with transaction(factory) as s:
        city = ensure_city_tenant(s).id
        s.add(Gateway(gateway_id="aa00000000000001", tenant_id=city, name="Arènes"))
    clock = Clock()
    seen: list[tuple[str, str, bool]] = []

    async def listener(gateway_id: str, tenant_id: str, online: bool) -> None:
        seen.append((gateway_id, tenant_id, online))

    health = GatewayHealth(clock=clock, offline_after_s=30)
    writer = GatewayStatusWriter(factory, health, listeners=[listener])
    health.on_uplink("aa00000000000001", Transport.UDP)
    health.on_uplink("ff00000000000009", Transport.UDP)  # not registered: stays out of the table
    health.on_stats(GatewayStats("aa00000000000001", None, rx_packets_received=12, rx_packets_received_ok=10,
                                 latitude=43.835, longitude=4.36), Transport.UDP)
    asyncio.run(writer.tick())
    with factory() as s:
        gw = s.get(Gateway, "aa00000000000001")
        assert gw is not None and gw.online is True and gw.last_seen_at is not None
        assert gw.stats["uplinks"] == 1 and gw.stats["rx_ok"] == 10
        assert (gw.latitude, gw.longitude) == (43.835, 4.36)
        assert s.get(Gateway, "ff00000000000009") is None
    assert seen == [("aa00000000000001", city, True)]
    clock.t += 60  # silent for a minute
    asyncio.run(writer.tick())
    with factory() as s:
        gw = s.get(Gateway, "aa00000000000001")
        assert gw is not None and gw.online is False
        codes = [e.body["code"] for e in s.query(Event).filter(Event.gateway_id == "aa00000000000001").order_by(Event.id)]
    assert codes == ["GATEWAY_ONLINE", "GATEWAY_OFFLINE"]
    assert seen[-1] == ("aa00000000000001", city, False)
    asyncio.run(writer.tick())  # no change: nothing announced again
    assert len(seen) == 2
