"""Import jobs: the back office's dry runs and imports of the old system's data, off the request

Revision ID: b12a0b1c2d03
Revises: b11e0f0a0b02
Create Date: 2026-11-30 19:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b12a0b1c2d03'
down_revision = 'b11e0f0a0b02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('stored', sa.String(length=100), nullable=False),
        sa.Column('round_name', sa.String(length=100), nullable=True),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('imported', sa.Integer(), nullable=False),
        sa.Column('refused', sa.Integer(), nullable=False),
        sa.Column('kept', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'],
                                name=op.f('fk_import_job_staff_id_staff_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['run_id'], ['import_job.id'],
                                name=op.f('fk_import_job_run_id_import_job'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job')),
    )
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.create_index('ix_import_job_created', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_index('ix_import_job_created')
    op.drop_table('import_job')
