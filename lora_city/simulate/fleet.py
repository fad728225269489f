"""The fleet simulator: N virtual gateways (MQTT or Semtech UDP) and M virtual OTAA devices that register
through the HTTP API, join over the air, and send codec-valid payloads at a chosen rate.

Every device is heard by up to three gateways (each copy with its own SNR), so the server's dedup, gateway
choice and downlinks are exercised as in the city. Downlinks the gateways "transmit" are handed to the devices,
which open join-accepts, check MICs, and answer MAC commands on their next uplink.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import dataclass, field

import httpx

from lora_city.simulate.devices import CODECS, VirtualDevice
from lora_city.simulate.gateways import TransmittedDownlink, VirtualMqttGateway, VirtualUdpGateway

log = logging.getLogger(__name__)


@dataclass
class FleetConfig:
    api_url: str
    admin_token: str
    gateways: int = 3
    devices: int = 10
    rate: float = 1.0  # uplinks per second, whole fleet
    transport: str = "udp"  # udp | mqtt
    udp_server: tuple[str, int] = ("127.0.0.1", 1700)
    mqtt_url: str | None = None
    mqtt_prefix: str = "eu868"
    confirmed_ratio: float = 0.1
    codecs: tuple[str, ...] = CODECS
    seed: int | None = None


@dataclass
class FleetStats:
    registered: int = 0
    joined: int = 0
    uplinks: int = 0
    downlinks: int = 0
    acks: int = 0
    mac_commands: int = 0
    join_attempts: int = 0
    errors: list[str] = field(default_factory=list)


Gateway = VirtualMqttGateway | VirtualUdpGateway


class Fleet:
    """``devices`` and ``gateway_ids`` (the demo's, already registered in the database): used instead of random
    ones; ``register=False`` skips registering the devices through the API."""

    def __init__(self, config: FleetConfig, *, devices: list[VirtualDevice] | None = None,
                 gateway_ids: list[str] | None = None, register: bool = True) -> None:
        self.config = config
        self.stats = FleetStats()
        self._rng = random.Random(config.seed)
        self.gateways: list[Gateway] = []
        self.devices = devices if devices is not None else [
            VirtualDevice.generate(config.codecs[i % len(config.codecs)], rng=self._rng)
            for i in range(config.devices)
        ]
        self._gateway_ids = gateway_ids
        self._register = register
        self._links: dict[tuple[str, str], tuple[float, float]] = {}  # (device, gateway) -> mean RSSI, SNR
        self._by_addr: dict[str, VirtualDevice] = {}
        self._joining: set[str] = set()
        self._readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        cfg = self.config
        ids = self._gateway_ids or [f"{self._rng.getrandbits(64):016x}" for _ in range(cfg.gateways)]
        for gw_id in ids:
            gw: Gateway
            if cfg.transport == "mqtt":
                if not cfg.mqtt_url:
                    raise ValueError("the MQTT transport needs mqtt_url")
                gw = VirtualMqttGateway(cfg.mqtt_url, gw_id, prefix=cfg.mqtt_prefix)
            else:
                gw = VirtualUdpGateway(cfg.udp_server, gw_id, keepalive_s=5.0)
            await gw.start()
            self.gateways.append(gw)
            self._readers.append(asyncio.create_task(self._read_downlinks(gw)))
        if self._register:
            await self.register_all()

    async def stop(self) -> None:
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for gw in self.gateways:
            await gw.stop()

    async def register_all(self) -> None:
        headers = {"Authorization": f"Bearer {self.config.admin_token}"}
        async with httpx.AsyncClient(base_url=self.config.api_url, headers=headers, timeout=30.0) as api:
            for gw in self.gateways:  # the network server drops frames of unregistered gateways
                r = await api.post("/api/v1/gateways", json={"gateway_id": gw.gateway_id,
                                                              "name": f"sim-gateway-{gw.gateway_id[-4:]}"})
                if r.status_code not in (200, 201, 409):
                    self.stats.errors.append(f"register gateway {gw.gateway_id}: {r.status_code} {r.text[:200]}")
            for dev in self.devices:
                r = await api.post("/api/v1/devices", json={
                    "dev_eui": dev.dev_eui, "join_eui": dev.join_eui, "app_key": dev.app_key.hex(),
                    "name": f"sim-{dev.codec}-{dev.dev_eui[-4:]}", "codec": dev.codec,
                    "device_class": dev.device_class,
                })
                if r.status_code in (200, 201, 409):
                    self.stats.registered += 1
                else:
                    self.stats.errors.append(f"register {dev.dev_eui}: {r.status_code} {r.text[:200]}")

    async def join_all(self, timeout_s: float = 20.0) -> int:
        """Join every device (retrying every few seconds, as devices back off); returns how many joined."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            pending = [d for d in self.devices if not d.joined]
            if not pending:
                break
            for dev in pending:
                await self._send(dev, dev.join_request(), spreading_factor=9)
                self._joining.add(dev.dev_eui)
                self.stats.join_attempts += 1
                await asyncio.sleep(0.01)
            wait_until = loop.time() + 3.0
            while loop.time() < min(wait_until, deadline) and any(not d.joined for d in pending):
                await asyncio.sleep(0.05)
        return sum(d.joined for d in self.devices)

    async def run(self, duration_s: float) -> None:
        """Send uplinks from joined devices at the configured rate for ``duration_s`` seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + duration_s
        interval = 1.0 / max(self.config.rate, 0.001)
        next_at = loop.time()
        i = 0
        while loop.time() < end:
            joined = [d for d in self.devices if d.joined]
            if joined:
                dev = joined[i % len(joined)]
                i += 1
                confirmed = self._rng.random() < self.config.confirmed_ratio
                await self._send(dev, dev.uplink(confirmed=confirmed, rng=self._rng))
                self.stats.uplinks += 1
            next_at += interval
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def _send(self, dev: VirtualDevice, phy: bytes, *, spreading_factor: int = 7) -> None:
        """One transmission heard by up to three gateways, each with its own link quality."""
        count = min(3, len(self.gateways))
        frequency = self._rng.choice((868_100_000, 868_300_000, 868_500_000))
        for gw in self._rng.sample(self.gateways, count):
            # Each device-gateway link keeps its own mean (distance, walls), with a little fading per frame
            mean_rssi, mean_snr = self._links.setdefault(
                (dev.dev_eui, gw.gateway_id), (self._rng.uniform(-112.0, -78.0), self._rng.uniform(-6.0, 9.0)))
            rssi = round(mean_rssi + self._rng.gauss(0.0, 1.5))
            snr = round(mean_snr + self._rng.gauss(0.0, 0.8), 1)
            if isinstance(gw, VirtualMqttGateway):
                await gw.send_uplink(phy, frequency=frequency, spreading_factor=spreading_factor, snr=snr, rssi=rssi)
            else:
                gw.send_uplink(phy, frequency=frequency, spreading_factor=spreading_factor, snr=snr, rssi=rssi)

    async def _read_downlinks(self, gw: Gateway) -> None:
        while True:
            down = await gw.downlinks.get()
            try:
                self._deliver(down)
            except Exception:  # one bad frame must not stop the gateway's reader
                log.exception("simulated device failed on a downlink: gateway_id=%s", gw.gateway_id)

    def _deliver(self, down: TransmittedDownlink) -> None:
        self.stats.downlinks += 1
        phy = down.phy_payload
        if phy and phy[0] >> 5 == 1:  # join-accept: only the device holding the right AppKey can open it
            for dev in self.devices:
                if dev.dev_eui in self._joining and dev.accept(phy):
                    self._joining.discard(dev.dev_eui)
                    self._by_addr[dev.dev_addr or ""] = dev
                    self.stats.joined += 1
                    return
            return
        if len(phy) >= 5:
            dev_addr = phy[4:0:-1].hex()
            target = self._by_addr.get(dev_addr)
            got = target.receive(phy) if target is not None else None
            if got is not None:
                self.stats.acks += got.ack
                self.stats.mac_commands += len(got.mac_commands)


def new_gateway_id() -> str:
    return uuid.uuid4().hex[:16]
