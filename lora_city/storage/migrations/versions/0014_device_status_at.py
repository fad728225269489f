"""devices.status_at and devices.external_power: when the device last answered DevStatusReq and whether it said
it runs on external power (LoRaWAN 1.0.4 §5.6: battery 0), beside battery_level and margin (issue 23, defect 9)

Revision ID: 0014_device_status_at
Revises: 0013_portal_accounts
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_device_status_at'
down_revision = '0013_portal_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices') as batch_op:
        batch_op.add_column(sa.Column('status_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('external_power', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('devices') as batch_op:
        batch_op.drop_column('external_power')
        batch_op.drop_column('status_at')
