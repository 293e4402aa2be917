"""Alerts end to end: a real store, real Apprise, a real webhook on loopback.

Each run here does what the runner does: `register` the channels, record the
run's events in the store, `deliver`. What arrived at the `AlertReceiver` is
what a maintainer would have been told.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts import (
    ALERT_URLS_WHERE,
    MAX_LINES,
    AppriseChannel,
    Channel,
    Delivery,
    RecordingChannel,
    apprise_channels,
    compose,
    deliver,
    register,
    send_test,
)
from monitor.catalog.kinds import identify
from monitor.emulator import AlertReceiver
from monitor.errors import SettingsError
from monitor.model import Entry, Event, EventType, Health, Kind, Observation, Outcome, SourceState
from monitor.store import Checked, Store, StoredEvent

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)

CATALOG = {
    "Alpaca": "https://github.com/tatsu-lab/stanford_alpaca",
    "BERT": "https://github.com/google-research/bert",
    "Paper": "https://example.com/papers/attention.html",
    "Llama": "https://huggingface.co/meta-llama/Llama-2-7b",
}

Happening = tuple[str, EventType, dict[str, str]]


def entry(url: str, name: str) -> Entry:
    resource = identify(url)
    return Entry(url=url, kind=resource.kind, key=resource.key, name=name, section="S")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A real store (SQLite and PostgreSQL) holding the test catalog."""
    opened = Store.connect(database_url)
    opened.sync_catalog([entry(url, name) for name, url in CATALOG.items()], NOW)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A real store in an SQLite file, for tests that need not run on both databases."""
    opened = Store.connect(f"sqlite:///{tmp_path / 'monitor.db'}")
    opened.sync_catalog([entry(url, name) for name, url in CATALOG.items()], NOW)
    yield opened
    opened.close()


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    """A webhook on loopback that keeps what Apprise posts to it."""
    with AlertReceiver() as running:
        yield running


@pytest.fixture
def second_receiver() -> Iterator[AlertReceiver]:
    """Another webhook, for a second channel."""
    with AlertReceiver("/second") as running:
        yield running


def check_run(
    store: Store, channels: Sequence[Channel], at: datetime, happenings: Sequence[Happening]
) -> Delivery:
    """One run as the runner does it: register the channels, record the events, deliver."""
    register(store, channels, at)
    run_id = store.start_run(at)
    sources = {s.name: s for s in store.sources()}
    batch = []
    for name, event_type, fields in happenings:
        source = sources[name]
        event = Event(event_type, source.key, source.url, source.kind, at, **fields)
        batch.append(
            Checked(
                source.id,
                Observation(source.key, at, Outcome.OK),
                SourceState(Health.OK, last_checked_at=at),
                (event,),
            )
        )
    store.record(run_id, batch)
    return deliver(store, channels, at, report=f"reports/{at.date().isoformat()}.md")


def day(n: int) -> datetime:
    return NOW + timedelta(days=n)


def stored(
    event_type: EventType,
    name: str = "Alpaca",
    *,
    id: int = 1,
    at: datetime = NOW,
    **fields: Any,
) -> StoredEvent:
    url = CATALOG.get(name, "https://github.com/tatsu-lab/stanford_alpaca")
    resource = identify(url)
    return StoredEvent(
        Event(event_type, resource.key, url, resource.kind, at, **fields), id, 1, name, "S"
    )


# --- one message per run -----------------------------------------------------------------------


def test_one_message_per_run_holds_every_new_alert_and_nothing_else(
    store: Store, receiver: AlertReceiver
) -> None:
    """A run's alerts arrive as one message; non-alert events (added, stars, commits) do not."""
    channel = AppriseChannel(receiver.url)
    delivery = check_run(
        store,
        [channel],
        NOW,
        [
            ("Alpaca", EventType.DELETED, {}),
            ("BERT", EventType.DEAD, {"detail": "failing since 2026-11-19; last: HTTP 404"}),
            ("Paper", EventType.DEAD, {}),
            ("Llama", EventType.ADDED, {}),
            ("Alpaca", EventType.STARS_CHANGED, {"old": "10", "new": "12"}),
            ("Llama", EventType.NEW_COMMITS, {"old": "2026-01-01", "new": "2026-11-20"}),
        ],
    )
    [message] = receiver.messages
    assert message.title == "monitor: 3 alerts — 1 deleted, 2 dead"
    assert message.type == "warning"
    lines = message.body.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"deleted: Alpaca {CATALOG['Alpaca']}")
    assert lines[1] == f"dead: BERT {CATALOG['BERT']} — failing since 2026-11-19; last: HTTP 404"
    assert lines[2].startswith(f"dead: Paper {CATALOG['Paper']}")
    assert "Llama" not in message.body and "stars" not in message.body
    assert (delivery.sent, delivery.failed, delivery.pending) == (3, (), 0)
    assert delivery.by_label[channel.label].sent == 3


def test_runs_without_new_alerts_send_nothing(store: Store, receiver: AlertReceiver) -> None:
    """Once an alert is delivered, later runs with no new alert send no message at all."""
    channel = AppriseChannel(receiver.url)
    check_run(store, [channel], NOW, [("Alpaca", EventType.ARCHIVED, {})])
    quiet = [
        check_run(store, [channel], day(1), [("BERT", EventType.STARS_CHANGED, {})]),
        check_run(store, [channel], day(2), []),
    ]
    assert len(receiver.messages) == 1 and receiver.attempts == 1
    assert all(d.sent == 0 and d.pending == 0 and d.lines() == [] for d in quiet)


@pytest.mark.parametrize("failure", ["503", "reset"])
def test_a_receiver_down_gets_the_alert_once_on_the_next_run(
    store: Store, receiver: AlertReceiver, failure: Any
) -> None:
    """An alert a dead webhook refused comes with the next run's alerts, once, then never again."""
    channel = AppriseChannel(receiver.url)
    receiver.down, receiver.failure = True, failure
    first = check_run(store, [channel], NOW, [("Alpaca", EventType.DELETED, {})])
    assert receiver.messages == [] and receiver.attempts == 1
    assert (first.sent, first.failed, first.pending) == (0, (channel.label,), 1)
    assert first.lines() == [
        f"alerts: {channel.label} did not accept 1 alert(s); they will be sent on the next run"
    ]

    receiver.down = False
    second = check_run(store, [channel], day(1), [("BERT", EventType.DEAD, {})])
    [message] = receiver.messages
    assert message.title == "monitor: 2 alerts — 1 deleted, 1 dead"
    assert [line.split(":")[0] for line in message.body.splitlines()] == ["deleted", "dead"]
    assert (second.sent, second.failed, second.pending) == (2, (), 0)

    check_run(store, [channel], day(2), [])
    assert len(receiver.messages) == 1


def test_two_channels_one_down_never_duplicates_on_the_working_one(
    store: Store, receiver: AlertReceiver, second_receiver: AlertReceiver
) -> None:
    """Bookkeeping is per channel: the one that worked is not sent again what the other missed."""
    working, flaky = AppriseChannel(receiver.url), AppriseChannel(second_receiver.url)
    second_receiver.down = True
    first = check_run(store, [working, flaky], NOW, [("Alpaca", EventType.DELETED, {})])
    assert (first.sent, first.failed, first.pending) == (1, (flaky.label,), 1)

    second_receiver.down = False
    check_run(store, [working, flaky], day(1), [("BERT", EventType.BLOCKED, {})])
    assert [m.title for m in receiver.messages] == [
        "monitor: 1 alert — 1 deleted",
        "monitor: 1 alert — 1 blocked",
    ]
    [caught_up] = second_receiver.messages
    assert caught_up.title == "monitor: 2 alerts — 1 deleted, 1 blocked"


def test_a_channel_added_later_is_not_sent_history(
    store: Store, receiver: AlertReceiver, second_receiver: AlertReceiver
) -> None:
    """A channel configured now is owed this run's alerts and nothing raised before it."""
    old = AppriseChannel(receiver.url)
    check_run(store, [old], NOW, [("Alpaca", EventType.DELETED, {})])
    new = AppriseChannel(second_receiver.url)
    check_run(store, [old, new], day(1), [("Paper", EventType.DEAD, {})])
    [message] = second_receiver.messages
    assert message.title == "monitor: 1 alert — 1 dead"
    assert "Alpaca" not in message.body
    assert len(receiver.messages) == 2


def test_a_failing_channel_keeps_its_alerts_owed(sqlite_store: Store) -> None:
    """A channel that reports failure is marked nothing; once it works it gets everything owed."""
    channel = RecordingChannel("memo", fail=True)
    check_run(sqlite_store, [channel], NOW, [("Alpaca", EventType.RENAMED, {})])
    failed = check_run(sqlite_store, [channel], day(1), [("BERT", EventType.DEAD, {})])
    assert channel.messages == [] and channel.attempts == 2
    assert (failed.failed, failed.pending) == (("memo",), 2)
    channel.fail = False
    done = deliver(sqlite_store, [channel], day(1))
    [message] = channel.messages
    assert message.title == "monitor: 2 alerts — 1 dead, 1 renamed"
    assert (done.sent, done.pending) == (2, 0)
    assert done.lines() == ["Alerts sent: 2 to memo"]


# --- what a message says -----------------------------------------------------------------------

ALPACA = CATALOG["Alpaca"]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            stored(
                EventType.RENAMED,
                old="tatsu-lab/stanford_alpaca",
                new="tatsu/alpaca",
                new_url="https://github.com/tatsu/alpaca",
            ),
            f"renamed: Alpaca {ALPACA} — tatsu-lab/stanford_alpaca -> tatsu/alpaca, "
            "new URL: https://github.com/tatsu/alpaca",
        ),
        (
            stored(EventType.LICENSE_CHANGED, old="MIT", new="Apache-2.0"),
            f"licence changed: Alpaca {ALPACA} — MIT -> Apache-2.0",
        ),
        (
            stored(EventType.RECOVERED, old="dead"),
            f"recovered: Alpaca {ALPACA} — answers again, was dead",
        ),
        (
            stored(EventType.DELETED),
            f"deleted: Alpaca {ALPACA} — gone, the service confirms it",
        ),
        (
            stored(
                EventType.DEAD, detail="failing since 2026-11-19T06:00:00+00:00; last: HTTP 410"
            ),
            f"dead: Alpaca {ALPACA} — failing since 2026-11-19T06:00:00+00:00; last: HTTP 410",
        ),
        (
            stored(EventType.ARCHIVED),
            f"archived: Alpaca {ALPACA} — archived upstream, read-only now",
        ),
        (
            stored(EventType.BLOCKED, detail="HTTP 451: Repository access blocked"),
            f"blocked: Alpaca {ALPACA} — HTTP 451: Repository access blocked",
        ),
        (
            stored(EventType.UNREACHABLE),
            f"unreachable: Alpaca {ALPACA} — only transient failures, for days",
        ),
        (
            stored(EventType.REDIRECTED, new_url="https://example.org/moved"),
            f"redirected: Alpaca {ALPACA} — now at https://example.org/moved",
        ),
        (
            stored(EventType.DEAD, "", detail=None),
            f"dead: {ALPACA} — the link is dead on repeated checks",
        ),
    ],
    ids=lambda value: value.event.event.value if isinstance(value, StoredEvent) else "",
)
def test_compose_says_what_happened_on_one_line(event: StoredEvent, expected: str) -> None:
    """Each event is one line: what, name, URL, then the new URL, licence or former state."""
    message = compose([event])
    assert message.body == expected
    assert message.title == f"monitor: 1 alert — 1 {expected.split(':')[0]}"


def test_compose_title_counts_in_a_stable_order() -> None:
    """The title counts per type in the report's order, and the body lines follow that order."""
    events = [
        stored(EventType.RECOVERED, id=1, old="dead"),
        stored(EventType.DEAD, "BERT", id=2),
        stored(EventType.LICENSE_CHANGED, id=3, old="MIT", new="GPL-3.0"),
        stored(EventType.DELETED, "Paper", id=4),
        stored(EventType.DEAD, "Llama", id=5, at=NOW - timedelta(hours=1)),
    ]
    message = compose(events)
    assert message.title == "monitor: 5 alerts — 1 deleted, 2 dead, 1 licence changed, 1 recovered"
    assert [line.split(" — ")[0] for line in message.body.splitlines()] == [
        f"deleted: Paper {CATALOG['Paper']}",
        f"dead: Llama {CATALOG['Llama']}",
        f"dead: BERT {CATALOG['BERT']}",
        f"licence changed: Alpaca {ALPACA}",
        f"recovered: Alpaca {ALPACA}",
    ]
    assert compose(list(reversed(events))) == message


def test_compose_caps_the_body_and_points_at_the_report() -> None:
    """Past MAX_LINES the body stops, saying how many more there are and which report has them."""
    events = [stored(EventType.DEAD, id=i) for i in range(120)]
    message = compose(events, Path("reports/2026-11-21.md"))
    lines = message.body.splitlines()
    assert message.title == "monitor: 120 alerts — 120 dead"
    assert len(lines) == MAX_LINES
    assert lines[-1] == f"…and {120 - MAX_LINES + 1} more: see reports/2026-11-21.md"


def test_hostile_remote_text_stays_on_one_line(
    sqlite_store: Store, receiver: AlertReceiver
) -> None:
    """Newlines, markdown and control characters in names and details cannot add or style lines."""
    hostile = (
        "Evil\n# Heading\r\n**bold** [click](https://evil.example)\u2028next\x1b[31m\u202eoops"
    )
    sqlite_store.sync_catalog([entry("https://github.com/evil/repo", hostile)], NOW)
    channel = AppriseChannel(receiver.url)
    register(sqlite_store, [channel], NOW)
    [source] = sqlite_store.sources()
    event = Event(
        EventType.RENAMED,
        source.key,
        source.url,
        Kind.GITHUB_REPO,
        NOW,
        old="evil/repo",
        new="evil/repo\n\nFAKE: second line",
        new_url="https://github.com/evil/repo two",
    )
    run_id = sqlite_store.start_run(NOW)
    sqlite_store.record(
        run_id,
        [Checked(source.id, Observation(source.key, NOW, Outcome.OK), SourceState(), (event,))],
    )
    deliver(sqlite_store, [channel], NOW)
    [message] = receiver.messages
    [line] = message.body.splitlines()
    assert line == (
        "renamed: Evil # Heading **bold** [click](https://evil.example) next[31moops "
        "https://github.com/evil/repo — evil/repo -> evil/repo FAKE: second line, "
        "new URL: https://github.com/evil/repo%20two"
    )


# --- channels ----------------------------------------------------------------------------------

TOKEN = "FAKE-TOKEN-6b1f0c9e"


def test_secrets_never_reach_labels_output_or_logs(
    receiver: AlertReceiver,
    sqlite_store: Store,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A token in an alert URL appears in no label, no message we print and no log record."""
    import apprise

    url = f"json://user:{TOKEN}@{receiver.netloc}/hooks/{TOKEN}?+X-Api-Key={TOKEN}"
    caplog.set_level(1)
    # The hazard is real: left to itself, Apprise logs the URL, token and all.
    apprise.Apprise.instantiate(url)
    assert TOKEN in caplog.text
    caplog.clear()

    [channel] = apprise_channels([url, url])
    receiver.down = True
    down = check_run(sqlite_store, [channel], NOW, [("Alpaca", EventType.DELETED, {})])
    receiver.down = False
    up = deliver(sqlite_store, [channel], day(1))
    tested = send_test([channel], NOW)
    with pytest.raises(SettingsError) as error:
        apprise_channels([f"foo://{TOKEN}@example.com", f"slack://{TOKEN}", f"{TOKEN}"])

    assert [m.title for m in receiver.messages] == [
        "monitor: 1 alert — 1 deleted",
        "monitor: test alert",
    ]
    assert receiver.messages[0].path == f"/hooks/{TOKEN}"
    assert receiver.messages[0].header("X-Api-Key") is None
    shown = [channel.label, repr(channel), repr(down), repr(up), str(error.value), repr(tested)]
    shown += down.lines() + up.lines()
    printed = capsys.readouterr()
    assert channel.label == f"#1 JSON 127.0.0.1:{receiver.port}"
    assert all(TOKEN not in text for text in [*shown, printed.out, printed.err, caplog.text])
    assert not logging.getLogger("apprise").disabled


def test_send_test_reports_per_channel(
    receiver: AlertReceiver, second_receiver: AlertReceiver
) -> None:
    """`send_test` sends one test message to each channel and says which accepted it."""
    channels = apprise_channels([receiver.url, second_receiver.url])
    second_receiver.down = True
    results = send_test(channels, NOW)
    assert results == [
        (f"#1 JSON {receiver.netloc}", True),
        (f"#2 JSON {second_receiver.netloc}", False),
    ]
    [message] = receiver.messages
    assert message.title == "monitor: test alert" and "2026-11-21 06:00 UTC" in message.body


def test_urls_apprise_does_not_understand_are_named_by_position(receiver: AlertReceiver) -> None:
    """Every unusable alert URL is one problem naming its position and how to fix it."""
    with pytest.raises(SettingsError) as error:
        apprise_channels([receiver.url, "foo://x", "not a url", "https://example.com/hook"])
    problems = error.value.problems
    assert [p.where for p in problems] == [ALERT_URLS_WHERE] * 3
    assert [p.message.split(" is not")[0] for p in problems] == [
        "alert URL #2",
        "alert URL #3",
        "alert URL #4",
    ]
    assert "foo://, which is not an Apprise service" in problems[0].message
    assert problems[1].hint and "mailto://" in problems[1].hint
    assert problems[2].hint and "json" in problems[2].hint and "example.com" not in str(error.value)


def test_timeouts_default_short_and_a_hanging_receiver_fails_fast(receiver: AlertReceiver) -> None:
    """Apprise waits a bounded time by default, honours ?cto=/?rto=; a hung webhook fails fast."""
    assert AppriseChannel(receiver.url).timeouts == (5.0, 15.0)
    hurried = AppriseChannel(receiver.url + "?cto=1&rto=0.5")
    assert hurried.timeouts == (1.0, 0.5)
    receiver.down, receiver.failure = True, "hang"
    started = time.monotonic()
    assert hurried.send("title", "body") is False
    assert time.monotonic() - started < 3
    receiver.down = False
    assert hurried.send("title", "body") is True
