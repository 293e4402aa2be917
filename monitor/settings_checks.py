"""Checks of single setting values: URLs, repository names, time zones, schedules.

Each `check_*` takes the value as written and returns it as the settings keep it,
or raises `ValueError` with a sentence that says what is wrong; `settings` adds
where the value came from. Nothing here knows about tables or the environment.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_now(text: str) -> datetime:
    """Parse an ISO 8601 time that must carry a UTC offset (`2026-11-21T08:00:00+00:00`, `…Z`)."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("it has no UTC offset; add one, e.g. 2026-11-21T08:00:00+00:00 or …Z")
    return value


def parse_connect_to(text: str) -> dict[str, str]:
    """MONITOR_CONNECT_TO: "host=ADDRESS:PORT,*=127.0.0.1:8080" -> {"host": ..., "*": ...}."""
    mapping: dict[str, str] = {}
    for part in re.split(r"[\s,]+", text.strip()):
        if not part:
            continue
        host, sep, target = part.partition("=")
        address, colon, port = target.rpartition(":")
        if not sep or not colon or not address or not port.isdigit():
            raise ValueError(f"{part!r} is not HOST=ADDRESS:PORT (use * for every host)")
        mapping[host.lower()] = target
    return mapping


def split_alert_urls(text: str) -> tuple[str, ...]:
    """Split MONITOR_ALERT_URLS on spaces and commas, as the contract says."""
    return tuple(part for part in re.split(r"[\s,]+", text) if part)


def check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("it is not an http(s) URL with a host")
    return value.rstrip("/")


_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")


def check_repo(value: str) -> str:
    value = value.strip().removeprefix("https://github.com/").rstrip("/")
    if not _REPO.fullmatch(value) or value.endswith((".git", "/.", "/..")):
        raise ValueError(
            "it is not a GitHub repository written OWNER/NAME, e.g. octo-org/awesome-llm"
        )
    return value


def check_database_url(value: str) -> str:
    if "://" not in value:
        raise ValueError(
            "it is not an SQLAlchemy URL such as sqlite:///monitor.db or "
            "postgresql+psycopg://user@host/db"
        )
    return value


def check_timezone(value: str) -> tzinfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("it is not an IANA time zone name such as UTC or Europe/Berlin") from None


_EVERY = re.compile(r"\s*every\s+(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def every_seconds(value: str) -> int | None:
    """The period of an "every 30s" / "every 6h" schedule in seconds, or None if it is not one."""
    match = _EVERY.fullmatch(value.lower())
    if not match:
        return None
    return int(match[1]) * _UNIT_SECONDS[match[2][0]]


def check_cron(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    period = every_seconds(value)
    if period is not None:
        if period < 1:
            raise ValueError("the period must be at least one second")
        return value.strip()
    try:
        CronTrigger.from_crontab(value)
        cron_weekdays(value.split()[4])
    except ValueError as exc:
        raise ValueError(
            f'it is neither a five-field cron expression nor "every <n>s|m|h|d" ({exc})'
        ) from None
    return value


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_weekdays(field: str) -> str:
    """A crontab day-of-week field (Sunday = 0 or 7) in APScheduler's words."""
    if not any(c.isdigit() for c in field.split("/")[0]) and "/" not in field:
        return field  # "*", "mon-fri", "sat,sun": names mean the same to both
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-")
            first, last = _cron_day(low), _cron_day(high)
            if last < first:  # "sat-sun" written 6-0
                last += 7
        else:
            first = _cron_day(span)
            last = 6 if step_text else first
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def _cron_day(text: str) -> int:
    if text.isdigit():
        number = int(text)
        if not 0 <= number <= 7:
            raise ValueError(f"day of week {number} is out of range (0-7, Sunday is 0 or 7)")
        return number % 7 if number != 7 else 0
    return _CRON_DAYS.index(text[:3])


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_weekly(value: str) -> str:
    if every_seconds(value) is not None:
        return check_cron(value)
    match = re.fullmatch(r"\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*", value.lower())
    if not match or match[1] not in _WEEKDAYS or int(match[2]) > 23 or int(match[3]) > 59:
        raise ValueError('it is not a weekday and a time such as "mon 08:00" (or "every 1d")')
    return f"{match[1]} {int(match[2]):02d}:{match[3]}"


def check_jitter(raw: Any) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise ValueError("it must be a whole number of seconds, 0 or more")
    return raw


def check_heartbeat(raw: Any) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise ValueError("it must be a whole number of seconds, 1 or more")
    return raw
