"""Portal home: notices and policy documents (portal_item), downloadable files such as the
operation guide (portal_file)

Revision ID: c8a1d0e0f508
Revises: b13c0d1e2f04
Create Date: 2026-11-30 19:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c8a1d0e0f508'
down_revision = 'b13c0d1e2f04'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'portal_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title_zh', sa.String(length=200), nullable=False),
        sa.Column('body_zh', sa.Text(), nullable=False),
        sa.Column('title_en', sa.String(length=200), nullable=False),
        sa.Column('body_en', sa.Text(), nullable=False),
        sa.Column('published_on', sa.Date(), nullable=False),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_item')),
    )
    with op.batch_alter_table('portal_item', schema=None) as batch_op:
        batch_op.create_index('ix_portal_item_list', ['kind', 'published', 'published_on'],
                              unique=False)
    op.create_table(
        'portal_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('attachment_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'],
                                name=op.f('fk_portal_file_attachment_id_attachment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_file')),
        sa.UniqueConstraint('key', name=op.f('uq_portal_file_key')),
    )


def downgrade():
    op.drop_table('portal_file')
    with op.batch_alter_table('portal_item', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_item_list')
    op.drop_table('portal_item')
