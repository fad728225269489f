"""ChirpStack's tenant settings (limits, private gateways, description, tags), updated_at on tenants,
applications, device profiles, devices and gateways, and multicast groups without a McKey (given their session
keys through ChirpStack's API)

Revision ID: 0017_chirpstack_fields
Revises: 0016_lighting
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0017_chirpstack_fields'
down_revision = '0016_lighting'
branch_labels = None
depends_on = None

TABLES = ('tenants', 'applications', 'device_profiles', 'devices', 'gateways')


def upgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.String(length=1000), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('can_have_gateways', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('max_gateway_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('max_device_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('private_gateways_up', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('private_gateways_down', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=True))
    op.execute("UPDATE tenants SET tags = '{}'")
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        op.execute(f"UPDATE {table} SET updated_at = created_at")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.alter_column('tags', existing_type=sa.JSON(), nullable=False)
        for column in ('description', 'can_have_gateways', 'max_gateway_count', 'max_device_count',
                       'private_gateways_up', 'private_gateways_down'):
            batch_op.alter_column(column, server_default=None)
    with op.batch_alter_table('multicast_groups', schema=None) as batch_op:
        batch_op.alter_column('mc_key_enc', existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    # A group without a McKey cannot be represented before this revision: such groups are removed.
    op.execute("DELETE FROM multicast_groups WHERE mc_key_enc IS NULL")
    with op.batch_alter_table('multicast_groups', schema=None) as batch_op:
        batch_op.alter_column('mc_key_enc', existing_type=sa.LargeBinary(), nullable=False)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('updated_at')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        for column in ('tags', 'private_gateways_down', 'private_gateways_up', 'max_device_count',
                       'max_gateway_count', 'can_have_gateways', 'description'):
            batch_op.drop_column(column)
