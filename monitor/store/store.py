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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.model import (
    ALERTS,
    Entry,
    Event,
    EventType,
    Facts,
    Health,
    Judgement,
    Kind,
    Observation,
    Source,
    SourceState,
)
from monitor.store.sync import remember_digest, sync_entries, synced_digest
from monitor.store.tables import (
    AlertChannelRow,
    AlertDeliveryRow,
    EventRow,
    HeartbeatRow,
    ObservationRow,
    RunRow,
    SourceRow,
)

#: The newest migration in `migrations/versions/` (a test holds the two together): a store
#: at this revision opens without Alembic.
HEAD = "0005"

SOURCES = SourceRow.__table__  # type: ignore[attr-defined]
RUNS = RunRow.__table__  # type: ignore[attr-defined]
OBSERVATIONS = ObservationRow.__table__  # type: ignore[attr-defined]
EVENTS = EventRow.__table__  # type: ignore[attr-defined]
HEARTBEATS = HeartbeatRow.__table__  # type: ignore[attr-defined]
CHANNELS = AlertChannelRow.__table__  # type: ignore[attr-defined]
DELIVERIES = AlertDeliveryRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class StoredSource:
    """A source as the store knows it: its catalog identity and its current state."""

    id: int
    key: str
    url: str
    kind: Kind
    name: str
    section: str
    state: SourceState
    remote_id: str | None = None
    validators: tuple[tuple[str, str], ...] = ()
    judgement: Judgement = field(default_factory=Judgement)


@dataclass(frozen=True, slots=True)
class Checked:
    """One check ready to be stored: what was seen, what is now believed, what it raised."""

    source_id: int
    observation: Observation
    state: SourceState
    events: tuple[Event, ...] = ()
    remote_id: str | None = None
    #: None keeps the stored validators; () clears them
    validators: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event read back with its source's catalog details."""

    event: Event
    id: int
    run_id: int
    name: str
    section: str
    alerted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredRun:
    id: int
    at: datetime
    report_date: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    degraded: bool
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The daemon's last sign of life, and what its last run did."""

    name: str
    pid: int
    host: str
    started_at: datetime
    beat_at: datetime
    last_run_at: datetime | None = None
    last_status: str | None = None
    next_run_at: datetime | None = None
    stopped_at: datetime | None = None


class Store:
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

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

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
                            _judgement(row.judgement).accept,
                        ),
                    )
                )
        return found

    def stored(self, ids: Sequence[int]) -> dict[int, StoredSource]:
        """The sources with these ids, by id."""
        found: dict[int, StoredSource] = {}
        with self.engine.connect() as db:
            for chunk in _chunks(list(ids), 500):
                for row in db.execute(sa.select(SOURCES).where(SOURCES.c.id.in_(chunk))):
                    found[row.id] = _stored(row)
        return found

    def sources(self, *, active_only: bool = True) -> list[StoredSource]:
        return list(self.iter_sources(active_only=active_only))

    def iter_sources(
        self, *, active_only: bool = True, section: str | None = None
    ) -> Iterator[StoredSource]:
        """Every (active) source, by id, or those of one `section`, read from the database
        a page at a time (psycopg would otherwise fetch the whole result first)."""
        query = sa.select(SOURCES).order_by(SOURCES.c.id)
        if active_only:
            query = query.where(SOURCES.c.active.is_(True))
        if section is not None:
            query = query.where(SOURCES.c.section == section)
        with self.engine.connect() as db:
            rows = db.execution_options(stream_results=True, yield_per=1000).execute(query)
            for row in rows:
                yield _stored(row)

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
            return _new_id(result)

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
        alerts = self._events(sa.and_(EVENTS.c.run_id.in_(runs), EVENTS.c.alert.is_(True)))
        return runs, alerts

    def mark_alerts_reported(self, run_ids: Sequence[int], *, by: int) -> None:
        """Record that run `by` reported the alerts of `run_ids` (its own among them)."""
        with self._transaction() as db:
            for chunk in _chunks(list(run_ids), 500):
                db.execute(
                    sa.update(RUNS).where(RUNS.c.id.in_(chunk)).values(alerts_reported_by=by)
                )

    # --- checks ------------------------------------------------------------------------------

    def record(self, run_id: int, batch: Sequence[Checked]) -> None:
        """Store a batch of checks in one transaction: all of it, or none of it."""
        if not batch:
            return
        with self._transaction() as db:
            previous = _facts_of(db, [c.source_id for c in batch])
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
        return self._events(sa.and_(sa.true(), *conditions))

    def _events(self, condition: sa.ColumnElement[bool]) -> list[StoredEvent]:
        query = (
            sa.select(
                EVENTS,
                SOURCES.c.key,
                SOURCES.c.url,
                SOURCES.c.kind,
                SOURCES.c.name,
                SOURCES.c.section,
            )
            .join(SOURCES, SOURCES.c.id == EVENTS.c.source_id)
            .where(condition)
            .order_by(EVENTS.c.at, EVENTS.c.id)
        )
        with self.engine.connect() as db:
            return [
                StoredEvent(
                    Event(
                        EventType(r.event),
                        r.key,
                        r.url,
                        Kind(r.kind),
                        r.at,
                        old=r.old,
                        new=r.new,
                        new_url=r.new_url,
                        detail=r.detail,
                        # Stored not alerting although its kind alerts: held by a snooze.
                        held=EventType(r.event) in ALERTS and not r.alert,
                    ),
                    r.id,
                    r.run_id,
                    r.name,
                    r.section,
                    r.alerted_at,
                )
                for r in db.execute(query)
            ]

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
                found = [_stored(row) for row in db.execute(query)]
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

    def layout(self) -> tuple[list[str], list[str]]:
        """The active sources' sections in catalog order (of their first source), and their
        kinds: how the status page arranges and filters the list."""
        first = sa.func.min(SOURCES.c.id)
        sections = (
            sa.select(SOURCES.c.section, first)
            .where(SOURCES.c.active.is_(True))
            .group_by(SOURCES.c.section)
            .order_by(first)
        )
        kinds = sa.select(SOURCES.c.kind).where(SOURCES.c.active.is_(True)).distinct()
        with self.engine.connect() as db:
            return (
                [row.section for row in db.execute(sections)],
                sorted(db.execute(kinds).scalars()),
            )

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

    # --- the daemon's heartbeat --------------------------------------------------------------

    def beat(self, heartbeat: Heartbeat) -> None:
        """Store the daemon's heartbeat, replacing the previous one of the same name."""
        values = {
            "pid": heartbeat.pid,
            "host": heartbeat.host[:255],
            "started_at": heartbeat.started_at,
            "beat_at": heartbeat.beat_at,
            "last_run_at": heartbeat.last_run_at,
            "last_status": heartbeat.last_status,
            "next_run_at": heartbeat.next_run_at,
            "stopped_at": heartbeat.stopped_at,
        }
        with self._transaction() as db:
            updated = db.execute(
                sa.update(HEARTBEATS).where(HEARTBEATS.c.name == heartbeat.name).values(**values)
            )
            if updated.rowcount == 0:
                db.execute(sa.insert(HEARTBEATS).values(name=heartbeat.name, **values))

    def heartbeat(self, name: str = "daemon") -> Heartbeat | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(HEARTBEATS).where(HEARTBEATS.c.name == name)).first()
        if row is None:
            return None
        return Heartbeat(
            row.name,
            row.pid,
            row.host,
            row.started_at,
            row.beat_at,
            row.last_run_at,
            row.last_status,
            row.next_run_at,
            row.stopped_at,
        )

    # --- alert deliveries --------------------------------------------------------------------

    def alert_channel(self, fingerprint: str, now: datetime) -> int:
        """The id of the channel with this fingerprint; a new channel starts after every
        event already stored, so it is not sent the store's history."""
        with self._transaction() as db:
            found = db.execute(
                sa.select(CHANNELS.c.id).where(CHANNELS.c.fingerprint == fingerprint)
            ).scalar()
            if found is not None:
                return int(found)
            latest = db.execute(sa.select(sa.func.max(EVENTS.c.id))).scalar() or 0
            result = db.execute(
                sa.insert(CHANNELS).values(
                    fingerprint=fingerprint, since_event_id=latest, created_at=now
                )
            )
            return _new_id(result)

    def undelivered_alerts(self, channel_id: int) -> list[StoredEvent]:
        """Alert events raised since the channel was first seen and not yet delivered to it."""
        since = (
            sa.select(CHANNELS.c.since_event_id)
            .where(CHANNELS.c.id == channel_id)
            .scalar_subquery()
        )
        delivered = sa.select(DELIVERIES.c.event_id).where(DELIVERIES.c.channel_id == channel_id)
        return self._events(
            sa.and_(
                EVENTS.c.alert.is_(True),
                EVENTS.c.id > since,
                EVENTS.c.id.not_in(delivered),
            )
        )

    def mark_delivered(self, channel_id: int, event_ids: Sequence[int], at: datetime) -> None:
        """Record that these events reached the channel; the first delivery of each also
        stamps the event's `alerted_at`."""
        if not event_ids:
            return
        with self._transaction() as db:
            db.execute(
                sa.insert(DELIVERIES),
                [{"channel_id": channel_id, "event_id": i, "delivered_at": at} for i in event_ids],
            )
            for chunk in _chunks(list(event_ids), 500):
                db.execute(
                    sa.update(EVENTS)
                    .where(EVENTS.c.id.in_(chunk))
                    .where(EVENTS.c.alerted_at.is_(None))
                    .values(alerted_at=at)
                )

    def observation_count(self) -> int:
        with self.engine.connect() as db:
            return int(
                db.execute(sa.select(sa.func.count()).select_from(OBSERVATIONS)).scalar_one()
            )

    def history(self, source_id: int) -> list[tuple[datetime, str, int | None]]:
        """(run time, outcome, HTTP status) of every check of one source, oldest first."""
        query = (
            sa.select(RUNS.c.at, OBSERVATIONS.c.outcome, OBSERVATIONS.c.http_status)
            .join(RUNS, RUNS.c.id == OBSERVATIONS.c.run_id)
            .where(OBSERVATIONS.c.source_id == source_id)
            .order_by(OBSERVATIONS.c.id)
        )
        with self.engine.connect() as db:
            return [(r.at, r.outcome, r.http_status) for r in db.execute(query)]


def report_window(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL lets `monitor status` read while a run writes; NORMAL sync is crash-safe in WAL
    # mode (a kill -9 loses nothing committed), only a power cut may lose the last commit.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _stored(row: Any) -> StoredSource:
    validators = tuple(sorted(json.loads(row.validators).items())) if row.validators else ()
    return StoredSource(
        row.id,
        row.key,
        row.url,
        Kind(row.kind),
        row.name,
        row.section,
        SourceState.from_json(json.loads(row.state)),
        row.remote_id,
        validators,
        _judgement(row.judgement),
    )


def _judgement(text: str | None) -> Judgement:
    return Judgement.from_json(json.loads(text)) if text else Judgement()


def _facts_of(db: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids, 500):
        for row in db.execute(
            sa.select(SOURCES.c.id, SOURCES.c.state).where(SOURCES.c.id.in_(chunk))
        ):
            state = json.loads(row.state)
            if "facts" in state:
                found[row.id] = state["facts"]
    return found
