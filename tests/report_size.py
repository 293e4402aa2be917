"""A synthetic catalog written straight into a store, to measure a day's report.

    python -m tests.report_size 10000 100000      # bytes of an unchanged day's report

No probe and no emulator: `Store.sync_catalog` and `Store.record` with the
observations a run would store. Day 1 adds every source (all `ok`); day 2 checks
them all again and nothing changes. `unchanged_day_sizes` writes day 2's report
and says how big its two files are; the tests use `build` to bound them.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.catalog.kinds import identify
from monitor.model import Entry, Event, EventType, Facts, Health, Observation, Outcome, SourceState
from monitor.reports import write_day_reports
from monitor.store import Store
from monitor.store.store import Checked

DAY1 = datetime(2026, 11, 23, 6, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
_BATCH = 1000


def url_of(n: int) -> str:
    """The n-th source of the synthetic catalog: a mix of the kinds a list links to."""
    match n % 10:
        case 0 | 1 | 2 | 3:
            return f"https://github.com/owner-{n}/repository-{n}"
        case 4 | 5:
            return f"https://huggingface.co/org-{n}/model-{n}"
        case 6:
            return f"https://arxiv.org/abs/2401.{n:05d}"
        case _:
            return f"https://www{n % 97}.example.org/articles/{n}/a-page-about-llms"


def facts_of(n: int, at: datetime) -> Facts:
    """What a service would say about source n: stable from one day to the next."""
    url = url_of(n)
    if "github.com" in url:
        return Facts(
            remote_id=f"R_{n}",
            name=url.removeprefix("https://github.com/"),
            url=url,
            stars=100 + n,
            last_commit=at - timedelta(days=3),
            license="MIT",
            archived=False,
        )
    if "huggingface.co" in url:
        return Facts(name=url.removeprefix("https://huggingface.co/"), stars=n, gated="false")
    if "arxiv.org" in url:
        return Facts(name=f"2401.{n:05d}", version="v1", title=f"Paper {n}")
    return Facts(title=f"Page {n}")


def entries(count: int) -> list[Entry]:
    found = []
    for n in range(count):
        resource = identify(url_of(n))
        found.append(
            Entry(
                resource.url,
                resource.kind,
                resource.key,
                name=f"Source number {n}",
                section=f"Section {n % 20}",
            )
        )
    return found


def check_all(store: Store, at: datetime, *, added: bool) -> int:
    """One run at `at` in which every active source answers ok, as it did before."""
    run = store.start_run(at, started_at=at)
    sources = store.sources()
    for start in range(0, len(sources), _BATCH):
        batch = []
        for source in sources[start : start + _BATCH]:
            n = int(source.name.rsplit(" ", 1)[1])
            facts = facts_of(n, DAY1)
            state = SourceState(
                Health.OK,
                facts,
                last_checked_at=at,
                last_ok_at=at,
                last_outcome=Outcome.OK,
                last_status=200,
            )
            events: tuple[Event, ...] = ()
            if added:
                events = (Event(EventType.ADDED, source.key, source.url, source.kind, at),)
            batch.append(
                Checked(source.id, Observation(source.key, at, Outcome.OK, facts), state, events)
            )
        store.record(run, batch)
    store.finish_run(
        run,
        status="completed",
        degraded=False,
        figures={"sources_checked": len(sources), "duration_seconds": 1.0},
        finished_at=at,
    )
    return run


def build(store: Store, count: int) -> datetime:
    """`count` sources added on day 1 and checked unchanged on day 2; day 2's clock."""
    store.sync_catalog(entries(count), DAY1)
    check_all(store, DAY1, added=True)
    check_all(store, DAY2, added=False)
    return DAY2


def unchanged_day_sizes(count: int, directory: Path) -> dict[str, int]:
    """Bytes of the markdown and JSON report of an unchanged day over `count` sources."""
    store = Store.connect(f"sqlite:///{directory / 'monitor.db'}")
    try:
        day = build(store, count)
        started = time.perf_counter()
        paths = write_day_reports(store, day.date(), directory)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    sizes = {path.suffix.lstrip("."): path.stat().st_size for path in paths}
    return {**sizes, "write_ms": round(seconds * 1000)}


def main(argv: Sequence[str]) -> int:
    counts = [int(a) for a in argv] or [10_000, 100_000]
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            sizes = unchanged_day_sizes(count, Path(tmp))
        print(
            f"{count:>7} sources: md {sizes['md']:>12,} B  json {sizes['json']:>12,} B  "
            f"(written in {sizes['write_ms']:,} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
