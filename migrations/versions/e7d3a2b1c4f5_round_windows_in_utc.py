"""Round windows in UTC: rounds saved before were kept as the office's local time

Until this release the round form stored the times as typed (office time) while every
comparison used UTC, so a deadline of 17:30 Beijing time closed at 01:30 the next day. This
moves the stored windows to UTC, in the zone the office runs in (TALENTADMIN_TIMEZONE,
default Asia/Shanghai).

Revision ID: e7d3a2b1c4f5
Revises: c5a9e1f0b7d2
Create Date: 2026-11-30 14:20:00

"""
import os
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = 'e7d3a2b1c4f5'
down_revision = 'c5a9e1f0b7d2'
branch_labels = None
depends_on = None

rounds = sa.table('round', sa.column('id', sa.Integer), sa.column('opens_at', sa.DateTime),
                  sa.column('closes_at', sa.DateTime))


def _shift(to_utc: bool) -> None:
    zone = ZoneInfo(os.environ.get('TALENTADMIN_TIMEZONE') or 'Asia/Shanghai')

    def convert(value):
        if to_utc:
            return value.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
        return value.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)

    connection = op.get_bind()
    for row in connection.execute(sa.select(rounds)).all():
        connection.execute(rounds.update().where(rounds.c.id == row.id).values(
            opens_at=convert(row.opens_at), closes_at=convert(row.closes_at)))


def upgrade():
    _shift(to_utc=True)


def downgrade():
    _shift(to_utc=False)
