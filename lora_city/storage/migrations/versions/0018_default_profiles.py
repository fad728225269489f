"""Every device has a device profile: devices registered without one get their tenant's shared default profile
("<codec> (class X, LoRaWAN V)", as services/profiles.py ``default_profile`` makes for new ones), with the MAC
version the network server assumed for them (1.1.0 with a NwkKey, else 1.0.3), so nothing changes on the air and
ChirpStack API clients see each device with its profile and codec

Revision ID: 0018_default_profiles
Revises: 0017_chirpstack_fields
Create Date: 2026-12-05
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0018_default_profiles'
down_revision = '0017_chirpstack_fields'
branch_labels = None
depends_on = None

PROFILES = sa.table(
    'device_profiles',
    sa.column('id', sa.String), sa.column('tenant_id', sa.String), sa.column('name', sa.String),
    sa.column('region', sa.String), sa.column('mac_version', sa.String), sa.column('reg_params_revision', sa.String),
    sa.column('device_class', sa.String), sa.column('supports_otaa', sa.Boolean), sa.column('codec_id', sa.String),
    sa.column('catalogue_model', sa.String), sa.column('firmware_version', sa.String),
    sa.column('adr_enabled', sa.Boolean), sa.column('uplink_interval_s', sa.Integer),
    sa.column('app_layer', sa.JSON), sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('updated_at', sa.DateTime(timezone=True)),
)
DEVICES = sa.table('devices', sa.column('dev_eui', sa.String), sa.column('device_profile_id', sa.String))


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT d.dev_eui, d.tenant_id, d.codec_id, d.device_class, k.nwk_key_enc "
        "FROM devices d LEFT JOIN device_keys k ON k.dev_eui = d.dev_eui "
        "WHERE d.device_profile_id IS NULL ORDER BY d.dev_eui")).all()
    made: dict[tuple[str, str], str] = {}
    now = datetime.now(UTC)
    for dev_eui, tenant_id, codec_id, device_class, nwk_key_enc in rows:
        cls = (device_class or 'A').upper()
        version = '1.1.0' if nwk_key_enc is not None else '1.0.3'
        name = f"{codec_id or 'no codec'} (class {cls}, LoRaWAN {version})"
        profile_id = made.get((tenant_id, name))
        if profile_id is None:
            profile_id = conn.execute(sa.text(
                "SELECT id FROM device_profiles WHERE tenant_id = :t AND name = :n AND catalogue_model IS NULL "
                "ORDER BY created_at LIMIT 1"), {"t": tenant_id, "n": name}).scalar()
        if profile_id is None:
            profile_id = str(uuid.uuid4())
            conn.execute(PROFILES.insert().values(
                id=profile_id, tenant_id=tenant_id, name=name, region='EU868', mac_version=version,
                reg_params_revision='RP002-1.0.3', device_class=cls, supports_otaa=True, codec_id=codec_id,
                catalogue_model=None, firmware_version=None, adr_enabled=True, uplink_interval_s=3600, app_layer={},
                created_at=now, updated_at=now))
        made[(tenant_id, name)] = profile_id
        conn.execute(DEVICES.update().where(DEVICES.c.dev_eui == dev_eui).values(device_profile_id=profile_id))


def downgrade() -> None:
    # The devices keep their profile: it says what the server assumed without one, so nothing to undo.
    pass
