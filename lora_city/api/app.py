"""``create_app``: the HTTP API as a FastAPI application, built from its dependencies (no globals), so the
composition root serves it with uvicorn beside the network server and tests run it in-process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI

from lora_city import __version__
from lora_city.api import errors
from lora_city.api.deps import AppContext
from lora_city.api.docs import install_docs
from lora_city.api.rate_limit import Limit, RateLimiter
from lora_city.api.routes import (
    alerts,
    api_keys,
    applications,
    assets,
    broker,
    catalogue,
    devices,
    fuota,
    gateways,
    health,
    integrations,
    lighting,
    live,
    multicast,
    onboarding,
    overview,
    profiles,
    security,
    tenants,
)
from lora_city.api.strict import IntegralNumbers
from lora_city.codec.registry import CodecRegistry
from lora_city.metrics import Metrics
from lora_city.services.auth_throttle import AuthThrottle
from lora_city.services.queue import DownlinkNotifier
from lora_city.settings import Settings
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault

PREFIX = "/api/v1"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    session_factory: SessionFactory,
    vault: KeyVault,
    *,
    codecs: CodecRegistry | None = None,
    notifier: DownlinkNotifier | None = None,
    metrics: Metrics | None = None,
    clock: Callable[[], datetime] = _utcnow,
    on_device_change: Callable[[str], None] | None = None,
    group_notifier: Callable[[str], None] | None = None,
    on_gateway_change: Callable[[str], None] | None = None,
    fuota_wake: Callable[[], None] | None = None,
    auth_throttle: AuthThrottle | None = None,
) -> FastAPI:
    app = FastAPI(
        title="lora_city",
        version=__version__,
        description="Operator and field-technician API of the city's LoRaWAN network.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # served from packaged assets below, not from a CDN
        redoc_url=None,
    )
    app.state.lora_city = AppContext(settings, session_factory, vault, codecs, notifier, metrics, clock,
                                     on_device_change, group_notifier, on_gateway_change, fuota_wake)
    # shared with the portal's login (and, through the composition root, the gRPC API)
    app.state.auth_throttle = auth_throttle or AuthThrottle(session_factory, clock)
    app.state.rate_limiter = RateLimiter(
        Limit(settings.api_rate_per_key, settings.api_burst_per_key),
        Limit(settings.api_rate_per_tenant, settings.api_burst_per_tenant),
    )  # tenants/ sets limits_for: a plan's own limits
    errors.install(app)
    app.add_middleware(IntegralNumbers)  # 2.0 is an integer to JSON Schema: api/strict.py
    install_docs(app, PREFIX)
    api = APIRouter(prefix=PREFIX)
    for module in (tenants, api_keys, gateways, profiles, applications, devices, multicast, lighting, assets,
                   onboarding, overview, alerts, integrations, broker, catalogue, fuota, live, security):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    app.state.lighting_wake = None  # the composition root sets the lighting scheduler's wake-up
    app.state.readiness = []  # the composition root appends (name, ok) checks: MQTT connected, …
    return app
