"""The weekly digest on disk: an ISO week read from the store, rendered, written atomically.

    week = last_complete_week(now)                 # the default of `monitor digest`
    write_week_digest(store, week, reports_dir)    # reports/weekly/2026-W46.md, .json, .svg

Weeks are ISO weeks in UTC, Monday 00:00 to the next Monday 00:00, as the dated
reports use UTC dates. Everything comes from the store and nothing from the
clock or from a source's current state: the states are each source's health
after its last check before the week's end, so rebuilding a past week after
more runs writes the same files, byte for byte.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from monitor.catalog.file import write_atomically
from monitor.catalog.kinds import NotAWebURL, identify
from monitor.model import EventType, Health, Kind, Outcome
from monitor.render.chart import MAX_SERIES, StarSeries, star_chart_svg
from monitor.render.digest import (
    ACTION,
    RELATIVE_FLOOR,
    TOP_MOVERS,
    DigestEvent,
    Glance,
    Mover,
    WeekDigest,
    WeekRun,
    render_json,
    render_markdown,
)
from monitor.store import Store
from monitor.store.store import StoredEvent

_WEEK = re.compile(r"(\d{4})-?W(\d{2})", re.IGNORECASE)
_HUB = frozenset({Kind.HF_MODEL, Kind.HF_DATASET, Kind.HF_SPACE})


@dataclass(frozen=True, slots=True, order=True)
class Week:
    """An ISO week in UTC: from Monday 00:00 UTC to the next Monday 00:00 UTC."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9998:
            raise ValueError(f"{self.year} is not a year monitor can name weeks in")
        weeks = weeks_in(self.year)
        if not 1 <= self.number <= weeks:
            raise ValueError(
                f"{self.year} has {weeks} ISO weeks, so week {self.number} is not one of "
                f"them (W01 to W{weeks:02d})"
            )

    @property
    def label(self) -> str:
        """ "2026-W46"."""
        return f"{self.year:04d}-W{self.number:02d}"

    @property
    def start(self) -> datetime:
        """Monday 00:00 UTC."""
        monday = date.fromisocalendar(self.year, self.number, 1)
        return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 UTC: the week is [start, end)."""
        return self.start + timedelta(days=7)

    @classmethod
    def parse(cls, text: str) -> Week:
        """ "2026-W46" (or "2026W46", any case); ValueError saying what is wrong otherwise."""
        found = _WEEK.fullmatch(text.strip())
        if found is None:
            raise ValueError(
                f"{text!r} is not an ISO week: write YYYY-Www, for example 2026-W46 "
                "(weeks run Monday to Sunday, UTC)"
            )
        try:
            return cls(int(found[1]), int(found[2]))
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None

    @classmethod
    def containing(cls, moment: datetime) -> Week:
        """The week in which `moment` (timezone-aware) falls, in UTC."""
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment!r}: weeks are counted in UTC")
        iso = moment.astimezone(UTC).isocalendar()
        return cls(iso.year, iso.week)

    def previous(self) -> Week:
        return Week.containing(self.start - timedelta(days=1))

    def __str__(self) -> str:
        return self.label


def weeks_in(year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last."""
    return date(year, 12, 28).isocalendar().week


def last_complete_week(now: datetime) -> Week:
    """The week before the one containing `now`: the default of `monitor digest`."""
    return Week.containing(now).previous()


def week_digest(store: Store, week: Week) -> WeekDigest:
    """Everything the store knows about the runs and events of one week."""
    runs = sorted(store.runs(since=week.start, until=week.end), key=lambda r: (r.at, r.id))
    run_ids = [r.id for r in runs]
    # Only what the digest reads of every source (its id, key and section), never the
    # sources themselves: at 100,000 sources, holding them took most of 470 MB.
    ids: dict[str, int] = {}
    sections: list[str] = []
    for source_id, key, section in store.source_keys():
        ids[key] = source_id
        sections.append(section)
    place = _section_order(sections)
    del sections
    at_end = store.health_at(week.end)
    checked = store.iter_checked_in(run_ids) if run_ids else iter(())
    counted = Counter(at_end.get(s.id, Health.UNKNOWN) for s in checked)
    stored = store.events(since=week.start, until=week.end)

    def entry(item: StoredEvent) -> DigestEvent:
        event = item.event
        return DigestEvent(
            event.event,
            event.url,
            event.kind.value,
            event.at,
            item.name,
            item.section,
            event.old,
            event.new,
            event.new_url,
            event.detail,
            event.alert,
            health_at_end=at_end.get(ids.get(event.key, -1)),
        )

    def of(*types: EventType, kinds: Iterable[Kind] | None = None) -> list[DigestEvent]:
        wanted = frozenset(kinds) if kinds is not None else None
        return [
            entry(s)
            for s in stored
            if s.event.event in types and (wanted is None or s.event.kind in wanted)
        ]

    def in_order(events: Iterable[DigestEvent]) -> list[DigestEvent]:
        return sorted(events, key=lambda e: (place(e.section), *_total(e)))

    action_rank = {event_type: n for n, (event_type, _, _) in enumerate(ACTION)}
    needs_action = sorted(
        (e for e in of(*action_rank) if not e.held),  # snoozed: not yet the maintainer's
        key=lambda e: (action_rank[e.event], place(e.section), *_total(e)),
    )
    movers = _movers([s for s in stored if s.event.event is EventType.STARS_CHANGED])
    gainers = sorted((m for m, _ in movers if m.change > 0), key=lambda m: (-m.change, m.url))
    relative = sorted(
        (m for m, _ in movers if m.change > 0 and m.before >= RELATIVE_FLOOR),
        key=lambda m: (-Fraction(m.change, m.before), m.url),
    )
    losers = sorted((m for m, _ in movers if m.change < 0), key=lambda m: (m.change, m.url))
    # The biggest changes either way: a loss of 150 is charted before a gain of 90.
    charted = sorted(movers, key=lambda p: (-abs(p[0].change), -p[0].change, p[0].url))
    return WeekDigest(
        week=week.label,
        start=week.start,
        end=week.end,
        glance=Glance(tuple((health, counted[health]) for health in Health)),
        needs_action=needs_action,
        moved=len(movers),
        gainers=gainers[:TOP_MOVERS],
        relative=relative[:TOP_MOVERS],
        losers=losers[:TOP_MOVERS],
        chart=[
            _series(store, ids.get(changes[0].event.key), mover, changes, week)
            for mover, changes in charted[:MAX_SERIES]
        ],
        commits=in_order(_collapsed(of(EventType.NEW_COMMITS, kinds=[Kind.GITHUB_REPO]))),
        hub_updates=in_order(_collapsed(of(EventType.NEW_COMMITS, kinds=_HUB))),
        versions=in_order(_collapsed(of(EventType.NEW_VERSION))),
        stale=in_order(of(EventType.STALE)),
        recovered=in_order(of(EventType.RECOVERED)),
        unverifiable=in_order(of(EventType.UNVERIFIABLE)),
        runs=[
            WeekRun(r.id, r.at, r.status, r.degraded, int(r.figures.get("sources_checked", 0)))
            for r in runs
        ],
        alerts=sum(1 for s in stored if s.event.alert),
    )


def write_week_digest(store: Store, week: Week, reports_dir: Path) -> list[Path]:
    """Write `weekly/<week>.md`, `.json` and, when stars moved, `.svg`, each atomically.

    A chart left by an earlier build of a week in which (now) nobody moved is
    removed, so a rebuild leaves exactly the files a first build would."""
    digest = week_digest(store, week)
    directory = reports_dir / "weekly"
    markdown = directory / f"{digest.week}.md"
    data = directory / f"{digest.week}.json"
    chart = directory / f"{digest.week}.svg"
    written = []
    # The chart first: the markdown never links to a file that is not there yet.
    if digest.chart_file is not None:
        write_atomically(chart, star_chart_svg(digest.chart, title=digest.chart_title))
        written.append(chart)
    else:
        chart.unlink(missing_ok=True)
    write_atomically(markdown, render_markdown(digest, digest.chart_file))
    write_atomically(data, render_json(digest))
    return [markdown, data, *written]


# --- helpers ---------------------------------------------------------------------------------


def _section_order(sections: Iterable[str]) -> Callable[[str], tuple[int, int, str]]:
    """Sections in the order they first appear by source id; no section last."""
    first: dict[str, int] = {}
    for section in sections:
        first.setdefault(section, len(first))

    def place(section: str) -> tuple[int, int, str]:
        if not section.strip():
            return (1, 0, "")
        return (0, first.get(section, len(first)), section)

    return place


def _total(event: DigestEvent) -> tuple[datetime, str, str, str, str]:
    return (event.at, event.url, event.kind, event.old or "", event.new or "")


def _collapsed(events: Sequence[DigestEvent]) -> list[DigestEvent]:
    """One entry per source: the first `old` and everything else of the last event."""
    first: dict[str, DigestEvent] = {}
    last: dict[str, DigestEvent] = {}
    for event in events:
        first.setdefault(event.url, event)
        last[event.url] = event
    return [replace(last[url], old=first[url].old) for url in first]


def _movers(events: Sequence[StoredEvent]) -> list[tuple[Mover, list[StoredEvent]]]:
    """Each source's stars from the week's first `old` to its last `new`, with its changes."""
    changes: dict[str, list[StoredEvent]] = {}
    for item in events:
        if _count(item.event.old) is not None and _count(item.event.new) is not None:
            changes.setdefault(item.event.key, []).append(item)
    found = []
    for items in changes.values():
        first, last = items[0], items[-1]
        mover = Mover(
            last.event.url,
            last.event.kind.value,
            last.name,
            last.section,
            _label(last.event.url),
            last.event.at,
            _count(first.event.old) or 0,
            _count(last.event.new) or 0,
        )
        found.append((mover, items))
    return found


#: Outcomes after which the stored count is what the service said at that check.
_ANSWERED = frozenset({Outcome.OK.value, Outcome.NOT_MODIFIED.value})


def _series(
    store: Store, source_id: int | None, mover: Mover, changes: Sequence[StoredEvent], week: Week
) -> StarSeries:
    """A charted mover's count at each of its checks of the week (a marker each), carried
    to the week's start and end (no marker there: nothing was checked then).

    Every change of the count raised a `stars_changed` event, so the count at a check is
    the `new` of the last change at or before it, or the week's first `old` before any."""
    checks = {
        at
        for at, outcome, _ in (store.history(source_id) if source_id is not None else [])
        if week.start <= at < week.end and outcome in _ANSWERED
    }
    checks |= {c.event.at for c in changes}  # a change is seen at a check, always
    points: list[tuple[datetime, int]] = []
    observed: list[bool] = []
    if min(checks) > week.start:
        points.append((week.start, mover.before))
        observed.append(False)
    count, pending = mover.before, list(changes)
    for at in sorted(checks):
        while pending and pending[0].event.at <= at:
            count = _count(pending.pop(0).event.new) or 0
        points.append((at, count))
        observed.append(True)
    points.append((week.end, mover.after))
    observed.append(False)
    return StarSeries(mover.label, tuple(points), tuple(observed))


def _count(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _label(url: str) -> str:
    """The service's own identity of a source ("owner/name"), shorter than a display name."""
    try:
        return identify(url).label
    except NotAWebURL:
        return url
