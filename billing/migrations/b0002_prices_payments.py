"""billing: overage tiers and VAT per plan, payment instructions of the issuer, invoice payments

Revision ID: b0002_prices_payments
Revises: b0001_billing
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b0002_prices_payments'
down_revision = 'b0001_billing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('billing_price_tables') as batch_op:
        batch_op.add_column(sa.Column('overage_uplink_tiers', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('overage_airtime_tiers', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('vat_rate_bp', sa.Integer(), nullable=True))
    with op.batch_alter_table('billing_config') as batch_op:
        batch_op.add_column(sa.Column('payment_method', sa.String(length=20), nullable=False,
                                      server_default='transfer'))
        batch_op.add_column(sa.Column('iban', sa.String(length=34), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('bic', sa.String(length=11), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('payment_details', sa.String(length=500), nullable=False, server_default=''))
    # The server defaults only filled the existing rows; the models give every new row its value.
    with op.batch_alter_table('billing_price_tables') as batch_op:
        batch_op.alter_column('overage_uplink_tiers', server_default=None)
        batch_op.alter_column('overage_airtime_tiers', server_default=None)
    with op.batch_alter_table('billing_config') as batch_op:
        for column in ('payment_method', 'iban', 'bic', 'payment_details'):
            batch_op.alter_column(column, server_default=None)
    op.create_table('billing_payments',
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoices.id'], name=op.f('fk_billing_payments_invoice_id_billing_invoices')),
    sa.PrimaryKeyConstraint('invoice_id', name=op.f('pk_billing_payments'))
    )


def downgrade() -> None:
    op.drop_table('billing_payments')
    with op.batch_alter_table('billing_config') as batch_op:
        for column in ('payment_details', 'bic', 'iban', 'payment_method'):
            batch_op.drop_column(column)
    with op.batch_alter_table('billing_price_tables') as batch_op:
        for column in ('vat_rate_bp', 'overage_airtime_tiers', 'overage_uplink_tiers'):
            batch_op.drop_column(column)
