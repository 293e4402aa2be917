"""How the GitHub probe talks to GitHub's API: one request, its deadline, its retries, and
what a failure means.

Owns everything between "ask GitHub this" and "GitHub answered this JSON":

- **A deadline on every call.** Requests go through PyGithub's requester
  (`requestJson`, so auth, the base URL's prefix and same-host 301s stay
  PyGithub's) but on a connection of our own, handed in through its public
  `cnx=` parameter. That connection passes the timeout on every call, never
  retries at the urllib3 level, and reads the body as it arrives, giving up once
  the whole answer has taken longer than the timeout: a body that trickles in a
  byte a second never trips a per-read timeout, so without this a dripping
  answer would hold the run. (Bound: connecting, then each read of the status
  line and headers, within the timeout; the body until the deadline plus one
  read. Headers that trickle in are bounded only per read: requests gives no
  handle on the socket before they are in. The run's service deadline is the
  backstop for that.)
- **Retries**, decided here, never by PyGithub (`retry=None`): a request that got
  no HTTP answer (refused, reset, timed out) is tried once more, a 5xx or a body
  cut short twice more, waiting `backoff` seconds, then twice as long; a
  secondary limit is waited out when its `retry-after` is at most `max_wait`.
  A primary limit, or a longer wait, raises `Spent`: the probe defers the rest.
- **A host that is down for the run.** After `DOWN_AFTER` requests in a row got
  no HTTP answer, or `BROKEN_AFTER` in a row got only failures (5xx, pages that
  are not JSON, redirects away), every later request fails at once without
  being sent, so the rest of the run's sources come back promptly.
- **Answers it cannot read are failures, never verdicts.** A 200 in HTML (a
  captive portal), a cut or broken body, a redirect to another scheme or host
  (which PyGithub refuses with `RuntimeError`), a 404 that is not GitHub's JSON:
  each raises `Failure` (transient) with an error that says what came back.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from github import Github
from github.Requester import (
    HTTPRequestsConnectionClass,
    HTTPSRequestsConnectionClass,
    RequestsResponse,
)

from monitor.model import Outcome
from monitor.probes import Figures

#: Retries of a request that got an answer GitHub could not mean (5xx, a cut body), and
#: waits for a short secondary limit.
RETRIES = 2
#: Retries of a request that got no HTTP answer at all.
SILENT_RETRIES = 1
#: After this many requests in a row got no HTTP answer, GitHub is down for this run.
DOWN_AFTER = 4
#: After this many requests in a row got only failing answers, the run stops asking.
BROKEN_AFTER = 6
#: The largest body read; GitHub's answers to this probe are a few hundred kilobytes.
MAX_BODY = 32 * 2**20
#: Answers one request may take: the first, then PyGithub's follow-ups (a 301 on the same
#: host, a GET answered 202).
MAX_ANSWERS = 3
#: Used when the client was built without a timeout (PyGithub's own default is 15 s).
DEFAULT_TIMEOUT = 20.0
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class Spent(Exception):
    """The budget is spent (or the wait is too long): everything not yet asked is deferred."""


class Failure(Exception):
    """A request that got nothing GitHub meant: the affected sources' outcome and error."""

    def __init__(self, outcome: Outcome, error: str, status: int | None = None) -> None:
        super().__init__(error)
        self.outcome = outcome
        self.error = error
        self.status = status


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer from GitHub's API: its status, lower-cased headers and decoded JSON body
    (None for a 304)."""

    status: int
    headers: Mapping[str, str]
    body: Any


class TooLarge(requests.RequestException):
    """A body larger than `MAX_BODY`."""


# --- the connection PyGithub's requester is handed ------------------------------------------


class _Read(RequestsResponse):
    """A response whose body has already been read, within the deadline."""

    def __init__(self, response: requests.Response, text: str) -> None:
        super().__init__(response)
        self.text = text

    def read(self) -> str:
        return self.text


class Looping(requests.RequestException):
    """One request answered again and again: PyGithub follows same-host 301s and repeats a
    GET answered 202 (after 2 s) with no limit of its own."""


class _Bounded:
    """What both connection classes add to PyGithub's: the deadline, a cap on the answers
    one request may take, and the last answer's Location."""

    limit: float = DEFAULT_TIMEOUT
    location: str | None = None
    status: int | None = None
    #: answers since the transport last called `start()`
    answers: int = 0

    def start(self) -> None:
        """A new request begins (PyGithub's 301 and 202 follow-ups are part of it)."""
        self.location = None
        self.answers = 0

    def _answer(self, cnx: HTTPRequestsConnectionClass | HTTPSRequestsConnectionClass) -> _Read:
        self.answers += 1
        if self.answers > MAX_ANSWERS:
            raise Looping(
                f"GitHub's API answered one request {MAX_ANSWERS} times without an end "
                f"(last: HTTP {self.status}, a redirect loop?)"
            )
        started = time.monotonic()
        response = cnx.session.request(
            cnx.verb,
            f"{cnx.protocol}://{cnx.host}:{cnx.port}{cnx.url}",
            headers=cnx.headers,
            data=cnx.input,
            timeout=self.limit,
            verify=cnx.verify,
            allow_redirects=False,
            stream=True,
        )
        self.location = response.headers.get("location")
        self.status = response.status_code
        try:
            body = _read_body(response, started + self.limit, self.limit)
        finally:
            # After a whole body the connection is back in the pool already (keep-alive);
            # after a failure this closes it, so a drip or a stall ends here.
            response.close()
        try:
            text = body.decode(response.encoding or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            text = body.decode("utf-8", errors="replace")
        return _Read(response, text)


class _HTTP(_Bounded, HTTPRequestsConnectionClass):
    def getresponse(self) -> RequestsResponse:
        return self._answer(self)


class _HTTPS(_Bounded, HTTPSRequestsConnectionClass):
    def getresponse(self) -> RequestsResponse:
        return self._answer(self)


def _read_body(response: requests.Response, deadline: float, limit: float) -> bytes:
    """The whole body, one socket read at a time, or an exception requests would raise.

    The deadline is checked after each piece, so a body that has all arrived is never
    refused for the time its headers took."""
    chunks: list[bytes] = []
    size = 0
    raw = response.raw
    # read1: at most one socket read, so the deadline is checked as pieces arrive
    # (urllib3 < 2.2 has none: read() waits for 8 KiB, each wait within the timeout).
    read1 = getattr(raw, "read1", None)
    while True:
        try:
            chunk = read1(65536, decode_content=True) if read1 else raw.read(8192, True)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.ReadTimeout(exc) from exc
        except urllib3.exceptions.ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLarge(f"a body of more than {MAX_BODY // 2**20} MB")
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise requests.ReadTimeout(
                f"the answer took more than {limit:g} s to arrive (it trickled in)"
            )


def connection(github: Github, timeout: float) -> _HTTP | _HTTPS:
    """A connection to `github`'s API host that PyGithub's requester can be handed."""
    requester = github.requester
    base = urlsplit(requester.base_url)
    cls = _HTTPS if base.scheme == "https" else _HTTP
    # retry=None: requests' default adapter, which never retries (retries are ours).
    cnx = cls(
        base.hostname or "api.github.com",
        base.port,
        retry=None,
        pool_size=requester.kwargs.get("pool_size"),
        verify=requester.kwargs.get("verify", True),
    )
    cnx.limit = timeout
    return cnx


# --- the requests ---------------------------------------------------------------------------


class Transport:
    """Requests to one GitHub API host for one probe, with the retry and give-up policy."""

    def __init__(
        self,
        github: Github,
        figures: Figures,
        *,
        timeout: float | None,
        backoff: float,
        max_wait: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.requester = github.requester
        client_timeout = self.requester.kwargs.get("timeout")
        self.timeout = float(timeout or client_timeout or DEFAULT_TIMEOUT)
        self.connection = connection(github, self.timeout)
        self.figures = figures
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.host = urlsplit(self.requester.base_url).netloc or "api.github.com"
        #: requests in a row that got no HTTP answer / only failing answers
        self.silent = 0
        self.broken = 0
        #: `broken` before the last usable answer reset it (see `unusable`)
        self._broken_before = 0
        #: once set, the failure every later request gets without being sent
        self.down: Failure | None = None
        self._noted: set[str] = set()

    def close(self) -> None:
        self.connection.close()

    def note(self, key: str, error: str) -> None:
        """Add `error` to the run's figures, once per kind of trouble (`key`)."""
        if key not in self._noted:
            self._noted.add(key)
            self.figures.errors.append(error)

    def unusable(self, error: str, status: int | None) -> Failure:
        """An answer the transport could read but the probe cannot use (a GraphQL batch that
        failed without saying where, JSON of the wrong shape): a failure like any other, so
        the run of failures its answer seemed to end goes on."""
        self.broken = max(self.broken, self._broken_before)
        return self._final(self._broke(error, status))

    def request(
        self, verb: str, url: str, *, headers: dict[str, str] | None = None, payload: Any = None
    ) -> Reply:
        """One request with the retry policy. Raises `Spent` or `Failure`."""
        attempt = 0
        while True:
            if self.down is not None:
                raise self.down
            try:
                return self._once(verb, url, headers, payload)
            except _Retry as retry:
                if attempt >= retry.limit or self.down is not None:
                    if retry.spent:
                        raise Spent() from None
                    raise self._final(retry.failure) from None
                attempt += 1
                wait = retry.wait if retry.wait is not None else self.backoff * 2 ** (attempt - 1)
                if wait > 0:
                    self.sleep(wait)
            except Failure as failure:
                raise self._final(failure) from None

    def _final(self, failure: Failure) -> Failure:
        """`failure`, given up on: the run's figures say so once per kind of trouble."""
        self.note(failure.error.split(":")[0], failure.error)
        return failure

    def _once(self, verb: str, url: str, headers: dict[str, str] | None, payload: Any) -> Reply:
        self.figures.requests += 1
        self.connection.start()  # so a refused redirect names this request's Location
        try:
            status, raw_headers, text = self.requester.requestJson(
                verb, url, headers=dict(headers or {}), input=payload, cnx=self.connection
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            failure = self._silence(exc)
            raise _Retry(failure, 0 if _unresolved(exc) else SILENT_RETRIES) from exc
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            failure = self._broke(f"unreadable answer from GitHub: {_cut(exc)}")
            raise _Retry(failure, RETRIES) from exc
        except (RuntimeError, AssertionError) as exc:
            # PyGithub refuses a 301 to another scheme or host (RuntimeError) and a URL
            # outside the API (AssertionError in __assertUrlAllowed).
            where = self.connection.location
            raise self._broke(
                f"GitHub's API redirected to {where}: not followed"
                if where
                else f"GitHub's API pointed elsewhere: not followed ({exc})"[:300]
            ) from exc
        except Looping as exc:
            raise self._broke(str(exc)) from exc
        except requests.RequestException as exc:  # TooLarge, InvalidURL…
            error = f"unreadable answer from GitHub: {type(exc).__name__}: {exc}"
            raise self._broke(error[:300]) from exc
        self.silent = 0
        lowered = {k.lower(): str(v) for k, v in raw_headers.items()}
        self._note_limits(lowered)
        body = _json(text)
        if status in (403, 429) and _is_rate_limit(status, lowered, body):
            self.broken = 0
            wait = _retry_after(lowered)
            if lowered.get("x-ratelimit-remaining") == "0" and wait is None:
                raise Spent()  # a primary limit: waiting means until the reset, an hour
            if wait is not None and wait <= self.max_wait:
                limited = Failure(Outcome.TRANSIENT, "a secondary rate limit")
                raise _Retry(limited, RETRIES, wait, spent=True)
            raise Spent()
        if status >= 500:
            failure = self._broke(_server_error(status, lowered, text, body), status)
            raise _Retry(failure, RETRIES)
        if 300 <= status < 400 and status != 304:
            where = lowered.get("location", "elsewhere")
            raise self._broke(f"GitHub's API redirected to {where}: not followed", status)
        if status == 304:
            self.broken = 0
            self.figures.not_modified += 1
            return Reply(status, lowered, None)
        if body is _UNREADABLE:
            reason = _unreadable(text, lowered.get("content-type", ""))
            raise self._broke(f"unreadable answer from GitHub: {reason}", status)
        self._broken_before, self.broken = self.broken, 0
        if verb == "GET" and "x-ratelimit-remaining" in lowered:
            self.figures.points += 1  # each REST answer of GitHub's API but a 304 is charged
        return Reply(status, lowered, body)

    def _silence(self, exc: Exception) -> Failure:
        """A request that got no HTTP answer; the host is down after `DOWN_AFTER` in a row."""
        self.silent += 1
        self.broken = 0
        failure = _no_answer(exc, self.host, self.timeout)
        if self.silent >= DOWN_AFTER:
            why = (
                f"{self.host} did not answer {self.silent} requests in a row "
                f"(last: {failure.error}); taken as down for this run"
            )
            self.note("down", why)
            self.down = Failure(failure.outcome, f"not asked: {why}")
        return failure

    def _broke(self, error: str, status: int | None = None) -> Failure:
        """A request that got an answer monitor cannot use; after `BROKEN_AFTER` in a row
        the run stops asking."""
        self.broken += 1
        failure = Failure(Outcome.TRANSIENT, error, status)
        if self.broken >= BROKEN_AFTER:
            why = f"GitHub failed {self.broken} requests in a row (last: {error})"
            self.note("broken", f"{why}; the remaining sources were not asked")
            self.down = Failure(Outcome.TRANSIENT, f"not asked: {why}")
        return failure

    def _note_limits(self, headers: Mapping[str, str]) -> None:
        figures = self.figures
        try:
            if "x-ratelimit-remaining" in headers:
                figures.remaining = int(float(headers["x-ratelimit-remaining"]))
            if "x-ratelimit-limit" in headers:
                figures.limit = int(float(headers["x-ratelimit-limit"]))
            if "x-ratelimit-reset" in headers:
                reset = int(float(headers["x-ratelimit-reset"]))
                figures.reset_at = datetime.fromtimestamp(reset, UTC)
        except (ValueError, OverflowError, OSError):
            pass  # a proxy's idea of a header; the next answer of GitHub's will say


class _Retry(Exception):
    """`failure`, which may be retried up to `limit` times (after `wait` seconds, if given,
    else after the backoff)."""

    def __init__(
        self, failure: Failure, limit: int, wait: float | None = None, *, spent: bool = False
    ) -> None:
        super().__init__(failure.error)
        self.failure = failure
        self.limit = limit
        self.wait = wait
        #: when retries run out, the budget counts as spent (a secondary limit that lasts)
        self.spent = spent


_UNREADABLE = object()


def _json(text: str) -> Any:
    """The decoded body, or `_UNREADABLE` (an empty body included: every answer this probe
    reads but a 304 carries JSON, a 404 GitHub's `{"message": "Not Found"}`)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting no real answer has
        return _UNREADABLE


def _cut(exc: Exception) -> str:
    """A body that broke off or could not be decoded, in words."""
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return f"a body that could not be decoded ({exc})"[:200]
    for cause in _causes(exc):
        if isinstance(cause, urllib3.exceptions.IncompleteRead):
            got, missing = cause.partial, cause.expected
            return f"the body was cut short ({got} of {got + missing} bytes arrived)"
    return f"the body was cut short ({exc})"[:200]


def _title(text: str) -> str | None:
    found = _TITLE.search(text[:4096])
    return " ".join(html.unescape(found.group(1)).split())[:80] if found else None


def _unreadable(text: str, content_type: str) -> str:
    """What came back instead of JSON, in words."""
    start = text.lstrip()[:1]
    if not start:
        return "an empty body where JSON was expected"
    if "html" in content_type or start == "<":
        title = _title(text)
        named = f" ({title!r})" if title else ""
        return f"HTML{named} where JSON was expected (a captive portal or proxy?)"
    if start in "{[":
        return "JSON cut short or broken"
    return f"{content_type.split(';')[0] or 'text'} where JSON was expected"


def _server_error(status: int, headers: Mapping[str, str], text: str, body: Any) -> str:
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, str) and message:
        return f"GitHub answered HTTP {status}: {message}"[:300]
    if "html" in headers.get("content-type", "") or text.lstrip()[:1] == "<":
        title = _title(text)
        return f"GitHub answered HTTP {status} with an HTML page" + (
            f" ({title!r})" if title else ""
        )
    return f"GitHub answered HTTP {status}"


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps (requests wraps urllib3's errors, which wrap the socket's)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 12:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return seen


def _unresolved(exc: BaseException) -> bool:
    return any(isinstance(e, urllib3.exceptions.NameResolutionError) for e in _causes(exc))


def _no_answer(exc: Exception, host: str, timeout: float) -> Failure:
    """A request that got no HTTP answer: NETWORK when no connection was made, else
    TRANSIENT (the host was reached, then reset, closed or went silent)."""
    causes = _causes(exc)
    # The socket's own words ("[Errno 111] Connection refused") rather than the wrappers'.
    oserror = next(
        (e for e in reversed(causes) if type(e).__module__ == "builtins" and str(e)), exc
    )
    said = str(oserror)[:160]
    if _unresolved(exc):
        return Failure(Outcome.NETWORK, f"cannot resolve {host}")
    if isinstance(exc, requests.ConnectTimeout):
        return Failure(Outcome.NETWORK, f"could not connect to {host} within {timeout:g} s")
    if any(isinstance(e, urllib3.exceptions.NewConnectionError) for e in causes):
        return Failure(Outcome.NETWORK, f"could not connect to {host}: {said}")
    if isinstance(exc, requests.Timeout):
        if "trickled" in str(exc):
            return Failure(Outcome.TRANSIENT, f"{host}: {exc}")
        return Failure(Outcome.TRANSIENT, f"no answer from {host} within {timeout:g} s")
    if any(isinstance(e, ConnectionResetError) for e in causes):
        return Failure(Outcome.TRANSIENT, f"{host} reset the connection without an answer")
    return Failure(Outcome.TRANSIENT, f"{host} closed the connection without an answer ({said})")


def _is_rate_limit(status: int, headers: Mapping[str, str], body: Any) -> bool:
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(body, dict) and "block" in body:
        return False
    return (
        status == 429
        or headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in headers
        or (isinstance(message, str) and "rate limit" in message.lower())
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
