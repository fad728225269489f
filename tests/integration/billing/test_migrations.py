"""The tenants and billing branches apply after the core, on SQLite and PostgreSQL, and match their models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from billing import MIGRATIONS as BILLING_MIGRATIONS
from lora_city.storage.db import make_engine
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import Base
from tenants import MIGRATIONS as TENANTS_MIGRATIONS
from tests.support.schema import ROOT, import_all_models

OURS = {"tenant_plans", "billing_usage_daily", "billing_price_tables", "billing_config", "billing_sequences",
        "billing_invoices", "billing_invoice_lines"}


def test_plugin_branches_upgrade_and_match_models(database_url: str) -> None:
    assert TENANTS_MIGRATIONS == ROOT / "tenants" / "migrations"
    assert BILLING_MIGRATIONS == ROOT / "billing" / "migrations"
    import_all_models()
    upgrade(database_url, [ROOT / "tenants" / "migrations", ROOT / "billing" / "migrations"])
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) >= OURS
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        ours = [d for d in diff if any(name in repr(d) for name in OURS)]
        assert ours == []
        upgrade(database_url, [TENANTS_MIGRATIONS, BILLING_MIGRATIONS])  # a second run is a no-op
    finally:
        engine.dispose()
