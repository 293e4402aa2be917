"""What `monitor status` says: every source's state, the last run, and the daemon's health.

Pure functions over what the store holds: the CLI opens the store, calls these
and prints. `healthcheck` is the container healthcheck's verdict: the daemon
beat recently, is not stopped, its last check neither failed nor found the
catalog invalid, and a check under way has not run past the services' deadline
plus a grace period (then it is stuck).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from monitor.store import Heartbeat, StoredRun, StoredSource

#: How long after the services' deadline a check may still be storing and reporting.
CHECK_GRACE_SECONDS = 300
#: The heartbeat's `last_status` while a check is under way (`last_run_at` is its start).
RUNNING = "running"
#: The columns of the tab-separated listing (`monitor status | cut -f…`).
COLUMNS = (
    "health",
    "kind",
    "name",
    "url",
    "stars",
    "last_commit",
    "license",
    "last_checked_at",
    "judgement",
)


def source_rows(sources: Iterable[StoredSource]) -> list[dict[str, str | None]]:
    """One row per source, for the table, the tab-separated listing and `--json`."""
    rows: list[dict[str, str | None]] = []
    for source in sources:
        state, facts = source.state, source.state.facts
        kind = (facts.resolved_kind if facts else None) or source.kind.value
        rows.append(
            {
                "url": source.url,
                "kind": kind,
                "name": source.name,
                # An ignored source has no state worth showing: it is not checked at all.
                "health": "ignored" if source.judgement.ignore else state.health.value,
                "last_checked_at": state.last_checked_at.isoformat()
                if state.last_checked_at
                else None,
                "stars": str(facts.stars) if facts and facts.stars is not None else None,
                "last_commit": facts.last_commit.date().isoformat()
                if facts and facts.last_commit
                else None,
                "license": facts.license if facts else None,
                # The maintainer's say, in words: "ignored", "snoozed until 2027-01-31", …
                "judgement": source.judgement.words() or None,
            }
        )
    return rows


def status_json(
    rows: list[dict[str, str | None]], last: StoredRun | None, beat: Heartbeat | None
) -> dict[str, Any]:
    """`monitor status --json`: the last run, the daemon, and every source."""
    return {
        "last_run": {
            "id": last.id,
            "at": last.at.isoformat(),
            "status": last.status,
            "degraded": last.degraded,
            "finished_at": last.finished_at.isoformat() if last.finished_at else None,
        }
        if last
        else None,
        "daemon": {
            "pid": beat.pid,
            "host": beat.host,
            "started_at": beat.started_at.isoformat(),
            "beat_at": beat.beat_at.isoformat(),
            "last_run_at": beat.last_run_at.isoformat() if beat.last_run_at else None,
            "last_status": beat.last_status,
            "next_run_at": beat.next_run_at.isoformat() if beat.next_run_at else None,
            "stopped_at": beat.stopped_at.isoformat() if beat.stopped_at else None,
        }
        if beat
        else None,
        "sources": rows,
    }


def daemon_line(beat: Heartbeat | None, now: datetime) -> str:
    """The daemon in one line, as `monitor status` prints it."""
    if beat is None:
        return "Daemon: never run against this store."
    where = f"pid {beat.pid} on {beat.host}"
    if beat.stopped_at is not None:
        return f"Daemon: stopped at {beat.stopped_at.isoformat(timespec='seconds')} ({where})."
    age = int((now - beat.beat_at).total_seconds())
    line = f"Daemon: last heartbeat {age} s ago ({where}, up since "
    line += f"{beat.started_at.isoformat(timespec='seconds')})"
    if beat.last_run_at is not None:
        line += f"; last check {beat.last_run_at.isoformat(timespec='seconds')} {beat.last_status}"
    if beat.next_run_at is not None:
        line += f"; next check {beat.next_run_at.isoformat(timespec='seconds')}"
    return line + "."


def healthcheck(
    beat: Heartbeat | None, now: datetime, *, max_age: int, deadline_seconds: int
) -> tuple[bool, list[str]]:
    """Whether the daemon is healthy, and the lines that say so."""
    lines = [daemon_line(beat, now)]
    if beat is None or beat.stopped_at is not None:
        return False, lines
    fresh = (now - beat.beat_at).total_seconds() <= max_age
    if beat.last_status == RUNNING and beat.last_run_at is not None:
        # Every service is let go at its deadline; storing, reports and alerts get a
        # grace period after it. A check still running past both is stuck.
        limit = deadline_seconds + CHECK_GRACE_SECONDS
        running = (now - beat.last_run_at).total_seconds()
        if running > limit:
            lines.append(
                f"The check has been running for {running:.0f} s, past its {limit} s limit."
            )
            return False, lines
    return fresh and beat.last_status not in ("failed", "invalid"), lines
