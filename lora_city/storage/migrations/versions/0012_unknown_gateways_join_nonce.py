"""unknown_gateways: gateways heard but not registered, for the operator to register (issue 23, defect 11);
device_keys.join_nonce: the JoinNonce counter a join server keeps per device (LoRaWAN 1.0.4 §6.2.6, 1.1 §6.2.3);
device_keys.rj_count1: the last rejoin-request type 1 counter accepted (1.1 §6.2.4.2, never reused per JSIntKey)

Revision ID: 0012_unknown_gateways_join_nonce
Revises: 0011_codec_catalogue
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_unknown_gateways_join_nonce'
down_revision = '0011_codec_catalogue'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'unknown_gateways',
        sa.Column('gateway_id', sa.String(length=16), nullable=False),
        sa.Column('transport', sa.String(length=16), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('frames', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('gateway_id', name=op.f('pk_unknown_gateways')),
    )
    with op.batch_alter_table('device_keys') as batch_op:
        batch_op.add_column(sa.Column('join_nonce', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('rj_count1', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('device_keys') as batch_op:
        batch_op.drop_column('rj_count1')
        batch_op.drop_column('join_nonce')
    op.drop_table('unknown_gateways')
