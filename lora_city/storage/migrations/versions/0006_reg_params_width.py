"""device_profiles.reg_params_revision wide enough for its own default ('RP002-1.0.3' is 11 characters)

Revision ID: 0006_reg_params_width
Revises: 0001_core
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_reg_params_width'
down_revision = '0001_core'
branch_labels = ('reg_params_width',)
depends_on = None


def upgrade() -> None:
    # PostgreSQL refused every profile insert (varchar(8)); SQLite never enforced the length.
    with op.batch_alter_table('device_profiles') as batch_op:
        batch_op.alter_column('reg_params_revision', existing_type=sa.String(length=8), type_=sa.String(length=16),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('device_profiles') as batch_op:
        batch_op.alter_column('reg_params_revision', existing_type=sa.String(length=16), type_=sa.String(length=8),
                              existing_nullable=False)
