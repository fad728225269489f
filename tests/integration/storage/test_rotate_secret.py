"""Rotating the master key re-encrypts every secret at rest, atomically; the covered columns are complete."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import LargeBinary, select

from lora_city.errors import ConfigurationError
from lora_city.services.activation import AbpActivation, activate_abp
from lora_city.services.devices import DeviceCreate, register_device
from lora_city.services.principal import Principal, Role
from lora_city.sinks.integrations import IntegrationStore
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import SessionFactory, make_engine, make_session_factory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import Base, DeviceKeys, DeviceSession
from lora_city.storage.rotate import ENCRYPTED, rotate_secret

NOW = datetime(2026, 11, 22, tzinfo=UTC)
ADMIN = Principal(Role.ADMIN, None)
APP_KEY = "000102030405060708090a0b0c0d0e0f"
APP_S_KEY = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"


@pytest.fixture()
def sessions(database_url: str) -> Iterator[SessionFactory]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def _populate(sessions: SessionFactory, vault: KeyVault) -> str:
    with transaction(sessions) as s:
        city = ensure_city_tenant(s).id
    with sessions() as s:
        register_device(s, ADMIN, vault, DeviceCreate(dev_eui="70b3d57ed0000001", name="lamp", app_key=APP_KEY,
                                                      tenant_id=city), now=NOW)
        activate_abp(s, ADMIN, vault, "70b3d57ed0000001",
                     AbpActivation(dev_addr="26011f00", nwk_s_key=APP_KEY, app_s_key=APP_S_KEY), now=NOW)
        s.commit()
    IntegrationStore(sessions, vault).add_webhook(city, "http://127.0.0.1:9/hook", secret="hook-secret",
                                                  headers={"Authorization": "Bearer t"})
    return city


def test_rotation_rewrites_every_secret(sessions: SessionFactory) -> None:
    old, new = KeyVault("old-master"), KeyVault("new-master")
    _populate(sessions, old)
    # app key, 4 session keys (1.0: 3 equal copies), the hook's secret and its headers
    assert rotate_secret(sessions, old, new) == 1 + 4 + 2
    ctx = b"70b3d57ed0000001"
    with sessions() as s:
        keys = s.scalars(select(DeviceKeys)).one()
        assert new.decrypt(keys.app_key_enc, context=ctx) == bytes.fromhex(APP_KEY)
        with pytest.raises(ConfigurationError):
            old.decrypt(keys.app_key_enc, context=ctx)
        session_row = s.scalars(select(DeviceSession)).one()
        assert new.decrypt(session_row.app_s_key_enc, context=ctx) == bytes.fromhex(APP_S_KEY)
    [hook] = IntegrationStore(sessions, new).enabled()[1]
    assert hook.secret == b"hook-secret" and hook.headers == (("Authorization", "Bearer t"),)


def test_wrong_old_key_changes_nothing(sessions: SessionFactory) -> None:
    real = KeyVault("real-master")
    _populate(sessions, real)
    with pytest.raises(ConfigurationError):
        rotate_secret(sessions, KeyVault("not-the-master"), KeyVault("new"))
    with sessions() as s:  # still readable with the real key: the transaction rolled back
        keys = s.scalars(select(DeviceKeys)).one()
        assert real.decrypt(keys.app_key_enc, context=b"70b3d57ed0000001") == bytes.fromhex(APP_KEY)


def test_every_encrypted_column_is_rotated() -> None:
    import lora_city.storage.models  # noqa: F401 - registers every table

    covered = {(spec.model.__tablename__, c) for spec in ENCRYPTED for c in spec.columns}
    binary = {
        (table.name, col.name) for table in Base.metadata.tables.values() for col in table.columns
        if isinstance(col.type, LargeBinary) and (col.name.endswith("_enc") or col.name == "secret")
    }
    assert binary and binary <= covered


def test_cli_rotates(database_url: str, sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from lora_city.cli.main import app

    _populate(sessions, KeyVault("cli-old"))
    monkeypatch.setenv("LORA_CITY_DATABASE_URL", database_url)
    monkeypatch.setenv("LORA_CITY_SECRET_KEY", "cli-old")
    monkeypatch.setenv("LORA_CITY_NEW_SECRET_KEY", "cli-new")
    result = CliRunner().invoke(app, ["rotate-secret"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 7 secret(s)" in result.output
    [hook] = IntegrationStore(sessions, KeyVault("cli-new")).enabled()[1]
    assert hook.secret == b"hook-secret"
