"""Firmware-update campaigns refuse what cannot work before anything is sent, and report what goes wrong after:
an image over the limit, devices without the packages or the keys, a device already in another campaign, another
tenant's devices, invalid state changes; a corrupted fragment is reported by the device's MIC check (TS004-2.0.0
§3.3) and the campaign still ends."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from typing import Any

import pytest

from lora_city.fuota.orchestrator import FuotaOrchestrator, OrchestratorHooks
from tests.integration.conformance.network import Network, network
from tests.integration.fuota.test_campaign import APP_LAYER, Fleet, _get
from tests.support.emulator.device import Device
from tests.support.services import Service

pytestmark = pytest.mark.integration

IMAGE = base64.b64encode(os.urandom(400)).decode()


async def _profile(net: Network, app_layer: dict[str, int], device_class: str = "C") -> str:
    r = await net.h.api.post("/api/v1/device-profiles", json={
        "name": f"p {app_layer}", "mac_version": "1.0.4", "device_class": device_class, "app_layer": app_layer})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _device(net: Network, profile: str, *, gen_app_key: bool = True, **fields: Any) -> str:
    dev = Device.generate("1.0.4")
    body: dict[str, Any] = {"gen_app_key": os.urandom(16).hex()} if gen_app_key else {}
    await net.register(dev, device_profile_id=profile, **body, **fields)
    return dev.dev_eui


def test_campaigns_refuse_what_cannot_work(sqlite_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url, fuota_max_image_bytes=1000) as net:
            api = net.h.api
            full = await _profile(net, APP_LAYER)
            clock_only = await _profile(net, {"clock_sync": 2})
            ok_dev = await _device(net, full)

            async def create(**body: Any) -> Any:
                return await api.post("/api/v1/fuota/campaigns", json={"name": "fw", "image_base64": IMAGE, **body})

            too_big = await create(dev_euis=[ok_dev], image_base64=base64.b64encode(bytes(1001)).decode())
            assert too_big.status_code == 422 and too_big.json()["error"]["code"] == "image_too_large"
            not_base64 = await create(dev_euis=[ok_dev], image_base64="@@@@")
            assert not_base64.status_code == 422 and not_base64.json()["error"]["code"] == "invalid_image"

            no_packages = await _device(net, clock_only)
            r = await create(dev_euis=[ok_dev, no_packages])
            assert r.status_code == 422 and r.json()["error"]["code"] == "device_without_packages"
            assert no_packages in r.json()["error"]["message"] and "multicast_setup" in r.json()["error"]["message"]

            no_key = await _device(net, full, gen_app_key=False)
            r = await create(dev_euis=[no_key])
            assert r.status_code == 422 and "GenAppKey" in r.json()["error"]["message"]

            r = await create(dev_euis=[ok_dev], frag_size=240)  # DR5 carries N = 242 - 3 octets of fragment
            assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_fragmentation"
            r = await create(dev_euis=["ffffffffffffffff"])
            assert r.status_code == 404
            r = await create(dev_euis=[])
            assert r.status_code == 422 and r.json()["error"]["code"] == "no_devices"

            first = await create(dev_euis=[ok_dev])
            assert first.status_code == 201, first.text
            overlap = await create(dev_euis=[ok_dev])
            assert overlap.status_code == 409 and overlap.json()["error"]["code"] == "device_in_campaign"

            cid = first.json()["id"]
            assert (await api.post(f"/api/v1/fuota/campaigns/{cid}/pause")).status_code == 409  # a draft
            assert (await api.post(f"/api/v1/fuota/campaigns/{cid}/cancel")).json()["state"] == "cancelled"
            assert (await api.post(f"/api/v1/fuota/campaigns/{cid}/start")).status_code == 409
            # a cancelled campaign frees its devices
            assert (await create(dev_euis=[ok_dev])).status_code == 201
            assert (await api.delete(f"/api/v1/fuota/campaigns/{cid}")).status_code == 204
            assert (await api.get(f"/api/v1/fuota/campaigns/{cid}")).status_code == 404

            # another tenant's devices are not found
            r = await api.post("/api/v1/tenants", json={"name": "Lessee", "slug": "lessee"})
            assert r.status_code == 201, r.text
            other = r.json()["id"]
            r = await create(dev_euis=[ok_dev], tenant_id=other)
            assert r.status_code == 404 and r.json()["error"]["code"] == "device_not_found"

    asyncio.run(run())


@pytest.mark.slow
def test_a_corrupted_fragment_is_reported_by_the_device_and_the_campaign_ends(
        sqlite_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            fleet = Fleet(net)
            await fleet.add(await _profile(net, APP_LAYER), 3, loss=0.0)
            fleet.first_uplinks()
            # One device's radio flips a bit in the first fragment it takes: FEC cannot see it, the MIC does.
            victim = fleet.devices[0][1]
            original = victim._fragment

            def flipped(body: bytes) -> None:
                if not victim.received_fragments:
                    body = body[:2] + bytes((body[2] ^ 0x01,)) + body[3:]
                original(body)

            victim._fragment = flipped  # type: ignore[method-assign]
            orchestrator = FuotaOrchestrator(
                net.h.factory, net.h.vault, net.h.app_layer, net.h.server.region, tick_s=0.2, session_lead_s=1.5,
                hooks=OrchestratorHooks(group_notifier=net.h.server.group_notifier()))
            await orchestrator.start()
            try:
                image = os.urandom(600)
                r = await net.h.api.post("/api/v1/fuota/campaigns", json={
                    "name": "fw", "image_base64": base64.b64encode(image).decode(), "frag_size": 100,
                    "redundancy_pct": 20, "dev_euis": [d.dev_eui for d, _ in fleet.devices], "unicast_timeout_s": 6,
                    "session_timeout_exp": 6})
                assert r.status_code == 201, r.text
                cid = r.json()["id"]
                await net.h.api.post(f"/api/v1/fuota/campaigns/{cid}/start")
                state: dict[str, Any] = {}

                async def poll() -> None:
                    while state.get("state") not in ("done", "failed"):
                        state.update(await _get(net, cid))
                        await asyncio.sleep(0.3)

                poller = asyncio.create_task(poll())
                await fleet.pump(lambda: state.get("state") in ("done", "failed"), timeout=90)
                await poller
            finally:
                await orchestrator.stop()
            by_eui = {d["dev_eui"]: d for d in state["devices"]}
            victim_dev = fleet.devices[0][0]
            assert by_eui[victim_dev.dev_eui]["status"] == "failed"
            assert "MIC" in by_eui[victim_dev.dev_eui]["error"]
            assert victim.sessions[0].mic_ok is False
            for dev, firmware in fleet.devices[1:]:
                assert by_eui[dev.dev_eui]["status"] == "ok"
                assert firmware.image_sha256() == hashlib.sha256(image).hexdigest()
            assert state["state"] == "done" and state["devices_ok"] == 2

    asyncio.run(run())
