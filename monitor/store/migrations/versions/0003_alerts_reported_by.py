"""Which run told people about each run's alerts (by its exit status and its channels).

A run killed between storing its events and reporting them leaves its alerts
unreported; the next run finds them here, counts them as its own and says so.
Runs stored before this revision reported their own alerts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("alerts_reported_by", sa.Integer(), nullable=True))
    op.execute("UPDATE runs SET alerts_reported_by = id")


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("alerts_reported_by")
