"""The store: sources, observations, events and runs, in SQLite or PostgreSQL.

tables.py (SQLModel tables) -> migrations/ (Alembic; every schema change is a
migration, from the first table on) -> store.py (`Store`: the few operations a
run needs, each in one transaction).
"""

from __future__ import annotations

from monitor.store.store import Checked, Heartbeat, Store, StoredEvent, StoredRun, StoredSource

__all__ = ["Checked", "Heartbeat", "Store", "StoredEvent", "StoredRun", "StoredSource"]
