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
    # Rows the race wrote twice before these constraints existed: revisions are renumbered
    # in order per permit, and of several revisions pending for one permit the newest
    # stays pending (the others were the same form posted again).
    op.execute(
        "UPDATE permit_revision SET number = (SELECT COUNT(*) FROM permit_revision AS earlier"
        " WHERE earlier.permit_id = permit_revision.permit_id"
        " AND earlier.id <= permit_revision.id)")
    op.execute(
        "UPDATE permit_revision SET status = 'rejected', reason = '重复提交'"
        " WHERE status = 'pending' AND EXISTS (SELECT 1 FROM permit_revision AS later"
        " WHERE later.permit_id = permit_revision.permit_id AND later.status = 'pending'"
        " AND later.id > permit_revision.id)")
    with op.batch_alter_table('permit_revision', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_permit_revision_number', ['permit_id', 'number'])
        batch_op.create_index('uq_permit_revision_pending', ['permit_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"),
                              postgresql_where=sa.text("status = 'pending'"))
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.drop_constraint('uq_declaration_form_key', type_='unique')
        batch_op.create_unique_constraint('uq_declaration_user_form_key',
                                          ['enterprise_user_id', 'form_key'])


def downgrade():
    # --- one writer: constraints ---
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.drop_constraint('uq_declaration_user_form_key', type_='unique')
        batch_op.create_unique_constraint('uq_declaration_form_key', ['form_key'])
    with op.batch_alter_table('permit_revision', schema=None) as batch_op:
        batch_op.drop_index('uq_permit_revision_pending')
        batch_op.drop_constraint('uq_permit_revision_number', type_='unique')
    # --- server-side sessions ---
    with op.batch_alter_table('server_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_server_session_expiry'))

    op.drop_table('server_session')
