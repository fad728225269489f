"""fuota: campaigns and their devices; device profiles' application-layer packages; devices' GenAppKey

Revision ID: 0010_fuota
Revises: 0009_integrations
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_fuota'
down_revision = '0009_integrations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('device_profiles') as batch_op:
        batch_op.add_column(sa.Column('app_layer', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('device_keys') as batch_op:
        batch_op.add_column(sa.Column('gen_app_key_enc', sa.LargeBinary(), nullable=True))

    op.create_table('fuota_campaigns',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('image', sa.LargeBinary(), nullable=False),
    sa.Column('image_size', sa.Integer(), nullable=False),
    sa.Column('image_sha256', sa.String(length=64), nullable=False),
    sa.Column('frag_size', sa.Integer(), nullable=False),
    sa.Column('redundancy_pct', sa.Integer(), nullable=False),
    sa.Column('group_class', sa.String(length=1), nullable=False),
    sa.Column('dr', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.Integer(), nullable=False),
    sa.Column('ping_slot_periodicity', sa.Integer(), nullable=False),
    sa.Column('multicast_group_id', sa.String(length=36), nullable=True),
    sa.Column('owns_group', sa.Boolean(), nullable=False),
    sa.Column('mc_group_index', sa.Integer(), nullable=False),
    sa.Column('frag_index', sa.Integer(), nullable=False),
    sa.Column('descriptor', sa.String(length=8), nullable=False),
    sa.Column('session_cnt', sa.Integer(), nullable=False),
    sa.Column('session_timeout_exp', sa.Integer(), nullable=False),
    sa.Column('session_start_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unicast_timeout_s', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('fragments_sent', sa.Integer(), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_fuota_campaigns_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fuota_campaigns'))
    )
    with op.batch_alter_table('fuota_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fuota_campaigns_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('fuota_campaign_devices',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('dev_eui', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['fuota_campaigns.id'], name=op.f('fk_fuota_campaign_devices_campaign_id_fuota_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dev_eui'], ['devices.dev_eui'], name=op.f('fk_fuota_campaign_devices_dev_eui_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'dev_eui', name=op.f('pk_fuota_campaign_devices'))
    )
    with op.batch_alter_table('fuota_campaign_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fuota_campaign_devices_dev_eui'), ['dev_eui'], unique=False)


def downgrade() -> None:
    op.drop_table('fuota_campaign_devices')
    op.drop_table('fuota_campaigns')
    with op.batch_alter_table('device_keys') as batch_op:
        batch_op.drop_column('gen_app_key_enc')
    with op.batch_alter_table('device_profiles') as batch_op:
        batch_op.drop_column('app_layer')
