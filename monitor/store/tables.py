"""The store's tables, as SQLModel classes.

Observations are kept small on purpose: one row per check, whose `facts` are
NULL when nothing changed since the source's previous facts, so a poll in which
nothing changed costs tens of bytes per source. A run's clock (`runs.at`) is the
time of all its observations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC in Python; `timestamptz` in PostgreSQL, UTC text in SQLite."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: monitor stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class SourceRow(SQLModel, table=True):
    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=2048)
    url: str = Field(max_length=4096)
    kind: str = Field(max_length=32)
    name: str = Field(default="", max_length=1024)
    section: str = Field(default="", max_length=1024)
    active: bool = Field(default=True)
    remote_id: str | None = Field(default=None, index=True, max_length=128)
    health: str = Field(default="unknown", max_length=16, index=True)
    last_checked_at: datetime | None = _utc(default=None, index=True)
    state: str = Field(default="{}")
    validators: str | None = Field(default=None)
    created_at: datetime = _utc()
    #: the maintainer's judgement from the catalog entry (JSON), None when it has none
    judgement: str | None = Field(default=None)
    #: `ignore = true`: never checked, never reported
    ignored: bool = Field(default=False, index=True)


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(index=True)
    report_date: str = Field(max_length=10, index=True)
    started_at: datetime = _utc()
    finished_at: datetime | None = _utc(default=None)
    status: str = Field(default="running", max_length=16)
    degraded: bool = Field(default=False)
    figures: str = Field(default="{}")
    #: the run whose exit status and alerts told people about this run's alerts
    alerts_reported_by: int | None = Field(default=None)


class ObservationRow(SQLModel, table=True):
    __tablename__ = "observations"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    run_id: int = Field(foreign_key="runs.id", index=True)
    outcome: str = Field(max_length=16)
    http_status: int | None = Field(default=None)
    error: str | None = Field(default=None)
    facts: str | None = Field(default=None)
    #: the source's health after this check: the weekly digest's "state at the end of a week"
    health: str | None = Field(default=None, max_length=16)


class EventRow(SQLModel, table=True):
    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    run_id: int = Field(foreign_key="runs.id", index=True)
    at: datetime = _utc()
    event: str = Field(max_length=32)
    old: str | None = Field(default=None)
    new: str | None = Field(default=None)
    new_url: str | None = Field(default=None)
    detail: str | None = Field(default=None)
    alert: bool = Field(default=False)
    alerted_at: datetime | None = _utc(default=None)


class HeartbeatRow(SQLModel, table=True):
    """The daemon's sign of life: what `monitor status` and the container healthcheck read."""

    __tablename__ = "heartbeats"

    name: str = Field(primary_key=True, max_length=32)
    pid: int
    host: str = Field(max_length=255)
    started_at: datetime = _utc()
    beat_at: datetime = _utc()
    last_run_at: datetime | None = _utc(default=None)
    last_status: str | None = Field(default=None, max_length=32)
    next_run_at: datetime | None = _utc(default=None)
    stopped_at: datetime | None = _utc(default=None)


class AlertChannelRow(SQLModel, table=True):
    """An alert destination, known by a fingerprint of its Apprise URL (never the URL itself).

    A channel receives the alerts raised after it was first seen (`since_event_id`),
    so adding a channel does not replay the store's whole history into it.
    """

    __tablename__ = "alert_channels"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(unique=True, max_length=64)
    since_event_id: int = Field(default=0)
    created_at: datetime = _utc()


class AlertDeliveryRow(SQLModel, table=True):
    """One alert event delivered to one channel: the bookkeeping that makes alerts exactly-once."""

    __tablename__ = "alert_deliveries"

    channel_id: int = Field(foreign_key="alert_channels.id", primary_key=True)
    event_id: int = Field(foreign_key="events.id", primary_key=True)
    delivered_at: datetime = _utc()


class CatalogRow(SQLModel, table=True):
    """The catalog the sources were last taken from, by digest (one row): a check whose
    catalog has the same digest has nothing to take in, and does not read its entries."""

    __tablename__ = "catalog"

    id: int = Field(default=1, primary_key=True)
    digest: str = Field(max_length=64)
    #: the entries it held (kept ones, after `[catalog] documents`)
    entries: int
    synced_at: datetime = _utc()
