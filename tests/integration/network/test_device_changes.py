"""What the API changes, the network server obeys at once: a disabled or deleted device is not served from the
server's session cache any more (the API tells the server, which reloads the device on its next frame)."""

from __future__ import annotations

import asyncio

import pytest

from lora_city.simulate.devices import VirtualDevice
from lora_city.sinks.events import UplinkEvent
from tests.integration.network.harness import Harness, join, wait_until
from tests.support.services import Service

pytestmark = pytest.mark.integration


def test_disabled_then_deleted_device_is_refused(database_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url)
        await h.start()
        try:
            gw = await h.gateway()
            dev = VirtualDevice.generate("dragino-ldds75")
            await h.register(dev)
            await join(h, dev, [gw])
            await gw.send_uplink(dev.uplink())
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 1)

            r = await h.api.patch(f"/api/v1/devices/{dev.dev_eui}", json={"is_disabled": True})
            assert r.status_code == 200, r.text
            await asyncio.sleep(0.05)  # the notice reaches the server's loop
            await gw.send_uplink(dev.uplink())
            await wait_until(lambda: h.drops("unknown_dev_addr") == 1)

            r = await h.api.patch(f"/api/v1/devices/{dev.dev_eui}", json={"is_disabled": False})
            assert r.status_code == 200, r.text
            await asyncio.sleep(0.05)
            await gw.send_uplink(dev.uplink())
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 2)  # served again, same session

            assert (await h.api.delete(f"/api/v1/devices/{dev.dev_eui}")).status_code == 204
            await asyncio.sleep(0.05)
            await gw.send_uplink(dev.uplink())
            await wait_until(lambda: h.drops("unknown_dev_addr") == 2)
            assert len(h.recording.of(UplinkEvent)) == 2
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())
