"""The store on SQLite and a real PostgreSQL: migrations, catalog sync, due order, atomicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from monitor.catalog.kinds import identify
from monitor.model import (
    Entry,
    Event,
    EventType,
    Facts,
    Health,
    Kind,
    Observation,
    Outcome,
    SourceState,
)
from monitor.store import Checked, Heartbeat, Store
from monitor.store import store as store_module
from monitor.store.store import HEAD

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def entry(url: str, name: str = "", previous: tuple[str, ...] = ()) -> Entry:
    resource = identify(url)
    return Entry(
        url=url,
        kind=resource.kind,
        key=resource.key,
        name=name,
        section="S",
        previous_urls=previous,
    )


@pytest.fixture
def store(database_url: str) -> Store:
    return Store.connect(database_url)


def test_migrations_build_exactly_the_tables(store: Store) -> None:
    """After the migrations, the database matches the SQLModel tables: nothing missing or extra."""
    with store.engine.connect() as db:
        differences = compare_metadata(MigrationContext.configure(db), SQLModel.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(store: Store) -> None:
    """Running the migrations again on an up-to-date store changes nothing."""
    store.upgrade()
    with store.engine.connect() as db:
        assert db.execute(sa.text("select version_num from alembic_version")).scalar() == HEAD


def migrations() -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(Path(store_module.__file__).parent / "migrations")
    )
    return config


def test_head_names_the_newest_migration(store: Store) -> None:
    """`HEAD`, which lets an up-to-date store open without Alembic, is the scripts' own head."""
    assert ScriptDirectory.from_config(migrations()).get_current_head() == HEAD
    assert store.revision() == HEAD


def test_an_older_store_is_still_migrated(store: Store) -> None:
    """A store behind HEAD goes through Alembic: the shortcut only skips an up-to-date one."""
    config = migrations()
    with store.engine.begin() as db:
        config.attributes["connection"] = db
        command.downgrade(config, "0001")
    assert store.revision() == "0001"
    store.upgrade()
    assert store.revision() == HEAD
    with store.engine.connect() as db:
        assert sa.inspect(db).has_table("heartbeats")


def test_runs_stored_before_0003_count_as_reported(store: Store) -> None:
    """Migrating to 0003 marks every earlier run as having reported its own alerts."""
    config = migrations()
    with store.engine.begin() as db:
        config.attributes["connection"] = db
        command.downgrade(config, "0002")
    first = store.start_run(NOW)
    store.upgrade()
    assert store.unreported_alerts(first + 1) == ([], [])
    second = store.start_run(NOW)
    assert store.unreported_alerts(second + 1)[0] == [second]
    store.mark_alerts_reported([second], by=second)
    assert store.unreported_alerts(second + 1) == ([], [])


def test_sync_catalog_adds_updates_and_retires(store: Store) -> None:
    """Catalog entries become sources; renamed entries update; removed ones go inactive."""
    store.sync_catalog([entry("https://github.com/a/b", "B"), entry("https://github.com/c/d")], NOW)
    store.sync_catalog([entry("https://github.com/a/b", "Bee")], NOW)
    active = store.sources()
    assert [(s.url, s.name) for s in active] == [("https://github.com/a/b", "Bee")]
    assert len(store.sources(active_only=False)) == 2


def test_unchanged_catalog_sync_writes_nothing(store: Store) -> None:
    """Syncing the same catalog again issues no INSERT or UPDATE; one edited entry, one UPDATE."""
    entries = [entry(f"https://github.com/o/r{i}", f"R{i}") for i in range(5)]
    store.sync_catalog(entries, NOW)
    writes: list[str] = []

    def note(conn: object, cursor: object, statement: str, *rest: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            writes.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", note)
    try:
        store.sync_catalog(entries, NOW)
        assert writes == []
        store.sync_catalog([*entries[:4], entry("https://github.com/o/r4", "renamed")], NOW)
        assert len(writes) == 1
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", note)
    assert [s.name for s in store.sources()] == ["R0", "R1", "R2", "R3", "renamed"]


def test_previous_urls_keep_history(store: Store) -> None:
    """An entry whose URL was fixed keeps the source (and its history) of its previous URL."""
    store.sync_catalog([entry("https://github.com/Significant-Gravitas/Auto-GPT")], NOW)
    (old,) = store.sources()
    store.sync_catalog(
        [
            entry(
                "https://github.com/Significant-Gravitas/AutoGPT",
                previous=("https://github.com/Significant-Gravitas/Auto-GPT",),
            )
        ],
        NOW,
    )
    (new,) = store.sources()
    assert new.id == old.id and new.url.endswith("/AutoGPT")


def test_due_order_and_interval(store: Store) -> None:
    """Never-checked sources come first, then the longest unchecked; recent ones are not due."""
    store.sync_catalog([entry(f"https://github.com/o/r{i}") for i in range(4)], NOW)
    first, second, third, _ = store.sources()
    run = store.start_run(NOW)
    store.record(
        run,
        [
            Checked(
                first.id,
                Observation(first.key, NOW, Outcome.OK),
                SourceState(Health.OK, last_checked_at=NOW - timedelta(hours=5)),
            ),
            Checked(
                second.id,
                Observation(second.key, NOW, Outcome.OK),
                SourceState(Health.OK, last_checked_at=NOW - timedelta(hours=9)),
            ),
            Checked(
                third.id,
                Observation(third.key, NOW, Outcome.OK),
                SourceState(Health.OK, last_checked_at=NOW - timedelta(minutes=10)),
            ),
        ],
    )
    due = store.due(NOW, timedelta(hours=1))
    assert [s.url[-2:] for _, s in due] == ["r3", "r1", "r0"]


def test_record_round_trip(store: Store) -> None:
    """State, remote id, validators, events and compact observations are stored and read back."""
    store.sync_catalog([entry("https://github.com/a/b")], NOW)
    (source,) = store.sources()
    facts = Facts(remote_id="42", name="a/b", stars=5, last_commit=datetime(2026, 1, 1, tzinfo=UTC))
    state = SourceState(
        Health.OK, facts, last_checked_at=NOW, last_ok_at=NOW, last_outcome=Outcome.OK
    )
    event = Event(EventType.ADDED, source.key, source.url, Kind.GITHUB_REPO, NOW)
    run = store.start_run(NOW)
    store.record(
        run,
        [
            Checked(
                source.id,
                Observation(source.key, NOW, Outcome.OK, facts),
                state,
                (event,),
                remote_id="42",
                validators=(("repo", 'W/"x"'),),
            )
        ],
    )
    # The same facts again: the observation is stored without repeating them.
    store.record(run, [Checked(source.id, Observation(source.key, NOW, Outcome.OK, facts), state)])
    (back,) = store.sources()
    assert back.state == state and back.remote_id == "42"
    assert back.validators == (("repo", 'W/"x"'),)
    assert [e.event.event for e in store.events(run_ids=[run])] == [EventType.ADDED]
    with store.engine.connect() as db:
        kept = [r[0] for r in db.execute(sa.text("select facts from observations order by id"))]
    assert kept[0] is not None and kept[1] is None
    assert store.history(source.id) == [(NOW, "ok", None), (NOW, "ok", None)]


def test_a_failing_batch_stores_nothing(store: Store) -> None:
    """A batch that fails half-way is rolled back whole: no observation, no event, no state."""
    store.sync_catalog([entry("https://github.com/a/b")], NOW)
    (source,) = store.sources()
    run = store.start_run(NOW)
    good = Checked(
        source.id,
        Observation(source.key, NOW, Outcome.OK),
        SourceState(Health.OK, last_checked_at=NOW),
        (Event(EventType.ADDED, source.key, source.url, Kind.GITHUB_REPO, NOW),),
    )
    broken = Checked(source.id + 999, Observation("nope", NOW, Outcome.OK), SourceState())
    with pytest.raises(sa.exc.IntegrityError):
        store.record(run, [good, broken])
    assert store.observation_count() == 0
    assert store.events(run_ids=[run]) == []
    assert store.sources()[0].state == SourceState()


def test_interrupted_runs_are_marked(store: Store) -> None:
    """A run left "running" (its process was killed) is marked interrupted when the next starts."""
    first = store.start_run(NOW)
    second = store.start_run(NOW + timedelta(hours=1))
    store.finish_run(second, status="completed", degraded=False, figures={"sources_checked": 0})
    runs = {r.id: r for r in store.runs()}
    assert runs[first].status == "interrupted" and runs[second].status == "completed"
    assert runs[second].report_date == "2026-11-21" and runs[second].at.tzinfo is UTC


def test_health_at_reads_the_state_after_the_last_check_before_a_moment(store: Store) -> None:
    """health_at gives each source's health as of a past moment, not as of now."""
    store.sync_catalog([entry("https://github.com/a/b")], NOW)
    (source,) = store.sources()
    for day, health in ((0, Health.OK), (1, Health.SUSPECT), (3, Health.DELETED)):
        at = NOW + timedelta(days=day)
        run = store.start_run(at)
        store.record(
            run,
            [Checked(source.id, Observation(source.key, at, Outcome.OK), SourceState(health))],
        )
    assert store.health_at(NOW) == {}
    assert store.health_at(NOW + timedelta(days=2)) == {source.id: Health.SUSPECT}
    assert store.health_at(NOW + timedelta(days=9)) == {source.id: Health.DELETED}


def test_heartbeat_is_replaced_not_appended(store: Store) -> None:
    """Each beat replaces the previous one of the same name, and reads back whole."""
    assert store.heartbeat() is None
    beat = Heartbeat("daemon", 41, "box", NOW, NOW, last_status="completed")
    store.beat(beat)
    later = Heartbeat("daemon", 41, "box", NOW, NOW + timedelta(minutes=1), NOW, "degraded")
    store.beat(later)
    assert store.heartbeat() == later


def test_a_new_alert_channel_starts_after_the_stored_history(store: Store) -> None:
    """A channel first seen now is owed only later alerts; delivered ones are not owed again."""
    store.sync_catalog([entry("https://github.com/a/b")], NOW)
    (source,) = store.sources()

    def raise_event(kind: EventType) -> None:
        run = store.start_run(NOW)
        event = Event(kind, source.key, source.url, Kind.GITHUB_REPO, NOW)
        store.record(
            run,
            [Checked(source.id, Observation(source.key, NOW, Outcome.OK), SourceState(), (event,))],
        )

    raise_event(EventType.ARCHIVED)
    channel = store.alert_channel("fp-1", NOW)
    assert store.alert_channel("fp-1", NOW) == channel
    assert store.undelivered_alerts(channel) == []
    raise_event(EventType.DELETED)
    raise_event(EventType.STARS_CHANGED)  # not an alert
    owed = store.undelivered_alerts(channel)
    assert [e.event.event for e in owed] == [EventType.DELETED]
    store.mark_delivered(channel, [owed[0].id], NOW)
    assert store.undelivered_alerts(channel) == []
    assert store.events()[1].alerted_at == NOW
    other = store.alert_channel("fp-2", NOW)
    assert store.undelivered_alerts(other) == []


def test_checked_in_reads_page_by_page(store: Store) -> None:
    """The paged reader gives the same sources as `checked_in`, and the count agrees."""
    store.sync_catalog([entry(f"https://github.com/o/r{i}") for i in range(7)], NOW)
    sources = store.sources()
    run = store.start_run(NOW)
    state = SourceState(Health.OK, last_checked_at=NOW, last_outcome=Outcome.OK)
    store.record(
        run,
        [Checked(s.id, Observation(s.key, NOW, Outcome.OK), state) for s in sources[1:]],
    )
    paged = list(store.iter_checked_in([run], page=2))
    assert paged == store.checked_in([run]) and len(paged) == 6
    assert store.count_checked_in([run]) == 6
