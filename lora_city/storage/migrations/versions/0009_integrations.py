"""integrations: tenant MQTT brokers and webhook settings, delivery log, configuration generations

Revision ID: 0009_integrations
Revises: 0008_multicast_groups
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009_integrations'
down_revision = '0008_multicast_groups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('events', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('encoding', sa.String(length=10), nullable=False, server_default='json'))
        batch_op.add_column(sa.Column('headers_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('event_urls', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('username', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('password_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('ca_cert', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('client_cert', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('client_key_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('topic_template', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('qos', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE integrations SET updated_at = created_at")
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('name', server_default=None)
        batch_op.alter_column('encoding', server_default=None)
        batch_op.alter_column('qos', server_default=None)

    # One pump now delivers both kinds: the webhook rows journaled by the previous version keep their order.
    op.execute("UPDATE outbox SET target = 'integration:' || substr(target, 9) WHERE target LIKE 'webhook:%'")

    op.create_table('integration_deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('integration_id', sa.String(length=36), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=10), nullable=False),
    sa.Column('dev_eui', sa.String(length=16), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_integration_deliveries_integration_id_integrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_deliveries'))
    )
    with op.batch_alter_table('integration_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_integration_deliveries_integration_id_id', ['integration_id', 'id'], unique=False)

    op.create_table('config_generations',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_config_generations'))
    )


def downgrade() -> None:
    op.drop_table('config_generations')
    with op.batch_alter_table('integration_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_integration_deliveries_integration_id_id')
    op.drop_table('integration_deliveries')
    op.execute("UPDATE outbox SET target = 'webhook:' || substr(target, 13) WHERE target LIKE 'integration:%'")
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        for column in ('updated_at', 'qos', 'topic_template', 'client_key_enc', 'client_cert', 'ca_cert',
                       'password_enc', 'username', 'event_urls', 'headers_enc', 'encoding', 'events', 'name'):
            batch_op.drop_column(column)
