"""Per-gateway and network-wide hourly counters for the network health pages (issue 21, item 3): uplinks and
downlinks per channel and data rate, TX acknowledgements by status, joins, drops by reason; 7 days kept.

Revision ID: 0022_traffic_counts
Revises: 0021_alert_delays_flapping
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022_traffic_counts'
down_revision = '0021_alert_delays_flapping'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'traffic_counts',
        sa.Column('gateway_id', sa.String(length=16), nullable=False),
        sa.Column('hour', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('gateway_id', 'hour', 'kind', 'key', name=op.f('pk_traffic_counts')),
    )


def downgrade() -> None:
    op.drop_table('traffic_counts')
