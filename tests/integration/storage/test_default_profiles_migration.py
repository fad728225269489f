"""Migration 0018_default_profiles on SQLite and PostgreSQL: devices registered without a profile before it get
their tenant's shared default profile, with the MAC version the network server assumed for them (uplink/join.py
``mac_version_of``: 1.1.0 with a NwkKey, else 1.0.3), their codec and class; a device with a profile keeps it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select

from lora_city.services.devices import encrypt_keys
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.db import make_engine, make_session_factory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.migrate import alembic_config
from lora_city.storage.models import Device, DeviceProfile
from tests.support.schema import all_migration_locations


def test_devices_without_a_profile_get_the_default_one(empty_database_url: str) -> None:
    url = empty_database_url
    cfg = alembic_config(url, all_migration_locations())
    command.upgrade(cfg, "0017_chirpstack_fields")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    vault = KeyVault("migration-test-secret")
    with transaction(factory) as s:
        city = ensure_city_tenant(s).id
        own = DeviceProfile(tenant_id=city, name="Lampe", mac_version="1.0.4", codec_id="nas-ul20x2")
        s.add(own)
        s.flush()
        s.add_all([
            Device(dev_eui="70b3d57ed0000001", tenant_id=city, name="a", codec_id="milesight-em300-di"),
            Device(dev_eui="70b3d57ed0000002", tenant_id=city, name="b", codec_id="milesight-em300-di"),
            Device(dev_eui="70b3d57ed0000003", tenant_id=city, name="c", codec_id="milesight-em300-di",
                   device_class="C"),
            Device(dev_eui="70b3d57ed0000004", tenant_id=city, name="d", codec_id="milesight-em300-di"),
            Device(dev_eui="70b3d57ed0000005", tenant_id=city, name="e", device_profile_id=own.id),
        ])
        s.flush()
        s.add(encrypt_keys(vault, "70b3d57ed0000002", "00" * 16, None, None))  # 1.0.x: AppKey only
        s.add(encrypt_keys(vault, "70b3d57ed0000004", "00" * 16, "11" * 16, None))  # NwkKey: LoRaWAN 1.1
        own_id = own.id

    command.upgrade(cfg, "heads")
    with factory() as s:
        devices = {d.dev_eui: d for d in s.scalars(select(Device))}
        profiles = {p.id: p for p in s.scalars(select(DeviceProfile))}
    assert all(d.device_profile_id for d in devices.values())
    assert devices["70b3d57ed0000005"].device_profile_id == own_id
    a, b, c, d = (profiles[devices[f"70b3d57ed000000{i}"].device_profile_id or ""] for i in range(1, 5))
    assert a.id == b.id  # one shared profile per codec, class and version in a tenant
    assert (a.name, a.codec_id, a.device_class, a.mac_version, a.tenant_id) == (
        "milesight-em300-di (class A, LoRaWAN 1.0.3)", "milesight-em300-di", "A", "1.0.3", city)
    assert (c.device_class, c.mac_version) == ("C", "1.0.3")
    assert (d.mac_version, d.device_class) == ("1.1.0", "A")
    assert len(profiles) == 4  # Lampe and the three defaults
    engine.dispose()
