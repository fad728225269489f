"""The server under test (the embedded Harness: real database, real mosquitto, the real UDP and MQTT gateway
connectors, the real API) with the independent emulator's devices and gateways around it.

Devices and gateways are provisioned through the public API, as an operator would; frames travel over the
Semtech UDP protocol or ChirpStack's MQTT protocol; what the server sends is judged by the emulated device.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from tests.integration.network.harness import Harness, wait_until
from tests.support.emulator.air import Air, Gateway, Reception, Sent
from tests.support.emulator.device import Device, Uplink
from tests.support.emulator.forwarder import MqttGateway, UdpForwarder

__all__ = ["Network", "network", "wait_until"]


class Network:
    def __init__(self, h: Harness) -> None:
        self.h = h
        self.gateways: list[Gateway] = []
        self.air = Air(self.gateways)
        self._profiles: dict[tuple[str, str], str] = {}

    # --- gateways --------------------------------------------------------------------------------------

    async def udp_gateway(self, *, register: bool = True, **kw: Any) -> UdpForwarder:
        assert self.h.udp is not None, "start the harness with udp=True"
        gw = UdpForwarder(self.h.udp.local_address, **kw)
        if register:
            await self.register_gateway(gw.gateway_id)
        await gw.start()
        self.gateways.append(gw)
        return gw

    async def mqtt_gateway(self, *, register: bool = True) -> MqttGateway:
        gw = MqttGateway(self.h.settings.mqtt_url or "", self.h.prefix)
        if register:
            await self.register_gateway(gw.gateway_id)
        await gw.start()
        self.gateways.append(gw)
        return gw

    async def register_gateway(self, gateway_id: str, **fields: Any) -> dict[str, Any]:
        r = await self.h.api.post("/api/v1/gateways", json={"gateway_id": gateway_id, "name": f"gw {gateway_id}",
                                                             **fields})
        assert r.status_code == 201, r.text
        return dict(r.json())

    # --- devices ---------------------------------------------------------------------------------------

    async def profile(self, mac_version: str, device_class: str = "A") -> str:
        """A device profile for the LoRaWAN version (the API's "1.1.0" for 1.1)."""
        version = "1.1.0" if mac_version.startswith("1.1") else mac_version
        key = (version, device_class)
        if key not in self._profiles:
            r = await self.h.api.post("/api/v1/device-profiles", json={
                "name": f"LoRaWAN {version} class {device_class}", "mac_version": version,
                "device_class": device_class})
            assert r.status_code == 201, r.text
            self._profiles[key] = r.json()["id"]
        return self._profiles[key]

    async def register(self, device: Device, *, codec: str | None = None, otaa: bool = True,
                       **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "dev_eui": device.dev_eui, "join_eui": device.join_eui, "name": f"emulated {device.dev_eui}",
            "device_profile_id": await self.profile(device.mac_version, device.device_class), **fields,
        }
        if codec is not None:
            body["codec"] = codec
        if otaa:
            body["app_key"] = device.app_key.hex()
            if device.nwk_key is not None:
                body["nwk_key"] = device.nwk_key.hex()
        r = await self.h.api.post("/api/v1/devices", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def activate_abp(self, device: Device, dev_addr: str, *, f_cnt_up: int = 0, codec: str | None = None,
                           keys: dict[str, bytes] | None = None) -> dict[str, Any]:
        """Register ``device`` without root keys and personalise it (ABP) with fresh session keys."""
        await self.register(device, codec=codec, otaa=False)
        rng = device.rng
        keys = keys or {name: rng.getrandbits(128).to_bytes(16, "big") for name in
                        ("nwk_s_key", "f_nwk_s_int_key", "s_nwk_s_int_key", "nwk_s_enc_key", "app_s_key")}
        body: dict[str, Any] = {"dev_addr": dev_addr, "app_s_key": keys["app_s_key"].hex(), "f_cnt_up": f_cnt_up,
                                "mac_version": "1.1.0" if device.is_11 else device.mac_version}
        if device.is_11:
            body |= {k: keys[k].hex() for k in ("f_nwk_s_int_key", "s_nwk_s_int_key", "nwk_s_enc_key")}
            device.personalise(dev_addr, app_s_key=keys["app_s_key"], f_nwk_s_int_key=keys["f_nwk_s_int_key"],
                               s_nwk_s_int_key=keys["s_nwk_s_int_key"], nwk_s_enc_key=keys["nwk_s_enc_key"],
                               f_cnt_up=f_cnt_up)
        else:
            body["nwk_s_key"] = keys["nwk_s_key"].hex()
            device.personalise(dev_addr, nwk_s_key=keys["nwk_s_key"], app_s_key=keys["app_s_key"], f_cnt_up=f_cnt_up)
        r = await self.h.api.post(f"/api/v1/devices/{device.dev_eui}/activate", json=body)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def enqueue(self, device: Device, f_port: int, payload: bytes, *, confirmed: bool = False
                      ) -> dict[str, Any]:
        r = await self.h.api.post(f"/api/v1/devices/{device.dev_eui}/queue", json={
            "f_port": f_port, "data_hex": payload.hex(), "confirmed": confirmed})
        assert r.status_code == 201, r.text
        return dict(r.json())

    # --- radio -----------------------------------------------------------------------------------------

    def send(self, uplink: Uplink, **kw: Any) -> Sent:
        return self.air.send(uplink, **kw)

    async def join(self, device: Device, *, via: list[Gateway] | None = None, timeout: float = 10.0) -> Reception:
        """Join-request through the gateways; the device must receive and accept the join-accept."""
        sent = self.air.send(device.join_request(), via=via, join=True)
        got = await self.air.receive(device, sent, timeout=timeout)
        assert got is not None, "no join-accept"
        assert got.accepted, "the join-accept does not open with the device's keys"
        return got

    async def rejoin(self, device: Device, rejoin_type: int, *, timeout: float = 5.0) -> Reception | None:
        """A 1.1 rejoin-request; the join-accept (if any) as the device hears it in its normal windows."""
        sent = self.air.send(device.rejoin_request(rejoin_type, dr=device.dr), rejoin=True)
        return await self.air.receive(device, sent, timeout=timeout)

    async def exchange(self, device: Device, uplink: Uplink, *, timeout: float = 3.0, **kw: Any) -> Reception | None:
        """Send ``uplink`` and return what the device receives in its windows (None: nothing)."""
        return await self.air.receive(device, self.air.send(uplink, **kw), timeout=timeout)

    # --- observation -----------------------------------------------------------------------------------

    def all_drops(self) -> dict[str, float]:
        return {s.labels["reason"]: s.value for m in self.h.metrics.uplink_drops.collect() for s in m.samples
                if s.name.endswith("_total")}

    def drops(self, reason: str) -> float:
        return self.h.drops(reason)

    def bad_input(self, transport: str, reason: str) -> float:
        return self.h.counter("lora_city_gateway_bad_input_total", transport=transport, reason=reason)

    async def readings(self, dev_eui: str) -> list[dict[str, Any]]:
        r = await self.h.api.get(f"/api/v1/devices/{dev_eui}/readings", params={"limit": 100})
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    async def wait_readings(self, dev_eui: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.h.store.durable()
            items = await self.readings(dev_eui)
            if len(items) >= count or loop.time() > deadline:
                return items
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def network(database_url: str, mqtt_url: str, **settings: Any) -> AsyncIterator[Network]:
    h = Harness(database_url, mqtt_url, udp=True, **settings)
    await h.start()
    net = Network(h)
    try:
        yield net
    finally:
        for gw in net.gateways:
            await gw.stop()
        await h.stop()
        await h.close()
