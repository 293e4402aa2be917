"""The digest of the catalog the sources were last taken from.

`monitor check` compares it with the catalog file's before reading any entry:
when they are equal (the common case: a list edited now and then, checked
every few hours) the entries are not parsed and the sources not compared.
A store without the row takes the catalog in on its next check.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("catalog")
