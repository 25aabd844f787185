"""A round's correction window after a rejection; the municipal bureau's outcome per declaration

Revision ID: b13c0d1e2f04
Revises: b14c0d1e2f04
Create Date: 2026-11-30 19:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b13c0d1e2f04'
down_revision = 'b14c0d1e2f04'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correction_days', sa.Integer(), nullable=False,
                                      server_default='7'))
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('bureau_outcome', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('bureau_decided_on', sa.Date(), nullable=True))
    # A declaration rejected before this revision: its window starts at its last rejection
    # on the timeline.
    op.execute(
        "UPDATE declaration SET rejected_at = (SELECT max(status_change.at) FROM status_change"
        " WHERE status_change.target_type = 'declaration'"
        " AND status_change.target_id = declaration.id"
        " AND status_change.to_status = 'rejected') WHERE status = 'rejected'")


def downgrade():
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.drop_column('bureau_decided_on')
        batch_op.drop_column('bureau_outcome')
        batch_op.drop_column('rejected_at')
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_column('correction_days')
