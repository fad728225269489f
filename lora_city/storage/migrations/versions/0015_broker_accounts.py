"""broker accounts: each tenant's credentials on the product's MQTT broker (dynamic-security hashes)

Revision ID: 0015_broker_accounts
Revises: 0014_device_status_at
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0015_broker_accounts'
down_revision = '0014_device_status_at'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('broker_accounts',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('salt', sa.String(length=40), nullable=False),
    sa.Column('iterations', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_broker_accounts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_broker_accounts')),
    sa.UniqueConstraint('username', name=op.f('uq_broker_accounts_username'))
    )


def downgrade() -> None:
    op.drop_table('broker_accounts')
