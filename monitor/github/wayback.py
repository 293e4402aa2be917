"""The Wayback Machine's archived copy of a dead link, from before it died.

    with Wayback(settings) as wayback:
        found = wayback.before("https://example.org/post", state.last_ok_at)

One `GET <wayback_url>?url=…&timestamp=YYYYMMDDhhmmss&closest=before` per link
(the availability API, `MONITOR_WAYBACK_URL`). The API answers the capture it
finds closest, which may still be one from after the timestamp: such a capture
is never proposed, since by then the page may already have been gone. Only a
capture the archive replays (available, HTTP 2xx or 3xx when captured) counts.

Nothing here raises: a timeout, a refused connection, a 5xx or an answer that is
not the API's JSON is a `Lookup` with no capture and `failed` set, which the
pull request words as "no archived copy found". The whole lookup has a deadline
too; links not asked by then are failed lookups, and no request outlives it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from monitor import __version__
from monitor.settings import Settings

#: The format of the API's `timestamp` parameter and of its captures' timestamps (UTC).
STAMP = "%Y%m%d%H%M%S"


@dataclass(frozen=True, slots=True)
class Capture:
    """One archived copy: where to read it and when it was captured."""

    url: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the archive had for one link: a capture, or none (`failed`: it did not say)."""

    capture: Capture | None = None
    failed: bool = False
    reason: str = ""


def stamp(moment: datetime) -> str:
    """A moment as the availability API writes it: YYYYMMDDhhmmss, in UTC."""
    return moment.astimezone(UTC).strftime(STAMP)


class Wayback:
    """A client of the availability API with a timeout per request and a deadline for all."""

    def __init__(
        self,
        api_url: str,
        *,
        timeout: float = 20.0,
        deadline: float = 600.0,
        user_agent: str = f"monitor/{__version__}",
        clock: Any = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url
        self.timeout = timeout
        self._clock = clock
        self._ends = clock() + deadline
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            transport=transport,
        )
        self.requests = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Wayback:
        return cls(
            settings.wayback_url,
            timeout=settings.probes.api_timeout_seconds,
            deadline=settings.probes.service_deadline_seconds,
        )

    def __enter__(self) -> Wayback:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def before(self, url: str, alive_at: datetime | None) -> Lookup:
        """The capture of `url` closest to, and not after, `alive_at`; None when never alive."""
        if alive_at is None:
            return Lookup(reason="never seen alive")
        left = self._ends - self._clock()
        if left <= 0:
            return Lookup(failed=True, reason="the lookup's deadline had passed")
        params = {"url": url, "timestamp": stamp(alive_at), "closest": "before"}
        try:
            self.requests += 1
            response = self._client.get(
                self.api_url, params=params, timeout=min(self.timeout, left)
            )
        except httpx.HTTPError as exc:
            return Lookup(failed=True, reason=f"{type(exc).__name__}: {exc}"[:200])
        if response.status_code != 200:
            return Lookup(failed=True, reason=f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            return Lookup(failed=True, reason="the answer is not JSON")
        return _closest(data, alive_at)


def _closest(data: Any, alive_at: datetime) -> Lookup:
    """The capture the API's answer names, if it is one to propose."""
    if not isinstance(data, dict) or not isinstance(data.get("archived_snapshots"), dict):
        return Lookup(failed=True, reason="the answer is not the availability API's")
    closest = data["archived_snapshots"].get("closest")
    if not isinstance(closest, dict):
        return Lookup(reason="no capture")
    status = str(closest.get("status") or "200")
    address = closest.get("url")
    if closest.get("available") is False or not isinstance(address, str) or not address:
        return Lookup(reason="no capture")
    if status[:1] not in ("2", "3"):
        return Lookup(reason=f"the closest capture is an HTTP {status} page")
    try:
        at = datetime.strptime(str(closest.get("timestamp", "")), STAMP).replace(tzinfo=UTC)
    except ValueError:
        return Lookup(reason="the capture has no readable timestamp")
    if at > alive_at:
        return Lookup(reason="the closest capture is from after the link was last seen alive")
    return Lookup(Capture(_https(address), at))


def _https(address: str) -> str:
    """The archive's own http:// capture URLs, as https:// (the archive serves both)."""
    parts = urlsplit(address)
    if parts.scheme == "http" and parts.hostname in ("web.archive.org", "archive.org"):
        return urlunsplit(parts._replace(scheme="https"))
    return address
