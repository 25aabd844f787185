"""Certification: the code as read before a correction, uncertain name characters, and the
checks a confirmed code fails (registrar, division, GB 11714) for staff to see

Revision ID: a3c5e7f9b1d4
Revises: e7d3a2b1c4f5
Create Date: 2026-11-30 17:15:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a3c5e7f9b1d4'
down_revision = 'e7d3a2b1c4f5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_code_corrected_from', sa.String(length=18),
                                      nullable=True))
        batch_op.add_column(sa.Column('ocr_name_uncertain', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('code_problems', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.drop_column('code_problems')
        batch_op.drop_column('ocr_name_uncertain')
        batch_op.drop_column('ocr_code_corrected_from')
