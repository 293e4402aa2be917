"""`Store`: the few operations a run needs, each one transaction, on SQLite or PostgreSQL.

    store = Store.connect("sqlite:///monitor.db")     # migrates to the latest schema
    store.sync_catalog(entries)                        # the catalog's entries become sources
    run = store.start_run(at=now)
    for batch in ...:
        store.record(run, batch)                       # observations + new states + events
    store.finish_run(run, status="completed", figures=...)

`record` writes a batch of checks atomically: a run killed at any moment leaves
every batch either fully stored or not at all, so the next run re-checks what
was not stored and never writes an event twice.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor.model import (
    Entry,
    EventType,
    Facts,
    Health,
    Kind,
    Source,
)
from monitor.store.ledger import Heartbeat, Ledger
from monitor.store.records import (
    CHANNELS,
    DELIVERIES,
    EVENTS,
    HEARTBEATS,
    OBSERVATIONS,
    RUNS,
    SOURCES,
    Checked,
    StoredEvent,
    StoredRun,
    StoredSource,
    chunks,
    events_where,
    facts_of,
    judgement_of,
    new_id,
    stored_source,
)
from monitor.store.sync import remember_digest, sync_entries, synced_digest

__all__ = [
    "CHANNELS",
    "DELIVERIES",
    "EVENTS",
    "HEAD",
    "HEARTBEATS",
    "OBSERVATIONS",
    "RUNS",
    "SOURCES",
    "Checked",
    "Heartbeat",
    "Store",
    "StoredEvent",
    "StoredRun",
    "StoredSource",
    "report_window",
]

#: The newest migration in `migrations/versions/` (a test holds the two together): a store
#: at this revision opens without Alembic.
HEAD = "0005"


class Store(Ledger):
    """The store behind one engine. Build it with `Store.connect(url)`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str, *, migrate: bool = True) -> Store:
        """Open the store at an SQLAlchemy URL and bring its schema up to date."""
        options: dict[str, Any] = {}
        if sa.engine.make_url(url).get_driver_name() == "psycopg":
            # psycopg prepares a statement on its 5th run, and PostgreSQL may then keep a
            # generic plan made while `sources` was nearly empty: the catalog sync's
            # lookups by key turned into full scans, each slower than the last (a
            # 100,000-entry catalog took 300 s to take in). Plain statements are planned
            # with the table as it is.
            options["connect_args"] = {"prepare_threshold": None}
        engine = sa.create_engine(url, future=True, **options)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        if migrate:
            store.upgrade()
        return store

    def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied."""
        if self.revision() == HEAD:
            return  # the common case, without loading Alembic and its scripts (~0.3 s)
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def revision(self) -> str | None:
        """The store's schema revision (Alembic's), None for an empty database."""
        with self.engine.connect() as db:
            if not sa.inspect(db).has_table("alembic_version"):
                return None
            return db.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def close(self) -> None:
        self.engine.dispose()

    # --- the catalog -------------------------------------------------------------------------

    def sync_catalog(
        self, entries: Iterable[Entry], now: datetime, *, digest: str | None = None
    ) -> bool:
        """Make the catalog's entries the active sources (`store.sync.sync_entries`), in
        one transaction, and return whether it had to.

        With the catalog's `digest`, a catalog the store already took in is not read at
        all: `entries` may be a generator that parses the file, and it is never started.
        Without one, the entries are always taken in (and the next digest is not trusted).
        """
        with self._transaction() as db:
            if digest is not None and (synced_digest(db) or ("", 0))[0] == digest:
                return False
            count = sync_entries(db, entries, now)
            remember_digest(db, digest, count, now)
        return True

    def synced_catalog(self) -> tuple[str, int] | None:
        """The digest of the catalog last taken in and its number of entries, if any."""
        with self.engine.connect() as db:
            return synced_digest(db)

    def due(self, now: datetime, interval: timedelta) -> list[tuple[int, Source]]:
        """Active sources not checked within `interval` (or checked after `now`: a clock
        that went back), most overdue (never checked) first,
        as the probes need them: (id, source) with the last facts and validators.

        No state beyond the facts is kept, so that a run over a large catalog holds one
        small object per source while it waits for the answers; the full state of each is
        read back (`stored`) when its answer is judged."""
        cutoff = now - interval
        query = (
            sa.select(
                SOURCES.c.id,
                SOURCES.c.key,
                SOURCES.c.url,
                SOURCES.c.kind,
                SOURCES.c.name,
                SOURCES.c.remote_id,
                SOURCES.c.validators,
                SOURCES.c.state,
                SOURCES.c.judgement,
            )
            .where(SOURCES.c.active.is_(True))
            .where(SOURCES.c.ignored.is_(False))
            .where(
                sa.or_(
                    SOURCES.c.last_checked_at.is_(None),
                    SOURCES.c.last_checked_at <= cutoff,
                    # Checked "in the future": a run made with a wrong --now. Due now, so
                    # that one slip with the clock cannot silence every later run.
                    SOURCES.c.last_checked_at > now,
                )
            )
            .order_by(
                SOURCES.c.last_checked_at.is_not(None), SOURCES.c.last_checked_at, SOURCES.c.id
            )
        )
        found = []
        with self.engine.connect() as db:
            # Streamed: psycopg would otherwise hold every due row's JSON state at once
            # (hundreds of MB at a million sources) besides the Sources made of them.
            for row in db.execution_options(stream_results=True, yield_per=1000).execute(query):
                facts = json.loads(row.state).get("facts")
                validators = (
                    tuple(sorted(json.loads(row.validators).items())) if row.validators else ()
                )
                found.append(
                    (
                        row.id,
                        Source(
                            row.key,
                            row.url,
                            Kind(row.kind),
                            row.name,
                            row.remote_id,
                            validators,
                            Facts.from_json(facts) if facts is not None else None,
                            judgement_of(row.judgement).accept,
                        ),
                    )
                )
        return found

    def stored(self, ids: Sequence[int]) -> dict[int, StoredSource]:
        """The sources with these ids, by id."""
        found: dict[int, StoredSource] = {}
        with self.engine.connect() as db:
            for chunk in chunks(list(ids), 500):
                for row in db.execute(sa.select(SOURCES).where(SOURCES.c.id.in_(chunk))):
                    found[row.id] = stored_source(row)
        return found

    def sources(self, *, active_only: bool = True) -> list[StoredSource]:
        return list(self.iter_sources(active_only=active_only))

    def iter_sources(
        self, *, active_only: bool = True, by_section: bool = False
    ) -> Iterator[StoredSource]:
        """Every (active) source, by id, read from the database a page at a time (psycopg
        would otherwise fetch the whole result first). `by_section`: grouped by section,
        the sections in catalog order (that of their first source), one query for all."""
        query = sa.select(SOURCES)
        if active_only:
            query = query.where(SOURCES.c.active.is_(True))
        if by_section:
            first = sa.select(SOURCES.c.section, sa.func.min(SOURCES.c.id).label("first"))
            if active_only:
                first = first.where(SOURCES.c.active.is_(True))
            grouped = first.group_by(SOURCES.c.section).subquery()
            query = query.join(grouped, grouped.c.section == SOURCES.c.section).order_by(
                grouped.c.first, SOURCES.c.id
            )
        else:
            query = query.order_by(SOURCES.c.id)
        with self.engine.connect() as db:
            rows = db.execution_options(stream_results=True, yield_per=1000).execute(query)
            for row in rows:
                yield stored_source(row)

    # --- runs --------------------------------------------------------------------------------

    def start_run(self, at: datetime, *, started_at: datetime | None = None) -> int:
        """Open a run; runs left "running" by a killed process become "interrupted"."""
        with self._transaction() as db:
            db.execute(
                sa.update(RUNS).where(RUNS.c.status == "running").values(status="interrupted")
            )
            result = db.execute(
                sa.insert(RUNS).values(
                    at=at,
                    report_date=at.astimezone(UTC).date().isoformat(),
                    started_at=started_at or datetime.now(UTC),
                    status="running",
                    degraded=False,
                    figures="{}",
                )
            )
            return new_id(result)

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        degraded: bool,
        figures: dict[str, Any],
        finished_at: datetime | None = None,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                sa.update(RUNS)
                .where(RUNS.c.id == run_id)
                .values(
                    status=status,
                    degraded=degraded,
                    figures=json.dumps(figures, sort_keys=True),
                    finished_at=finished_at or datetime.now(UTC),
                )
            )

    def runs(
        self,
        *,
        report_date: str | None = None,
        limit: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[StoredRun]:
        """Runs, newest first: of one report date, or whose clock falls in [since, until)."""
        query = sa.select(RUNS).order_by(RUNS.c.id.desc())
        if report_date is not None:
            query = query.where(RUNS.c.report_date == report_date)
        if since is not None:
            query = query.where(RUNS.c.at >= since)
        if until is not None:
            query = query.where(RUNS.c.at < until)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as db:
            return [
                StoredRun(
                    r.id,
                    r.at,
                    r.report_date,
                    r.started_at,
                    r.finished_at,
                    r.status,
                    r.degraded,
                    json.loads(r.figures),
                )
                for r in db.execute(query)
            ]

    def unreported_alerts(self, run_id: int) -> tuple[list[int], list[StoredEvent]]:
        """Runs before `run_id` that never reported their alerts (killed, interrupted or
        failed before the end), and the alerts they stored: the run `run_id` owes them."""
        with self.engine.connect() as db:
            runs = [
                r.id
                for r in db.execute(
                    sa.select(RUNS.c.id)
                    .where(RUNS.c.id < run_id)
                    .where(RUNS.c.alerts_reported_by.is_(None))
                )
            ]
        if not runs:
            return [], []
        alerts = events_where(
            self.engine, sa.and_(EVENTS.c.run_id.in_(runs), EVENTS.c.alert.is_(True))
        )
        return runs, alerts

    def mark_alerts_reported(self, run_ids: Sequence[int], *, by: int) -> None:
        """Record that run `by` reported the alerts of `run_ids` (its own among them)."""
        with self._transaction() as db:
            for chunk in chunks(list(run_ids), 500):
                db.execute(
                    sa.update(RUNS).where(RUNS.c.id.in_(chunk)).values(alerts_reported_by=by)
                )

    # --- checks ------------------------------------------------------------------------------

    def record(self, run_id: int, batch: Sequence[Checked]) -> None:
        """Store a batch of checks in one transaction: all of it, or none of it."""
        if not batch:
            return
        with self._transaction() as db:
            previous = facts_of(db, [c.source_id for c in batch])
            observations = []
            events = []
            # One executemany per shape of update (remote id and validators are optional).
            updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for checked in batch:
                facts = checked.observation.facts
                kept = None
                if facts is not None:
                    now_facts = facts.to_json()
                    if now_facts != previous.get(checked.source_id):
                        kept = json.dumps(now_facts, sort_keys=True, separators=(",", ":"))
                observations.append(
                    {
                        "source_id": checked.source_id,
                        "run_id": run_id,
                        "outcome": checked.observation.outcome.value,
                        "http_status": checked.observation.http_status,
                        "error": checked.observation.error,
                        "facts": kept,
                        "health": checked.state.health.value,
                    }
                )
                values: dict[str, Any] = {
                    "_id": checked.source_id,
                    "health": checked.state.health.value,
                    "last_checked_at": checked.state.last_checked_at,
                    "state": json.dumps(
                        checked.state.to_json(), sort_keys=True, separators=(",", ":")
                    ),
                }
                if checked.remote_id is not None:
                    values["remote_id"] = checked.remote_id
                if checked.validators is not None:
                    values["validators"] = (
                        json.dumps(dict(checked.validators), sort_keys=True)
                        if checked.validators
                        else None
                    )
                updates.setdefault(tuple(values), []).append(values)
                for event in checked.events:
                    events.append(
                        {
                            "source_id": checked.source_id,
                            "run_id": run_id,
                            "at": event.at,
                            "event": event.event.value,
                            "old": event.old,
                            "new": event.new,
                            "new_url": event.new_url,
                            "detail": event.detail,
                            "alert": event.alert,
                        }
                    )
            for shape, rows in updates.items():
                db.execute(
                    sa.update(SOURCES)
                    .where(SOURCES.c.id == sa.bindparam("_id"))
                    .values({name: sa.bindparam(name) for name in shape if name != "_id"}),
                    rows,
                )
            db.execute(sa.insert(OBSERVATIONS), observations)
            if events:
                db.execute(sa.insert(EVENTS), events)

    # --- reading back ------------------------------------------------------------------------

    def events(
        self,
        *,
        run_ids: Sequence[int] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        types: Collection[EventType] | None = None,
    ) -> list[StoredEvent]:
        """Events with their sources' catalog details, oldest first: of these runs, at or
        after `since`, before `until`, of these `types` (each None: any)."""
        conditions: list[sa.ColumnElement[bool]] = []
        if run_ids is not None:
            conditions.append(EVENTS.c.run_id.in_(list(run_ids)))
        if types is not None:
            conditions.append(EVENTS.c.event.in_(sorted(t.value for t in types)))
        if since is not None:
            conditions.append(EVENTS.c.at >= since)
        if until is not None:
            conditions.append(EVENTS.c.at < until)
        return events_where(self.engine, sa.and_(sa.true(), *conditions))

    def checked_in(self, run_ids: Sequence[int]) -> list[StoredSource]:
        """The sources observed in these runs, with their current state."""
        return list(self.iter_checked_in(run_ids))

    def iter_checked_in(
        self, run_ids: Sequence[int], *, page: int = 1000
    ) -> Iterator[StoredSource]:
        """`checked_in`, read a page at a time in id order: memory for one page, not all."""
        # EXISTS on the indexed source_id: each page walks the sources in id order and looks
        # up their few observations, instead of gathering the runs' observations again.
        observed = (
            sa.select(OBSERVATIONS.c.id)
            .where(OBSERVATIONS.c.source_id == SOURCES.c.id)
            .where(OBSERVATIONS.c.run_id.in_(list(run_ids)))
            .exists()
        )
        after = 0
        while True:
            query = (
                sa.select(SOURCES)
                .where(observed)
                .where(SOURCES.c.id > after)
                .order_by(SOURCES.c.id)
                .limit(page)
            )
            with self.engine.connect() as db:
                found = [stored_source(row) for row in db.execute(query)]
            yield from found
            if len(found) < page:
                return
            after = found[-1].id

    def count_checked_in(self, run_ids: Sequence[int]) -> int:
        """How many sources were observed in these runs."""
        query = sa.select(sa.func.count(sa.distinct(OBSERVATIONS.c.source_id))).where(
            OBSERVATIONS.c.run_id.in_(list(run_ids))
        )
        with self.engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def reported_ids(self, run_ids: Sequence[int]) -> list[int]:
        """Ids of the sources a day's report lists, ascending: those with an event in these
        runs, and the active ones not `ok` that have been checked at least once.

        Two indexed lookups (`sources.health`, `events.run_id`), so the work grows with what
        is listed, not with the catalog. A source never checked yet (`unknown`, deferred by
        a rate limit) is left out: a new catalog's backlog would list most of the catalog."""
        not_ok = (
            sa.select(SOURCES.c.id)
            .where(SOURCES.c.health.in_([h.value for h in Health if h is not Health.OK]))
            .where(SOURCES.c.active.is_(True))
            .where(SOURCES.c.ignored.is_(False))
            .where(SOURCES.c.last_checked_at.is_not(None))
        )
        eventful = sa.select(EVENTS.c.source_id).where(EVENTS.c.run_id.in_(list(run_ids)))
        query = sa.union(not_ok, eventful)  # UNION, not UNION ALL: each source once
        with self.engine.connect() as db:
            return sorted(int(i) for i in db.execute(query).scalars())

    def health_counts(self) -> dict[Health, int]:
        """How many active sources are in each health now (one GROUP BY); zeros left out."""
        query = (
            sa.select(SOURCES.c.health, sa.func.count())
            .where(SOURCES.c.active.is_(True))
            .where(SOURCES.c.ignored.is_(False))
            .group_by(SOURCES.c.health)
        )
        with self.engine.connect() as db:
            return {Health(health): int(count) for health, count in db.execute(query)}

    def source_keys(self) -> Iterator[tuple[int, str, str]]:
        """(id, key, section) of every source, retired ones too, by id: what a digest needs
        of each, without reading their states."""
        query = sa.select(SOURCES.c.id, SOURCES.c.key, SOURCES.c.section).order_by(SOURCES.c.id)
        with self.engine.connect() as db:
            for row in db.execution_options(stream_results=True, yield_per=5000).execute(query):
                yield row.id, row.key, row.section

    def kinds(self) -> list[str]:
        """The active sources' kinds, sorted: what the status page offers to filter by."""
        query = sa.select(SOURCES.c.kind).where(SOURCES.c.active.is_(True)).distinct()
        with self.engine.connect() as db:
            return sorted(db.execute(query).scalars())

    def never_checked_count(self) -> int:
        """How many active sources were never checked (all of them `unknown`)."""
        query = (
            sa.select(sa.func.count())
            .select_from(SOURCES)
            .where(SOURCES.c.last_checked_at.is_(None))
            .where(SOURCES.c.active.is_(True))
            .where(SOURCES.c.ignored.is_(False))
        )
        with self.engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def health_at(self, until: datetime) -> dict[int, Health]:
        """Each source's health after its last check before `until` (a past week's end)."""
        last = (
            sa.select(sa.func.max(OBSERVATIONS.c.id).label("id"))
            .join(RUNS, RUNS.c.id == OBSERVATIONS.c.run_id)
            .where(RUNS.c.at < until)
            .where(OBSERVATIONS.c.health.is_not(None))
            .group_by(OBSERVATIONS.c.source_id)
            .subquery()
        )
        query = sa.select(OBSERVATIONS.c.source_id, OBSERVATIONS.c.health).join(
            last, last.c.id == OBSERVATIONS.c.id
        )
        with self.engine.connect() as db:
            return {r.source_id: Health(r.health) for r in db.execute(query)}


def report_window(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL lets `monitor status` read while a run writes; NORMAL sync is crash-safe in WAL
    # mode (a kill -9 loses nothing committed), only a power cut may lose the last commit.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
