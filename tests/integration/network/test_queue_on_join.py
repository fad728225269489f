"""What happens to the application queue when a device joins again (issue 22: two confirmed downlinks queued
before the devices rejoined stayed queued for a whole run and left only after another enqueue).

The rule (lora_city/storage/sessions.py ``activate``): the queue survives a join, as ChirpStack's default (no
flush on activation); payloads are encrypted when sent, so they go out under the new session's keys and frame
counters, which restart at 0 (TS001-1.0.4 §4.3.1.5). A confirmed item sent under the old session and never
acknowledged goes back to unsent (its ACK can no longer come) and its retries start again. The first uplink of
the new session looks at the queue: nothing waits for another enqueue.
"""

from __future__ import annotations

import asyncio

import pytest

from lora_city.simulate.devices import VirtualDevice
from lora_city.sinks.events import AckEvent, UplinkEvent
from tests.integration.network.harness import Harness, join, next_downlink, wait_until
from tests.support.services import Service

pytestmark = pytest.mark.integration


def test_confirmed_items_queued_before_a_rejoin_go_out_under_the_new_session(
    database_url: str, mosquitto: Service,
) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url)
        await h.start()
        try:
            gw = await h.gateway()
            dev = VirtualDevice.generate("milesight-ws558")
            await h.register(dev)
            await join(h, dev, [gw])
            await gw.send_uplink(dev.uplink())
            dev.receive((await next_downlink(gw, timeout=10.0)).phy_payload)  # DevStatusReq
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 1, timeout=20.0)

            for data in ("ff1d0100", "ff1d0101"):
                r = await h.api.post(f"/api/v1/devices/{dev.dev_eui}/queue",
                                     json={"f_port": 85, "data_hex": data, "confirmed": True})
                assert r.status_code == 201, r.text
            # The first item goes out in the next uplink's window; the device never hears it (no ACK) ...
            await gw.send_uplink(dev.uplink())
            lost = await next_downlink(gw, timeout=10.0)
            assert lost.phy_payload
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 2, timeout=20.0)
            queue = (await h.api.get(f"/api/v1/devices/{dev.dev_eui}/queue")).json()
            assert len(queue) == 2

            # ... and joins again: new keys, frame counters back to 0 on both sides.
            old_addr = dev.dev_addr
            await join(h, dev, [gw])
            assert dev.last_f_cnt_down is None and dev.dev_addr is not None
            assert old_addr is not None and dev.dev_addr != old_addr

            # The first uplink of the new session carries the first item, under the new keys, from FCntDown 0.
            await gw.send_uplink(dev.uplink())
            got = dev.receive((await next_downlink(gw, timeout=10.0)).phy_payload)
            assert got is not None, "the downlink does not open under the new session's keys"
            assert got.payload == bytes.fromhex("ff1d0100") and got.confirmed and got.f_cnt == 0
            assert got.f_pending  # the second item waits behind it

            # Acknowledged on the next uplink (a real ACK, not a give-up): the second item follows at once.
            await gw.send_uplink(dev.uplink())
            await wait_until(lambda: len(h.recording.of(AckEvent)) == 1, timeout=20.0)
            first_ack = h.recording.of(AckEvent)[0]
            assert first_ack.acknowledged is True and first_ack.f_cnt_down == 0
            got = dev.receive((await next_downlink(gw, timeout=10.0)).phy_payload)
            assert got is not None and got.payload == bytes.fromhex("ff1d0101") and got.confirmed
            await gw.send_uplink(dev.uplink())
            await wait_until(lambda: len(h.recording.of(AckEvent)) == 2, timeout=20.0)
            assert h.recording.of(AckEvent)[1].acknowledged is True
            assert (await h.api.get(f"/api/v1/devices/{dev.dev_eui}/queue")).json() == []
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())
