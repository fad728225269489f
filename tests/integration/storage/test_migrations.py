"""Migrations build exactly the schema the models declare, on SQLite and on a real PostgreSQL.

Every table registered on ``Base`` (core models and the plugin packages' models) must come from a migration;
a model changed without its migration fails here.
"""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import make_engine, make_session_factory, transaction
from lora_city.storage.models import Base, Tenant
from tests.support.schema import all_migration_locations, import_all_models


def test_migrations_match_models(empty_database_url: str) -> None:
    database_url = empty_database_url
    import_all_models()
    engine = make_engine(database_url)
    from lora_city.storage.migrate import upgrade

    upgrade(database_url, all_migration_locations())
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
    assert {"devices", "device_sessions", "readings", "tenants", "alerts"} <= set(Base.metadata.tables)
    upgrade(database_url, all_migration_locations())  # running again is a no-op
    engine.dispose()


def test_city_tenant_is_created_once(empty_database_url: str) -> None:
    database_url = empty_database_url
    from lora_city.storage.migrate import upgrade

    engine = make_engine(database_url)
    upgrade(database_url, all_migration_locations())
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        first = ensure_city_tenant(s).id
    with transaction(factory) as s:
        assert ensure_city_tenant(s).id == first
        assert s.query(Tenant).count() == 1
    engine.dispose()
