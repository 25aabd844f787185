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
    # Plain ADD COLUMN (no batch copy): SQLite would drop and rebuild ``round``, which the
    # declarations' foreign keys refuse.
    op.add_column('round', sa.Column('correction_days', sa.Integer(), nullable=False,
                                     server_default='7'))
    op.add_column('declaration', sa.Column('rejected_at', sa.DateTime(), nullable=True))
    op.add_column('declaration', sa.Column('bureau_outcome', sa.String(length=16),
                                           nullable=True))
    op.add_column('declaration', sa.Column('bureau_decided_on', sa.Date(), nullable=True))
    # A declaration rejected before this revision: its window starts at its last rejection
    # on the timeline.
    op.execute(
        "UPDATE declaration SET rejected_at = (SELECT max(status_change.at) FROM status_change"
        " WHERE status_change.target_type = 'declaration'"
        " AND status_change.target_id = declaration.id"
        " AND status_change.to_status = 'rejected') WHERE status = 'rejected'")


def downgrade():
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): no rebuild of the referenced tables.
    for column in ('bureau_decided_on', 'bureau_outcome', 'rejected_at'):
        op.drop_column('declaration', column)
    op.drop_column('round', 'correction_days')
