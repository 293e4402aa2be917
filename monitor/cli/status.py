"""`monitor status` and `monitor digest`: they read the store, and need no catalog."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.cli.common import EXIT_OK, catalog_option, environ, guarded
from monitor.config import load_settings
from monitor.errors import Problem, UserInputError


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@catalog_option()
@click.option(
    "--heartbeat",
    is_flag=True,
    help="Only check that the daemon is alive (a healthcheck): exit 0 if its heartbeat is "
    "fresh and its last check neither failed nor found the catalog invalid, 1 otherwise.",
)
@click.option(
    "--max-age",
    type=click.IntRange(min=1),
    default=None,
    help="With --heartbeat: seconds after which a silent daemon counts as dead. "
    "[default: 5 heartbeats, 300 s with [schedule] heartbeat_seconds = 60]",
)
def status(as_json: bool, catalog_file: Path | None, heartbeat: bool, max_age: int | None) -> None:
    """Show the current state of every source, the last run and the daemon's heartbeat.

    With --heartbeat it prints one line about the daemon and exits 0 if the
    daemon beat within --max-age seconds (it beats every minute) and its last
    check did not fail, 1 otherwise: the container healthcheck.
    """
    from monitor import status as report
    from monitor.check import open_store

    settings = guarded(lambda: load_settings(environ(), catalog=catalog_file))
    store, _ = guarded(lambda: open_store(settings.database_url, create=False))
    try:
        beat = store.heartbeat()
        if heartbeat:
            healthy, lines = report.healthcheck(
                beat,
                datetime.now(UTC),
                max_age=max_age or 5 * settings.schedule.heartbeat_seconds,
                deadline_seconds=settings.probes.service_deadline_seconds,
            )
            for line in lines:
                click.echo(line)
            sys.exit(EXIT_OK if healthy else 1)
        rows = report.source_rows(store.iter_sources())
        runs = store.runs(limit=1)
    finally:
        store.close()
    last = runs[0] if runs else None
    if as_json:
        payload = report.status_json(rows, last, beat)
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if last is None:
        click.echo("No run yet: run `monitor check`.")
    else:
        click.echo(
            f"Last run: #{last.id} at {last.at.isoformat()}, {last.status}"
            f"{', degraded' if last.degraded else ''}."
        )
    if beat is not None:
        click.echo(report.daemon_line(beat, datetime.now(UTC)))
    counts = Counter(r["health"] for r in rows)
    click.echo(f"{len(rows)} sources: " + ", ".join(f"{n} {h}" for h, n in sorted(counts.items())))
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(
            "health", "kind", "name", "stars", "last commit", "licence", "checked", "judgement"
        )
        for row in rows:
            table.add_row(
                row["health"],
                row["kind"],
                row["name"],
                row["stars"] or "",
                row["last_commit"] or "",
                row["license"] or "",
                (row["last_checked_at"] or "")[:16],
                row["judgement"] or "",
            )
        Console().print(table)
    else:
        for row in rows:
            click.echo("\t".join(str(row[k] or "") for k in report.COLUMNS))


@click.command()
@click.option(
    "--week",
    default=None,
    help="The ISO week, YYYY-Www (e.g. 2026-W46). [default: the last complete week]",
)
@click.option(
    "--now",
    default=None,
    help="The clock, ISO 8601 with an offset; decides the default week. Same as MONITOR_NOW.",
)
@catalog_option()
def digest(week: str | None, now: str | None, catalog_file: Path | None) -> None:
    """Write the weekly digest: reports/weekly/YYYY-Www.md, .json and a star chart (.svg).

    The week at a glance (sources by state, the share alive), what needs
    action (deleted, dead, renamed with the new URL, licence changes,
    archived, blocked, unreachable), star movers, what shipped, what went
    stale and what recovered, grouped by the catalog's sections. Weeks run
    Monday to Monday in UTC. Built from the store alone: rebuilding a past
    week gives the same files.
    """
    from monitor.check import open_store
    from monitor.digest import Week, last_complete_week, write_week_digest

    settings = guarded(lambda: load_settings(environ(), catalog=catalog_file, now=now))

    def chosen() -> Week:
        if week is None:
            return last_complete_week(settings.now or datetime.now(UTC))
        try:
            return Week.parse(week)
        except ValueError as exc:
            raise UserInputError([Problem("--week", str(exc))]) from None

    the_week = guarded(chosen)
    store, _ = guarded(lambda: open_store(settings.database_url, create=False))
    try:
        written = guarded(lambda: write_week_digest(store, the_week, settings.reports_dir))
    finally:
        store.close()
    click.echo(f"Week {the_week.label} ({the_week.start.date()} to {the_week.end.date()}):")
    for path in written:
        click.echo(f"  {path}")
