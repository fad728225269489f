"""An API on a real database (SQLite and PostgreSQL), in-process, with helpers to make tenants and keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lora_city.api import create_app
from lora_city.settings import Settings
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from tests.support.schema import all_migration_locations

ADMIN = "admin-token-for-tests"
SECRET = "test-secret"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 22, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Api:
    client: TestClient
    factory: SessionFactory
    engine: Engine
    vault: KeyVault
    clock: Clock
    notified: list[str]
    group_notified: list[str] = field(default_factory=list)

    def headers(self, token: str = ADMIN, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **extra}

    def call(self, method: str, path: str, token: str = ADMIN, expect: int | None = None, **kw: Any) -> Any:
        headers = {**self.headers(token), **kw.pop("headers", {})}
        r = self.client.request(method, "/api/v1" + path, headers=headers, **kw)
        if expect is not None:
            assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r

    def tenant(self, slug: str) -> str:
        return str(self.call("POST", "/tenants", json={"name": slug.title(), "slug": slug}, expect=201).json()["id"])

    def key(self, role: str, tenant_id: str | None = None) -> str:
        body: dict[str, Any] = {"name": f"{role} key", "role": role}
        if tenant_id:
            body["tenant_id"] = tenant_id
        return str(self.call("POST", "/api-keys", json=body, expect=201).json()["key"])


def build_api(database_url: str, codecs: Any = None) -> Iterator[Api]:
    upgrade(database_url, all_migration_locations())  # a no-op when the fixture handed a migrated database
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    vault = KeyVault(SECRET)
    clock = Clock()
    notified: list[str] = []
    group_notified: list[str] = []
    settings = Settings(database_url=database_url, admin_token=ADMIN, secret_key=SECRET)
    app = create_app(settings, factory, vault, codecs=codecs, notifier=notified.append, clock=clock,
                     group_notifier=group_notified.append)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, factory, engine, vault, clock, notified, group_notified)
    engine.dispose()


@pytest.fixture()
def api(database_url: str) -> Iterator[Api]:
    yield from build_api(database_url)


@pytest.fixture()
def sqlite_api(tmp_path: Any) -> Iterator[Api]:
    yield from build_api(f"sqlite:///{tmp_path / 'api.db'}")


@dataclass
class TenantWorld:
    """One tenant's objects, one of each kind the API serves."""

    tenant_id: str
    dev_eui: str
    gateway_id: str
    profile_id: str
    application_id: str
    asset_id: str
    key_id: str
    integration_id: str
    group_id: str
    campaign_id: str
    schedule_id: str  # a lighting schedule the group follows, with an exception
    assignment_id: str
    exception_id: str


def populate(api: Api, slug: str, n: int) -> TenantWorld:
    tenant = api.tenant(slug)
    dev = f"00000000000000{n:02x}"
    gw = f"aa000000000000{n:02x}"
    profile = api.call("POST", "/device-profiles", expect=201, json={
        "name": "p", "tenant_id": tenant, "app_layer": {"multicast_setup": 2, "fragmentation": 2}}).json()["id"]
    app = api.call("POST", "/applications", json={"name": "a", "tenant_id": tenant}, expect=201).json()["id"]
    api.call("POST", "/gateways", json={"gateway_id": gw, "name": "g", "tenant_id": tenant}, expect=201)
    api.call("POST", "/devices", expect=201, json={
        "dev_eui": dev, "name": "d", "tenant_id": tenant, "application_id": app, "device_profile_id": profile,
        "app_key": f"{n:032x}", "gen_app_key": f"{n + 100:032x}"})
    asset = api.call("POST", "/assets", expect=201, json={"external_ref": f"R{n}", "tenant_id": tenant}).json()["id"]
    api.call("POST", "/onboarding/bind", json={"dev_eui": dev, "asset_id": asset}, expect=200)
    key = api.call("POST", "/api-keys", json={"name": "k", "role": "tenant_viewer", "tenant_id": tenant},
                   expect=201).json()["id"]
    integration = api.call("POST", "/integrations", expect=201, json={
        "kind": "webhook", "url": "https://example.org/hook", "tenant_id": tenant}).json()["id"]
    group = api.call("POST", "/multicast-groups", json={"name": "lamps", "tenant_id": tenant},
                     expect=201).json()["id"]
    campaign = api.call("POST", "/fuota/campaigns", expect=201, json={
        "name": "fw", "tenant_id": tenant, "dev_euis": [dev], "image_base64": "AAECAwQFBgc="}).json()["id"]
    schedule = api.call("POST", "/lighting/schedules", expect=201, json={
        "name": "s", "tenant_id": tenant, "steps": [{"at": "dusk", "level": 100}, {"at": "dawn", "level": 0}]}
    ).json()["id"]
    assignment = api.call("POST", f"/lighting/schedules/{schedule}/assignments", json={"group_id": group},
                          expect=200).json()["id"]
    exception = api.call("POST", f"/lighting/schedules/{schedule}/exceptions", expect=201, json={
        "start_date": "2026-07-14", "end_date": "2026-07-14", "steps": [{"at": "dusk", "level": 100}]}).json()["id"]
    return TenantWorld(tenant, dev, gw, profile, app, asset, key, integration, group, campaign, schedule,
                       assignment, exception)
