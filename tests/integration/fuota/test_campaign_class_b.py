"""A whole class B firmware-update campaign through the real server (Semtech UDP gateways, mosquitto, the API,
SQLite), judged by emulated devices that only hear what a class B device hears.

Six emulated class B devices (their uplinks carry FCtrl.ClassB, TS001-1.0.4 §10 / 1.1 §4.3.1; PingSlotInfoReq
sets their ping-slot periodicity, 1.1 §14.1) run their own TS003/TS004/TS005 firmware
(tests/support/emulator/applayer.py). Two gateways have a GPS fix (their rxpk carry ``tmms``, PROTOCOL.TXT §4),
a third has none and hears every device best: it answers class A windows but must never be asked for a GPS-timed
transmission. The campaign is created with group_class "B": the devices answer the unicast steps (package version,
clock sync, McGroupSetupReq, FragSessionSetupReq, McClassBSessionReq per TS005 McClassBSessionReq), then the
fragments go out through the class B multicast group, each at a GPS time that must be one of the McAddr's ping
slots (TS001-1.1 §15.2, computed by tests/support/lamps.py, not by the server) inside the session the devices were
given (its start a beacon period's start, TS005), on the session's data rate. A frame sent anywhere else is never
heard by the emulated device. Every transmission timed by GPS reaches the devices only at its GPS time (as on the
air), with 10 % of the fragments lost; every device rebuilds the image with its own FEC decoder, its hash matches
and the campaign ends "done".
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import heapq
import itertools
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from lora_city.fuota.orchestrator import FuotaOrchestrator, OrchestratorHooks
from tests.integration.conformance.network import Network, network
from tests.integration.fuota.test_campaign import _campaign, run_to_end
from tests.support.emulator.applayer import AppLayerFirmware
from tests.support.emulator.device import Device
from tests.support.emulator.forwarder import Transmission
from tests.support.emulator.mac import Command
from tests.support.lamps import ping_slot_gps_times
from tests.support.services import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

APP_LAYER = {"clock_sync": 2, "multicast_setup": 2, "fragmentation": 2}
GPS_EPOCH = datetime(1980, 1, 6, tzinfo=UTC)
DEVICE_PERIODICITY = 1  # the devices' own ping slots: every 1.92 s (PingSlotInfoReq)
GROUP_PERIODICITY = 0  # the campaign's group: a ping slot every 0.96 s


def gps_clock() -> float:
    """A GPS receiver: UTC plus the 18 leap seconds GPS time does not have (IERS, since 2017-01-01)."""
    return (datetime.now(UTC) - GPS_EPOCH).total_seconds() + 18


def in_ping_slot(gps_time: float, address: str, periodicity: int) -> bool:
    beacon = int(gps_time) - int(gps_time) % 128
    return round(gps_time, 3) in ping_slot_gps_times(beacon, address, periodicity)


@dataclass
class ClassBFleet:
    """Emulated class B devices and the radio between them and the gateways. A GPS-timed transmission is held
    until its GPS time has come (a device hears it then, not when the gateway was handed it)."""

    net: Network
    devices: list[tuple[Device, AppLayerFirmware]] = field(default_factory=list)
    multicast: list[Transmission] = field(default_factory=list)  # the group's frames, as transmitted
    unicast_b: list[tuple[Device, Transmission]] = field(default_factory=list)  # ping-slot frames to one device
    _held: list[tuple[float, int, Transmission]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    async def add(self, profile: str, count: int, *, loss: float) -> None:
        for i in range(count):
            dev = Device.generate("1.0.4", device_class="B")
            gen_app_key = os.urandom(16)
            await self.net.register(dev, device_profile_id=profile, gen_app_key=gen_app_key.hex())
            await self.net.join(dev)
            firmware = AppLayerFirmware(dev, gen_app_key, clock_offset_s=float(i % 5) - 2.0, loss=loss,
                                        rng=random.Random(i))
            self.devices.append((dev, firmware))

    def lock_on_beacon(self) -> None:
        """Each device's first class B uplink: FCtrl.ClassB and PingSlotInfoReq (its ping-slot periodicity); the
        server learns which gateways hear it, and which of them have a GPS fix."""
        for dev, _ in self.devices:
            self.net.send(dev.uplink(1, b"\x00", commands=[Command("PingSlotInfoReq", bytes((DEVICE_PERIODICITY,)))]))

    def _deliver(self, tx: Transmission) -> None:
        for dev, firmware in self.devices:
            down = dev.receive(tx.phy)
            if down is not None:
                if tx.gps_time_s is not None:
                    self.unicast_b.append((dev, tx))
                firmware.on_downlink(down, time.time())
                return
        self.multicast.append(tx)
        for _dev, firmware in self.devices:
            firmware.on_multicast(tx.phy, tx.gps_time_s, tx.dr)

    async def pump(self, done: Callable[[], bool], timeout: float) -> None:
        """Carry frames both ways until ``done()``: the server's transmissions to the devices (GPS-timed ones at
        their time), the devices' answers up."""
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the campaign did not finish in time"
            tx = await self.net.air.next_transmission(timeout=0.05)
            if tx is not None:
                if tx.gps_time_s is None:
                    self._deliver(tx)
                else:
                    heapq.heappush(self._held, (tx.gps_time_s, next(self._seq), tx))
            now = gps_clock()
            while self._held and self._held[0][0] <= now:
                self._deliver(heapq.heappop(self._held)[2])
            for dev, firmware in self.devices:
                answer = firmware.next_answer()
                if answer is not None:
                    self.net.send(dev.uplink(*answer))


def test_class_b_campaign_through_gps_gateways_with_10_percent_loss(sqlite_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            no_gps = await net.udp_gateway()  # listed first: hears every device best
            gps_gateways = [await net.udp_gateway(gps_clock=gps_clock) for _ in range(2)]
            r = await net.h.api.post("/api/v1/device-profiles", json={
                "name": "streetlight controller B", "mac_version": "1.0.4", "device_class": "B",
                "app_layer": APP_LAYER})
            assert r.status_code == 201, r.text
            fleet = ClassBFleet(net)
            await fleet.add(r.json()["id"], 6, loss=0.10)
            fleet.lock_on_beacon()
            # the session-start lead covers a McClassBSessionReq to each device at its ping slots
            orchestrator = FuotaOrchestrator(
                net.h.factory, net.h.vault, net.h.app_layer, net.h.server.region, tick_s=0.2, session_lead_s=20.0,
                hooks=OrchestratorHooks(group_notifier=net.h.server.group_notifier()))
            await orchestrator.start()
            try:
                image = os.urandom(600)
                campaign = await _campaign(
                    net, name="lamp firmware 3.0 (class B)", image_base64=base64.b64encode(image).decode(),
                    dev_euis=[d.dev_eui for d, _ in fleet.devices], frag_size=40, redundancy_pct=60,
                    group_class="B", ping_slot_periodicity=GROUP_PERIODICITY, dr=5, frequency=869_525_000,
                    unicast_timeout_s=10, max_attempts=4)
                assert (campaign["nb_frag"], campaign["parity_fragments"]) == (15, 9)
                # 24 frames, one per ping slot (0.96 s), with margin: within one beacon period (TimeOut 0)
                assert campaign["session_timeout_s"] == 128
                # setup, then up to one beacon period (128 s) until the session starts, then the fragments
                state = await run_to_end(net, fleet, campaign["id"], timeout=420)
            finally:
                await orchestrator.stop()

            assert state["state"] == "done", state["detail"]
            by_eui = {d["dev_eui"]: d for d in state["devices"]}
            digest = hashlib.sha256(image).hexdigest()
            sessions = set()
            for dev, firmware in fleet.devices:
                assert by_eui[dev.dev_eui]["status"] == "ok", by_eui[dev.dev_eui]
                assert firmware.image_sha256() == digest
                assert firmware.sessions[0].mic_ok is True
                assert abs(firmware.clock_offset_s) <= 1.0  # clock synchronised before the session
                group = firmware.groups[0]
                assert group.class_b is not None and group.class_c is None  # McClassBSessionReq, not class C
                sessions.add((group.mc_addr, group.class_b))
                assert firmware.missed_slots == 0  # no frame of the group outside its ping slots
            # one session for all: a beacon period's start, the campaign's periodicity, DR and frequency
            assert len(sessions) == 1
            ((mc_addr, session),) = sessions
            assert session.start % 128 == 0
            assert (session.periodicity, session.dr, session.frequency, session.timeout) == (
                GROUP_PERIODICITY, 5, 869_525_000, 0)
            assert state["devices_ok"] == 6
            assert state["fragments_sent"] == 24

            # every fragment frame: through a GPS gateway, at a GPS time, in one of the McAddr's ping slots of the
            # session, at the session's DR and frequency; the frames of one gateway never share a slot
            gps_ids = {g.gateway_id for g in gps_gateways}
            assert len(fleet.multicast) >= 24
            slots: dict[str, set[float]] = {}
            for tx in fleet.multicast:
                assert tx.gateway_id in gps_ids
                assert tx.gps_time_s is not None and not tx.immediately and tx.context_tmst is None
                assert session.start <= tx.gps_time_s < session.start + 128
                assert in_ping_slot(tx.gps_time_s, mc_addr, GROUP_PERIODICITY), tx.gps_time_s
                assert (tx.frequency, tx.dr) == (869_525_000, 5)
                assert tx.gps_time_s not in slots.setdefault(tx.gateway_id, set())
                slots[tx.gateway_id].add(tx.gps_time_s)
            # the unicast frames sent in the devices' own ping slots were in them, through GPS gateways
            for dev, tx in fleet.unicast_b:
                assert dev.dev_addr is not None and tx.gateway_id in gps_ids
                assert tx.gps_time_s is not None and in_ping_slot(tx.gps_time_s, dev.dev_addr, DEVICE_PERIODICITY)
            assert no_gps.refused == []  # never asked to transmit at a GPS time without a GPS fix
            # 10 % loss on the air: the devices really had to use the parity
            assert sum(f.dropped_fragments for _, f in fleet.devices) > 0
            assert (await net.h.api.get(f"/api/v1/multicast-groups/{state['multicast_group_id']}")).status_code == 404

    asyncio.run(run())
