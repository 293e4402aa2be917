"""What the store hands out and takes in (`StoredSource`, `Checked`, `StoredEvent`,
`StoredRun`), its tables as SQLAlchemy `Table`s, and the helpers that turn rows into them.

Shared by `store.py` (the run's operations) and `ledger.py` (heartbeats and alert
deliveries), so that neither holds the other's code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.model import (
    ALERTS,
    Event,
    EventType,
    Judgement,
    Kind,
    Observation,
    SourceState,
)
from monitor.store.tables import (
    AlertChannelRow,
    AlertDeliveryRow,
    EventRow,
    HeartbeatRow,
    ObservationRow,
    RunRow,
    SourceRow,
)

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


def new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stored_source(row: Any) -> StoredSource:
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
        judgement_of(row.judgement),
    )


def judgement_of(text: str | None) -> Judgement:
    return Judgement.from_json(json.loads(text)) if text else Judgement()


def facts_of(db: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for chunk in chunks(ids, 500):
        for row in db.execute(
            sa.select(SOURCES.c.id, SOURCES.c.state).where(SOURCES.c.id.in_(chunk))
        ):
            state = json.loads(row.state)
            if "facts" in state:
                found[row.id] = state["facts"]
    return found


def events_where(engine: Engine, condition: sa.ColumnElement[bool]) -> list[StoredEvent]:
    """Events matching `condition`, with their sources' catalog details, oldest first."""
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
    with engine.connect() as db:
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
