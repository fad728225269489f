"""codec catalogue: vendors, models, profiles, versioned codecs and their scripts (issue 20); device profiles
remember the catalogue model and firmware they were filled from

Revision ID: 0011_codec_catalogue
Revises: 0010_fuota
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_codec_catalogue'
down_revision = '0010_fuota'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalogue_vendors',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_vendors'))
    )
    op.create_index(op.f('ix_catalogue_vendors_vendor_id'), 'catalogue_vendors', ['vendor_id'], unique=False)
    op.create_table('catalogue_scripts',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_catalogue_scripts'))
    )
    op.create_table('catalogue_models',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('vendor', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('sensors', sa.JSON(), nullable=False),
    sa.Column('firmware', sa.JSON(), nullable=False),
    sa.Column('hardware', sa.JSON(), nullable=False),
    sa.Column('product_url', sa.String(length=500), nullable=True),
    sa.Column('datasheet_url', sa.String(length=500), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['vendor'], ['catalogue_vendors.id'], name=op.f('fk_catalogue_models_vendor_catalogue_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_models'))
    )
    op.create_index(op.f('ix_catalogue_models_vendor'), 'catalogue_models', ['vendor'], unique=False)
    op.create_table('catalogue_profiles',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('vendor', sa.String(length=40), nullable=False),
    sa.Column('vendor_profile_id', sa.Integer(), nullable=True),
    sa.Column('mac_version', sa.String(length=8), nullable=False),
    sa.Column('regional_parameters_version', sa.String(length=32), nullable=False),
    sa.Column('supports_join', sa.Boolean(), nullable=False),
    sa.Column('supports_class_b', sa.Boolean(), nullable=False),
    sa.Column('supports_class_c', sa.Boolean(), nullable=False),
    sa.Column('max_eirp', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['vendor'], ['catalogue_vendors.id'], name=op.f('fk_catalogue_profiles_vendor_catalogue_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_profiles'))
    )
    op.create_index(op.f('ix_catalogue_profiles_vendor'), 'catalogue_profiles', ['vendor'], unique=False)
    op.create_table('catalogue_codecs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('codec_id', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('vendor', sa.String(length=40), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('scripts', sa.JSON(), nullable=False),
    sa.Column('examples', sa.JSON(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('loaded', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['vendor'], ['catalogue_vendors.id'], name=op.f('fk_catalogue_codecs_vendor_catalogue_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_codecs'))
    )
    op.create_index('ix_catalogue_codecs_codec_id_version', 'catalogue_codecs', ['codec_id', 'version'], unique=True)
    op.create_index(op.f('ix_catalogue_codecs_vendor'), 'catalogue_codecs', ['vendor'], unique=False)
    with op.batch_alter_table('device_profiles') as batch_op:
        batch_op.add_column(sa.Column('catalogue_model', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('firmware_version', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('device_profiles') as batch_op:
        batch_op.drop_column('firmware_version')
        batch_op.drop_column('catalogue_model')
    op.drop_index(op.f('ix_catalogue_codecs_vendor'), table_name='catalogue_codecs')
    op.drop_index('ix_catalogue_codecs_codec_id_version', table_name='catalogue_codecs')
    op.drop_table('catalogue_codecs')
    op.drop_index(op.f('ix_catalogue_profiles_vendor'), table_name='catalogue_profiles')
    op.drop_table('catalogue_profiles')
    op.drop_index(op.f('ix_catalogue_models_vendor'), table_name='catalogue_models')
    op.drop_table('catalogue_models')
    op.drop_table('catalogue_scripts')
    op.drop_index(op.f('ix_catalogue_vendors_vendor_id'), table_name='catalogue_vendors')
    op.drop_table('catalogue_vendors')
