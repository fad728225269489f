"""A lessee's private gateway (issue 7) carries only its owner's traffic: other tenants' uplinks heard only by it
are dropped, its copies are left out of their readings, and their downlinks never go through it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from lora_city.simulate.devices import VirtualDevice
from lora_city.sinks.events import UplinkEvent
from lora_city.storage.models import DevNonce
from tests.integration.network.harness import Harness, next_downlink, wait_until
from tests.support.services import Service

pytestmark = pytest.mark.integration


def test_private_gateway_serves_only_its_owner(database_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url)
        await h.start()
        try:
            private, community = await h.gateway(register=False), await h.gateway()
            lessee = (await h.api.post("/api/v1/tenants", json={"name": "Parkings", "slug": "parkings"})).json()
            r = await h.api.post("/api/v1/gateways", json={
                "gateway_id": private.gateway_id, "name": "parking roof", "tenant_id": lessee["id"],
                "private_up": True, "private_down": True})
            assert r.status_code == 201, r.text
            await asyncio.to_thread(h.server.gateways.load, h.factory)

            dev = VirtualDevice.generate("dragino-ldds75")  # the city's device
            await h.register(dev)
            # the private gateway hears the join best, yet the accept leaves through the community gateway
            phy = dev.join_request()
            await private.send_uplink(phy, snr=9.0, spreading_factor=9)
            await community.send_uplink(phy, snr=-3.0, spreading_factor=9)
            accept = await next_downlink(community, timeout=10.0)
            assert dev.accept(accept.phy_payload)
            assert private.downlinks.empty()

            # heard only by the private gateway: not the city's to use
            await private.send_uplink(dev.uplink(), snr=8.0)
            await wait_until(lambda: h.drops("private_gateway") == 1)
            assert h.recording.of(UplinkEvent) == []

            # heard by both: one reading, with the community gateway's metadata only
            phy = dev.uplink()
            await private.send_uplink(phy, snr=8.0)
            await community.send_uplink(phy, snr=-1.0)
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 1)
            [up] = h.recording.of(UplinkEvent)
            assert [rx.gateway_id for rx in up.rx] == [community.gateway_id]

            # a join heard only by the private gateway is dropped before its DevNonce is spent
            other = VirtualDevice.generate("dragino-ldds75")
            await h.register(other)
            await private.send_uplink(other.join_request(), snr=9.0, spreading_factor=9)
            await wait_until(lambda: h.drops("private_gateway") == 2)
            with h.factory() as db:
                assert db.scalars(select(DevNonce).where(DevNonce.dev_eui == other.dev_eui)).all() == []
            await asyncio.sleep(0.3)  # an accept would have left by now (the window closed before the drop)
            assert private.downlinks.empty()
            sent = [community.downlinks.get_nowait().phy_payload for _ in range(community.downlinks.qsize())]
            assert [p for p in sent if p[0] >> 5 == 1] == []  # the class-A answers to `dev` only, no join-accept
            joins = await h.api.get(f"/api/v1/devices/{other.dev_eui}")
            assert joins.json()["joined"] is False
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())
