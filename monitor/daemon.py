"""`monitor daemon`'s jobs: a check of the catalog as it is now, and the week's digest.

    run_daemon(settings, catalog=path, environ=os.environ, log=print, stop=stop)

Owns what the daemon does at each fire time; when is `scheduler.Daemon`'s. The
catalog and the settings are read again before every check (an invalid catalog
skips that run, logged); the store's writer lock is held for the daemon's whole
life, so a cron `monitor check` on the same store exits 4 while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.catalog.sync import keep_in_step
from monitor.check import check_once, take_in
from monitor.config import load_check_configuration
from monitor.digest import last_complete_week, write_week_digest
from monitor.errors import UserInputError
from monitor.scheduler import Daemon, JobResult
from monitor.settings import Settings
from monitor.store import Store
from monitor.store.lock import writer_lock


def run_daemon(
    settings: Settings,
    store: Store,
    *,
    catalog: Path | None,
    environ: Mapping[str, str],
    log: Callable[[str], None],
    stop: threading.Event,
) -> None:
    """Serve the schedules until `stop` is set, holding the store's writer lock."""
    with writer_lock(store, role="monitor daemon"):

        def one_check(stop: threading.Event) -> JobResult:
            try:
                loaded, current = load_check_configuration(environ, catalog=catalog)
                loaded = keep_in_step(loaded, current)
                take_in(loaded, store.synced_catalog(), current, allow_empty=True)
            except UserInputError as exc:
                return "invalid", {"error": "; ".join(str(p) for p in exc.problems)}
            result = check_once(
                loaded.entries(),
                current,
                store=store,
                digest=loaded.digest,
                lock=False,
                stop=stop,
            )
            figures: dict[str, Any] = {
                "checked": result.checked,
                "deferred": result.deferred,
                "events": result.events,
                "alerts": len(result.alerts),
            }
            if result.delivery is not None:
                figures["alerts_sent"] = result.delivery.sent
                figures["alert_channels_failed"] = len(result.delivery.failed)
            if result.errors:
                figures["errors"] = len(result.errors)
            return result.status, figures

        def one_digest(now: datetime) -> JobResult:
            week = last_complete_week(now)
            written = write_week_digest(store, week, settings.reports_dir)
            return "written", {"week": week.label, "files": len(written)}

        def digest_written(now: datetime) -> bool:
            week = last_complete_week(now)
            return (settings.reports_dir / "weekly" / f"{week.label}.md").exists()

        log(f"{datetime.now(UTC).isoformat(timespec='seconds')} daemon catalog={settings.catalog}")
        Daemon(
            store,
            settings.schedule,
            check=one_check,
            digest=one_digest,
            digest_written=digest_written,
            log=log,
            beat_seconds=float(settings.schedule.heartbeat_seconds),
        ).run(stop)
