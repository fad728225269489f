"""A whole firmware-update campaign through the real server (UDP gateways, mosquitto, the API, SQLite): emulated
class C devices running their own TS003/TS004/TS005 firmware (tests/support/emulator/applayer.py) answer every
unicast step, receive the multicast fragments with 10 % loss, rebuild the image with their own FEC decoder, check its
MIC and report; one device never answers and is reported failed without holding the others back."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

import pytest

from lora_city.fuota.orchestrator import FuotaOrchestrator, OrchestratorHooks
from tests.integration.conformance.network import Network, network
from tests.support.emulator.applayer import AppLayerFirmware
from tests.support.emulator.device import Device
from tests.support.services import Service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

APP_LAYER = {"clock_sync": 2, "multicast_setup": 2, "fragmentation": 2}


class Fleet:
    """Emulated devices and their application-layer firmware, and the radio between them and the gateways."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.devices: list[tuple[Device, AppLayerFirmware]] = []
        self.multicast_frames = 0

    async def add(self, profile: str, count: int, *, loss: float, mute: int = 0) -> None:
        for i in range(count):
            dev = Device.generate("1.0.4", device_class="C")
            gen_app_key = os.urandom(16)
            await self.net.register(dev, device_profile_id=profile, gen_app_key=gen_app_key.hex())
            await self.net.join(dev)
            firmware = AppLayerFirmware(dev, gen_app_key, clock_offset_s=float(i % 7) - 3.0, loss=loss,
                                        mute=i < mute)
            self.devices.append((dev, firmware))

    def first_uplinks(self) -> None:
        """One uplink each, so the server learns which gateways hear them (the multicast cover uses it)."""
        for dev, _ in self.devices:
            self.net.send(dev.uplink(1, b"\x00"))

    async def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        await self.pump(lambda: time.monotonic() > end, timeout=seconds + 5)

    async def pump(self, done: Callable[[], bool], timeout: float) -> None:
        """Carry frames both ways until ``done()`` (the server's transmissions to the devices, their answers up)."""
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the campaign did not finish in time"
            tx = await self.net.air.next_transmission(timeout=0.1)
            if tx is not None:
                taken = False
                for dev, firmware in self.devices:
                    down = dev.receive(tx.phy)
                    if down is not None:
                        firmware.on_downlink(down, time.time())
                        taken = True
                        break
                if not taken:
                    self.multicast_frames += 1
                    for _dev, firmware in self.devices:
                        firmware.on_multicast(tx.phy)
            for dev, firmware in self.devices:
                answer = firmware.next_answer()
                if answer is not None:
                    self.net.send(dev.uplink(*answer))


async def _campaign(net: Network, **body: Any) -> dict[str, Any]:
    r = await net.h.api.post("/api/v1/fuota/campaigns", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _get(net: Network, campaign_id: str) -> dict[str, Any]:
    r = await net.h.api.get(f"/api/v1/fuota/campaigns/{campaign_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


class Pumped(Protocol):
    async def pump(self, done: Callable[[], bool], timeout: float) -> None: ...


async def run_to_end(net: Network, fleet: Pumped, campaign_id: str, timeout: float) -> dict[str, Any]:
    """Start the campaign and carry the radio both ways until it is done or failed; its last state."""
    started = await net.h.api.post(f"/api/v1/fuota/campaigns/{campaign_id}/start")
    assert started.status_code == 200 and started.json()["state"] == "running"
    state: dict[str, Any] = {}

    def finished() -> bool:
        return state.get("state") in ("done", "failed")

    async def poll() -> None:
        while not finished():
            state.update(await _get(net, campaign_id))
            await asyncio.sleep(0.3)

    poller = asyncio.create_task(poll())
    await fleet.pump(finished, timeout=timeout)
    await poller
    return state


def test_campaign_to_20_class_c_devices_with_10_percent_loss(sqlite_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            for _ in range(2):
                await net.udp_gateway()
            r = await net.h.api.post("/api/v1/device-profiles", json={
                "name": "lamp controller", "mac_version": "1.0.4", "device_class": "C", "app_layer": APP_LAYER})
            assert r.status_code == 201, r.text
            fleet = Fleet(net)
            await fleet.add(r.json()["id"], 21, loss=0.10, mute=1)
            fleet.first_uplinks()
            orchestrator = FuotaOrchestrator(
                net.h.factory, net.h.vault, net.h.app_layer, net.h.server.region, tick_s=0.2, session_lead_s=2.0,
                hooks=OrchestratorHooks(group_notifier=net.h.server.group_notifier()))
            await orchestrator.start()
            try:
                image = os.urandom(1500)
                campaign = await _campaign(
                    net, name="lamp firmware 2.1", image_base64=base64.b64encode(image).decode(),
                    dev_euis=[d.dev_eui for d, _ in fleet.devices], frag_size=100, redundancy_pct=60,
                    descriptor="02010000", unicast_timeout_s=6, max_attempts=3, session_timeout_exp=7)
                assert (campaign["nb_frag"], campaign["parity_fragments"]) == (15, 9)
                assert campaign["image_sha256"] == hashlib.sha256(image).hexdigest()
                state = await run_to_end(net, fleet, campaign["id"], timeout=150)
            finally:
                await orchestrator.stop()

            assert state["state"] == "done", state["detail"]
            by_eui = {d["dev_eui"]: d for d in state["devices"]}
            mute_dev, _ = fleet.devices[0]
            assert by_eui[mute_dev.dev_eui]["status"] == "failed"
            assert "no answer to package_version" in by_eui[mute_dev.dev_eui]["error"]
            for dev, firmware in fleet.devices[1:]:
                assert by_eui[dev.dev_eui]["status"] == "ok", by_eui[dev.dev_eui]
                assert firmware.image_sha256() == hashlib.sha256(image).hexdigest()
                assert firmware.sessions[0].mic_ok is True
                assert abs(firmware.clock_offset_s) <= 1.0  # clock synchronised before the session
            assert (state["devices_ok"], state["devices_failed"]) == (20, 1)
            assert state["fragments_sent"] == 24
            # 10 % loss on the air: the devices really had to use the parity
            assert sum(f.dropped_fragments for _, f in fleet.devices[1:]) > 0
            # the campaign's own multicast group is gone with it
            assert (await net.h.api.get(f"/api/v1/multicast-groups/{state['multicast_group_id']}")).status_code == 404

    asyncio.run(run())


def test_a_server_restart_resumes_the_campaign(sqlite_url: str, mosquitto: Service) -> None:
    """The server (network server, app layer, orchestrator, API) stops in the middle of a campaign and starts again
    on the same database: every device carries on from its step and the campaign completes."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.mqtt_gateway()  # MQTT gateways stay connected to the broker while the server restarts
            r = await net.h.api.post("/api/v1/device-profiles", json={
                "name": "meter", "mac_version": "1.0.4", "device_class": "C", "app_layer": APP_LAYER})
            fleet = Fleet(net)
            await fleet.add(r.json()["id"], 4, loss=0.05)
            fleet.first_uplinks()

            def orchestrator() -> FuotaOrchestrator:
                return FuotaOrchestrator(
                    net.h.factory, net.h.vault, net.h.app_layer, net.h.server.region, tick_s=0.2,
                    session_lead_s=3.0, hooks=OrchestratorHooks(group_notifier=net.h.server.group_notifier()))

            first = orchestrator()
            await first.start()
            image = os.urandom(800)
            campaign = await _campaign(net, name="meter firmware", image_base64=base64.b64encode(image).decode(),
                                       dev_euis=[d.dev_eui for d, _ in fleet.devices], frag_size=80,
                                       redundancy_pct=50, unicast_timeout_s=6, session_timeout_exp=7)
            cid = campaign["id"]
            await net.h.api.post(f"/api/v1/fuota/campaigns/{cid}/start")
            seen: dict[str, Any] = {}

            async def watch(until: Callable[[dict[str, Any]], bool]) -> None:
                while not until(seen):
                    seen.update(await _get(net, cid))
                    await asyncio.sleep(0.2)

            watcher = asyncio.create_task(watch(lambda s: s.get("step") in ("session", "fragments", "done")))
            await fleet.pump(watcher.done, timeout=60)
            await first.stop()
            await net.h.stop()  # the whole server goes down mid-campaign...
            assert seen["state"] == "running" and seen["step"] == "session", seen["detail"]
            await net.h.start()  # ...and comes back on the same database
            # The devices keep reporting (a real gateway also announces itself: PULL_DATA, retained MQTT state);
            # the new process learns from them which gateways reach whom, once its MQTT subscription is up.
            for _ in range(50):
                fleet.first_uplinks()
                await fleet.run_for(0.5)
                if all(net.h.server.reachable(g.gateway_id) for g in net.gateways):
                    break
            second = orchestrator()
            await second.start()
            try:
                watcher = asyncio.create_task(watch(lambda s: s.get("state") in ("done", "failed")))
                await fleet.pump(watcher.done, timeout=90)
            finally:
                await second.stop()
            assert seen["state"] == "done", seen
            assert seen["devices_ok"] == 4
            for _dev, firmware in fleet.devices:
                assert firmware.image_sha256() == hashlib.sha256(image).hexdigest()

    asyncio.run(run())
