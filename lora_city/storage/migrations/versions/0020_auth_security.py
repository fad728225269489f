"""Password and API-key guessing (issue 19): the audit log of failed authentications, the throttles they set, and
a per-user session version that ends a user's portal sessions when bumped.

Revision ID: 0020_auth_security
Revises: 0019_f_cnt_bigint
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020_auth_security'
down_revision = '0019_f_cnt_bigint'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'auth_failures',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('account', sa.String(length=200), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_auth_failures_time', 'auth_failures', ['time'], unique=False)
    op.create_table(
        'auth_locks',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('scope', sa.String(length=20), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('locked', sa.Boolean(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_auth_locks_subject', 'auth_locks', ['scope', 'subject'], unique=True)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')
    op.drop_index('ix_auth_locks_subject', table_name='auth_locks')
    op.drop_table('auth_locks')
    op.drop_index('ix_auth_failures_time', table_name='auth_failures')
    op.drop_table('auth_failures')
