"""The store's side tables: the daemon's heartbeat and the alert ledger (which channel was
sent which alert), as a part of `Store` of their own.

`Store` inherits these operations; they share its engine and transactions, and
none of them touches the sources' states.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.store.records import (
    CHANNELS,
    DELIVERIES,
    EVENTS,
    HEARTBEATS,
    OBSERVATIONS,
    RUNS,
    StoredEvent,
    chunks,
    events_where,
    new_id,
)


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


class Ledger:
    """Heartbeats and alert deliveries, over `engine`."""

    engine: Engine

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

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
            return new_id(result)

    def undelivered_alerts(self, channel_id: int) -> list[StoredEvent]:
        """Alert events raised since the channel was first seen and not yet delivered to it."""
        since = (
            sa.select(CHANNELS.c.since_event_id)
            .where(CHANNELS.c.id == channel_id)
            .scalar_subquery()
        )
        delivered = sa.select(DELIVERIES.c.event_id).where(DELIVERIES.c.channel_id == channel_id)
        return events_where(
            self.engine,
            sa.and_(
                EVENTS.c.alert.is_(True),
                EVENTS.c.id > since,
                EVENTS.c.id.not_in(delivered),
            ),
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
            for chunk in chunks(list(event_ids), 500):
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
