"""The store: sources, observations, events and runs, in SQLite or PostgreSQL.

tables.py (SQLModel tables) -> migrations/ (Alembic; every schema change is a
migration, from the first table on) -> records.py (what the store hands out, and
rows turned into it) -> sync.py (the catalog taken in, a batch at a time) and
ledger.py (heartbeats, alert deliveries) -> store.py (`Store`: the few operations
a run needs, each in one transaction). lock.py: one writer per store.
"""

from __future__ import annotations

from monitor.store.store import Checked, Heartbeat, Store, StoredEvent, StoredRun, StoredSource

__all__ = ["Checked", "Heartbeat", "Store", "StoredEvent", "StoredRun", "StoredSource"]
