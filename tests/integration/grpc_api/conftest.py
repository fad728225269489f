"""lora_city's gRPC API on a real database (SQLite and PostgreSQL) and a free loopback port, driven by the
stock ``chirpstack_api`` stubs the way a ChirpStack user's script drives ChirpStack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from chirpstack_api import api

from lora_city.grpc_api import start_grpc_server
from lora_city.settings import Settings
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from tests.support.schema import all_migration_locations

ADMIN = "admin-token-for-grpc-tests"
SECRET = "grpc-test-secret"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 22, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


def auth(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def code_of(excinfo: pytest.ExceptionInfo[grpc.RpcError]) -> grpc.StatusCode:
    return excinfo.value.code()  # type: ignore[attr-defined,no-any-return]


def trailer(call: Any, name: str) -> list[str]:
    for key, value in call.trailing_metadata() or ():
        if key == name:
            return str(value).split(",")
    return []


@dataclass
class Grpc:
    channel: grpc.Channel
    factory: SessionFactory
    vault: KeyVault
    clock: Clock
    notified: list[str]

    @property
    def tenants(self) -> Any:
        return api.TenantServiceStub(self.channel)

    @property
    def applications(self) -> Any:
        return api.ApplicationServiceStub(self.channel)

    @property
    def profiles(self) -> Any:
        return api.DeviceProfileServiceStub(self.channel)

    @property
    def devices(self) -> Any:
        return api.DeviceServiceStub(self.channel)

    @property
    def gateways(self) -> Any:
        return api.GatewayServiceStub(self.channel)

    @property
    def internal(self) -> Any:
        return api.InternalServiceStub(self.channel)

    def tenant(self, name: str) -> str:
        # can_have_gateways: a ChirpStack tenant created without it may not have gateways (enforced)
        return str(self.tenants.Create(api.CreateTenantRequest(tenant=api.Tenant(name=name, can_have_gateways=True)),
                                       metadata=auth(ADMIN)).id)

    def key(self, tenant_id: str, *, read_only: bool = False) -> str:
        req = api.CreateApiKeyRequest(api_key=api.ApiKey(name="k", tenant_id=tenant_id, is_read_only=read_only))
        return str(self.internal.CreateApiKey(req, metadata=auth(ADMIN)).token)


def build(database_url: str, codecs: Any = None) -> Iterator[Grpc]:
    upgrade(database_url, all_migration_locations())  # a no-op when the fixture handed a migrated database
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    vault = KeyVault(SECRET)
    clock = Clock()
    notified: list[str] = []
    settings = Settings(database_url=database_url, admin_token=ADMIN, secret_key=SECRET,
                        grpc_listen="127.0.0.1:0")
    running = start_grpc_server(settings, factory, vault, codecs=codecs, notifier=notified.append, clock=clock,
                                max_workers=4)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield Grpc(channel, factory, vault, clock, notified)
    finally:
        channel.close()
        running.stop(0)
        engine.dispose()


@pytest.fixture()
def cs(database_url: str) -> Iterator[Grpc]:
    yield from build(database_url)
