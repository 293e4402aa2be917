"""The report renderer: pure, ordered, and immune to text that came from outside."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from monitor.model import EventType, Facts, Health, Outcome, SourceState
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

AT = datetime(2026, 11, 21, 6, tzinfo=UTC)


def report_with(*events: ReportEvent) -> DayReport:
    state = SourceState(Health.OK, Facts(stars=1), last_checked_at=AT, last_outcome=Outcome.OK)
    return DayReport(
        "2026-11-21",
        list(events),
        [ReportSource("https://github.com/a/b", "github_repo", "a/b", "S", state)],
        [ReportRun(1, AT, "completed", False, {"sources_checked": 1})],
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
