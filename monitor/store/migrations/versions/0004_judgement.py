"""The maintainer's judgement on each source, and an index on observations by run.

`sources.judgement` holds the catalog entry's `ignore`, `snooze_until`,
`maintenance` and `accept` (JSON), so the commands that read only the store
(`monitor status`) show them; `sources.ignored` lets a run skip ignored sources
in its one query for what is due. `observations.run_id` is indexed: a day's
report counts the sources its runs checked.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: SQLite would rebuild `sources`, which observations
    # and events point at, and its foreign keys (on in every store) would refuse that.
    op.add_column("sources", sa.Column("judgement", sa.String(), nullable=True))
    op.add_column(
        "sources", sa.Column("ignored", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index("ix_sources_ignored", "sources", ["ignored"])
    op.create_index("ix_observations_run_id", "observations", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_observations_run_id", "observations")
    op.drop_index("ix_sources_ignored", "sources")
    op.drop_column("sources", "ignored")  # SQLite 3.35+ drops columns in place
    op.drop_column("sources", "judgement")
