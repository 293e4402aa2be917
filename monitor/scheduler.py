"""The daemon: APScheduler wiring, the heartbeat, and clean stops. No checking logic lives here.

    daemon = Daemon(store, settings.schedule, check=one_check, digest=one_digest)
    daemon.run(stop)          # until `stop` is set (the CLI sets it on SIGTERM/SIGINT)

Three jobs: the check on its cron schedule, the digest on its weekly one, and
a heartbeat every minute that tells `monitor status --heartbeat` (and a
container's healthcheck) the daemon is alive. Each job runs at most once at a
time and coalesces: a check that outlasts its period is not overlapped by the
next, and a machine that slept through several fire times runs one catch-up,
not a burst. Fire times missed while the daemon was not running at all are
caught up once at start, from the store's last run and the digest files on
disk. A stop request reaches the running check, which ends between batches.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.settings import Schedule
from monitor.settings_checks import cron_weekdays, every_seconds
from monitor.status import RUNNING
from monitor.store import Heartbeat, Store

#: What a job reports: a status word and the figures worth one log line.
JobResult = tuple[str, Mapping[str, Any]]
CheckJob = Callable[[threading.Event], JobResult]
DigestJob = Callable[[datetime], JobResult]
Log = Callable[[str], None]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def utc_now() -> datetime:
    return datetime.now(UTC)


def check_trigger(spec: str, zone: tzinfo, jitter: int | None = None) -> BaseTrigger:
    """The check's trigger: a five-field cron expression or "every <n><unit>"."""
    period = every_seconds(spec)
    if period is not None:
        return IntervalTrigger(seconds=period, timezone=zone, jitter=jitter)
    return cron_trigger(spec, zone, jitter)


def cron_trigger(expr: str, zone: tzinfo, jitter: int | None = None) -> CronTrigger:
    """A crontab expression as cron itself reads it.

    APScheduler 3 counts weekdays from Monday = 0 where cron counts from Sunday = 0
    (fixed only in APScheduler 4), so "0 8 * * 1" would fire on Tuesdays; numeric
    weekdays are translated to names, which both read the same way.
    """
    minute, hour, day, month, weekday = expr.split()
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=cron_weekdays(weekday),
        timezone=zone,
        jitter=jitter,
    )


def digest_trigger(spec: str, zone: tzinfo, jitter: int | None = None) -> BaseTrigger:
    """The digest's trigger: a weekday and a time ("mon 08:00") or "every <n><unit>"."""
    period = every_seconds(spec)
    if period is not None:
        return IntervalTrigger(seconds=period, timezone=zone, jitter=jitter)
    day, clock = spec.split()
    hour, minute = clock.split(":")
    return CronTrigger(
        day_of_week=day, hour=int(hour), minute=int(minute), timezone=zone, jitter=jitter
    )


def missed(trigger: BaseTrigger, last: datetime | None, now: datetime) -> bool:
    """True when the schedule fired at least once after `last` and before `now`
    (or there was no `last` at all): the daemon was down and owes one catch-up."""
    if last is None:
        return True
    if isinstance(trigger, IntervalTrigger):
        return bool(now - last >= trigger.interval)
    fire = trigger.get_next_fire_time(None, last + timedelta(seconds=1))
    return fire is not None and fire <= now


@dataclass(frozen=True, slots=True)
class Catchup:
    """What the daemon owes at start: a check, a digest, both or neither."""

    check: bool
    digest: bool


class Daemon:
    """Runs the check and the digest on their schedules until told to stop."""

    def __init__(
        self,
        store: Store,
        schedule: Schedule,
        *,
        check: CheckJob,
        digest: DigestJob,
        digest_written: Callable[[datetime], bool],
        log: Log,
        clock: Callable[[], datetime] = utc_now,
        beat_seconds: float = 60.0,
    ) -> None:
        self.store = store
        self.schedule = schedule
        self.check = check
        self.digest = digest
        self.digest_written = digest_written
        self.log = log
        self.clock = clock
        self.beat_seconds = beat_seconds
        self.zone = ZoneInfo(schedule.timezone)
        self._stop = threading.Event()
        self._beat_lock = threading.Lock()
        now = clock()
        self._heartbeat = Heartbeat("daemon", os.getpid(), socket.gethostname(), now, now)
        self._check_clock = check_trigger(schedule.check, self.zone)

    # --- what is owed at start -----------------------------------------------------------

    def catchup(self, now: datetime) -> Catchup:
        """The runs missed while no daemon was running, judged from the store and the disk."""
        runs = self.store.runs(limit=1)
        last_check = runs[0].at if runs else None
        check = missed(check_trigger(self.schedule.check, self.zone), last_check, now)
        digest = False
        if every_seconds(self.schedule.digest) is None:
            # The last complete week's digest is owed if its fire time has passed and the
            # file is not there (the daemon was down on Monday morning).
            start_of_week = (now - timedelta(days=now.weekday())).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            fire = digest_trigger(self.schedule.digest, self.zone).get_next_fire_time(
                None, start_of_week
            )
            digest = fire is not None and fire <= now and not self.digest_written(now)
        return Catchup(check, digest)

    # --- running -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Serve until `stop` is set; the running check is asked to stop between batches."""
        self._stop = stop
        # APScheduler says what it skipped in its own words, on stderr; the log is logfmt.
        handler = _SchedulerLog(self.log)
        logger = logging.getLogger("apscheduler")
        logger.addHandler(handler)
        logger.propagate = False
        try:
            self._serve(stop)
        finally:
            logger.removeHandler(handler)
            logger.propagate = True

    def _serve(self, stop: threading.Event) -> None:
        now = self.clock()
        owed = self.catchup(now)
        jitter = self.schedule.jitter_seconds or None
        scheduler = BackgroundScheduler(timezone=self.zone)
        common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        scheduler.add_job(
            self._run_check,
            check_trigger(self.schedule.check, self.zone, jitter),
            id="check",
            name="check",
            **common,
            **({"next_run_time": now} if owed.check else {}),
        )
        scheduler.add_job(
            self._run_digest,
            digest_trigger(self.schedule.digest, self.zone, jitter),
            id="digest",
            name="digest",
            **common,
            **({"next_run_time": now} if owed.digest else {}),
        )
        scheduler.add_job(
            self._beat,
            IntervalTrigger(seconds=self.beat_seconds, timezone=self.zone),
            id="heartbeat",
            name="heartbeat",
            **common,
        )
        self._beat()
        scheduler.start()
        self.log(
            _line(
                "daemon",
                "started",
                {
                    "check": self.schedule.check,
                    "digest": self.schedule.digest,
                    "timezone": self.schedule.timezone,
                    "catch_up": ",".join(
                        n
                        for n, owed_now in (("check", owed.check), ("digest", owed.digest))
                        if owed_now
                    )
                    or "none",
                    "next_check": _iso(self._next_check()),
                },
            )
        )
        stop.wait()
        self.log(_line("daemon", "stopping", {}))
        scheduler.shutdown(wait=True)
        self._beat(stopped=True)
        self.log(_line("daemon", "stopped", {}))

    def _next_check(self) -> datetime | None:
        # Read from the trigger, not from scheduler.get_job(): jobs call this, and
        # shutdown() holds the job store's lock while it waits for them to finish.
        if self._stop.is_set():
            return None
        fire = self._check_clock.get_next_fire_time(None, self.clock().astimezone(self.zone))
        return fire.astimezone(UTC) if fire is not None else None

    def _run_check(self) -> None:
        if self._stop.is_set():
            return
        started = self.clock()
        # Said at once, so a check that overruns its deadline shows in the heartbeat.
        with self._beat_lock:
            self._heartbeat = replace(self._heartbeat, last_run_at=started, last_status=RUNNING)
        self._beat()
        try:
            status, figures = self.check(self._stop)
        except Exception as exc:  # a failed run must not end the daemon: log it, go on
            status, figures = "failed", {"error": f"{type(exc).__name__}: {exc}"}
        self._finished("check", started, status, figures)

    def _run_digest(self) -> None:
        if self._stop.is_set():
            return
        started = self.clock()
        try:
            status, figures = self.digest(started)
        except Exception as exc:
            status, figures = "failed", {"error": f"{type(exc).__name__}: {exc}"}
        self._finished("digest", started, status, figures)

    def _finished(
        self, job: str, started: datetime, status: str, figures: Mapping[str, Any]
    ) -> None:
        seconds = (self.clock() - started).total_seconds()
        self.log(_line(job, status, {**figures, "duration_s": f"{seconds:.1f}"}))
        if job == "check":
            with self._beat_lock:
                self._heartbeat = replace(self._heartbeat, last_run_at=started, last_status=status)
        self._beat()

    def _beat(self, *, stopped: bool = False) -> None:
        now = self.clock()
        with self._beat_lock:
            self._heartbeat = replace(
                self._heartbeat,
                beat_at=now,
                next_run_at=None if stopped else self._next_check(),
                stopped_at=now if stopped else None,
            )
            beat = self._heartbeat
        try:
            self.store.beat(beat)
        except Exception as exc:  # the store may be briefly unreachable; the next beat retries
            self.log(_line("heartbeat", "failed", {"error": f"{type(exc).__name__}: {exc}"}))


class _SchedulerLog(logging.Handler):
    """APScheduler's warnings (a run skipped while the last one still runs, a fire time
    missed) as the daemon's logfmt lines: `… check status=skipped reason="…"`."""

    _JOB = re.compile(r'job "(?P<name>[a-z]+)\b', re.IGNORECASE)
    _SKIPPED = re.compile(r'" skipped: (?P<reason>.*)$')

    def __init__(self, log: Log) -> None:
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        found = self._JOB.search(text)
        job = found["name"] if found else "scheduler"
        skipped = self._SKIPPED.search(text)
        reason = skipped["reason"] if skipped else text
        status = "skipped" if skipped else record.levelname.lower()
        self.log(_line(job, status, {"reason": reason}))


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else "none"


def _line(job: str, status: str, fields: Mapping[str, Any]) -> str:
    """One logfmt line: `2026-11-21T06:00:00+00:00 check status=completed checked=223 ...`."""
    parts = [_iso(utc_now()), job, f"status={status}"]
    for key, value in fields.items():
        text = str(value).replace("\n", " ")
        if not text or any(c in text for c in ' "='):
            text = '"' + text.replace('"', '\\"') + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)
