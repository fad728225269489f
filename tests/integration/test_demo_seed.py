"""``serve --demo`` on a database that already holds the demo (a second start): nothing is duplicated, the
invoice is not issued twice, the three logins get new passwords (the old ones stop working)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from billing.models import Invoice, PriceTable
from lora_city.main import prepare_demo
from lora_city.portal.users import authenticate
from lora_city.settings import Settings
from lora_city.storage.db import make_engine, make_session_factory
from lora_city.storage.models import AlertRule, Asset, Device, Gateway, Reading, Tenant, User
from tenants.models import Plan

pytestmark = pytest.mark.slow
COUNTED = (Tenant, Gateway, Device, Asset, User, AlertRule, Plan, PriceTable, Invoice, Reading)


def test_a_second_start_reuses_the_demo(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", secret_key="demo-seed-test")
    first = prepare_demo(settings, None)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with factory() as s:
        counts = {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in COUNTED}
        lessee = s.scalar(select(Tenant).where(Tenant.slug == "aquareseau"))
        assert lessee is not None and lessee.plan_id is not None
        assert s.get(PriceTable, lessee.plan_id) is not None  # the lessee's plan has prices
        [invoice] = s.scalars(select(Invoice))
        assert invoice.tenant_id == lessee.id and invoice.total_cents > 0
    assert first.first_start and counts == {
        "Tenant": 2, "Gateway": 3, "Device": 12, "Asset": 12, "User": 3, "AlertRule": 4, "Plan": 1, "PriceTable": 1,
        "Invoice": 1, "Reading": 12 * 96}
    second = prepare_demo(settings, None)
    assert not second.first_start
    assert [d.dev_eui for d in second.devices] == [d.dev_eui for d in first.devices]
    with factory() as s:
        assert {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in COUNTED} == counts
        for old, new in zip(first.logins, second.logins, strict=True):
            assert old.email == new.email and old.password != new.password
            assert authenticate(s, new.email, new.password) is not None
            assert authenticate(s, old.email, old.password) is None
    engine.dispose()
