"""The composition root: everything ``lora-city serve`` runs, built from one Settings object, in ONE asyncio loop.

Settings -> engine, migrations, city tenant -> KeyVault, Metrics, CodecRegistry -> sinks (embedded readings
store; InfluxDB when configured) -> gateway backends (MQTT when ``mqtt_url``, Semtech UDP when ``udp_listen``)
-> NetworkServer -> the FastAPI app (its DownlinkNotifier is the server's) -> uvicorn. ``--demo`` adds a small
simulated fleet (UDP gateways, OTAA devices registering through the API) so readings arrive within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from sqlalchemy import Engine

from lora_city.api.app import create_app
from lora_city.cluster.node import ClusterNode
from lora_city.codec.registry import CodecRegistry, js_limits_from
from lora_city.gateway.health import GatewayHealth
from lora_city.gateway.mqtt_backend import MqttGatewayBackend
from lora_city.gateway.udp_backend import UdpGatewayBackend
from lora_city.metrics import Metrics
from lora_city.network.server import NetworkServer
from lora_city.portal import mount_portal
from lora_city.settings import Settings
from lora_city.sinks import build as sinks_build
from lora_city.sinks.events import Sink
from lora_city.storage import migrate
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory, transaction
from lora_city.storage.keys import KeyVault

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    factory: SessionFactory
    vault: KeyVault
    metrics: Metrics
    codecs: CodecRegistry
    server: NetworkServer
    app: Any  # FastAPI


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host or "127.0.0.1", int(port)


def build_sinks(settings: Settings, factory: SessionFactory, metrics: Metrics, vault: KeyVault) -> list[Sink]:
    """The sinks engineer's hub (embedded store, InfluxDB when configured, webhooks, retention), as one Sink."""
    return [sinks_build.build_sinks(settings, factory, metrics, vault=vault)]


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Runtime]:
    """Build and start everything but the HTTP listener; stop it all (flushing sessions) on exit."""
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as db:
        ensure_city_tenant(db)
    vault = KeyVault(settings.secret_key)
    metrics = Metrics()
    codecs = CodecRegistry.load(
        settings.codecs_path, js_limits=js_limits_from(settings.js_time_limit_ms, settings.js_memory_limit_mb)
    )
    health = GatewayHealth(metrics)
    backends: list[Any] = []
    sinks = build_sinks(settings, factory, metrics, vault)
    # Scale-out (Settings.cluster_member_id): gateway copies go through the cluster router, which forwards
    # each to the member owning its device; the cluster sink goes first (FCnt high-water before readings).
    cluster = ClusterNode(settings) if settings.cluster_member_id else None
    if settings.mqtt_url:
        mqtt = MqttGatewayBackend(settings, metrics, health=health)
        backends.append(cluster.wrap(mqtt) if cluster is not None else mqtt)
    if settings.udp_listen:  # in a cluster, UDP copies are routed too (downlinks: only from this member)
        udp = UdpGatewayBackend(settings, metrics, health=health)
        backends.append(cluster.wrap(udp) if cluster is not None else udp)
    if cluster is not None:
        sinks.insert(0, cluster.sink)
    server = NetworkServer(settings, metrics, factory, vault, codecs=codecs, sinks=sinks, backends=backends)
    if cluster is not None:
        cluster.attach(server)
        await cluster.start()  # the member list is known before the first gateway copy arrives
    await server.start()
    try:
        # In a cluster the device's owning member must hear of a queued downlink, not whichever member serves the API
        notifier = cluster.downlink_notifier() if cluster is not None else server.downlink_notifier()
        app = create_app(settings, factory, vault, codecs=codecs, notifier=notifier, metrics=metrics)
        # The web portal on the same app (pages under /portal); billing/tenants adapters go in ``extras``.
        mount_portal(app, settings=settings, session_factory=factory, vault=vault, codecs=codecs, notifier=notifier)
        yield Runtime(settings, engine, factory, vault, metrics, codecs, server, app)
    finally:
        if cluster is not None:
            await cluster.leave()  # the others take our devices over while our open windows close
        await server.stop()
        if cluster is not None:
            await cluster.stop()
        engine.dispose()


async def serve(settings: Settings, *, demo: bool = False, demo_devices: int = 6, demo_rate: float = 1.0) -> None:
    if demo:
        settings = demo_settings(settings)
    async with running(settings) as rt:
        host, port = split_listen(settings.http_listen)
        config = uvicorn.Config(rt.app, host=host, port=port, log_level=settings.log_level.lower(),
                                lifespan="off")
        http = uvicorn.Server(config)
        demo_task: asyncio.Task[None] | None = None
        if demo:
            demo_task = asyncio.create_task(run_demo(settings, http, demo_devices, demo_rate))
        try:
            await http.serve()
        finally:
            if demo_task is not None:
                demo_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await demo_task


def demo_settings(settings: Settings) -> Settings:
    """The demo needs an administrator token (the simulator registers through the API) and the UDP listener."""
    update: dict[str, Any] = {}
    if not settings.admin_token:
        update["admin_token"] = secrets.token_urlsafe(24)
    if not settings.udp_listen:
        update["udp_listen"] = "127.0.0.1:1700"
    return settings.model_copy(update=update) if update else settings


async def run_demo(settings: Settings, http: uvicorn.Server, devices: int, rate: float) -> None:
    from lora_city.simulate.fleet import Fleet, FleetConfig

    while not http.started:
        await asyncio.sleep(0.05)
    host, port = split_listen(settings.http_listen)
    udp_host, udp_port = split_listen(settings.udp_listen)
    print(f"demo: API on http://{host}:{port}/api/v1  (Authorization: Bearer {settings.admin_token})", flush=True)
    fleet = Fleet(FleetConfig(
        api_url=f"http://{host}:{port}", admin_token=settings.admin_token or "", gateways=3, devices=devices,
        rate=rate, transport="udp", udp_server=("127.0.0.1" if udp_host in ("0.0.0.0", "") else udp_host, udp_port),
    ))
    try:
        await fleet.start()
        joined = await fleet.join_all()
        print(f"demo: {joined}/{devices} simulated devices joined; readings: "
              f"GET /api/v1/devices/{fleet.devices[0].dev_eui}/readings", flush=True)
        while True:
            await fleet.run(60.0)
    finally:
        await fleet.stop()
