"""Taking the catalog in: its entries made the store's active sources, a batch at a time.

The catalog streams in (`StreamedCatalog.entries`); only one batch of entries and
the ids of the sources seen so far are held, so a million-entry catalog costs a
few tens of MB, not the catalog. Each batch reads back only its own sources, by
key. What the sync took in is remembered by digest (the `catalog` row), and a
catalog with the same digest is not taken in again: that is `Store.sync_catalog`'s
call, made before a single entry is read.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitor.catalog.kinds import identify
from monitor.model import Entry, Health, Judgement
from monitor.store.tables import CatalogRow, SourceRow

SOURCES = SourceRow.__table__  # type: ignore[attr-defined]
CATALOG = CatalogRow.__table__  # type: ignore[attr-defined]
BATCH = 1000
#: The sources' columns that come from the catalog (the rest is what checks learnt).
COLUMNS = ("key", "url", "kind", "name", "section", "active", "judgement", "ignored")


def judgement_json(judgement: Judgement) -> str | None:
    """The judgement as stored (None when the maintainer said nothing)."""
    data = judgement.to_json()
    return json.dumps(data, sort_keys=True) if data else None


def sync_entries(db: Connection, entries: Iterable[Entry], now: datetime) -> int:
    """Make `entries` the active sources, in batches; return how many there were.

    New ones are added, edits applied, the sources no entry names any more kept (with
    their history) but made inactive. An entry whose URL `catalog fix` changed takes
    over its old source through `previous_urls`, so its history follows it."""
    seen: set[int] = set()
    count = added = 0
    for batch in _batches(entries):
        count += len(batch)
        added += _sync_batch(db, batch, seen, now)
    stale = [
        row.id
        for row in db.execute(sa.select(SOURCES.c.id).where(SOURCES.c.active.is_(True)))
        if row.id not in seen
    ]
    for start in range(0, len(stale), 500):
        chunk = stale[start : start + 500]
        db.execute(sa.update(SOURCES).where(SOURCES.c.id.in_(chunk)).values(active=False))
    if db.dialect.name == "postgresql" and added > 1000:
        # The planner's statistics still describe the table before these rows: the run's
        # query for what is due would be planned for a table of a few rows.
        db.execute(sa.text("ANALYZE sources"))
    return count


def synced_digest(db: Connection) -> tuple[str, int] | None:
    """The digest of the catalog last taken in, and how many entries it had."""
    row = db.execute(sa.select(CATALOG.c.digest, CATALOG.c.entries)).first()
    return (row.digest, row.entries) if row is not None else None


def remember_digest(db: Connection, digest: str | None, entries: int, now: datetime) -> None:
    """Record what was taken in (None: a catalog with no digest, always taken in again)."""
    db.execute(sa.delete(CATALOG))
    if digest is not None:
        db.execute(sa.insert(CATALOG).values(id=1, digest=digest, entries=entries, synced_at=now))


def _batches(entries: Iterable[Entry]) -> Iterator[list[Entry]]:
    iterator = iter(entries)
    while batch := list(itertools.islice(iterator, BATCH)):
        yield batch


def _values(entry: Entry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "url": entry.url,
        "kind": entry.kind.value,
        "name": entry.display_name[:1024],
        "section": (entry.section or "")[:1024],
        "active": True,
        "judgement": judgement_json(entry.judgement),
        "ignored": entry.judgement.ignore,
    }


def _sync_batch(db: Connection, batch: list[Entry], seen: set[int], now: datetime) -> int:
    """Take in one batch; return how many sources it added."""
    wanted = {entry.key for entry in batch}
    for entry in batch:
        wanted.update(identify(previous).key for previous in entry.previous_urls)
    rows = _rows(db, wanted)
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for entry in batch:
        row = rows.get(entry.key)
        if row is None:
            for previous in entry.previous_urls:
                old = rows.get(identify(previous).key)
                if old is not None and old.id not in seen:
                    row = old
                    break
        values = _values(entry)
        if row is None:
            added.append(values)
            continue
        seen.add(row.id)
        if any(getattr(row, name) != values[name] for name in COLUMNS):
            changed.append({"_id": row.id, **values})
    if changed:
        db.execute(
            sa.update(SOURCES)
            .where(SOURCES.c.id == sa.bindparam("_id"))
            .values({name: sa.bindparam(name) for name in COLUMNS}),
            changed,
        )
    if added:
        db.execute(
            sa.insert(SOURCES),
            [
                {**values, "health": Health.UNKNOWN.value, "state": "{}", "created_at": now}
                for values in added
            ],
        )
        # The new rows' ids, so that the end of the sync does not retire them.
        seen.update(row.id for row in _rows(db, {v["key"] for v in added}).values())
    return len(added)


def _rows(db: Connection, keys: set[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = sa.select(SOURCES.c.id, *(SOURCES.c[name] for name in COLUMNS)).where(
            SOURCES.c.key.in_(chunk)
        )
        found.update((row.key, row) for row in db.execute(query))
    return found
