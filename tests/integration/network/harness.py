"""A whole embedded server for flow tests: real database (SQLite or PostgreSQL), real mosquitto, the real API
(in-process over ASGI), the readings store sink, the MQTT and UDP gateway backends and the NetworkServer."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import httpx
from sqlalchemy import inspect

from lora_city.api.app import create_app
from lora_city.applayer.service import AppLayerService
from lora_city.codec.registry import CodecRegistry
from lora_city.gateway.health import GatewayHealth
from lora_city.gateway.mqtt_backend import MqttGatewayBackend
from lora_city.gateway.udp_backend import UdpGatewayBackend
from lora_city.metrics import Metrics
from lora_city.network.server import NetworkServer
from lora_city.settings import Settings
from lora_city.simulate.devices import VirtualDevice
from lora_city.simulate.gateways import TransmittedDownlink, VirtualMqttGateway
from lora_city.sinks.events import DeviceEvent
from lora_city.sinks.store import ReadingStoreSink
from lora_city.storage import migrate
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault

ADMIN = "test-admin-token"


@lru_cache(maxsize=1)
def codecs() -> CodecRegistry:
    return CodecRegistry.load(Settings().codecs_path, entry_points=False)


class RecordingSink:
    """A real Sink that keeps what it is given (the tests read the events the server emits)."""

    name = "recording"

    def __init__(self) -> None:
        self.events: list[DeviceEvent] = []

    async def start(self) -> None:
        return None

    def submit(self, event: DeviceEvent) -> None:
        self.events.append(event)

    async def stop(self) -> None:
        return None

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class Harness:
    def __init__(self, database_url: str, mqtt_url: str, *, dedup_window_ms: int = 100, udp: bool = False,
                 secret_key: str = "flow-test-secret", registry: CodecRegistry | None = None,
                 health: GatewayHealth | None = None, **settings: Any) -> None:
        self.registry = registry or codecs()  # a test may bring its own (catalogue codecs)
        self.prefix = f"t{uuid.uuid4().hex[:8]}"
        self.settings = Settings(
            database_url=database_url, mqtt_url=mqtt_url, mqtt_topic_prefix=self.prefix,
            udp_listen="127.0.0.1:0" if udp else "", admin_token=ADMIN, secret_key=secret_key,
            dedup_window_ms=dedup_window_ms, **settings,
        )
        self.engine = make_engine(database_url)
        if "device_sessions" not in inspect(self.engine).get_table_names():
            migrate.upgrade(database_url, ())  # an empty database: the core schema is all these flows need
        self.factory = make_session_factory(self.engine)
        self.vault = KeyVault(self.settings.secret_key)
        self.udp: UdpGatewayBackend | None = None
        self.health = health  # fed by the gateway backends, as in `lora-city serve`, when a test wants it
        self.gateways: list[VirtualMqttGateway] = []
        self.extra_sinks: list[Any] = []  # a flow test's own (the alert sink), added before start()

    async def start(self) -> None:
        self.metrics = Metrics()
        self.recording = RecordingSink()
        self.store = ReadingStoreSink(self.factory, self.metrics, flush_interval_s=0.05)
        self.app_layer = AppLayerService(self.factory)
        backends: list[Any] = [MqttGatewayBackend(self.settings, self.metrics, health=self.health)]
        if self.settings.udp_listen:
            self.udp = UdpGatewayBackend(self.settings, self.metrics, health=self.health)
            backends.append(self.udp)
        self.server = NetworkServer(
            self.settings, self.metrics, self.factory, self.vault, codecs=self.registry,
            sinks=[self.recording, self.store, self.app_layer, *self.extra_sinks], backends=backends, flush_interval_s=0.2,
            late_copy_ttl_s=0.5, app_layer=self.app_layer,
        )
        self.app_layer.set_notifier(self.server.downlink_notifier())
        await self.server.start()
        app = create_app(self.settings, self.factory, self.vault, codecs=self.registry,
                         notifier=self.server.downlink_notifier(), metrics=self.metrics,
                         on_device_change=self.server.device_change_notifier(),
                         group_notifier=self.server.group_notifier(),
                         on_gateway_change=self.server.gateway_change_notifier())
        self.api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api",
                                     headers={"Authorization": f"Bearer {ADMIN}"})

    async def stop(self) -> None:
        await self.api.aclose()
        await self.server.stop()

    async def close(self) -> None:
        for gw in self.gateways:
            await gw.stop()
        self.engine.dispose()

    async def gateway(self, snr_order: int = 0, *, register: bool = True) -> VirtualMqttGateway:
        """A virtual MQTT gateway, registered through the API first (the server drops unregistered ones)."""
        gw = VirtualMqttGateway(self.settings.mqtt_url or "", uuid.uuid4().hex[:16], prefix=self.prefix)
        if register:
            r = await self.api.post("/api/v1/gateways", json={"gateway_id": gw.gateway_id, "name": "virtual"})
            assert r.status_code == 201, r.text
        await gw.start()
        self.gateways.append(gw)
        return gw

    async def register(self, device: VirtualDevice) -> dict[str, Any]:
        r = await self.api.post("/api/v1/devices", json={
            "dev_eui": device.dev_eui, "join_eui": device.join_eui, "app_key": device.app_key.hex(),
            "name": f"sim {device.dev_eui}", "codec": device.codec, "device_class": device.device_class,
        })
        assert r.status_code == 201, r.text
        return dict(r.json())

    def drops(self, reason: str) -> float:
        return self.metrics.registry.get_sample_value("lora_city_uplink_drops_total", {"reason": reason}) or 0.0

    def counter(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


async def next_downlink(gw: VirtualMqttGateway, timeout: float = 5.0) -> TransmittedDownlink:
    return await asyncio.wait_for(gw.downlinks.get(), timeout)


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def join(h: Harness, device: VirtualDevice, gws: list[VirtualMqttGateway]) -> TransmittedDownlink:
    """Join-request through every gateway (the first with the best SNR); the device opens the accept."""
    phy = device.join_request()
    for i, gw in enumerate(gws):
        await gw.send_uplink(phy, snr=9.0 - 3 * i, spreading_factor=9)
    down = await next_downlink(gws[0], timeout=10.0)
    assert device.accept(down.phy_payload), "join-accept does not open with the device's AppKey"
    return down
