"""The dated reports on disk: read a day from the store, render it, write it atomically.

A day's report is rebuilt from the store every time a run finishes, from all
the runs whose clock fell on that UTC date. So a second run on the same day
merges into the same two files without repeating an event, and a report lost
or deleted can be written again from the store.
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
    """Everything the store knows about the runs of one UTC date."""
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
    sources = CheckedSources(store, run_ids)
    return DayReport(
        day.isoformat(),
        events,
        sources,
        [ReportRun(r.id, r.at, r.status, r.degraded, r.figures) for r in runs],
    )


class CheckedSources(Sequence[ReportSource]):
    """The sources checked in some runs, read from the store page by page on each pass.

    A day of 100,000 sources is never held whole: the renderers go through it (the
    markdown twice, the JSON once) and each pass reads it again.
    """

    def __init__(self, store: Store, run_ids: Sequence[int]) -> None:
        self.store = store
        self.run_ids = list(run_ids)
        self._length: int | None = None

    def __len__(self) -> int:
        if self._length is None:
            self._length = self.store.count_checked_in(self.run_ids) if self.run_ids else 0
        return self._length

    def __iter__(self) -> Iterator[ReportSource]:
        if not self.run_ids:
            return
        for s in self.store.iter_checked_in(self.run_ids):
            yield ReportSource(s.url, s.kind.value, s.name, s.section, s.state)

    @overload
    def __getitem__(self, index: int) -> ReportSource: ...

    @overload
    def __getitem__(self, index: slice) -> list[ReportSource]: ...

    def __getitem__(self, index: int | slice) -> ReportSource | list[ReportSource]:
        return list(self)[index]


def write_day_reports(store: Store, day: date, directory: Path) -> list[Path]:
    """Write `YYYY-MM-DD.md` and `.json` for `day` into `directory`, each atomically."""
    report = day_report(store, day)
    markdown = directory / f"{report.date}.md"
    data = directory / f"{report.date}.json"
    write_atomically(markdown, render_markdown(report))
    write_atomically(data, render_json_chunks(report))
    return [markdown, data]
