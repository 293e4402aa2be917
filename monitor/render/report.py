"""The dated report, as markdown and JSON: data in, text out, nothing else.

The markdown opens with one line that keeps the catalog's standing apart from the
day ("223 sources in the catalog: 219 ok, 2 suspect, …. Today: 3 runs, 212
checked, 5 events, 1 alert."), then reads in the order a maintainer acts: what
needs action (deleted, dead, renamed with the URL to put in the list, licence
changes, archived, blocked, unreachable, recovered), then activity (new commits,
star movers sorted by change, new versions, gating, redirects, stale,
unverifiable), then every source not `ok` by state (suspects first), then what
was added, then the runs' own figures. Each heading over a list of events names
their event word as the JSON spells it, with the count: `### Deleted (deleted, 2)`;
a heading over sources in one state names the state the same way.
Text that came from the outside world (names, remote names, error messages)
is escaped so it cannot inject markdown or HTML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.model import ALERTS, NEVER_WORKED, EventType, Health, SourceState
from monitor.policy import last_answer

ACTION = (
    (EventType.DELETED, "Deleted", "The service confirms these are gone."),
    (EventType.DEAD, "Dead links", "Failing definitively on repeated checks."),
    (EventType.RENAMED, "Renamed", "Put the new URL in the list."),
    (EventType.LICENSE_CHANGED, "Licence changes", None),
    (EventType.ARCHIVED, "Archived", "Read-only now; no more changes upstream."),
    (EventType.BLOCKED, "Blocked", "Access blocked by the service (takedown or terms)."),
    (EventType.UNREACHABLE, "Unreachable", "Only transient failures, for a week or more."),
    (EventType.RECOVERED, "Recovered", "Answering again."),
)
ACTIVITY = (
    (EventType.NEW_COMMITS, "New commits"),
    (EventType.NEW_VERSION, "New versions"),
    (
        EventType.REDIRECTED,
        "Redirected",
    ),
    (EventType.GATED_CHANGED, "Gating changes"),
    (EventType.UNARCHIVED, "Unarchived"),
    (EventType.STALE, "Stale"),
    (EventType.UNVERIFIABLE, "Unverifiable"),
)
#: The states other than ok, in the order the report lists them, with a title and a note.
NOT_OK = (
    (Health.SUSPECT, "Suspects", "Failing, not yet long enough to be called gone."),
    (Health.DELETED, "Deleted", "Confirmed gone by the service."),
    (Health.DEAD, "Dead links", "Confirmed dead on repeated checks."),
    (Health.BLOCKED, "Blocked", "Access blocked by the service (takedown or terms)."),
    (Health.UNREACHABLE, "Unreachable", "Only transient failures, for a week or more."),
    (
        Health.UNVERIFIABLE,
        "Unverifiable",
        "They answer robots only with refusals (bot walls, 999, 429): check them by hand.",
    ),
    (Health.UNKNOWN, "Unknown", "Checked, but no conclusive answer since they were added."),
)
#: The order in which states are counted: ok first, unknown (mostly "not checked yet") last.
STATE_ORDER = (Health.OK, *(h for h, _, _ in NOT_OK if h is not Health.UNKNOWN), Health.UNKNOWN)
#: The note over links that failed at every check since they were added.
NEVER_WORKED_NOTE = "Never worked since they were added: check the list for a typo."


def heading(level: int, title: str, words: Iterable[str], count: int) -> str:
    """A section heading naming the event (or state) words it lists, and how many:
    `### Deleted (deleted, 2)`. The same form in the report and the digest."""
    return f"{'#' * level} {title} ({', '.join([*words, str(count)])})"


def plural(count: int, word: str) -> str:
    """ "1 run", "3 runs"."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass(frozen=True, slots=True)
class ReportEvent:
    event: EventType
    url: str
    kind: str
    at: datetime
    name: str
    section: str
    old: str | None = None
    new: str | None = None
    new_url: str | None = None
    detail: str | None = None
    alert: bool = False

    @property
    def held(self) -> bool:
        """An alert held by the source's snooze: stored as not alerting."""
        return self.event in ALERTS and not self.alert

    @property
    def never_worked(self) -> bool:
        return bool(self.detail and self.detail.startswith(NEVER_WORKED))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "event": self.event.value,
            "url": self.url,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "name": self.name,
            "section": self.section,
            "alert": self.alert,
        }
        for key in ("old", "new", "new_url", "detail"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.held:
            data["snoozed"] = True
        return data


@dataclass(frozen=True, slots=True)
class ReportSource:
    url: str
    kind: str
    name: str
    section: str
    state: SourceState

    def to_json(self) -> dict[str, Any]:
        state = self.state
        facts = state.facts
        data: dict[str, Any] = {
            "url": self.url,
            "kind": self.kind,
            "name": self.name,
            "health": state.health.value,
            "last_checked_at": _iso(state.last_checked_at),
            "last_outcome": state.last_outcome.value if state.last_outcome else None,
        }
        if state.failing_since:
            data["failing_since"] = state.failing_since.isoformat()
        if state.last_status:
            data["last_status"] = state.last_status
        if facts is not None:
            data.update(
                {
                    k: v
                    for k, v in facts.to_json().items()
                    if k
                    in (
                        "stars",
                        "last_commit",
                        "license",
                        "archived",
                        "gated",
                        "version",
                    )
                }
                | {"remote_name": facts.name}
            )
            # The source stays under its catalog URL, like its events; where it lives now
            # (a renamed repository) is beside it.
            if facts.url and facts.url.rstrip("/").lower() != self.url.rstrip("/").lower():
                data["remote_url"] = facts.url
        return data


@dataclass(frozen=True, slots=True)
class ReportRun:
    id: int
    at: datetime
    status: str
    degraded: bool
    figures: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        figures = self.figures
        services = figures.get("services", {})
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "status": self.status,
            "degraded": self.degraded,
            "sources_checked": figures.get("sources_checked", 0),
            "deferred": figures.get("deferred", 0),
            "requests": {name: s.get("requests", 0) for name, s in sorted(services.items())},
            "rate_limits": {
                name: {
                    "remaining": s.get("remaining"),
                    "limit": s.get("limit"),
                    "reset_at": s.get("reset_at"),
                }
                for name, s in sorted(services.items())
            },
            "errors": figures.get("errors", []),
            "duration_seconds": figures.get("duration_seconds"),
        }


@dataclass(frozen=True, slots=True)
class DayReport:
    date: str
    events: Sequence[ReportEvent]
    #: the sources that had an event that day or are not ok, with their current state
    sources: Sequence[ReportSource]
    runs: Sequence[ReportRun]
    #: how many sources of the catalog are in each state (absent: none)
    states: Mapping[Health, int] = field(default_factory=dict)
    #: how many distinct sources the day's runs checked
    checked: int = 0
    #: how many of the catalog's sources were never checked (counted as unknown, not listed)
    never_checked: int = 0


# --- escaping ----------------------------------------------------------------------------------

# Names never start a line here (they follow "- " or "| "), so only what can open markup
# in the middle of a line needs a backslash; HTML is neutralised as entities.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def md(text: str | None) -> str:
    """Text from outside made inert in markdown and HTML."""
    if not text:
        return ""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def link(url: str | None) -> str:
    """A URL as a markdown autolink that cannot break out of its brackets."""
    if not url:
        return ""
    safe = re.sub(r"[\s<>\"`]", lambda m: f"%{ord(m[0]):02X}", url)
    return f"<{safe}>"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: str | None) -> str:
    return value[:10] if value else ""


# --- markdown ----------------------------------------------------------------------------------


def render_markdown(report: DayReport) -> str:
    lines = [f"# monitor report: {report.date}", ""]
    lines += _summary(report)
    by_type: dict[EventType, list[ReportEvent]] = {}
    held: list[ReportEvent] = []
    for event in report.events:
        if event.held:
            held.append(event)  # snoozed: reported, not "needs action"
            continue
        by_type.setdefault(event.event, []).append(event)

    action = [(t, title, note) for t, title, note in ACTION if by_type.get(t)]
    lines += ["## Needs action", ""]
    if not action:
        lines += ["Nothing needs action.", ""]
    for event_type, title, note in action:
        lines += [heading(3, title, [event_type.value], len(by_type[event_type])), ""]
        if note:
            lines += [f"{note}", ""]
        lines += _action_lines(event_type, by_type[event_type])
        lines.append("")

    lines += ["## Activity", ""]
    movers = by_type.get(EventType.STARS_CHANGED, [])
    if not any(by_type.get(t) for t, _ in ACTIVITY) and not movers:
        lines += ["No activity.", ""]
    for event_type, title in ACTIVITY:
        if by_type.get(event_type):
            lines += [heading(3, title, [event_type.value], len(by_type[event_type])), ""]
            lines += [_activity_line(e) for e in by_type[event_type]]
            lines.append("")
    if movers:
        lines += _movers(movers)

    lines += _not_ok(report)
    if held:
        words = sorted({e.event.value for e in held})
        lines += [
            heading(2, "Snoozed", words, len(held)),
            "",
            "Held by the catalog's `snooze_until`: not alerted, and alerted after that date "
            "if still so.",
            "",
            *_event_lines(held),
            "",
        ]

    added = by_type.get(EventType.ADDED, [])
    if added:
        lines += [
            heading(2, "Added", [EventType.ADDED.value], len(added)),
            "",
            "<details><summary>First checked today</summary>",
            "",
        ]
        lines += [f"- {md(e.name)} {link(e.url)} ({e.kind})" for e in added]
        lines += ["", "</details>", ""]

    lines += _runs(report.runs)
    return "\n".join(lines).rstrip() + "\n"


def _summary(report: DayReport) -> list[str]:
    """The catalog's standing, then the day's own figures, in two sentences."""
    states = report.states
    total = sum(states.values())
    counts = []
    for health in STATE_ORDER:
        count = states.get(health, 0)
        if not count:
            continue
        text = f"{count} {health.value}"
        if health is Health.UNKNOWN and report.never_checked:
            text += f" ({report.never_checked} not checked yet)"
        counts.append(text)
    standing = f"{plural(total, 'source')} in the catalog"
    standing += (": " + ", ".join(counts) + ".") if counts else "."
    alerts = sum(1 for e in report.events if e.alert)
    today = (
        f"Today: {plural(len(report.runs), 'run')}, {report.checked} checked, "
        f"{plural(len(report.events), 'event')}, {plural(alerts, 'alert')}."
    )
    lines = [f"{standing} {today}", ""]
    if any(run.degraded for run in report.runs):
        lines += [
            "**Degraded:** most hosts could not be reached at the network level (is this "
            "machine offline?). Failures in degraded runs count towards nothing.",
            "",
        ]
    return lines


def _not_ok(report: DayReport) -> list[str]:
    """Every listed source whose state is not ok, by state: one pass over the sources."""
    by_health: dict[Health, list[ReportSource]] = {}
    for source in report.sources:
        if source.state.health is not Health.OK:
            by_health.setdefault(source.state.health, []).append(source)
    total = sum(len(sources) for sources in by_health.values())
    lines = [f"## Not ok ({total})", ""]
    if total:
        lines += ["Every source whose state is not ok, whether or not it changed today.", ""]
    elif not report.never_checked:
        lines += ["Every source is ok.", ""]
    if report.never_checked:
        lines += [
            f"{plural(report.never_checked, 'source')} not checked yet (unknown): "
            "counted above, not listed.",
            "",
        ]
    for health, title, note in NOT_OK:
        sources = by_health.get(health)
        if not sources:
            continue
        lines += [heading(3, title, [health.value], len(sources)), "", note, ""]
        if health is Health.SUSPECT:
            lines += ["| source | failing since | checks | last answer |", "|---|---|---|---|"]
        else:
            lines += ["| source | since | last checked | last answer |", "|---|---|---|---|"]
        for source in sources:
            state = source.state
            answer = md(last_answer(state.last_status, state.last_error, state.last_outcome))
            middle = (
                f"{_day(_iso(state.failing_since))} | {state.failures}"
                if health is Health.SUSPECT
                else f"{_day(_iso(_since(state)))} | {_day(_iso(state.last_checked_at))}"
            )
            lines.append(f"| {md(source.name)} {link(source.url)} | {middle} | {answer} |")
        lines.append("")
    return lines


def _since(state: SourceState) -> datetime | None:
    """When the trouble a state stands for began, as far as the state remembers."""
    if state.health is Health.UNREACHABLE:
        order = (state.transient_since, state.failing_since, state.refused_since)
    elif state.health is Health.UNVERIFIABLE:
        order = (state.refused_since, state.transient_since, state.failing_since)
    else:
        order = (state.failing_since, state.transient_since, state.refused_since)
    return next((moment for moment in order if moment is not None), None)


def _action_lines(event_type: EventType, events: Sequence[ReportEvent]) -> list[str]:
    if event_type is EventType.RENAMED:
        rows = ["| source | was | now | new URL |", "|---|---|---|---|"]
        rows += [
            f"| {md(e.name)} {link(e.url)} | {md(e.old)} | {md(e.new)} | {link(e.new_url)} |"
            for e in events
        ]
        return rows
    if event_type is EventType.LICENSE_CHANGED:
        rows = ["| source | was | now |", "|---|---|---|"]
        rows += [f"| {md(e.name)} {link(e.url)} | {md(e.old)} | {md(e.new)} |" for e in events]
        return rows
    lines = []
    if event_type in (EventType.DELETED, EventType.DEAD):
        # Typos first, under their own note: "gone" would mislead for a link that never was.
        never = [e for e in events if e.never_worked]
        if never:
            lines += [NEVER_WORKED_NOTE, "", *_event_lines(never)]
            events = [e for e in events if not e.never_worked]
            if events:
                lines += ["", "Worked before, gone now:", ""]
    return lines + _event_lines(events)


def _event_lines(events: Iterable[ReportEvent]) -> list[str]:
    lines = []
    for event in events:
        line = f"- {md(event.name)} {link(event.url)} ({event.kind})"
        if event.event is EventType.RECOVERED and event.old:
            line += f": was {md(event.old)}"
        if event.detail:
            line += f": {md(event.detail)}"
        if event.new_url:
            line += f"; now at {link(event.new_url)}"
        lines.append(line)
    return lines


def _activity_line(event: ReportEvent) -> str:
    line = f"- {md(event.name)} {link(event.url)}"
    if event.event is EventType.NEW_COMMITS:
        line += f": last commit {_day(event.new)} (was {_day(event.old)})"
    elif event.event is EventType.NEW_VERSION:
        line += f": {md(event.old)} to {md(event.new)}"
        if event.detail:
            line += f" ({md(event.detail)})"
    elif event.event is EventType.REDIRECTED:
        line += f": now redirects to {link(event.new_url)}"
    elif event.event is EventType.GATED_CHANGED:
        line += f": gating {md(event.old)} to {md(event.new)}"
    elif event.event is EventType.STALE:
        line += f": no commit since {md(event.old)}"
    elif event.event is EventType.UNVERIFIABLE:
        line += ": answers robots only with refusals (bot wall, 999, 429); check it by hand"
    return line


def _movers(events: Sequence[ReportEvent]) -> list[str]:
    # Several changes of one source in a day collapse to first-old and last-new.
    first: dict[str, ReportEvent] = {}
    last: dict[str, ReportEvent] = {}
    for event in events:
        first.setdefault(event.url, event)
        last[event.url] = event
    rows = []
    for url, event in first.items():
        before, after = int(event.old or 0), int(last[url].new or 0)
        rows.append((after - before, event.name, url, before, after))
    rows.sort(key=lambda r: (-abs(r[0]), -r[0], r[1]))
    lines = [
        heading(3, "Star movers", [EventType.STARS_CHANGED.value], len(rows)),
        "",
        "| source | before | after | change |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {md(name)} {link(url)} | {before} | {after} | {change:+d} |"
        for change, name, url, before, after in rows
    ]
    return [*lines, ""]


def _runs(runs: Sequence[ReportRun]) -> list[str]:
    lines = [
        "## Runs",
        "",
        "| run | at | checked | deferred | requests | rate limit left | duration | errors |",
        "|---|---|---:|---:|---|---|---:|---|",
    ]
    for run in runs:
        data = run.to_json()
        requests = ", ".join(f"{k} {v}" for k, v in data["requests"].items()) or "none"
        limits = ", ".join(
            f"{k} {v['remaining']}/{v['limit']}"
            for k, v in data["rate_limits"].items()
            if v["limit"] is not None
        )
        status = run.status + (", degraded" if run.degraded else "")
        errors = "; ".join(md(e) for e in data["errors"]) or "none"
        duration = data["duration_seconds"]
        lines.append(
            f"| {run.id} ({status}) | {run.at.isoformat()} | {data['sources_checked']} "
            f"| {data['deferred']} | {requests} | {limits or 'n/a'} | "
            f"{duration if duration is not None else ''} s | {errors} |"
        )
    return [*lines, ""]


# --- JSON --------------------------------------------------------------------------------------


def render_json(report: DayReport) -> str:
    return "".join(render_json_chunks(report))


def render_json_chunks(report: DayReport) -> Iterator[str]:
    """The JSON report piece by piece, for writing straight to a file: the same text as
    `json.dumps(payload, indent=2)`, without ever holding all of it (the day a catalog
    of 100,000 sources is first checked, every one of them has an event and is listed).

    `states` counts every state, zeros included, ok first, so a script can read any of
    them without a default."""
    states = {health.value: report.states.get(health, 0) for health in STATE_ORDER}
    figures = {
        "runs": len(report.runs),
        "sources_checked": report.checked,
        "never_checked": report.never_checked,
        "events": len(report.events),
        "alerts": sum(1 for e in report.events if e.alert),
        "requests": _total_requests(report.runs),
        "errors": sum(len(r.figures.get("errors", [])) for r in report.runs),
        "duration_seconds": round(
            sum(r.figures.get("duration_seconds") or 0 for r in report.runs), 3
        ),
    }
    yield '{\n  "date": ' + _json(report.date, 1)
    yield ',\n  "states": ' + _json(states, 1)
    arrays: tuple[tuple[str, Iterable[ReportEvent | ReportSource | ReportRun]], ...] = (
        ("events", report.events),
        ("sources", report.sources),
        ("runs", report.runs),
    )
    for name, items in arrays:
        yield f",\n  {_json(name, 1)}: "
        opened = False
        for item in items:
            yield ",\n    " if opened else "[\n    "
            opened = True
            yield _json(item.to_json(), 2)
        yield "\n  ]" if opened else "[]"
    yield ',\n  "figures": ' + _json(figures, 1) + "\n}\n"


def _json(value: Any, depth: int) -> str:
    """`value` as `json.dumps(indent=2)` writes it `depth` levels deep."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    # JSON strings never hold a raw newline, so every newline is the encoder's own.
    return text.replace("\n", "\n" + "  " * depth)


def _total_requests(runs: Sequence[ReportRun]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for run in runs:
        for name, figures in run.figures.get("services", {}).items():
            totals[name] = totals.get(name, 0) + int(figures.get("requests", 0))
    return dict(sorted(totals.items()))
