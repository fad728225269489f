"""asset_devices.bound_by: who bound the device to the asset (a technician reads the readings of the assets it
works on, issue 17)

Revision ID: 0007_asset_bound_by
Revises: 0003_api
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_asset_bound_by'
down_revision = '0003_api'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('asset_devices') as batch_op:
        batch_op.add_column(sa.Column('bound_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('asset_devices') as batch_op:
        batch_op.drop_column('bound_by')
