"""Alert rules' hold and clear delays and flap window; an alert's raise count and first raise (issue 21, "Alerts":
a rule raises only once its condition has held for its delay, resolves once it has been gone for its clear delay,
and a flapping alert is one alert with a count).

Revision ID: 0021_alert_delays_flapping
Revises: 0020_auth_security
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021_alert_delays_flapping'
down_revision = '0020_auth_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_rules') as batch_op:
        batch_op.add_column(sa.Column('hold_s', sa.Double(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('clear_s', sa.Double(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('flap_window_s', sa.Double(), nullable=False, server_default='3600'))
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.add_column(sa.Column('raise_count', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('first_raised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.drop_column('first_raised_at')
        batch_op.drop_column('raise_count')
    with op.batch_alter_table('alert_rules') as batch_op:
        batch_op.drop_column('flap_window_s')
        batch_op.drop_column('clear_s')
        batch_op.drop_column('hold_s')
