"""TS003 clock synchronisation through the real server: an emulated device whose clock is off asks AppTimeReq on
FPort 202 and applies the AppTimeAns it receives in its class A window (TS003-2.0.0 §3.2); a device whose profile
does not run the package gets no answer and its FPort 202 goes to the codec like any other port."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.integration.conformance.network import Network, network
from tests.support.emulator.applayer import CLOCK_PORT, AppLayerFirmware
from tests.support.emulator.device import Device
from tests.support.services import Service

pytestmark = pytest.mark.integration


async def _profile(net: Network, app_layer: dict[str, int]) -> str:
    r = await net.h.api.post("/api/v1/device-profiles", json={
        "name": f"fuota {app_layer}", "mac_version": "1.0.4", "device_class": "A", "app_layer": app_layer})
    assert r.status_code == 201, r.text
    assert r.json()["app_layer"] == app_layer
    return str(r.json()["id"])


async def _joined(net: Network, profile_id: str, **register: Any) -> Device:
    dev = Device.generate("1.0.4")
    await net.register(dev, device_profile_id=profile_id, **register)
    await net.join(dev)
    return dev


@pytest.mark.parametrize("version", [1, 2])
def test_app_time_req_is_answered_with_the_gps_correction(sqlite_url: str, mosquitto: Service, version: int) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            profile = await _profile(net, {"clock_sync": version})
            dev = await _joined(net, profile)
            firmware = AppLayerFirmware(dev, dev.app_key, clock_offset_s=-37.0)  # 37 s late

            got = await net.exchange(dev, dev.uplink(CLOCK_PORT, firmware.app_time_req(time.time(), token=5)))
            assert got is not None and got.downlink is not None and got.window == "rx1"
            assert got.downlink.f_port == CLOCK_PORT
            cid, correction, token = got.downlink.payload[0], int.from_bytes(got.downlink.payload[1:5], "little",
                                                                               signed=True), got.downlink.payload[5]
            assert (cid, token & 0x0F) == (0x01, 5)
            assert 36 <= correction <= 38  # the server's GPS clock at reception minus DeviceTime
            firmware.on_downlink(got.downlink, time.time())
            assert abs(firmware.clock_offset_s) <= 1.0

            # The uplink's event carries the package's commands, not a codec's object or error
            await net.h.app_layer.idle()
            up = [e for e in net.h.recording.events if getattr(e, "f_port", None) == CLOCK_PORT][-1]
            assert up.codec_errors == []
            assert up.data["app_layer"] == "clock_sync" and up.data["commands"][0]["command"] == "AppTimeReq"

    asyncio.run(run())


def test_in_sync_device_without_ans_required_gets_no_answer(sqlite_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            dev = await _joined(net, await _profile(net, {"clock_sync": 2}))
            firmware = AppLayerFirmware(dev, dev.app_key)
            up = dev.uplink(CLOCK_PORT, firmware.app_time_req(time.time(), ans_required=False))
            got = await net.exchange(dev, up, timeout=2.5)  # at most the server's own MAC commands
            assert got is None or (got.downlink is not None and got.downlink.f_port in (None, 0))

    asyncio.run(run())


def test_port_202_is_the_codecs_when_the_profile_does_not_run_clock_sync(sqlite_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            dev = await _joined(net, await _profile(net, {}))
            firmware = AppLayerFirmware(dev, dev.app_key, clock_offset_s=-37.0)
            got = await net.exchange(dev, dev.uplink(CLOCK_PORT, firmware.app_time_req(time.time())), timeout=2.5)
            assert got is None or (got.downlink is not None and got.downlink.f_port in (None, 0))
            await net.wait_readings(dev.dev_eui, 1)
            up = [e for e in net.h.recording.events if getattr(e, "f_port", None) == CLOCK_PORT][-1]
            assert up.data is None or "app_layer" not in up.data

    asyncio.run(run())


def test_a_profile_change_applies_to_the_next_uplink(sqlite_url: str, mosquitto: Service) -> None:
    """Enabling the package on a profile reaches the server's cached device at once (no reload period)."""

    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            profile = await _profile(net, {})
            dev = await _joined(net, profile)
            firmware = AppLayerFirmware(dev, dev.app_key, clock_offset_s=120.0)
            await net.exchange(dev, dev.uplink(1, b"\x01"), timeout=2.5)  # the session is cached now
            r = await net.h.api.patch(f"/api/v1/device-profiles/{profile}", json={"app_layer": {"clock_sync": 1}})
            assert r.status_code == 200 and r.json()["app_layer"] == {"clock_sync": 1}
            got = await net.exchange(dev, dev.uplink(CLOCK_PORT, firmware.app_time_req(time.time())))
            assert got is not None and got.downlink is not None and got.downlink.f_port == CLOCK_PORT
            bad = await net.h.api.patch(f"/api/v1/device-profiles/{profile}", json={"app_layer": {"clock_sync": 3}})
            assert bad.status_code == 422

    asyncio.run(run())
