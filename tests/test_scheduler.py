"""The daemon's scheduling: cron as cron reads it, catch-up after downtime, no overlaps, stops."""

from __future__ import annotations

import threading
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.scheduler import (
    Daemon,
    JobResult,
    check_trigger,
    cron_trigger,
    cron_weekdays,
    digest_trigger,
    missed,
)
from monitor.settings import Schedule
from monitor.store import Store
from tests.conftest import DATA

WEEKDAYS = tomllib.loads((DATA / "scheduler" / "weekdays.toml").read_text())["cases"]
SATURDAY = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("field", "expected"), WEEKDAYS)
def test_cron_weekdays_are_read_as_cron_reads_them(field: str, expected: str) -> None:
    """Numeric weekdays count from Sunday = 0, as in crontab, not from APScheduler's Monday."""
    assert cron_weekdays(field) == expected


def test_a_monday_cron_fires_on_monday() -> None:
    """ "0 8 * * 1" fires on Monday 08:00, not Tuesday (APScheduler 3's own reading)."""
    fire = cron_trigger("0 8 * * 1", UTC).get_next_fire_time(None, SATURDAY)
    assert fire == datetime(2026, 11, 23, 8, 0, tzinfo=UTC) and fire.strftime("%a") == "Mon"


def test_the_digest_trigger_reads_a_weekday_and_a_time() -> None:
    """ "mon 08:00" in Asia/Shanghai fires on Monday 08:00 Shanghai time."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    fire = digest_trigger("mon 08:00", zone).get_next_fire_time(None, SATURDAY)
    assert fire is not None and (fire.strftime("%a %H:%M"), fire.utcoffset()) == (
        "Mon 08:00",
        timedelta(hours=8),
    )


@pytest.mark.parametrize(
    ("spec", "last", "expected"),
    [
        ("0 */6 * * *", None, True),  # never ran: run now
        ("0 */6 * * *", SATURDAY - timedelta(hours=1), False),  # 06:00 ran at 09:00; 12:00 ahead
        ("0 */6 * * *", SATURDAY - timedelta(hours=5), True),  # 05:00; 06:00 was missed
        ("0 */6 * * *", SATURDAY - timedelta(days=3), True),  # down for days: still just one
        ("every 30m", SATURDAY - timedelta(minutes=10), False),
        ("every 30m", SATURDAY - timedelta(minutes=45), True),
    ],
)
def test_missed_fire_times_after_downtime(spec: str, last: datetime | None, expected: bool) -> None:
    """The daemon owes a catch-up only when a fire time passed since the last run."""
    assert missed(check_trigger(spec, UTC), last, SATURDAY) is expected


def _daemon(store: Store, schedule: Schedule, **jobs: Any) -> tuple[Daemon, list[str]]:
    lines: list[str] = []
    defaults: dict[str, Any] = {
        "check": lambda stop: ("completed", {}),
        "digest": lambda now: ("written", {}),
        "digest_written": lambda now: True,
    }
    daemon = Daemon(store, schedule, log=lines.append, beat_seconds=0.2, **(defaults | jobs))
    return daemon, lines


def test_a_slow_check_is_never_overlapped_and_stop_reaches_it(tmp_path: Path) -> None:
    """With a 1 s schedule and a check that takes 2.5 s, runs never overlap; stop ends it early."""
    store = Store.connect(f"sqlite:///{tmp_path / 'm.db'}")
    running = 0
    overlaps = 0
    starts: list[float] = []
    stopped_early = threading.Event()

    def slow(stop: threading.Event) -> JobResult:
        nonlocal running, overlaps
        running += 1
        overlaps += running > 1
        starts.append(time.monotonic())
        if stop.wait(2.5):
            stopped_early.set()
        running -= 1
        return "completed", {"checked": 1}

    schedule = Schedule(check="every 1s", digest="every 1d", jitter_seconds=0)
    daemon, lines = _daemon(store, schedule, check=slow)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,))
    thread.start()
    time.sleep(4.0)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and overlaps == 0 and len(starts) >= 2
    assert stopped_early.is_set()  # the running check was asked to stop, and did
    assert any(" check status=completed checked=1 " in line for line in lines)
    assert lines[-1].endswith("daemon status=stopped")
    beat = store.heartbeat()
    assert beat is not None and beat.stopped_at is not None and beat.last_status == "completed"
    store.close()


def test_a_failing_check_is_logged_and_the_daemon_goes_on(tmp_path: Path) -> None:
    """A check that raises is logged as failed, and the next one still runs."""
    store = Store.connect(f"sqlite:///{tmp_path / 'm.db'}")
    calls = 0

    def flaky(stop: threading.Event) -> JobResult:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the store went away")
        return "completed", {}

    daemon, lines = _daemon(
        store, Schedule(check="every 1s", digest="every 1d", jitter_seconds=0), check=flaky
    )
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(stop,))
    thread.start()
    time.sleep(2.5)
    stop.set()
    thread.join(timeout=10)
    assert calls >= 2
    assert any('status=failed error="RuntimeError: the store went away"' in x for x in lines)
    store.close()


def test_catch_up_at_start_is_one_check_and_the_missing_digest(tmp_path: Path) -> None:
    """A daemon started after a missed check and a missed Monday digest owes one of each."""
    store = Store.connect(f"sqlite:///{tmp_path / 'm.db'}")
    schedule = Schedule()
    daemon, _ = _daemon(store, schedule, digest_written=lambda now: False)
    owed = daemon.catchup(SATURDAY)
    assert (owed.check, owed.digest) == (True, True)
    run = store.start_run(SATURDAY - timedelta(hours=1))
    store.finish_run(run, status="completed", degraded=False, figures={})
    written, _ = _daemon(store, schedule, digest_written=lambda now: True)
    owed = written.catchup(SATURDAY)
    assert (owed.check, owed.digest) == (False, False)
    store.close()


def test_apschedulers_warnings_become_logfmt_lines() -> None:
    """A run APScheduler skipped (the last one still running) is a logfmt line like the others."""
    import logging

    from monitor.scheduler import _SchedulerLog

    lines: list[str] = []
    logger = logging.getLogger("apscheduler.scheduler")
    handler = _SchedulerLog(lines.append)
    logger.addHandler(handler)
    try:
        logger.warning(
            'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
            "check (trigger: interval[0:00:02], next run at: 2026-11-21 06:00:02 UTC)",
            1,
        )
    finally:
        logger.removeHandler(handler)
    (line,) = lines
    assert line.split(" ", 1)[1] == (
        'check status=skipped reason="maximum number of running instances reached (1)"'
    )
