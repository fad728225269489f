"""A ``pg_dump`` of a populated PostgreSQL database (what a backup, a stolen disk or a careless export holds)
contains no AppKey, NwkKey, session key, multicast key, API key or password in clear: not as the hex text the
API took, not as raw bytes (bytea is dumped as hex), not in base64 (GUIDE: keys encrypted at rest with AES-GCM,
API keys hashed, passwords argon2id)."""

from __future__ import annotations

import base64
import secrets
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from billing import api as billing_api
from lora_city.api import create_app
from lora_city.portal.users import create_user
from lora_city.services.principal import Role
from lora_city.settings import Settings
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.keys import KeyVault
from tenants import api as tenants_api
from tests.support.services import Service, _pg_bin, create_pg_database

pytestmark = pytest.mark.integration

ADMIN = "pg-dump-admin-token"
SECRET = "pg-dump-master-secret"
PASSWORD = "Tr0ub4dor&3-horse-staple"


@pytest.fixture()
def populated(postgres_server: Service, postgres_template: str) -> Iterator[tuple[str, dict[str, bytes | str]]]:
    url = create_pg_database(postgres_server, template=postgres_template)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    settings = Settings(database_url=url, admin_token=ADMIN, secret_key=SECRET)
    app = create_app(settings, factory, KeyVault(SECRET))
    tenants_api.install(app)
    billing_api.install(app)
    keys = {name: secrets.token_bytes(16) for name in (
        "app_key", "nwk_key", "nwk_s_key", "app_s_key", "f_nwk_s_int_key", "s_nwk_s_int_key", "nwk_s_enc_key",
        "mc_key", "abp11_app_s_key")}
    secrets_: dict[str, bytes | str] = dict(keys)
    with TestClient(app) as client:
        def call(method: str, path: str, expect: int, **kw: object) -> dict[str, object]:
            r = client.request(method, f"/api/v1{path}", headers={"Authorization": f"Bearer {ADMIN}"}, **kw)
            assert r.status_code == expect, r.text
            return r.json() if r.content else {}

        tenant = call("POST", "/tenants", 201, json={"name": "Acme", "slug": "acme"})["id"]
        call("POST", "/devices", 201, json={"dev_eui": "0004a30b001c0530", "name": "otaa", "tenant_id": tenant,
                                             "join_eui": "70b3d57ed0000000", "app_key": keys["app_key"].hex(),
                                             "nwk_key": keys["nwk_key"].hex()})
        call("POST", "/devices", 201, json={"dev_eui": "0004a30b001c0531", "name": "abp", "tenant_id": tenant})
        call("POST", "/devices/0004a30b001c0531/activate", 200, json={
            "dev_addr": "26011bda", "nwk_s_key": keys["nwk_s_key"].hex(), "app_s_key": keys["app_s_key"].hex()})
        call("POST", "/devices", 201, json={"dev_eui": "0004a30b001c0532", "name": "abp 1.1", "tenant_id": tenant})
        call("POST", "/devices/0004a30b001c0532/activate", 200, json={
            "dev_addr": "26011bdb", "mac_version": "1.1.0", "f_nwk_s_int_key": keys["f_nwk_s_int_key"].hex(),
            "s_nwk_s_int_key": keys["s_nwk_s_int_key"].hex(), "nwk_s_enc_key": keys["nwk_s_enc_key"].hex(),
            "app_s_key": keys["abp11_app_s_key"].hex()})
        call("POST", "/multicast-groups", 201, json={"name": "lamps", "tenant_id": tenant, "group_class": "C",
                                                      "mc_key": keys["mc_key"].hex()})
        secrets_["api_key"] = str(call("POST", "/api-keys", 201, json={"name": "k", "role": "tenant_admin",
                                                                         "tenant_id": tenant})["key"])
    with factory() as s:
        ensure_city_tenant(s)
        s.commit()
        create_user(s, email="ann@acme.test", password=PASSWORD, role=Role.TENANT_ADMIN, tenant_slug="acme",
                    now=datetime.now(UTC))
    secrets_["password"] = PASSWORD
    engine.dispose()
    yield url, secrets_


def test_a_pg_dump_holds_no_key_in_clear(populated: tuple[str, dict[str, bytes | str]],
                                         postgres_server: Service) -> None:
    url, found_secrets = populated
    dump = subprocess.run(
        [_pg_bin("pg_dump"), "-h", "127.0.0.1", "-p", str(postgres_server.port), "-U", "lora",
         "--no-owner", url.rsplit("/", 1)[1]],
        check=True, capture_output=True, text=True,
    ).stdout
    lowered = dump.lower()
    assert "0004a30b001c0531" in lowered and "device_keys" in lowered  # the dump holds the data: a real check
    leaks = []
    for name, value in found_secrets.items():
        forms = [value] if isinstance(value, str) else [value.hex(), base64.b64encode(value).decode(),
                                                        base64.b64encode(value).decode().rstrip("=")]
        for form in forms:
            if form.lower() in lowered:
                leaks.append(f"{name} found in clear ({form[:12]}…)")
    assert not leaks, leaks
