"""The composition root: everything ``lora-city serve`` runs, built from one Settings object, in ONE asyncio loop.

Settings -> engine, migrations, city tenant -> KeyVault, Metrics, CodecRegistry -> sinks (embedded readings
store; InfluxDB when configured) -> gateway backends (MQTT when ``mqtt_url``, Semtech UDP when ``udp_listen``)
-> NetworkServer -> the FastAPI app (its DownlinkNotifier is the server's) -> uvicorn. ``--demo`` first writes the
demo city (lora_city.simulate.demo, with billing.demo's plan, prices and last month's invoice), then runs its
simulated gateways and devices over Semtech UDP so readings arrive within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine, select

from billing import api as billing_api
from billing.demo import seed_leasing
from billing.exports import invoice_files
from billing.meter import UsageMeter
from billing.portal_extras import billing_extras
from billing.usage import day_usage
from lora_city.alerts.feed import Subscription, SupervisionFeed
from lora_city.alerts.rules import Severity
from lora_city.alerts.service import AlertService
from lora_city.alerts.sink import AlertSink
from lora_city.api.app import create_app
from lora_city.applayer.service import AppLayerService
from lora_city.cluster.node import ClusterNode
from lora_city.codec.catalogue.mappings import catalogue_mappings
from lora_city.codec.catalogue.source import CatalogueCodecs
from lora_city.codec.registry import CodecRegistry, js_limits_from
from lora_city.fuota.orchestrator import FuotaOrchestrator, OrchestratorHooks
from lora_city.gateway.health import GatewayHealth
from lora_city.gateway.journal import CopyJournal
from lora_city.gateway.mqtt_backend import MqttGatewayBackend
from lora_city.gateway.udp_backend import UdpGatewayBackend
from lora_city.grpc_api import start_grpc_server
from lora_city.grpc_api.live import ServerLiveState
from lora_city.grpc_api.streams import EventStream, FrameStream
from lora_city.lighting.commands import CommandSender
from lora_city.lighting.scheduler import LightingScheduler
from lora_city.lighting.steps import Place
from lora_city.metrics import Metrics
from lora_city.mqtt.client import MqttClient
from lora_city.network.gateway_status import GatewayStatusWriter
from lora_city.network.server import NetworkServer
from lora_city.portal import mount_portal
from lora_city.services.auth_throttle import AuthThrottle
from lora_city.settings import Settings
from lora_city.simulate.demo import DemoWorld, run_fleet, seed_demo, welcome
from lora_city.sinks import build as sinks_build
from lora_city.sinks.broker_sync import BrokerAccessSync, DynsecControl
from lora_city.sinks.events import Sink
from lora_city.storage import migrate
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import FeedSubscription
from tenants import api as tenants_api
from tenants.calendar import paris_day
from tenants.quota import PlanQuotaPolicy

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


def utcnow() -> datetime:
    return datetime.now(UTC)


async def mqtt_publisher(settings: Settings) -> MqttClient | None:
    """One client for what the product publishes (tenant integrations, supervision feed), apart from the gateway
    backend's, so a burst of integration traffic never delays gateway commands."""
    if not settings.mqtt_url:
        return None
    client = MqttClient(settings.mqtt_url, client_id=f"lora-city-pub-{secrets.token_hex(4)}")
    await client.start()  # a broker that is down is retried with backoff; QoS 1 publishes wait for it
    return client


def load_feed(factory: SessionFactory, mqtt: MqttClient | None, http: httpx.AsyncClient) -> SupervisionFeed:
    with factory() as db:
        subs = [Subscription(r.service, r.kind, r.target, r.secret, tuple(r.families or ()), Severity(r.min_severity))
                for r in db.scalars(select(FeedSubscription).where(FeedSubscription.enabled))]
    return SupervisionFeed(subs, mqtt=mqtt, http=http)


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
    js_limits = js_limits_from(settings.js_time_limit_ms, settings.js_memory_limit_mb)
    # The device catalogue's codecs (lora-city codec import-repository) come from the database on first use.
    catalogue = CatalogueCodecs(factory, js_limits, mappings=catalogue_mappings(settings.codecs_path))
    codecs = CodecRegistry.load(settings.codecs_path, js_limits=js_limits, catalogue=catalogue)
    publisher = await mqtt_publisher(settings)
    http = httpx.AsyncClient()
    # Sinks: the hub (embedded store, InfluxDB when configured, tenant MQTT and webhooks, retention), the
    # billing meter (tenants/billing: the core only sees a Sink), and the alert engine with its supervision feed.
    hub = sinks_build.build_sinks(settings, factory, metrics, mqtt=publisher, vault=vault)
    alerts = AlertSink(AlertService(factory, utcnow), load_feed(factory, publisher, http), utcnow)
    app_layer = AppLayerService(factory)  # TS003 clock sync answered, TS004/TS005 answers to the FUOTA campaigns
    event_stream = EventStream()  # the gRPC API's StreamDeviceEvents (nothing is done unless someone streams)
    sinks: list[Sink] = [hub, UsageMeter(factory, metrics), alerts, app_layer, event_stream]
    quota = PlanQuotaPolicy(metrics, hub.submit)  # QUOTA warnings travel with the device's other events
    with factory() as db:
        quota.load(db)
        quota.resume(day_usage(db, paris_day(utcnow())))  # a restart does not hand out fresh allowances
    health = GatewayHealth(metrics)
    backends: list[Any] = []
    # Scale-out (Settings.cluster_member_id): gateway copies go through the cluster router, which forwards
    # each to the member owning its device; the cluster sink goes first (FCnt high-water before readings).
    cluster = ClusterNode(settings) if settings.cluster_member_id else None
    journal = journal_of(settings, metrics) if cluster is None else None  # a cluster's copies move between members
    mqtt_backend: MqttGatewayBackend | None = None
    if settings.mqtt_url:
        mqtt_backend = MqttGatewayBackend(settings, metrics, health=health, journal=journal)
        backends.append(cluster.wrap(mqtt_backend) if cluster is not None else mqtt_backend)
    if settings.udp_listen:  # in a cluster, UDP copies are routed too (downlinks: only from this member)
        udp = UdpGatewayBackend(settings, metrics, health=health, journal=journal)
        backends.append(cluster.wrap(udp) if cluster is not None else udp)
    if cluster is not None:
        sinks.insert(0, cluster.sink)
    server = NetworkServer(settings, metrics, factory, vault, codecs=codecs, sinks=sinks, backends=backends,
                           quota=quota, journal=journal, app_layer=app_layer)
    if cluster is not None:
        cluster.attach(server)
        await cluster.start()  # the member list is known before the first gateway copy arrives
    await server.start()
    fuota = FuotaOrchestrator(factory, vault, app_layer, server.region, net_id=settings.net_id,
                              tick_s=settings.fuota_tick_s, session_lead_s=settings.fuota_session_lead_s,
                              hooks=OrchestratorHooks(group_notifier=server.group_notifier()))
    await fuota.start()  # resumes the campaigns a restart interrupted
    gateway_status = GatewayStatusWriter(factory, health, listeners=[alerts.on_gateway_state],
                                         never_seen=[alerts.on_gateways_never_seen], duty_cycle=server.duty_cycle)
    background = [asyncio.create_task(gateway_status.run(), name="gateway-status"),
                  asyncio.create_task(catalogue.refresh_loop(), name="catalogue-refresh"),
                  asyncio.create_task(quota.refresh_loop(factory), name="quota-refresh")]  # plans/status edits
    # In a cluster the device's owning member must hear of a queued downlink, not whichever member serves the API
    notifier = cluster.downlink_notifier() if cluster is not None else server.downlink_notifier()
    app_layer.set_notifier(notifier)
    auth_throttle = AuthThrottle(factory)  # password/API-key guessing: one count for HTTP, portal and gRPC
    grpc = None
    if settings.grpc_listen:  # ChirpStack's API; its live streams and counters come from this server
        frames = FrameStream()
        server.frame_taps.append(frames)
        grpc = start_grpc_server(settings, factory, vault, codecs=codecs, notifier=notifier,
                                 on_gateway_change=server.gateway_change_notifier(),
                                 on_device_change=server.device_change_notifier(),
                                 live=ServerLiveState(server, event_stream, frames),
                                 group_notifier=server.group_notifier(), auth_throttle=auth_throttle)
    broker_sync: BrokerAccessSync | None = None
    try:
        app = create_app(settings, factory, vault, codecs=codecs, notifier=notifier, metrics=metrics,
                         on_device_change=server.device_change_notifier(), group_notifier=server.group_notifier(),
                         on_gateway_change=server.gateway_change_notifier(),
                         fuota_wake=fuota.wake_notifier(), auth_throttle=auth_throttle)
        tenants_api.install(app, quota=quota, export_dir=settings.export_dir, export_parts=(invoice_files,))
        billing_api.install(app)
        if mqtt_backend is not None:
            app.state.readiness.append(lambda: ("mqtt", mqtt_backend.connected))
        if settings.broker_dynsec and settings.mqtt_url:  # tenants' broker accounts follow the database
            broker_sync = BrokerAccessSync(factory, DynsecControl(settings.mqtt_url))
            await broker_sync.start()
            app.state.broker_sync = broker_sync
        # Street-lighting schedules: each step goes through the same queues the API uses (issue 24).
        lighting = LightingScheduler(factory, CommandSender(codecs, notifier, server.group_notifier()), clock=utcnow,
                                     default_place=Place(settings.lighting_latitude, settings.lighting_longitude))
        background.append(asyncio.create_task(lighting.run(settings.lighting_tick_s), name="lighting"))
        app.state.lighting_wake = lighting.wake
        # The web portal on the same app (pages under /portal), with the leasing features of tenants/billing.
        mount_portal(app, settings=settings, session_factory=factory, vault=vault, codecs=codecs, notifier=notifier,
                     extras=billing_extras(factory, utcnow, quota, vault, export_dir=settings.export_dir))
        yield Runtime(settings, engine, factory, vault, metrics, codecs, server, app)
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await fuota.stop()
        if broker_sync is not None:
            await broker_sync.stop()
        if grpc is not None:
            grpc.stop()
        if cluster is not None:
            await cluster.leave()  # the others take our devices over while our open windows close
        await server.stop()
        if cluster is not None:
            await cluster.stop()
        if publisher is not None:
            await publisher.close()
        await http.aclose()
        engine.dispose()


def journal_of(settings: Settings, metrics: Metrics) -> CopyJournal | None:
    """The crash journal of gateway copies (gateway/journal.py); the server opens it before the backends start."""
    if settings.journal_dir is None:
        return None
    return CopyJournal(settings.journal_dir, metrics, fsync_interval_s=settings.journal_fsync_ms / 1000.0,
                       max_bytes=settings.journal_max_mb << 20)


async def serve(settings: Settings, *, demo: bool = False, demo_devices: int | None = None,
                demo_rate: float = 0.5) -> None:
    world: DemoWorld | None = None
    if demo:
        settings = demo_settings(settings)
        world = await asyncio.to_thread(prepare_demo, settings, demo_devices)
    async with running(settings) as rt:
        host, port = split_listen(settings.http_listen)
        config = uvicorn.Config(rt.app, host=host, port=port, log_level=settings.log_level.lower(),
                                lifespan="off")
        http = uvicorn.Server(config)
        demo_task: asyncio.Task[None] | None = None
        if world is not None:
            demo_task = asyncio.create_task(run_demo(settings, http, world, demo_rate))
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


def prepare_demo(settings: Settings, devices: int | None) -> DemoWorld:
    """The demo city (lora_city.simulate.demo) and its leasing side (billing.demo: plan, prices, last month's
    invoice), written before the server starts so every part of it loads them as it would real data."""
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        codecs = CodecRegistry.load(settings.codecs_path, js_limits=js_limits_from(settings.js_time_limit_ms,
                                                                                 settings.js_memory_limit_mb))
        return seed_demo(make_session_factory(engine), KeyVault(settings.secret_key), codecs, now=utcnow(),
                         devices=devices, leasing=seed_leasing)
    finally:
        engine.dispose()


async def run_demo(settings: Settings, http: uvicorn.Server, world: DemoWorld, rate: float) -> None:
    while not http.started:
        await asyncio.sleep(0.05)
    print(welcome(world, settings.http_listen, settings.admin_token or ""), flush=True)
    host, port = split_listen(settings.http_listen)
    udp_host, udp_port = split_listen(settings.udp_listen)
    await run_fleet(world, api_url=f"http://{host}:{port}", admin_token=settings.admin_token or "",
                    udp_server=("127.0.0.1" if udp_host in ("0.0.0.0", "") else udp_host, udp_port), rate=rate)
