"""Migrations build exactly the schema the models declare, on SQLite and on a real PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import make_engine, make_session_factory, transaction
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import Base, Tenant


def test_migrations_match_models(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(database_url)
    core_tables = {t for t in Base.metadata.tables if t in inspect(engine).get_table_names()}
    assert {"devices", "device_sessions", "readings", "tenants"} <= core_tables
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(ctx, Base.metadata) if _is_core(d)]
    assert diff == []
    # running again is a no-op
    upgrade(database_url)
    engine.dispose()


def _is_core(diff: object) -> bool:
    text = repr(diff)
    return not any(f"'{t}'" in text for t in _plugin_tables())


def _plugin_tables() -> set[str]:
    # Tables other packages add to Base through their own migration branches are checked by their own tests.
    core = {
        "api_keys", "applications", "dev_nonces", "device_keys", "device_profiles", "device_queue",
        "device_sessions", "devices", "events", "gateways", "readings", "tenants", "users",
    }
    return set(Base.metadata.tables) - core


def test_city_tenant_is_created_once(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        first = ensure_city_tenant(s).id
    with transaction(factory) as s:
        assert ensure_city_tenant(s).id == first
        assert s.query(Tenant).count() == 1
    engine.dispose()
