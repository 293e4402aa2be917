"""The report renderer: pure, ordered, and immune to text that came from outside; and a
day's report, which grows with what changed, not with the catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.catalog.kinds import identify
from monitor.model import Entry, Event, EventType, Facts, Health, Observation, Outcome, SourceState
from monitor.render.report import (
    DayReport,
    ReportEvent,
    ReportRun,
    ReportSource,
    link,
    md,
    render_json,
    render_json_chunks,
    render_markdown,
)
from monitor.reports import write_day_reports
from monitor.store import Checked, Store
from tests.report_size import DAY2, build, entries, facts_of, url_of

AT = datetime(2026, 11, 21, 6, tzinfo=UTC)


def report_with(*events: ReportEvent) -> DayReport:
    state = SourceState(Health.OK, Facts(stars=1), last_checked_at=AT, last_outcome=Outcome.OK)
    return DayReport(
        "2026-11-21",
        list(events),
        [ReportSource("https://github.com/a/b", "github_repo", "a/b", "S", state)],
        [ReportRun(1, AT, "completed", False, {"sources_checked": 1})],
        states={Health.OK: 1},
        checked=1,
    )


def test_remote_text_cannot_inject_markup() -> None:
    """Names and errors from outside are escaped: no HTML, no links, no table breaks."""
    evil = "<script>alert(1)</script> [click](javascript:x) | *bold* `code`"
    text = md(evil)
    assert "<" not in text and "[click]" not in text and "| " not in text.replace("\\|", "")
    rendered = render_markdown(
        report_with(
            ReportEvent(
                EventType.RENAMED,
                "https://github.com/a/b",
                "github_repo",
                AT,
                evil,
                "S",
                old="a/b",
                new=evil,
                new_url="https://github.com/a/c> <b>",
            )
        )
    )
    assert "<script>" not in rendered and "<b>" not in rendered
    assert "<https://github.com/a/c%3E%20%3Cb%3E>" in rendered


def test_link_encodes_what_breaks_an_autolink() -> None:
    """Spaces, angle brackets and quotes inside a URL are percent-encoded."""
    assert link('https://x.org/a b<c>"d`') == "<https://x.org/a%20b%3Cc%3E%22d%60>"
    assert link(None) == ""


def test_empty_day_says_so() -> None:
    """A day without changes says nothing needs action and no activity."""
    text = render_markdown(report_with())
    assert "Nothing needs action." in text and "No activity." in text and "## Runs" in text


def test_json_report_carries_the_contract_fields() -> None:
    """Each JSON event has event, url, kind, at and old/new/new_url where they apply."""
    data = json.loads(
        render_json(
            report_with(
                ReportEvent(
                    EventType.LICENSE_CHANGED,
                    "https://github.com/a/b",
                    "github_repo",
                    AT,
                    "a/b",
                    "S",
                    old="MIT",
                    new="Apache-2.0",
                    alert=True,
                )
            )
        )
    )
    (event,) = data["events"]
    assert {k: event[k] for k in ("event", "url", "kind", "at", "old", "new", "alert")} == {
        "event": "license_changed",
        "url": "https://github.com/a/b",
        "kind": "github_repo",
        "at": "2026-11-21T06:00:00+00:00",
        "old": "MIT",
        "new": "Apache-2.0",
        "alert": True,
    }
    assert "new_url" not in event
    assert data["sources"][0]["health"] == "ok" and data["figures"]["alerts"] == 1


def test_json_report_is_indented_json_written_in_pieces() -> None:
    """The pieces join into exactly `json.dumps(indent=2)` of the report, empty lists included."""
    full = report_with(
        ReportEvent(EventType.ADDED, "https://github.com/a/b", "github_repo", AT, "名前", "节")
    )
    empty = DayReport("2026-11-21", [], [], [])
    for report in (full, empty):
        text = "".join(render_json_chunks(report))
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
        assert text == render_json(report)


def test_summary_keeps_the_catalog_apart_from_the_day() -> None:
    """The first line: the catalog by state, then the day's runs, checks, events, alerts."""
    report = DayReport(
        "2026-11-21",
        [ReportEvent(EventType.DEAD, "https://x.org/a", "web", AT, "a", "S", alert=True)],
        [],
        [ReportRun(1, AT, "completed", False), ReportRun(2, AT, "completed", False)],
        states={Health.OK: 219, Health.SUSPECT: 2, Health.UNVERIFIABLE: 1, Health.UNKNOWN: 3},
        checked=212,
        never_checked=2,
    )
    assert render_markdown(report).splitlines()[2] == (
        "225 sources in the catalog: 219 ok, 2 suspect, 1 unverifiable, "
        "3 unknown (2 not checked yet). Today: 2 runs, 212 checked, 1 event, 1 alert."
    )
    data = json.loads(render_json(report))
    assert data["states"] == {
        "ok": 219,
        "suspect": 2,
        "deleted": 0,
        "dead": 0,
        "blocked": 0,
        "unreachable": 0,
        "unverifiable": 1,
        "unknown": 3,
    }
    assert (data["figures"]["sources_checked"], data["figures"]["never_checked"]) == (212, 2)


# --- a day's report from a store of 10,000 sources -----------------------------------------

#: What a day's report may weigh when (almost) nothing changed, whatever the catalog's size.
SMALL = 20_000
DAY3 = DAY2 + timedelta(days=1)
#: source number -> its state after day 3's run, and what that run raised for it
STARRED, SUSPECT, WALLED, DIED, LONG_DEAD = 0, 4, 7, 17, 27
NEW = "https://github.com/new-owner/never-checked"


@dataclass(frozen=True)
class Days:
    unchanged: tuple[str, str]  # day 2: every source checked, nothing changed
    eventful: tuple[str, str]  # day 3: five sources checked, three events, one never checked


def eventful_run(store: Store) -> None:
    """Day 3: one run checks five sources; a catalog entry added that day is not reached."""
    new = identify(NEW)
    store.sync_catalog([*entries(10_000), Entry(new.url, new.kind, new.key)], DAY3)
    sources = {int(s.name.rsplit(" ", 1)[1]): s for s in store.sources() if s.url != NEW}
    run = store.start_run(DAY3, started_at=DAY3)
    batch = []
    for n, health, outcome, status, event in (
        (STARRED, Health.OK, Outcome.OK, 200, EventType.STARS_CHANGED),
        (SUSPECT, Health.SUSPECT, Outcome.NOT_FOUND, 404, None),
        (WALLED, Health.UNVERIFIABLE, Outcome.REFUSED, 999, EventType.UNVERIFIABLE),
        (DIED, Health.DEAD, Outcome.NOT_FOUND, 404, EventType.DEAD),
        (LONG_DEAD, Health.DEAD, Outcome.NOT_FOUND, 410, None),  # dead before today
    ):
        source = sources[n]
        facts = facts_of(n, DAY2)
        if n == STARRED:
            facts = replace(facts, stars=150)
        state = SourceState(
            health,
            facts,
            failures=0 if health is Health.OK else 3,
            failing_since=None if health is Health.OK else DAY2 - timedelta(days=20),
            refused_since=DAY2 - timedelta(days=3) if health is Health.UNVERIFIABLE else None,
            last_checked_at=DAY3,
            last_outcome=outcome,
            last_status=status,
        )
        events: tuple[Event, ...] = ()
        if event is not None:
            old, new = ("100", "150") if event is EventType.STARS_CHANGED else (None, None)
            events = (Event(event, source.key, source.url, source.kind, DAY3, old=old, new=new),)
        observation = Observation(source.key, DAY3, outcome, facts, http_status=status)
        batch.append(Checked(source.id, observation, state, events))
    store.record(run, batch)
    store.finish_run(
        run, status="completed", degraded=False, figures={"sources_checked": 5}, finished_at=DAY3
    )


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Days:
    """10,000 sources written straight into a store; the reports of an unchanged day and of
    a day with a few changes, each written right after its run, as `monitor check` does."""
    directory = tmp_path_factory.mktemp("reports")
    store = Store.connect(f"sqlite:///{directory / 'monitor.db'}")
    try:
        build(store, 10_000)
        unchanged = write_day_reports(store, DAY2.date(), directory)
        texts = tuple(path.read_text() for path in unchanged)
        eventful_run(store)
        later = tuple(p.read_text() for p in write_day_reports(store, DAY3.date(), directory))
    finally:
        store.close()
    return Days((texts[0], texts[1]), (later[0], later[1]))


def test_an_unchanged_day_of_10000_sources_is_small(days: Days) -> None:
    """Nothing changed: the JSON and markdown each stay under 20 KB and carry the counts."""
    markdown, data = days.unchanged
    assert len(markdown.encode()) < SMALL and len(data.encode()) < SMALL
    report = json.loads(data)
    assert report["events"] == [] and report["sources"] == []
    assert report["states"]["ok"] == 10_000 and sum(report["states"].values()) == 10_000
    assert report["figures"]["sources_checked"] == 10_000
    assert markdown.splitlines()[2] == (
        "10000 sources in the catalog: 10000 ok. Today: 1 run, 10000 checked, 0 events, 0 alerts."
    )
    assert "## Not ok (0)" in markdown and "Every source is ok." in markdown


def test_a_day_lists_exactly_its_events_and_the_sources_not_ok(days: Days) -> None:
    """A few events and non-ok sources among 10,000: exactly those are listed, and counted."""
    markdown, data = days.eventful
    assert len(markdown.encode()) < SMALL and len(data.encode()) < SMALL
    report = json.loads(data)
    listed = {s["url"]: s["health"] for s in report["sources"]}
    assert listed == {
        url_of(STARRED): "ok",
        url_of(SUSPECT): "suspect",
        url_of(WALLED): "unverifiable",
        url_of(DIED): "dead",
        url_of(LONG_DEAD): "dead",
    }
    assert {(e["event"], e["url"]) for e in report["events"]} == {
        ("stars_changed", url_of(STARRED)),
        ("unverifiable", url_of(WALLED)),
        ("dead", url_of(DIED)),
    }
    assert {k: v for k, v in report["states"].items() if v} == {
        "ok": 9_996,
        "suspect": 1,
        "dead": 2,
        "unverifiable": 1,
        "unknown": 1,  # the entry added today and not reached: counted, never listed
    }
    assert report["figures"]["sources_checked"] == 5 and report["figures"]["never_checked"] == 1
    assert markdown.splitlines()[2] == (
        "10001 sources in the catalog: 9996 ok, 1 suspect, 2 dead, 1 unverifiable, "
        "1 unknown (1 not checked yet). Today: 1 run, 5 checked, 3 events, 1 alert."
    )
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert headings == [
        "# monitor report: 2026-11-25",
        "## Needs action",
        "### Dead links (dead, 1)",
        "## Activity",
        "### Unverifiable (unverifiable, 1)",
        "### Star movers (stars_changed, 1)",
        "## Not ok (4)",
        "### Suspects (suspect, 1)",
        "### Dead links (dead, 2)",
        "### Unverifiable (unverifiable, 1)",
        "## Runs",
    ]
    not_ok = markdown[markdown.index("## Not ok") : markdown.index("## Runs")]
    assert "1 source not checked yet (unknown): counted above, not listed." in not_ok
    assert NEW not in markdown and NEW not in data
    for n in (SUSPECT, WALLED, DIED, LONG_DEAD):
        assert url_of(n) in not_ok
    assert url_of(STARRED) not in not_ok
