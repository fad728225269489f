"""Multicast groups end to end (issue 24): real mosquitto and Semtech UDP gateways, a real database, the API.

Fifty class C lamps are heard by four gateways whose coverage overlaps so that exactly one pair reaches them all
(G1 over UDP and G3 over MQTT); a group downlink must go out through that pair only, as the same bytes from
both (encrypted once), and every lamp must open it with the multicast keys it derives itself from McKey
(tests/support/lamps.py: an independent reading of TS005 §4.3 and LoRaWAN §4.3.3/§4.4).
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from lora_city.simulate.devices import VirtualDevice
from lora_city.simulate.gateways import TransmittedDownlink, VirtualUdpGateway
from lora_city.sinks.events import UplinkEvent
from tests.integration.network.harness import Harness, wait_until
from tests.support.lamps import multicast_session_keys, open_downlink
from tests.support.services import Service

pytestmark = pytest.mark.integration

# lamp index ranges each gateway hears: the only 2-gateway cover is {G1, G3}
REACH = {"G1": range(0, 25), "G2": range(15, 35), "G3": range(25, 50), "G4": [*range(40, 50), *range(0, 10)]}


async def activate_lamp(h: Harness, lamp: VirtualDevice) -> None:
    await h.register(lamp)
    lamp.dev_addr = os.urandom(4).hex()
    lamp.nwk_s_key, lamp.app_s_key = os.urandom(16), os.urandom(16)
    r = await h.api.post(f"/api/v1/devices/{lamp.dev_eui}/activate", json={
        "dev_addr": lamp.dev_addr, "nwk_s_key": lamp.nwk_s_key.hex(), "app_s_key": lamp.app_s_key.hex()})
    assert r.status_code == 200, r.text


async def drain(queue: asyncio.Queue[TransmittedDownlink], seconds: float) -> list[TransmittedDownlink]:
    out = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            out.append(await asyncio.wait_for(queue.get(), left))
        except TimeoutError:
            break
    return out


@pytest.mark.slow
def test_class_c_group_of_50_lamps_dimmed_by_one_downlink_through_the_minimum_gateways(
        database_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url, udp=True)
        await h.start()
        udp_gateways: list[VirtualUdpGateway] = []
        try:
            assert h.udp is not None
            g1 = VirtualUdpGateway(h.udp.local_address, uuid.uuid4().hex[:16])
            g2 = VirtualUdpGateway(h.udp.local_address, uuid.uuid4().hex[:16])
            for gw in (g1, g2):
                # unregistered gateways are not served (issue 23)
                r = await h.api.post("/api/v1/gateways", json={"gateway_id": gw.gateway_id, "name": "udp"})
                assert r.status_code == 201, r.text
                await gw.start()
                udp_gateways.append(gw)
            g3, g4 = await h.gateway(), await h.gateway()
            gateways = {"G1": g1, "G2": g2, "G3": g3, "G4": g4}
            names = {gw.gateway_id: name for name, gw in gateways.items()}

            lamps = [VirtualDevice.generate("milesight-ws558", device_class="C") for _ in range(50)]
            for lamp in lamps:
                await activate_lamp(h, lamp)
            for i, lamp in enumerate(lamps):
                phy = lamp.uplink()
                for name, gw in gateways.items():
                    if i in REACH[name]:
                        snr = 2.0 + (i % 7) - list(gateways).index(name)
                        if isinstance(gw, VirtualUdpGateway):
                            gw.send_uplink(phy, snr=snr)
                        else:
                            await gw.send_uplink(phy, snr=snr)
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 50, timeout=30)
            # the class-A answers to those first uplinks (DevStatusReq) are not what this test is about
            await asyncio.gather(*(drain(gw.downlinks, 1.5) for gw in gateways.values()))

            mc_key = os.urandom(16)
            r = await h.api.post("/api/v1/multicast-groups", json={
                "name": "Quartier de la Gare", "group_class": "C", "dr": 3, "mc_key": mc_key.hex()})
            assert r.status_code == 201, r.text
            group = r.json()
            assert "mc_key" not in group and group["frequency"] == 869_525_000 and group["f_cnt"] == 0
            r = await h.api.post(f"/api/v1/multicast-groups/{group['id']}/devices",
                                 json={"dev_euis": [lamp.dev_eui for lamp in lamps]})
            assert r.json() == {"added": 50}

            r = await h.api.post(f"/api/v1/multicast-groups/{group['id']}/queue",
                                 json={"f_port": 60, "data_hex": "01fe32"})  # NAS: all DALI drivers to 50 %
            assert r.status_code == 201, r.text
            assert r.json()["f_cnt"] == 0

            sent: dict[str, list[TransmittedDownlink]] = {}
            results = await asyncio.gather(*(drain(gw.downlinks, 4.0) for gw in gateways.values()))
            for name, frames in zip(gateways, results, strict=True):
                if frames:
                    sent[name] = frames
            assert sorted(sent) == ["G1", "G3"], f"transmitted through {sorted(sent)}"
            assert all(len(frames) == 1 for frames in sent.values())
            frames = {name: f[0] for name, f in sent.items()}
            assert frames["G1"].phy_payload == frames["G3"].phy_payload  # encrypted once
            assert all(f.immediately and f.modulation.frequency == 869_525_000
                       and f.modulation.spreading_factor == 9 for f in frames.values())

            nwk, app = multicast_session_keys(mc_key, group["mc_addr"])
            for i in range(50):
                heard = [name for name in sent if i in REACH[name]]
                assert heard, f"lamp {i} hears no transmitting gateway"
                opened = open_downlink(frames[heard[0]].phy_payload, nwk, app)
                assert opened is not None and opened.dev_addr == group["mc_addr"]
                assert (opened.f_port, opened.payload, opened.f_cnt16, opened.confirmed) == (60, b"\x01\xfe\x32",
                                                                                             0, False)
                # and it is not readable with the lamp's own unicast keys
                assert open_downlink(frames[heard[0]].phy_payload, lamps[i].nwk_s_key, lamps[i].app_s_key) is None

            queue = (await h.api.get(f"/api/v1/multicast-groups/{group['id']}/queue")).json()
            assert queue[0]["state"] == "sent"
            assert sorted(names[g] for g in queue[0]["gateways"]) == ["G1", "G3"]
            assert queue[0]["detail"].startswith("50/50 members reached through 2 gateway(s)")
            assert (await h.api.get(f"/api/v1/multicast-groups/{group['id']}")).json()["f_cnt"] == 1
            await h.stop()
        finally:
            for gw in udp_gateways:
                await gw.stop()
            await h.close()

    asyncio.run(run())
