"""Class B end to end (issue 24): a lamp locked on the beacon tells its ping-slot periodicity, learns the time
from a GPS gateway, and a queued downlink reaches it in one of its ping slots, at a GPS time the gateway is told,
through the gateway with a GPS fix even though a gateway without GPS hears it better.

The expected ping slots, the uplinks (FCtrl.ClassB, PingSlotInfoReq, DeviceTimeReq) and the downlink's opening
are computed by tests/support/lamps.py, an independent reading of TS001-1.1 §15.2 and §4.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime

import pytest

from lora_city.simulate.gateways import VirtualUdpGateway
from lora_city.sinks.events import UplinkEvent
from tests.integration.network.harness import Harness, wait_until
from tests.integration.network.test_multicast import drain
from tests.support.lamps import build_uplink, open_downlink, ping_slot_gps_times
from tests.support.services import Service

pytestmark = pytest.mark.integration
GPS_EPOCH = datetime(1980, 1, 6, tzinfo=UTC)


def gps_clock() -> float:
    """A GPS receiver: UTC plus the 18 leap seconds GPS time does not have (IERS, since 2017-01-01)."""
    return (datetime.now(UTC) - GPS_EPOCH).total_seconds() + 18


@pytest.mark.slow
def test_class_b_lamp_receives_in_its_ping_slot_through_the_gps_gateway(database_url: str,
                                                                         mosquitto: Service) -> None:
    async def run() -> None:
        h = Harness(database_url, mosquitto.url, udp=True)
        await h.start()
        assert h.udp is not None
        no_gps = VirtualUdpGateway(h.udp.local_address, uuid.uuid4().hex[:16])
        await no_gps.start()
        try:
            from lora_city.simulate.gateways import VirtualMqttGateway

            gps = VirtualMqttGateway(mosquitto.url, uuid.uuid4().hex[:16], prefix=h.prefix, gps_clock=gps_clock)
            for gw_id in (gps.gateway_id, no_gps.gateway_id):  # the server drops unregistered gateways
                assert (await h.api.post("/api/v1/gateways", json={"gateway_id": gw_id, "name": "g"})).status_code == 201
            await gps.start()
            h.gateways.append(gps)
            dev_eui, dev_addr = os.urandom(8).hex(), os.urandom(4).hex()
            nwk, app = os.urandom(16), os.urandom(16)
            r = await h.api.post("/api/v1/devices", json={"dev_eui": dev_eui, "name": "lampadaire B",
                                                         "device_class": "B", "codec": "nas-ul20x2"})
            assert r.status_code == 201, r.text
            r = await h.api.post(f"/api/v1/devices/{dev_eui}/activate", json={
                "dev_addr": dev_addr, "nwk_s_key": nwk.hex(), "app_s_key": app.hex()})
            assert r.status_code == 200, r.text

            # PingSlotInfoReq periodicity 3 (16 slots per beacon period) and DeviceTimeReq, FCtrl.ClassB set
            phy = build_uplink(dev_addr, nwk, app, 0, f_port=23, payload=bytes.fromhex(
                "01F37F205E8244320916200701D20294550401FE50190012501900"), f_opts=b"\x10\x03\x0d", class_b=True)
            sent_gps = gps_clock()
            no_gps.send_uplink(phy, snr=9.0)
            await gps.send_uplink(phy, snr=-3.0)
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 1)
            event = h.recording.of(UplinkEvent)[0]
            assert event.measurements["dim_level"][0] == 25

            # the class A answer (best gateway: the one without GPS) carries PingSlotInfoAns and DeviceTimeAns
            answer = (await drain(no_gps.downlinks, 3.0))[0]
            opened = open_downlink(answer.phy_payload, nwk, app)
            assert opened is not None
            # MAC commands alone travel in an FPort 0 payload, else in FOpts (1.0.4 §4.3.1.6)
            mac = opened.payload if opened.f_port == 0 else answer.phy_payload[8:8 + (opened.f_ctrl & 0x0F)]
            commands: dict[int, bytes] = {}
            # payload sizes of the network's MAC commands (TS001-1.0.4 §5, class B §12)
            sizes = {0x02: 2, 0x03: 4, 0x04: 1, 0x05: 4, 0x06: 0, 0x07: 5, 0x08: 1, 0x09: 1, 0x0A: 4, 0x0D: 5,
                     0x10: 0, 0x11: 4, 0x13: 3}
            at = 0
            while at < len(mac):
                cid = mac[at]
                commands[cid] = mac[at + 1:at + 1 + sizes[cid]]
                at += 1 + sizes[cid]
            assert 0x10 in commands  # PingSlotInfoAns
            seconds = int.from_bytes(commands[0x0D][:4], "little")
            assert abs(seconds + commands[0x0D][4] / 256 - sent_gps) < 1.0  # the GPS gateway's reception time

            enqueued_gps = gps_clock()
            r = await h.api.post(f"/api/v1/devices/{dev_eui}/queue", json={"object": {"dim_level": 50}})
            assert r.status_code == 201, r.text
            down = await asyncio.wait_for(gps.downlinks.get(), 5.0)
            assert down.gps_time_s is not None and not down.immediately and down.tmst is None
            slot = down.gps_time_s
            beacon = int(slot) - int(slot) % 128
            assert round(slot, 3) in ping_slot_gps_times(beacon, dev_addr, 3), "not one of the device's ping slots"
            # handed over ahead of the slot (2 s margin), and the first free slot after it: slots are 8 s apart
            assert enqueued_gps + 2.0 < slot < enqueued_gps + 2.0 + 8.0 + 0.5
            assert (down.modulation.frequency, down.modulation.spreading_factor) == (869_525_000, 9)  # EU868 DR3
            got = open_downlink(down.phy_payload, nwk, app)
            assert got is not None and (got.f_port, got.payload) == (60, b"\x01\xfe\x32")
            assert await drain(no_gps.downlinks, 1.0) == []  # the gateway without GPS never transmits class B
            assert (await h.api.get(f"/api/v1/devices/{dev_eui}/queue")).json() == []
            await h.stop()
        finally:
            await no_gps.stop()
            await h.close()

    asyncio.run(run())


@pytest.mark.slow
def test_class_b_group_downlink_uses_gps_gateways_each_in_its_own_ping_slot(database_url: str,
                                                                           mosquitto: Service) -> None:
    """A class B multicast group: the members' gateways with a GPS fix each transmit the one frame at a different
    ping slot of the McAddr (never two gateways in the same slot); the gateway without GPS is not used."""

    async def run() -> None:
        from lora_city.simulate.gateways import VirtualMqttGateway

        h = Harness(database_url, mosquitto.url)
        await h.start()
        try:
            gps_a = VirtualMqttGateway(mosquitto.url, uuid.uuid4().hex[:16], prefix=h.prefix, gps_clock=gps_clock)
            gps_b = VirtualMqttGateway(mosquitto.url, uuid.uuid4().hex[:16], prefix=h.prefix, gps_clock=gps_clock)
            plain = VirtualMqttGateway(mosquitto.url, uuid.uuid4().hex[:16], prefix=h.prefix)
            for gw in (gps_a, gps_b, plain):
                assert (await h.api.post("/api/v1/gateways", json={"gateway_id": gw.gateway_id, "name": "g"})
                        ).status_code == 201
                await gw.start()
                h.gateways.append(gw)
            lamps = []
            for i in range(6):
                dev_eui, dev_addr, nwk, app = os.urandom(8).hex(), os.urandom(4).hex(), os.urandom(16), os.urandom(16)
                assert (await h.api.post("/api/v1/devices", json={
                    "dev_eui": dev_eui, "name": f"B{i}", "device_class": "B"})).status_code == 201
                assert (await h.api.post(f"/api/v1/devices/{dev_eui}/activate", json={
                    "dev_addr": dev_addr, "nwk_s_key": nwk.hex(), "app_s_key": app.hex()})).status_code == 200
                phy = build_uplink(dev_addr, nwk, app, 0, f_port=1, payload=b"\x00", class_b=True)
                await (gps_a if i < 3 else gps_b).send_uplink(phy, snr=0.0)
                await plain.send_uplink(phy, snr=8.0)  # hears everyone, better, but has no GPS fix
                lamps.append(dev_eui)
            await wait_until(lambda: len(h.recording.of(UplinkEvent)) == 6)
            await asyncio.gather(*(drain(gw.downlinks, 1.5) for gw in (gps_a, gps_b, plain)))

            mc_key = os.urandom(16)
            group = (await h.api.post("/api/v1/multicast-groups", json={
                "name": "B", "group_class": "B", "ping_slot_periodicity": 4, "mc_key": mc_key.hex()})).json()
            await h.api.post(f"/api/v1/multicast-groups/{group['id']}/devices", json={"dev_euis": lamps})
            enqueued = gps_clock()
            r = await h.api.post(f"/api/v1/multicast-groups/{group['id']}/queue",
                                 json={"f_port": 60, "data_hex": "01fe00"})
            assert r.status_code == 201, r.text
            got = await asyncio.gather(*(drain(gw.downlinks, 3.0) for gw in (gps_a, gps_b, plain)))
            assert [len(g) for g in got] == [1, 1, 0]
            a, b = got[0][0], got[1][0]
            assert a.phy_payload == b.phy_payload
            slots = {a.gps_time_s, b.gps_time_s}
            assert len(slots) == 2 and None not in slots
            for slot in slots:
                assert slot is not None and slot > enqueued + 2.0
                beacon = int(slot) - int(slot) % 128
                assert round(slot, 3) in ping_slot_gps_times(beacon, group["mc_addr"], 4)
            assert (a.modulation.frequency, a.modulation.spreading_factor) == (869_525_000, 9)
            await h.stop()
        finally:
            await h.close()

    asyncio.run(run())
