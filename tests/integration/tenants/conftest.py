"""The core API plus the tenants/ and billing/ routers, wired as the composition root wires them, on a real
database (SQLite and PostgreSQL), with the live quota policy and a clock the tests move."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import billing.api
import tenants.api
from billing.exports import invoice_files
from lora_city.api import create_app
from lora_city.metrics import Metrics
from lora_city.settings import Settings
from lora_city.sinks.events import DeviceEvent
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from tenants.plans import enforce_caps
from tenants.quota import PlanQuotaPolicy
from tests.support.schema import all_migration_locations

ADMIN = "admin-token-for-tenant-tests"
SECRET = "tenant-tests-secret"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 3, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Env:
    app: FastAPI
    client: TestClient
    factory: SessionFactory
    quota: PlanQuotaPolicy
    events: list[DeviceEvent]
    export_dir: Path
    url: str

    def call(self, method: str, path: str, token: str = ADMIN, expect: int | None = None, **kw: Any) -> Any:
        r = self.client.request(method, "/api/v1" + path, headers={"Authorization": f"Bearer {token}"}, **kw)
        if expect is not None:
            assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r

    def key(self, role: str, tenant_id: str) -> str:
        body = {"name": f"{role} key", "role": role, "tenant_id": tenant_id}
        return str(self.call("POST", "/api-keys", json=body, expect=201).json()["key"])


def build_app(url: str, tmp_path: Path, settings: Settings, factory: SessionFactory, vault: KeyVault,
              quota: PlanQuotaPolicy) -> FastAPI:
    """What lora_city/main.py does for the API: the core app, then each plugin's install()."""
    app = create_app(settings, factory, vault, clock=Clock())
    tenants.api.install(app, quota=quota, export_dir=tmp_path / "exports", export_parts=(invoice_files,))
    billing.api.install(app)
    return app


@pytest.fixture()
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    upgrade(database_url, all_migration_locations())
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    enforce_caps(factory)
    events: list[DeviceEvent] = []
    quota = PlanQuotaPolicy(Metrics(), events.append, now=lambda: datetime(2026, 11, 3, 9, tzinfo=UTC).timestamp())
    settings = Settings(database_url=database_url, admin_token=ADMIN, secret_key=SECRET)
    app = build_app(database_url, tmp_path, settings, factory, KeyVault(SECRET), quota)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Env(app, client, factory, quota, events, tmp_path / "exports", database_url)
    engine.dispose()
