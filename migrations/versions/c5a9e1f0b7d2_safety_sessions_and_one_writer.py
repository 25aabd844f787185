"""Safety: server-side sessions; one writer (unique constraints for state changes)

Revision ID: c5a9e1f0b7d2
Revises: 84b9f112bd4e
Create Date: 2026-11-30 13:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c5a9e1f0b7d2'
down_revision = '84b9f112bd4e'
branch_labels = None
depends_on = None


def upgrade():
    # --- server-side sessions ---
    pass
    # --- one writer: constraints ---
    pass


def downgrade():
    # --- one writer: constraints ---
    pass
    # --- server-side sessions ---
    pass
