"""tenants.language (the language of a tenant's invoices), user_invitations (invite by link, first password)

Revision ID: 0013_portal_accounts
Revises: 0012_unknown_gateways_join_nonce
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_portal_accounts'
down_revision = '0012_unknown_gateways_join_nonce'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenants') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=False, server_default='fr'))
    with op.batch_alter_table('tenants') as batch_op:
        batch_op.alter_column('language', server_default=None)
    op.create_table('user_invitations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_invitations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_invitations_token_hash'))
    )
    op.create_index(op.f('ix_user_invitations_user_id'), 'user_invitations', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_user_invitations_user_id'), table_name='user_invitations')
    op.drop_table('user_invitations')
    with op.batch_alter_table('tenants') as batch_op:
        batch_op.drop_column('language')
