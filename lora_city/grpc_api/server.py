"""The composition root's one entry: ``start_grpc_server`` builds, binds and starts the ChirpStack-compatible API.

A sync grpcio server with a thread pool: every handler is a short database transaction through the same
services the HTTP API uses, like FastAPI's thread pool does for the HTTP side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from chirpstack_api.api import (
    application_pb2_grpc,
    device_pb2_grpc,
    device_profile_pb2_grpc,
    gateway_pb2_grpc,
    internal_pb2_grpc,
    multicast_group_pb2_grpc,
    tenant_pb2_grpc,
)

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import ConfigurationError
from lora_city.grpc_api.applications import ApplicationService
from lora_city.grpc_api.call import Deps, LiveState, quiet_unimplemented
from lora_city.grpc_api.devices import DeviceService
from lora_city.grpc_api.gateways import GatewayService
from lora_city.grpc_api.internal import InternalService
from lora_city.grpc_api.multicast import MulticastGroupService
from lora_city.grpc_api.profiles import DeviceProfileService
from lora_city.grpc_api.tenants import TenantService
from lora_city.services.auth_throttle import AuthThrottle
from lora_city.services.common import Clock
from lora_city.services.queue import DownlinkNotifier
from lora_city.settings import Settings
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GrpcApi:
    server: grpc.Server
    port: int  # the bound port (useful when Settings.grpc_listen asks for port 0)

    def stop(self, grace: float | None = 2.0) -> None:
        self.server.stop(grace).wait()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def add_services(server: grpc.Server, deps: Deps) -> None:
    for servicer in (TenantService, ApplicationService, DeviceProfileService, DeviceService, GatewayService,
                     InternalService, MulticastGroupService):
        quiet_unimplemented(servicer)
    tenant_pb2_grpc.add_TenantServiceServicer_to_server(TenantService(deps), server)
    application_pb2_grpc.add_ApplicationServiceServicer_to_server(ApplicationService(deps), server)
    device_profile_pb2_grpc.add_DeviceProfileServiceServicer_to_server(DeviceProfileService(deps), server)
    device_pb2_grpc.add_DeviceServiceServicer_to_server(DeviceService(deps), server)
    gateway_pb2_grpc.add_GatewayServiceServicer_to_server(GatewayService(deps), server)
    internal_pb2_grpc.add_InternalServiceServicer_to_server(InternalService(deps), server)
    multicast_group_pb2_grpc.add_MulticastGroupServiceServicer_to_server(MulticastGroupService(deps), server)


def start_grpc_server(
    settings: Settings, session_factory: SessionFactory, vault: KeyVault, *,
    codecs: CodecRegistry | None = None, notifier: DownlinkNotifier | None = None, clock: Clock | None = None,
    max_workers: int = 8, on_gateway_change: Callable[[str], None] | None = None,
    on_device_change: Callable[[str], None] | None = None, live: LiveState | None = None,
    group_notifier: Callable[[str], None] | None = None,
    auth_throttle: AuthThrottle | None = None,
) -> GrpcApi:
    """Serve the API on ``settings.grpc_listen`` (``host:port``; plaintext, put TLS in front as for HTTP).
    The caller checks that ``grpc_listen`` is set and stops the returned server on shutdown. ``live``: the
    network server of this process (frame counters, duty cycle, live streams), when there is one."""
    if not settings.grpc_listen:
        raise ConfigurationError("grpc_listen is empty: the gRPC API is disabled")
    clock = clock or _utcnow
    # One throttle per process, shared with the HTTP API and the portal (the composition root passes it): a
    # guesser gains nothing by switching between them.
    throttle = auth_throttle or AuthThrottle(session_factory, clock)
    deps = Deps(session_factory, vault, settings.admin_token, clock, codecs, notifier, settings.net_id,
                on_gateway_change, on_device_change, live, settings.map_tile_url, group_notifier, throttle=throttle)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc-api"))
    add_services(server, deps)
    try:
        port = server.add_insecure_port(settings.grpc_listen)
    except RuntimeError as exc:
        raise ConfigurationError(f"cannot listen on {settings.grpc_listen!r} for gRPC: {exc}") from exc
    if port == 0:
        raise ConfigurationError(f"cannot listen on {settings.grpc_listen!r} for gRPC")
    server.start()
    log.info("ChirpStack-compatible gRPC API listening on %s (port %d)", settings.grpc_listen, port)
    return GrpcApi(server, port)
