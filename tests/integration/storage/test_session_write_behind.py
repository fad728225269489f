"""The session write-behind (SessionStore.flush) on SQLite and PostgreSQL: what it writes through the driver reads
back exactly as the ORM's own write of the same values (issue 18 moved it off SQLAlchemy's per-row binding)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import make_engine, make_session_factory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import upgrade
from lora_city.storage.models import Device, DeviceSession
from lora_city.storage.sessions import SessionStore
from lora_city.uplink.adr import UplinkSample

pytestmark = pytest.mark.integration

SEEN = datetime(2026, 12, 5, 14, 3, 7, 250_001, tzinfo=UTC)


def test_flushed_sessions_read_back_as_the_orm_writes_them(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    vault = KeyVault("write-behind-secret")
    euis = ["70b3d57ed0000001", "70b3d57ed0000002"]
    with transaction(factory) as db:
        tenant_id = ensure_city_tenant(db).id
        for n, eui in enumerate(euis):
            key = vault.encrypt(bytes(range(16)), context=eui.encode())
            db.add(Device(dev_eui=eui, tenant_id=tenant_id, name=f"d{n}", dev_addr=f"0000000{n}"))
            db.flush()
            db.add(DeviceSession(id=f"00000000-0000-4000-8000-00000000000{n}", dev_eui=eui, dev_addr=f"0000000{n}",
                                 mac_version="1.0.3", f_nwk_s_int_key_enc=key, s_nwk_s_int_key_enc=key,
                                 nwk_s_enc_key_enc=key, app_s_key_enc=key, is_active=True, state={}))
    store = SessionStore(factory, vault)
    assert store.preload() == 2
    session = store.for_dev_eui(euis[0])
    assert session is not None
    session.f_cnt_up, session.last_f_cnt_up, session.n_f_cnt_down = 70_000, 69_999, 12
    for f_cnt in range(69_980, 70_000):
        session.add_sample(UplinkSample(f_cnt, -4.75, 3))
    session.heard_by = (("b0b0b0b0b0b00001", 9.5, -80.0), ("b0b0b0b0b0b00002", -1.25, -101.0))
    session.pending_mac = {"NewChannelReq": {"f_cnt": 69_990, "requests": [{"ch_index": 3, "frequency": 867_100_000}]}}
    session.extra_channels = {3: 867_100_000}
    session.last_seen_at = SEEN
    session.dirty = True
    assert store.flush() == 1
    with transaction(factory) as db:  # the second device gets the same time through the ORM, as before
        db.execute(update(Device).where(Device.dev_eui == euis[1]).values(last_seen_at=SEEN))

    with factory() as db:
        row = db.scalars(select(DeviceSession).where(DeviceSession.dev_eui == euis[0])).one()
        assert (row.f_cnt_up, row.last_f_cnt_up, row.n_f_cnt_down, row.a_f_cnt_down) == (70_000, 69_999, 12, 0)
        assert row.state["adr_history"][-1] == [69_999, -4.75, 3] and len(row.state["adr_history"]) == 20
        assert row.state["heard_by"] == [["b0b0b0b0b0b00001", 9.5, -80.0], ["b0b0b0b0b0b00002", -1.25, -101.0]]
        assert row.state["pending_mac"]["NewChannelReq"]["requests"] == [{"ch_index": 3, "frequency": 867_100_000}]
        assert row.state["extra_channels"] == {"3": 867_100_000}
        assert row.updated_at is not None
        raw = db.execute(text("SELECT dev_eui, last_seen_at FROM devices ORDER BY dev_eui")).all()
        assert raw[0][1] == raw[1][1]  # the stored time itself (SQLite: its text) equals the ORM's
        seen = db.scalars(select(Device.last_seen_at).where(Device.dev_eui == euis[0])).one()
        assert seen is not None and seen.replace(tzinfo=UTC) == SEEN
    again = SessionStore(factory, vault)  # a restarted server reads the flushed state back
    again.preload()
    reloaded = again.for_dev_eui(euis[0])
    assert reloaded is not None
    assert reloaded.adr_history == session.adr_history and reloaded.heard_by == session.heard_by
    assert (reloaded.f_cnt_up, reloaded.pending_mac) == (70_000, session.pending_mac)
    engine.dispose()
