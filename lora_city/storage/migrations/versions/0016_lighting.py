"""lighting schedules, assignments, exceptions, overrides and the commands sent (issue 24)

Revision ID: 0016_lighting
Revises: 0015_broker_accounts
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016_lighting'
down_revision = '0015_broker_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lighting_schedules',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lighting_schedules_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lighting_schedules'))
    )
    with op.batch_alter_table('lighting_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lighting_schedules_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('lighting_assignments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('schedule_id', sa.String(length=36), nullable=False),
    sa.Column('target_kind', sa.String(length=10), nullable=False),
    sa.Column('target_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['lighting_schedules.id'],
                            name=op.f('fk_lighting_assignments_schedule_id_lighting_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lighting_assignments')),
    sa.UniqueConstraint('target_kind', 'target_id', name='uq_lighting_assignments_target')
    )
    with op.batch_alter_table('lighting_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lighting_assignments_schedule_id'), ['schedule_id'], unique=False)

    op.create_table('lighting_exceptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('schedule_id', sa.String(length=36), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['lighting_schedules.id'],
                            name=op.f('fk_lighting_exceptions_schedule_id_lighting_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lighting_exceptions'))
    )
    with op.batch_alter_table('lighting_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lighting_exceptions_schedule_id'), ['schedule_id'], unique=False)

    op.create_table('lighting_overrides',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.String(length=200), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lighting_overrides_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lighting_overrides'))
    )
    with op.batch_alter_table('lighting_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lighting_overrides_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('lighting_commands',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('schedule_id', sa.String(length=36), nullable=True),
    sa.Column('target_kind', sa.String(length=10), nullable=False),
    sa.Column('target_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('step_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('queue_ids', sa.JSON(), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('retried_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lighting_commands_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lighting_commands')),
    sa.UniqueConstraint('key', name=op.f('uq_lighting_commands_key'))
    )
    with op.batch_alter_table('lighting_commands', schema=None) as batch_op:
        batch_op.create_index('ix_lighting_commands_target', ['target_kind', 'target_id', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lighting_commands_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('lighting_commands')
    op.drop_table('lighting_overrides')
    op.drop_table('lighting_exceptions')
    op.drop_table('lighting_assignments')
    op.drop_table('lighting_schedules')
