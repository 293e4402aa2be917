"""The dated reports on disk: read a day from the store, render it, write it atomically.

A day's report is rebuilt from the store every time a run finishes, from all
the runs whose clock fell on that UTC date. So a second run on the same day
merges into the same two files without repeating an event, and a report lost
or deleted can be written again from the store.

A report grows with what changed, not with the catalog: it lists the sources that
had an event that day or are not `ok`, and counts the others. `monitor status
--json` lists every source.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import overload

from monitor.catalog.file import write_atomically
from monitor.render.report import (
    DayReport,
    ReportEvent,
    ReportRun,
    ReportSource,
    render_json_chunks,
    render_markdown,
)
from monitor.store import Store


def day_report(store: Store, day: date) -> DayReport:
    """Everything a day's report says, from the store.

    Events and runs are the day's. The listed sources are those with an event in the
    day's runs and the active ones that are not `ok` (`Store.reported_ids`), each with
    its current state, as before. The counts by state (`states`) are over the active
    sources the store holds when the report is written, not over those checked that day:
    a day's runs may check a handful of sources (the rest not due, or deferred by a rate
    limit), and counts of a handful would read as the state of the list. Counted over the
    catalog, "223 sources: 219 ok, 2 suspect, …" says where the whole list stands after
    the day's last run, agrees with the listed not-`ok` sources (sources never checked
    aside), and costs one GROUP BY. How many were checked that day is a figure of its own.
    """
    runs = sorted(store.runs(report_date=day.isoformat()), key=lambda r: r.id)
    run_ids = [r.id for r in runs]
    events = (
        [
            ReportEvent(
                s.event.event,
                s.event.url,
                s.event.kind.value,
                s.event.at,
                s.name,
                s.section,
                s.event.old,
                s.event.new,
                s.event.new_url,
                s.event.detail,
                s.event.alert,
            )
            for s in store.events(run_ids=run_ids)
        ]
        if run_ids
        else []
    )
    return DayReport(
        day.isoformat(),
        events,
        ListedSources(store, store.reported_ids(run_ids)),
        [ReportRun(r.id, r.at, r.status, r.degraded, r.figures) for r in runs],
        states=store.health_counts(),
        checked=store.count_checked_in(run_ids) if run_ids else 0,
        never_checked=store.never_checked_count(),
    )


class ListedSources(Sequence[ReportSource]):
    """The sources a report lists, by id, read from the store a page at a time on each pass.

    Only the ids are held: on the day a large catalog is first imported every source has
    an event (`added`), and the renderers then go through all of them (the markdown
    once, the JSON once) without holding them whole.
    """

    def __init__(self, store: Store, ids: Sequence[int], *, page: int = 500) -> None:
        self.store = store
        self.ids = list(ids)
        self.page = page

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[ReportSource]:
        for start in range(0, len(self.ids), self.page):
            chunk = self.ids[start : start + self.page]
            found = self.store.stored(chunk)
            for source_id in chunk:
                s = found.get(source_id)
                if s is not None:
                    # What a URL that could not tell turned out to be (`huggingface.co/gpt2`).
                    facts = s.state.facts
                    kind = (facts.resolved_kind if facts else None) or s.kind.value
                    yield ReportSource(s.url, kind, s.name, s.section, s.state)

    @overload
    def __getitem__(self, index: int) -> ReportSource: ...

    @overload
    def __getitem__(self, index: slice) -> list[ReportSource]: ...

    def __getitem__(self, index: int | slice) -> ReportSource | list[ReportSource]:
        return list(self)[index]


def day_report_paths(day: date, directory: Path) -> tuple[Path, Path]:
    """Where `day`'s reports are: `YYYY-MM-DD.md` and `YYYY-MM-DD.json` in `directory`."""
    return directory / f"{day.isoformat()}.md", directory / f"{day.isoformat()}.json"


def write_day_reports(store: Store, day: date, directory: Path) -> list[Path]:
    """Write `YYYY-MM-DD.md` and `.json` for `day` into `directory`, each atomically."""
    report = day_report(store, day)
    markdown, data = day_report_paths(day, directory)
    write_atomically(markdown, render_markdown(report))
    write_atomically(data, render_json_chunks(report))
    return [markdown, data]
