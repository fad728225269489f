"""multicast groups, their members and their queue (issue 24); also joins the core's heads into one

Revision ID: 0008_multicast_groups
Revises: 0007_asset_bound_by, 0004_sinks, 0005_alerts, 0006_reg_params_width
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_multicast_groups'
down_revision = ('0007_asset_bound_by', '0004_sinks', '0005_alerts', '0006_reg_params_width')
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('multicast_groups',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('mc_addr', sa.String(length=8), nullable=False),
    sa.Column('mc_key_enc', sa.LargeBinary(), nullable=False),
    sa.Column('mc_nwk_s_key_enc', sa.LargeBinary(), nullable=False),
    sa.Column('mc_app_s_key_enc', sa.LargeBinary(), nullable=False),
    sa.Column('f_cnt', sa.Integer(), nullable=False),
    sa.Column('group_class', sa.String(length=1), nullable=False),
    sa.Column('dr', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.Integer(), nullable=False),
    sa.Column('ping_slot_periodicity', sa.Integer(), nullable=False),
    sa.Column('codec_id', sa.String(length=100), nullable=True),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                            name=op.f('fk_multicast_groups_application_id_applications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_multicast_groups_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_multicast_groups')),
    sa.UniqueConstraint('mc_addr', name=op.f('uq_multicast_groups_mc_addr'))
    )
    with op.batch_alter_table('multicast_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_multicast_groups_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_multicast_groups_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('multicast_group_devices',
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('dev_eui', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dev_eui'], ['devices.dev_eui'],
                            name=op.f('fk_multicast_group_devices_dev_eui_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['multicast_groups.id'],
                            name=op.f('fk_multicast_group_devices_group_id_multicast_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'dev_eui', name=op.f('pk_multicast_group_devices'))
    )
    with op.batch_alter_table('multicast_group_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_multicast_group_devices_dev_eui'), ['dev_eui'], unique=False)

    op.create_table('multicast_queue',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('f_cnt', sa.Integer(), nullable=False),
    sa.Column('f_port', sa.Integer(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('gateways', sa.JSON(), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['multicast_groups.id'],
                            name=op.f('fk_multicast_queue_group_id_multicast_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_multicast_queue'))
    )
    with op.batch_alter_table('multicast_queue', schema=None) as batch_op:
        batch_op.create_index('ix_multicast_queue_group_state', ['group_id', 'state'], unique=False)


def downgrade() -> None:
    op.drop_table('multicast_queue')
    op.drop_table('multicast_group_devices')
    op.drop_table('multicast_groups')
