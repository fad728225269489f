"""api: assets, asset/device history, idempotency keys

Revision ID: 0003_api
Revises: 0001_core
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003_api'
down_revision = '0001_core'
branch_labels = ('api',)
depends_on = None


def upgrade() -> None:
    op.create_table('assets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('external_ref', sa.String(length=100), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('photo_content_type', sa.String(length=100), nullable=True),
    sa.Column('notes', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_assets_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assets')),
    sa.UniqueConstraint('tenant_id', 'external_ref', name='uq_assets_tenant_external_ref')
    )
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assets_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('asset_devices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('asset_id', sa.String(length=36), nullable=False),
    sa.Column('dev_eui', sa.String(length=16), nullable=False),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unbound_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_asset_devices_asset_id_assets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_devices'))
    )
    with op.batch_alter_table('asset_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asset_devices_asset_id'), ['asset_id'], unique=False)
        batch_op.create_index('ix_asset_devices_dev_eui_unbound', ['dev_eui', 'unbound_at'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('principal', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('method_path', sa.String(length=300), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('principal', 'key', name=op.f('pk_idempotency_keys'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('asset_devices', schema=None) as batch_op:
        batch_op.drop_index('ix_asset_devices_dev_eui_unbound')
        batch_op.drop_index(batch_op.f('ix_asset_devices_asset_id'))
    op.drop_table('asset_devices')
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assets_tenant_id'))
    op.drop_table('assets')
