"""The Wayback Machine's part of the emulated world: which URL was captured when, with what
status, and the lookup its availability API makes.

`World` inherits `WaybackWorld`: `world.wayback_capture("https://example.org/a", "2024-05-01")`
records a capture; wayback.py serves `GET /wayback/available` from `closest_capture()`.

URLs are matched as the archive's index keys them, loosely: scheme, a leading `www.`,
the host's case, a default port and a trailing slash do not matter; the path and
query do. Captures whose status is 2xx or 3xx are "available" (an archived error page
is not offered), unless the caller asks for a `status_code` of its own.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from monitor.emulator.basics import utc

Closest = Literal["either", "before", "after"]


@dataclass(frozen=True)
class Capture:
    url: str
    when: datetime
    status: str = "200"

    @property
    def timestamp(self) -> str:
        return self.when.strftime("%Y%m%d%H%M%S")


def capture_key(url: str) -> str:
    """The URL as the archive's index keys it (see the module docstring)."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = parts.port
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    return host + path + (f"?{parts.query}" if parts.query else "")


def parse_timestamp(text: str | None) -> datetime | None:
    """A Wayback timestamp (1 to 14 digits, YYYYMMDDhhmmss, the rest taken as the start of
    that period; the v1 API's ISO 8601 spellings, 2024-05-01T12:00:00Z, too); None when
    absent or not one."""
    if text and re.fullmatch(r"\d{4}(-\d\d(-\d\d([T ]\d\d(:\d\d(:\d\d)?)?Z?)?)?)?", text):
        text = re.sub(r"[-:T Z]", "", text)
    if not text or not text.isdigit() or len(text) > 14:
        return None
    digits = text + "20000101000000"[len(text) :]
    try:
        return utc(datetime.strptime(digits, "%Y%m%d%H%M%S"))
    except ValueError:
        return None


class WaybackWorld:
    """The archive's captures, and the changes a test makes to them."""

    lock: threading.RLock
    wayback_captures: dict[str, list[Capture]]

    def _init_wayback(self) -> None:
        self.wayback_captures = {}

    def wayback_capture(self, url: str, when: datetime | str, status: str | int = "200") -> Capture:
        """The archive captured `url` at `when`, and the page answered `status`."""
        with self.lock:
            capture = Capture(url, utc(when), str(status))
            found = self.wayback_captures.setdefault(capture_key(url), [])
            found.append(capture)
            found.sort(key=lambda c: c.when)
            return capture

    def wayback_forget(self, url: str | None = None) -> None:
        """Drop the captures of `url` (of every URL when None)."""
        with self.lock:
            if url is None:
                self.wayback_captures.clear()
            else:
                self.wayback_captures.pop(capture_key(url), None)

    def closest_capture(
        self,
        url: str,
        when: datetime | None,
        closest: Closest = "either",
        status_code: str | None = None,
    ) -> Capture | None:
        """The capture the availability API offers: the newest when `when` is None, else the
        nearest one before, after or on either side of `when` (ties go to the earlier)."""
        with self.lock:
            captures = [
                c
                for c in self.wayback_captures.get(capture_key(url), [])
                if (c.status == status_code if status_code else c.status[:1] in ("2", "3"))
            ]
        if when is None:
            return captures[-1] if captures else None
        if closest == "before":
            captures = [c for c in captures if c.when <= when]
        elif closest == "after":
            captures = [c for c in captures if c.when >= when]
        if not captures:
            return None
        return min(captures, key=lambda c: (abs((c.when - when).total_seconds()), c.when))
