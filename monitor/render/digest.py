"""The weekly digest, as markdown and JSON: data in, text out, nothing else.

The markdown reads from the overview to the detail: the week at a glance
(sources by state at the end of the week, the alive share), what needs action
(deleted, dead, renamed and redirected with the URL to put in the list, licence
changes, archived, blocked, unreachable), the star movers (top gainers, absolute
and relative, and losses, with a chart), what shipped (new commits, Hugging Face
updates, new arXiv versions), what went stale, what recovered, and the week's
runs. Every list is grouped by the catalog's sections, and every heading over a
list of events names their event word, with the count, as the dated report does:
`### Deleted (deleted, 1)`. Text that came from the outside world (names, sections,
error messages) is escaped with the dated report's `md()` and `link()`. Nothing here
reads a clock, so a week rebuilt from the store renders the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from monitor.model import EventType, Health
from monitor.render.chart import StarSeries
from monitor.render.report import ReportEvent, heading, link, md

#: How many sources each table of star movers lists.
TOP_MOVERS = 10
#: A relative gain counts only from this many stars at the start: 1 -> 3 is not news.
RELATIVE_FLOOR = 10
ALIVE = "answered normally at its last check of the week"
_STARS = EventType.STARS_CHANGED.value
NO_SECTION = "(no section)"

ACTION = (
    (EventType.DELETED, "Deleted", "The service confirms these are gone."),
    (EventType.DEAD, "Dead links", "Failing definitively on repeated checks."),
    (EventType.RENAMED, "Renamed", "Put the new URL in the list (`monitor catalog fix`)."),
    (
        EventType.REDIRECTED,
        "Redirected",
        "Permanently redirected; put the new URL in the list (`monitor catalog fix`).",
    ),
    (EventType.LICENSE_CHANGED, "Licence changes", None),
    (EventType.ARCHIVED, "Archived", "Read-only now; no more changes upstream."),
    (EventType.BLOCKED, "Blocked", "Access blocked by the service (takedown or terms)."),
    (EventType.UNREACHABLE, "Unreachable", "Only transient failures, for a week or more."),
)
#: The failures after which "ok at the end of the week" is worth saying.
_GONE = frozenset({EventType.DELETED, EventType.DEAD, EventType.BLOCKED, EventType.UNREACHABLE})


@dataclass(frozen=True, slots=True)
class DigestEvent(ReportEvent):
    """An event of the week (or several of one source, first `old` to last `new`)."""

    #: the source's health after its last check of the week
    health_at_end: Health | None = None

    def to_json(self) -> dict[str, Any]:
        # Explicit base call: zero-argument super() does not work in slotted dataclasses.
        data = ReportEvent.to_json(self)
        if self.health_at_end is not None:
            data["health_at_end"] = self.health_at_end.value
        return data


@dataclass(frozen=True, slots=True)
class Mover:
    """A source whose stars (GitHub) or likes (the Hub) changed during the week."""

    url: str
    kind: str
    name: str
    section: str
    #: the service's identity, "owner/name": short and unambiguous, for the chart
    label: str
    #: the last change of the week
    at: datetime
    before: int
    after: int

    @property
    def change(self) -> int:
        return self.after - self.before

    @property
    def relative(self) -> Fraction | None:
        return Fraction(self.change, self.before) if self.before > 0 else None

    def to_json(self) -> dict[str, Any]:
        relative = self.relative
        return {
            "event": EventType.STARS_CHANGED.value,
            "url": self.url,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "name": self.name,
            "section": self.section,
            "label": self.label,
            "old": str(self.before),
            "new": str(self.after),
            "change": self.change,
            "relative": round(float(relative), 4) if relative is not None else None,
        }


@dataclass(frozen=True, slots=True)
class Glance:
    """How many of the sources checked during the week ended it in each state."""

    #: every Health, in its enum order, with its count (zeros included)
    states: tuple[tuple[Health, int], ...]

    @property
    def checked(self) -> int:
        return sum(count for _, count in self.states)

    @property
    def alive(self) -> int:
        return dict(self.states).get(Health.OK, 0)

    @property
    def alive_share(self) -> float | None:
        return round(self.alive / self.checked, 4) if self.checked else None


@dataclass(frozen=True, slots=True)
class WeekRun:
    """One run of the week, as the digest sums it up."""

    id: int
    at: datetime
    status: str
    degraded: bool
    sources_checked: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "status": self.status,
            "degraded": self.degraded,
            "sources_checked": self.sources_checked,
        }


@dataclass(frozen=True, slots=True)
class WeekDigest:
    """Everything one ISO week's digest says, each list already in its final order."""

    week: str
    start: datetime
    end: datetime
    glance: Glance
    #: in ACTION's order, then by section (catalog order), time and URL
    needs_action: Sequence[DigestEvent]
    #: how many sources' stars changed at all
    moved: int
    gainers: Sequence[Mover]
    relative: Sequence[Mover]
    losers: Sequence[Mover]
    #: the top movers' star history, for the chart
    chart: Sequence[StarSeries]
    commits: Sequence[DigestEvent]
    hub_updates: Sequence[DigestEvent]
    versions: Sequence[DigestEvent]
    stale: Sequence[DigestEvent]
    recovered: Sequence[DigestEvent]
    runs: Sequence[WeekRun]
    alerts: int
    #: links that only answer robots with refusals: reported, never alerted
    unverifiable: Sequence[DigestEvent] = ()

    @property
    def chart_file(self) -> str | None:
        """The chart's file name, next to the markdown; None when nobody moved."""
        return f"{self.week}.svg" if self.chart else None

    @property
    def chart_title(self) -> str:
        """What the chart draws: the biggest changes of the week, gains and losses alike."""
        drawn = len(self.chart)
        if drawn == self.moved:
            who = "the one source that moved" if drawn == 1 else f"all {drawn} sources that moved"
        else:
            who = f"the {drawn} biggest movers, up or down"
        return f"Change in stars or likes during {self.week}: {who}"


# --- markdown ----------------------------------------------------------------------------------


def render_markdown(digest: WeekDigest, chart: str | None) -> str:
    """The digest as markdown; `chart` is the relative link of the star chart, if any."""
    last_day = (digest.end - timedelta(days=1)).date()
    lines = [
        f"# monitor weekly digest: {digest.week}",
        "",
        f"Monday {digest.start.date().isoformat()} to Sunday {last_day.isoformat()} (UTC).",
        "",
    ]
    lines += _glance(digest)
    lines += _needs_action(digest.needs_action)
    lines += _movers(digest, chart)
    lines += _shipped(digest)
    lines += _listed(
        "Went stale",
        EventType.STALE,
        "No commit on the default branch for a year.",
        digest.stale,
        lambda e: f"- {_source(e)}: no commit since {md(e.old)}",
        "Nothing went stale.",
    )
    lines += _listed(
        "Recovered",
        EventType.RECOVERED,
        "Answering again after being gone or unreachable.",
        digest.recovered,
        lambda e: f"- {_source(e)} ({e.kind}): was {md(e.old)}",
        "Nothing recovered.",
    )
    if digest.unverifiable:
        lines += _listed(
            "Unverifiable",
            EventType.UNVERIFIABLE,
            "These answer robots only with refusals (bot walls, 999, 429): check them by hand.",
            digest.unverifiable,
            lambda e: f"- {_source(e)} ({e.kind})",
            "",
        )
    lines += _runs(digest.runs)
    return "\n".join(lines).rstrip() + "\n"


def _glance(digest: WeekDigest) -> list[str]:
    glance = digest.glance
    degraded = sum(1 for r in digest.runs if r.degraded)
    lines = [
        "## The week at a glance",
        "",
        f"{glance.checked} sources checked in {len(digest.runs)} run(s)"
        + (f", {degraded} degraded" if degraded else "")
        + f"; {digest.alerts} alert(s) raised.",
        "",
    ]
    if glance.checked:
        share = glance.alive_share or 0.0
        lines += [
            f"**Alive: {glance.alive} of {glance.checked} ({share:.1%})**; alive: {ALIVE}.",
            "",
            "| state at the end of the week | sources |",
            "|---|---:|",
        ]
        lines += [f"| {health.value} | {count} |" for health, count in glance.states if count]
        lines.append("")
    if degraded:
        lines += [
            "**Degraded runs:** most hosts could not be reached at the network level (was "
            "the machine offline?). Failures in degraded runs count towards nothing.",
            "",
        ]
    return lines


def _needs_action(events: Sequence[DigestEvent]) -> list[str]:
    lines = [f"## Needs action ({len(events)})", ""]
    if not events:
        return [*lines, "Nothing needs action.", ""]
    for event_type, title, note in ACTION:
        of_type = [e for e in events if e.event is event_type]
        if not of_type:
            continue
        lines += [heading(3, title, [event_type.value], len(of_type)), ""]
        if note:
            lines += [note, ""]
        for section, entries in _by_section(of_type):
            lines += [f"#### {section}", ""]
            lines += _action_lines(event_type, entries)
            lines.append("")
    return lines


def _action_lines(event_type: EventType, events: Sequence[DigestEvent]) -> list[str]:
    if event_type is EventType.RENAMED:
        rows = ["| source | was | now | new URL |", "|---|---|---|---|"]
        rows += [
            f"| {_source(e)} | {md(e.old)} | {md(e.new)} | {link(e.new_url)} |" for e in events
        ]
        return rows
    if event_type is EventType.LICENSE_CHANGED:
        rows = ["| source | was | now |", "|---|---|---|"]
        rows += [f"| {_source(e)} | {md(e.old)} | {md(e.new)} |" for e in events]
        return rows
    lines = []
    for event in events:
        line = f"- {_source(event)} ({event.kind})"
        if event.detail:
            line += f": {md(event.detail)}"
        if event.new_url:
            line += f"; now at {link(event.new_url)}"
        if event.event in _GONE and event.health_at_end is Health.OK:
            line += "; answering again at the end of the week"
        lines.append(line)
    return lines


def _movers(digest: WeekDigest, chart: str | None) -> list[str]:
    lines = [f"## Star movers ({digest.moved})", ""]
    if not digest.moved:
        return [*lines, "No star changes this week.", ""]
    lines += [
        "Stars on GitHub, likes on the Hugging Face Hub: the count before the week's "
        "first change and after its last.",
        "",
    ]
    if chart:
        lines += [f"![{digest.chart_title}]({chart})", ""]
    header = ["| source | section | before | after | change |", "|---|---|---:|---:|---:|"]
    if digest.gainers:
        lines += [heading(3, "Top gainers", [_STARS], len(digest.gainers)), "", *header]
        lines += [_mover_row(m) for m in digest.gainers]
        lines.append("")
    if digest.relative:
        lines += [
            heading(3, "Top gainers, relative", [_STARS], len(digest.relative)),
            "",
            f"Sources with at least {RELATIVE_FLOOR} at the start of the week.",
            "",
            "| source | section | before | after | change | relative |",
            "|---|---|---:|---:|---:|---:|",
        ]
        lines += [_mover_row(m, relative=True) for m in digest.relative]
        lines.append("")
    if digest.losers:
        lines += [heading(3, "Losses", [_STARS], len(digest.losers)), "", *header]
        lines += [_mover_row(m) for m in digest.losers]
        lines.append("")
    return lines


def _mover_row(mover: Mover, *, relative: bool = False) -> str:
    row = (
        f"| {_source(mover)} | {_section(mover.section)} | "
        f"{mover.before} | {mover.after} | {mover.change:+d} |"
    )
    if relative and mover.relative is not None:
        row += f" {float(mover.relative):+.1%} |"
    return row


def _shipped(digest: WeekDigest) -> list[str]:
    parts: tuple[
        tuple[str, EventType, Sequence[DigestEvent], Callable[[DigestEvent], str]], ...
    ] = (
        (
            "Repositories with new commits",
            EventType.NEW_COMMITS,
            digest.commits,
            lambda e: f"- {_source(e)}: last commit {_day(e.new)} (was {_day(e.old)})",
        ),
        (
            "Hugging Face repos updated",
            EventType.NEW_COMMITS,
            digest.hub_updates,
            lambda e: f"- {_source(e)} ({e.kind}): updated {_day(e.new)} (was {_day(e.old)})",
        ),
        (
            "New arXiv versions",
            EventType.NEW_VERSION,
            digest.versions,
            lambda e: (
                f"- {_source(e)}: {md(e.old)} to {md(e.new)}"
                + (f" ({md(e.detail)})" if e.detail else "")
            ),
        ),
    )
    total = sum(len(events) for _, _, events, _ in parts)
    lines = [f"## What shipped ({total})", ""]
    if not total:
        return [*lines, "Nothing shipped.", ""]
    for title, event_type, events, line in parts:
        if not events:
            continue
        lines += [heading(3, title, [event_type.value], len(events)), ""]
        for section, entries in _by_section(events):
            lines += [f"#### {section}", ""]
            lines += [line(e) for e in entries]
            lines.append("")
    return lines


def _listed(
    title: str,
    event_type: EventType,
    note: str,
    events: Sequence[DigestEvent],
    line: Callable[[DigestEvent], str],
    empty: str,
) -> list[str]:
    lines = [heading(2, title, [event_type.value], len(events)), ""]
    if not events:
        return [*lines, empty, ""]
    lines += [note, ""]
    for section, entries in _by_section(events):
        lines += [f"### {section}", ""]
        lines += [line(e) for e in entries]
        lines.append("")
    return lines


def _runs(runs: Sequence[WeekRun]) -> list[str]:
    lines = ["## Runs", ""]
    if not runs:
        return [*lines, "No run this week.", ""]
    days: dict[str, list[WeekRun]] = {}
    for run in runs:
        days.setdefault(run.at.date().isoformat(), []).append(run)
    lines += [
        "| day | runs | degraded | not completed | sources checked |",
        "|---|---:|---:|---:|---:|",
    ]
    for day, of_day in days.items():
        lines.append(
            f"| [{day}](../{day}.md) | {len(of_day)} | "
            f"{sum(1 for r in of_day if r.degraded)} | "
            f"{sum(1 for r in of_day if r.status != 'completed')} | "
            f"{sum(r.sources_checked for r in of_day)} |"
        )
    return [*lines, ""]


def _by_section(events: Iterable[DigestEvent]) -> list[tuple[str, list[DigestEvent]]]:
    """Consecutive runs of one section, headed by its escaped name; the order is kept."""
    groups: dict[str, list[DigestEvent]] = {}
    for event in events:
        groups.setdefault(event.section, []).append(event)
    return [(_section(section), entries) for section, entries in groups.items()]


def _source(item: ReportEvent | Mover) -> str:
    """Its name and link; the link alone when the catalog gave no name but the URL."""
    if not item.name.strip() or item.name == item.url:
        return link(item.url)
    return f"{md(item.name)} {link(item.url)}"


def _section(section: str) -> str:
    return md(section) if section.strip() else NO_SECTION


def _day(value: str | None) -> str:
    return value[:10] if value else ""


# --- JSON --------------------------------------------------------------------------------------


def render_json(digest: WeekDigest) -> str:
    """The digest as JSON: the same content as the markdown, structured."""
    glance = digest.glance
    payload = {
        "week": digest.week,
        "start": digest.start.isoformat(),
        "end": digest.end.isoformat(),
        "glance": {
            "checked": glance.checked,
            "alive": glance.alive,
            "alive_share": glance.alive_share,
            "alive_means": ALIVE,
            "states": {health.value: count for health, count in glance.states},
        },
        "alerts": digest.alerts,
        "needs_action": [e.to_json() for e in digest.needs_action],
        "star_movers": {
            "moved": digest.moved,
            "relative_floor": RELATIVE_FLOOR,
            "gainers": [m.to_json() for m in digest.gainers],
            "relative": [m.to_json() for m in digest.relative],
            "losers": [m.to_json() for m in digest.losers],
        },
        "shipped": {
            "commits": [e.to_json() for e in digest.commits],
            "hugging_face": [e.to_json() for e in digest.hub_updates],
            "arxiv": [e.to_json() for e in digest.versions],
        },
        "stale": [e.to_json() for e in digest.stale],
        "recovered": [e.to_json() for e in digest.recovered],
        "unverifiable": [e.to_json() for e in digest.unverifiable],
        "runs": {
            "count": len(digest.runs),
            "degraded": sum(1 for r in digest.runs if r.degraded),
            "not_completed": sum(1 for r in digest.runs if r.status != "completed"),
            "runs": [r.to_json() for r in digest.runs],
        },
        "chart": digest.chart_file,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
