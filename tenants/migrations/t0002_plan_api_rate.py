"""tenants: a plan's own API rate limit (requests per second and burst; null: the server's defaults)

Revision ID: t0002_plan_api_rate
Revises: t0001_plans
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 't0002_plan_api_rate'
down_revision = 't0001_plans'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenant_plans') as batch:
        batch.add_column(sa.Column('api_requests_per_s', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('api_burst', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenant_plans') as batch:
        batch.drop_column('api_burst')
        batch.drop_column('api_requests_per_s')
