"""`monitor check` and `monitor daemon`: thin over `monitor.check` and `monitor.daemon`."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click

from monitor.cli.common import (
    EXIT_ALERTS,
    EXIT_OK,
    catalog_option,
    environ,
    fail,
    guarded,
    progress_bar,
    redact,
)
from monitor.config import load_check_configuration
from monitor.errors import Problem


@click.command()
@catalog_option()
@click.option(
    "--now",
    default=None,
    help="The clock, ISO 8601 with an offset (simulations); same as MONITOR_NOW.",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Run even if the catalog has no entries, retiring every stored source.",
)
def check(catalog_file: Path | None, now: str | None, allow_empty: bool) -> None:
    """Check every source that is due, once: the cron entry point.

    Polls GitHub, the Hugging Face Hub, arXiv and web pages for every catalog
    entry not checked within the last hour, records what it saw, and writes
    the day's reports: reports/YYYY-MM-DD.md and .json (the UTC date of the
    run; a second run that day merges into them without repeating an event).

    \b
    Exit status:
      0  the run completed
      1  it completed and raised at least one new alert
      2  the catalog or a setting is invalid (nothing written, store untouched)
      3  the run itself failed
      4  another monitor holds the store (nothing was done; try later)
    """
    from monitor.catalog.sync import keep_in_step
    from monitor.check import (
        check_once,
        open_store,
        preflight,
        shown,
        strangers,
        synced_catalog,
        take_in,
    )

    loaded, settings = guarded(
        lambda: load_check_configuration(environ(), catalog=catalog_file, now=now)
    )
    guarded(lambda: preflight(settings))
    # [catalog] documents first: the list decides what the catalog holds this run.
    loaded = guarded(lambda: keep_in_step(loaded, settings))
    synced = synced_catalog(settings.database_url)
    guarded(lambda: take_in(loaded, synced, settings, allow_empty=allow_empty))
    store, created = guarded(lambda: open_store(settings.database_url, create=True))
    if created:
        click.echo(f"Created a new store at {shown(settings.database_url)}.")
        found = strangers(settings.reports_dir)
        if found:
            click.echo(
                f"warning: {settings.reports_dir} already holds {found} day report(s) that this "
                "new store knows nothing about; if you meant your existing store, check "
                "MONITOR_DATABASE_URL",
                err=True,
            )
    try:
        with progress_bar("checking") as progress:
            result = guarded(
                lambda: check_once(
                    loaded.entries(),
                    settings,
                    store=store,
                    digest=loaded.digest,
                    progress=progress,
                )
            )
    finally:
        store.close()
    verdict = f"{len(result.alerts)} new alert(s)" if result.alerts else "no new alerts"
    if result.adopted_alerts:
        verdict += (
            f" ({len(result.adopted_alerts)} stored by an earlier run that was stopped "
            "before it could report them)"
        )
    click.echo(
        f"Checked {result.checked} source(s); {result.deferred} deferred to the next run"
        f"{'; DEGRADED: most hosts unreachable' if result.degraded else ''}. "
        f"{result.events} event(s), {verdict}."
    )
    for line in result.errors:
        click.echo(redact(f"error: {line}"), err=True)
    if result.delivery is not None:
        for line in result.delivery.lines():
            click.echo(redact(line), err=not line.startswith("Alerts sent"))
    for path in result.reports:
        click.echo(f"Report: {path}")
    if result.files:
        click.echo(f"Status page: {result.files[0]}")
    sys.exit(EXIT_ALERTS if result.alerts else EXIT_OK)


@click.command()
@catalog_option("The catalog, read again before every check.")
def daemon(catalog_file: Path | None) -> None:
    """Run checks and the weekly digest on their schedules until SIGTERM or SIGINT.

    The check runs on [schedule] check (cron, default "0 */6 * * *"), the
    digest on [schedule] digest (default "mon 08:00"), in [schedule] timezone,
    each delayed by up to [schedule] jitter_seconds. A run never overlaps the
    next; after downtime the daemon makes up one missed check (and a missed
    digest), not a burst. The catalog is read again before every check, so
    edits take effect without a restart (settings need one).

    Only one monitor writes a store at a time: a second daemon (or a cron
    `monitor check`) on the same store says which process holds it and exits
    4. One log line per run goes to stdout; a heartbeat in the store every
    minute feeds `monitor status --heartbeat`. SIGTERM ends the running check
    between batches and exits 0.
    """
    import signal

    from monitor.check import open_store
    from monitor.daemon import run_daemon

    _, settings = guarded(lambda: load_check_configuration(environ(), catalog=catalog_file))
    if settings.now is not None:
        fail([Problem("MONITOR_NOW / --now", "the daemon runs on the real clock; unset it")])
    store, _created = guarded(lambda: open_store(settings.database_url, create=True))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        guarded(
            lambda: run_daemon(
                settings,
                store,
                catalog=catalog_file,
                environ=environ(),
                log=lambda line: click.echo(redact(line)),
                stop=stop,
            )
        )
    finally:
        store.close()
