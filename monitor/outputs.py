"""The files every run leaves beside the day's reports: what people look at, not read.

    written = write_run_files(store, now, settings.reports_dir)

`index.html` (the whole list, `render.site`), `feed.atom` (the alerting and
needs-action events of the last 30 days, `render.feed`), `badge.json` (a
shields.io endpoint, `render.badge`) and `monitor.prom` (Prometheus text
format, `render.metrics`), each written atomically after every run that writes
the day's reports. This module reads the store and turns what it holds into
the renderers' plain values; the renderers do no I/O of their own beyond the
file they are given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from itertools import groupby
from pathlib import Path

from monitor.catalog.file import write_atomically
from monitor.model import EventType, Facts, Health, Kind
from monitor.needs import READS
from monitor.render.badge import badge_json
from monitor.render.feed import FeedItem, render_feed
from monitor.render.links import http_link
from monitor.render.metrics import MetricsSnapshot, write_metrics
from monitor.render.site import (
    Change,
    Page,
    Row,
    Section,
    page_time,
    render_page,
    state_order,
    trend,
)
from monitor.store import Store, StoredEvent, StoredRun, StoredSource

FILES = ("index.html", "feed.atom", "badge.json", "monitor.prom")
#: What "lately" means on the page and in the feed.
RECENT = timedelta(days=30)
#: How far back a trend of stars or likes is drawn from.
TREND = timedelta(days=90)
#: The feed's newest entries (a reader polls it; the reports hold the rest).
FEED_ENTRIES = 500
#: Events the page's "last 30 days" leaves out: stars are its trend, and every entry
#: was `added` once (on a list's first week, that is all there would be).
QUIET = frozenset({"stars_changed", "added"})
MOVES = frozenset({"renamed", "redirected"})
#: Changes listed per entry on the page (newest first; the rest are in the reports).
CHANGES_SHOWN = 5


def write_run_files(
    store: Store, now: datetime, directory: Path, *, title: str = "monitor", idle: bool = False
) -> list[Path]:
    """Write the four files into `directory`; return their paths.

    After an `idle` run (nothing checked, nothing found) only `monitor.prom` is written
    when the others exist: they would say what they say already, at the cost of reading
    every source back; the metrics carry the run's time, which scrapers watch."""
    counts = {h.value: n for h, n in store.health_counts().items()}
    total = sum(counts.values())
    runs = store.runs(limit=1)
    paths = [directory / name for name in FILES]
    write_metrics(paths[3], _snapshot(store, counts, runs[0] if runs else None))
    if idle and all(path.exists() for path in paths):
        return paths
    # Not `added`: the page leaves it out, and on a list's first day it is every source.
    events = store.events(since=now - TREND, types=frozenset(EventType) - {EventType.ADDED})
    recent = [e for e in events if e.event.at >= now - RECENT]
    write_atomically(paths[0], render_page(_page(store, now, title, counts, total, events)))
    feed = [_feed_item(e) for e in reversed(recent) if e.event.alert or e.event.event in READS]
    del feed[FEED_ENTRIES:]
    write_atomically(
        paths[1], render_feed(feed, now=now, title=f"{title}: what needs action", feed_id=title)
    )
    write_atomically(paths[2], badge_json(counts.get(Health.OK.value, 0), total))
    return paths


# --- index.html ------------------------------------------------------------------------------


def _page(
    store: Store,
    now: datetime,
    title: str,
    counts: dict[str, int],
    total: int,
    events: Sequence[StoredEvent],
) -> Page:
    changes: dict[str, list[Change]] = defaultdict(list)
    stars: dict[str, list[int]] = defaultdict(list)
    moved: dict[str, str] = {}
    for item in events:  # oldest first
        event = item.event
        if event.event == "stars_changed" and event.new is not None:
            series = stars[event.url]
            if not series and event.old is not None and event.old.isdigit():
                series.append(int(event.old))
            if event.new.isdigit():
                series.append(int(event.new))
        if event.event in MOVES and event.new_url:
            moved[event.url] = event.new_url
        if event.at >= now - RECENT and event.event not in QUIET:
            changes[event.url].insert(0, Change(event.at.date().isoformat(), _words(item)))
    kinds = store.kinds()
    if Kind.HF_OWNER.value in kinds:
        kinds = sorted({*kinds, Kind.HF_MODEL.value})  # what `huggingface.co/gpt2` turns out

    def rows(sources: Iterator[StoredSource]) -> Iterator[Row]:
        for source in sources:
            recent = changes.get(source.url, [])[:CHANGES_SHOWN]
            yield _row(source, recent, stars.get(source.url, []), moved.get(source.url))

    # One query for the whole list, its sections in catalog order; the page consumes each
    # section's rows before asking for the next, as groupby needs.
    grouped = groupby(store.iter_sources(by_section=True), key=lambda s: s.section)

    return Page(
        title=title,
        generated=page_time(now),
        total=total,
        counts=state_order(counts),
        kinds=kinds,
        sections=(Section(name or "(no section)", rows(group)) for name, group in grouped),
    )


def _row(
    source: StoredSource, changes: Sequence[Change], stars: Sequence[int], moved: str | None
) -> Row:
    state, facts = source.state, source.state.facts or Facts()
    return Row(
        name=source.name or source.url,
        url=http_link(source.url) or "",
        kind=facts.resolved_kind or source.kind.value,
        state="ignored" if source.judgement.ignore else state.health.value,
        stars=facts.stars,
        trend=_trend(stars, facts.stars),
        updated=facts.last_commit.date().isoformat() if facts.last_commit else None,
        license=facts.license,
        flags=_flags(source, facts),
        # Where a rename or a permanent redirect said it went, while the list still has the
        # old URL (a facts URL alone is often just the canonical spelling of the same one).
        moved_to=http_link(moved or source.state.redirected_to),
        changes=tuple(changes),
    )


def _trend(series: Sequence[int], now: int | None) -> str:
    if now is None:
        return ""
    points = list(series)
    if not points or points[-1] != now:
        points.append(now)
    return trend(points)


def _flags(source: StoredSource, facts: Facts) -> tuple[str, ...]:
    flags = []
    if facts.archived:
        flags.append("archived")
    if facts.gated and facts.gated != "false":
        flags.append("gated")
    if source.state.stale:
        flags.append("stale")
    if facts.withdrawn:
        flags.append("withdrawn")
    if source.kind is Kind.ARXIV and facts.version:
        flags.append(facts.version)
    if not source.judgement.ignore and source.judgement.words():
        flags.append(source.judgement.words())
    return tuple(flags)


def _words(item: StoredEvent) -> str:
    """An event as one line: its word, then what changed."""
    event = item.event
    text = event.event.replace("_", " ")
    if event.old is not None or event.new is not None:
        text += f": {_short(event.old)} → {_short(event.new)}"
    if event.new_url:
        text += f" ({event.new_url})"
    elif event.detail:
        text += f" ({event.detail})"
    return text


def _short(value: str | None) -> str:
    """A value as the page shows it: a timestamp as its day."""
    if value is None:
        return "–"
    if len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return value[:10]
    return value


# --- feed.atom and monitor.prom --------------------------------------------------------------


def _feed_item(item: StoredEvent) -> FeedItem:
    event = item.event
    return FeedItem(
        event=event.event.value,
        url=event.url,
        name=item.name,
        section=item.section,
        kind=event.kind.value,
        at=event.at,
        old=event.old,
        new=event.new,
        new_url=event.new_url,
        detail=event.detail,
        alert=event.alert,
    )


def _snapshot(store: Store, counts: dict[str, int], last: StoredRun | None) -> MetricsSnapshot:
    states = {h.value: counts.get(h.value, 0) for h in Health}
    events: dict[str, int] = defaultdict(int)
    requests: dict[str, int] = {}
    remaining: dict[str, int | None] = {}
    if last is not None:
        for item in store.events(run_ids=[last.id]):
            events[item.event.event.value] += 1
        for service, figures in (last.figures.get("services") or {}).items():
            requests[service] = int(figures.get("requests") or 0)
            remaining[service] = figures.get("remaining")
    finished = last.finished_at if last is not None else None
    return MetricsSnapshot(
        states=states,
        events=dict(events),
        requests=requests,
        rate_limit_remaining=remaining,
        last_run_timestamp=(finished or last.at).timestamp() if last is not None else 0.0,
        last_run_duration_seconds=float(last.figures.get("duration_seconds") or 0.0)
        if last is not None
        else 0.0,
        last_run_status=last.status if last is not None else "none",
        sources_total=sum(counts.values()),
    )
