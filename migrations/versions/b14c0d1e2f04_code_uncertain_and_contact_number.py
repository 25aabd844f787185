"""Certification: the low-scored characters of the credit code as read; permit: the contact
number takes a landline with its area code and extension

Revision ID: b14c0d1e2f04
Revises: b12a0b1c2d03
Create Date: 2026-11-30 19:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b14c0d1e2f04'
down_revision = 'b12a0b1c2d03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_code_uncertain', sa.String(length=64), nullable=True))
    with op.batch_alter_table('permit_revision', schema=None) as batch_op:
        batch_op.alter_column('contact_mobile', existing_type=sa.String(length=11),
                              type_=sa.String(length=32), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('permit_revision', schema=None) as batch_op:
        batch_op.alter_column('contact_mobile', existing_type=sa.String(length=32),
                              type_=sa.String(length=11), existing_nullable=False)
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.drop_column('ocr_code_uncertain')
