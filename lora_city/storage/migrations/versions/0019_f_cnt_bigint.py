"""Frame counters are 32-bit unsigned (LoRaWAN 1.0.4 §4.3.1.5): BIGINT columns, so a counter past 2^31 - 1 is not
refused by PostgreSQL's 4-byte INTEGER (a failed session flush would have stalled every device's flush).

Revision ID: 0019_f_cnt_bigint
Revises: 0018_default_profiles
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019_f_cnt_bigint'
down_revision = '0018_default_profiles'
branch_labels = None
depends_on = None

COLUMNS = [
    ("device_sessions", "f_cnt_up", False), ("device_sessions", "last_f_cnt_up", True),
    ("device_sessions", "n_f_cnt_down", False), ("device_sessions", "a_f_cnt_down", False),
    ("device_queue", "f_cnt_down", True), ("readings", "f_cnt", False),
    ("multicast_groups", "f_cnt", False), ("multicast_queue", "f_cnt", False),
]


def upgrade() -> None:
    # SQLite stores every INTEGER in up to 8 bytes already: only the declared type changes, which is what the
    # models compare against; PostgreSQL rewrites the columns.
    for table, column, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=nullable)


def downgrade() -> None:
    for table, column, nullable in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=nullable)
