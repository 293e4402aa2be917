"""How the Hugging Face probe talks to the Hub: one request, its deadline, its retries, and
what a failure means.

Owns everything between "ask the Hub this" and "the Hub answered this":

- **Requests** go through huggingface_hub's shared client (`get_session()`, which
  `huggingface.install_client` sets up and counts) with `build_hf_headers` headers, but
  never through `http_backoff` (its retry loop sleeps as long as a 429 asks, an hour, and
  retries a dead connection for ~23 s, printing "Retrying in …"): the policy is ours.
- **A deadline on every request**: `timeout` seconds to connect and for each read, passed
  explicitly (huggingface_hub's default client has none), and the same for the whole
  answer, which is read here chunk by chunk: a body dripping a byte a second never trips a
  per-read timeout. (Bound: the headers within the timeout, then the body until the
  deadline plus one read.) An answer over 32 MiB is refused.
- **Redirects** are followed here, hop by hop, only on the endpoint's own scheme and host
  (a rename is a 307 with a relative Location; a POST, which only reads here, is sent
  again with its body where a 307 or 308 leads, and any other redirect of it is a
  failure); one to another host or scheme (a captive portal's, an http:// endpoint
  upgraded) is not followed and is a transient failure. A
  `Link: rel="next"` page elsewhere is not asked either (the token would go along).
- **Retries**: a 5xx, a timeout or a reset is tried twice more, `backoff` seconds later,
  then twice as long; a refused connection is not retried (it will be refused a second
  later too). A 429, a token the Hub refuses, or `HF_HUB_OFFLINE`: every source not yet
  asked is deferred to the next run at once, without sleeping.
- **A Hub that is down for the run.** After DOWN_AFTER requests in a row got no complete
  HTTP answer (refused, timed out, reset, cut short), the sources not yet asked come back
  at once, unasked: NETWORK when connections failed (the host cannot be reached: the
  GitHub probe's choice, and what lets the runner call a run on an offline machine
  degraded), DEFERRED when the Hub took connections but did not answer (nothing was learnt
  about them; they are due first next run). After BROKEN_AFTER sources in a row got only
  failures (5xx, pages that are not the Hub's JSON, redirects away), the rest are deferred
  the same way, rather than each costing three requests to a broken Hub or a portal.
  Either way the run's figures get one error line saying why, and how many were not asked.
- **Answers it cannot read are failures, never verdicts**: HTML where JSON was expected,
  a body cut short, JSON of the wrong shape each become a transient `Verdict` saying what
  came back.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import httpx2
import huggingface_hub as hub
from huggingface_hub.errors import OfflineModeIsEnabled
from huggingface_hub.utils._http import parse_ratelimit_headers

from monitor.model import Facts, Outcome
from monitor.probes import Figures

#: retries after a 5xx, a timeout or a reset (a refused connection is not retried)
RETRIES = 2
#: this many requests in a row without an HTTP answer: the Hub is down for the run
DOWN_AFTER = 3
#: this many sources in a row that got only failures: the Hub is broken for the run
BROKEN_AFTER = 5
MAX_HOPS = 5
MAX_BODY = 32 * 1024 * 1024
Params = list[tuple[str, str]] | None
#: a form body, as httpx2 encodes it (a list value is the key repeated: `paths=a&paths=b`)
Form = dict[str, Any] | None


class AnswerTooSlow(httpx2.ReadTimeout):
    """The whole answer took longer than the request's deadline (a dripping connection)."""


class AnswerTooLarge(httpx2.RequestError):
    """The answer's body is larger than any answer of the Hub's API."""


class Verdict(Exception):
    """How a call ended without an answer to read: the observation it becomes."""

    def __init__(
        self,
        outcome: Outcome,
        error: str | None = None,
        status: int | None = None,
        facts: Facts | None = None,
        *,
        unasked: bool = False,
    ) -> None:
        super().__init__(error or outcome.value)
        self.outcome, self.error, self.status, self.facts = outcome, error, status, facts
        #: the source was not asked (or got no answer) because the Hub was halted
        self.unasked = unasked


class Stopped(Exception):
    """The generator was closed: make no further request."""


def unreadable(why: str, status: int | None = None) -> Verdict:
    return Verdict(Outcome.TRANSIENT, f"unreadable answer from the Hub: {why}"[:300], status)


class Run:
    """One `observe` call's shared state: its stop flag and what it learnt about the Hub."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.stop = threading.Event()
        #: set with `stop`, and when the Hub is halted: ends every pause at once
        self.wake = threading.Event()
        self._lock = threading.Lock()
        #: what every source not yet asked gets once the Hub is spent, down or broken; why
        self.halted: Verdict | None = None
        self.why = ""
        self.unasked = 0
        self._silent = 0  # requests in a row without an HTTP answer
        self._failing = 0  # sources in a row that got only failures

    def check(self) -> None:
        """Before a request: raise if it must not be made."""
        if self.stop.is_set():
            raise Stopped
        if (halted := self.halted) is not None:
            raise Verdict(halted.outcome, halted.error, unasked=True)

    def halt(self, verdict: Verdict, why: str) -> None:
        """Ask nothing more in this run (the first reason given stands)."""
        with self._lock:
            if self.halted is None:
                self.halted, self.why = verdict, why
        self.wake.set()

    def defer(self, why: str, status: int | None = None) -> Verdict:
        """Halt, deferring the rest; the verdict of the source that learnt it (deferred too)."""
        self.halt(Verdict(Outcome.DEFERRED), why)
        return Verdict(Outcome.DEFERRED, None, status, unasked=True)

    def pause(self, seconds: float) -> bool:
        """Wait before a retry; False when the Hub was halted meanwhile."""
        self.wake.wait(max(0.0, seconds))
        if self.stop.is_set():
            raise Stopped
        return self.halted is None

    def heard(self, answered: bool) -> int:
        """Count a request with or without an HTTP answer; the streak without one."""
        with self._lock:
            self._silent = 0 if answered else self._silent + 1
            return self._silent

    def judged(self, outcome: Outcome, *, unasked: bool = False) -> None:
        """Count a source's outcome; halt once BROKEN_AFTER in a row got only failures."""
        with self._lock:
            if unasked:
                self.unasked += 1
                return
            failed = outcome in (Outcome.TRANSIENT, Outcome.NETWORK)
            self._failing = self._failing + 1 if failed else 0
            broken = self._failing >= BROKEN_AFTER
        if broken:
            why = f"the Hub failed {BROKEN_AFTER} sources in a row"
            self.halt(Verdict(Outcome.DEFERRED), why)

    def summary(self) -> str | None:
        """The run's one line about the Hub, when sources went unasked."""
        if self.halted is None or not self.unasked:
            return None
        if self.halted.outcome is Outcome.DEFERRED:
            return f"{self.why}: {self.unasked} source(s) deferred to the next run"
        return f"{self.why}: {self.unasked} source(s) not asked in this run"

    def close(self) -> None:
        self.stop.set()
        self.wake.set()


class HubClient:
    """Requests to one Hub endpoint under this module's policy (GET, and the POSTs that
    only read, such as paths-info)."""

    def __init__(
        self, endpoint: str, headers: dict[str, str], *, timeout: float, backoff: float
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.headers = headers
        self.timeout = timeout
        self.backoff = backoff
        self.origin = origin(httpx2.URL(self.endpoint))
        self.lock = threading.Lock()
        self.figures = Figures()

    def get(
        self, run: Run, url: str, params: Params = None, *, retries: int = RETRIES
    ) -> httpx2.Response:
        """The complete answer to GET `url` (same-origin redirects followed) unless it is a
        429 or, after retries, a 5xx; `Verdict` otherwise, `Stopped` once closed."""
        return self.send(run, "GET", url, params, retries=retries)

    def post(self, run: Run, url: str, form: Form) -> httpx2.Response:
        """`get`, for a POST of a form that only reads (paths-info): retried the same way,
        and sent again, body and all, where a 307 or 308 leads."""
        return self.send(run, "POST", url, form=form)

    def send(
        self,
        run: Run,
        method: str,
        url: str,
        params: Params = None,
        *,
        form: Form = None,
        retries: int = RETRIES,
    ) -> httpx2.Response:
        attempt = hops = 0
        while True:
            try:
                response = self._fetch(run, method, url, params, form)
            except OfflineModeIsEnabled:
                raise run.defer("HF_HUB_OFFLINE is set") from None
            except httpx2.TransportError as exc:
                unreachable = isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)
                outcome = Outcome.NETWORK if unreachable else Outcome.TRANSIENT
                verdict = Verdict(outcome, describe(exc, self.timeout))
                streak = run.heard(False)
                if streak >= DOWN_AFTER:
                    why = f"the Hub gave no answer to {streak} requests in a row ({verdict.error})"
                    unasked = f"not asked: {why}"[:300] if unreachable else None
                    run.halt(Verdict(outcome if unreachable else Outcome.DEFERRED, unasked), why)
                if isinstance(exc, httpx2.ConnectError) or attempt >= retries:
                    raise verdict from None
                attempt += 1
                if not run.pause(self.backoff * 2 ** (attempt - 1)):
                    raise verdict from None  # asked, and the Hub went down meanwhile
                continue
            except httpx2.RequestError as exc:  # an answer, unreadable (too large, bad encoding)
                run.heard(True)
                raise unreadable(describe(exc, self.timeout)) from None
            run.heard(True)
            wait = self._note_limits(run, response)
            status = response.status_code
            if status == 429:
                after = f"; it asks to wait {wait} s" if wait is not None else ""
                raise run.defer(f"the Hub's rate limit is spent (429{after})", 429)
            if response.has_redirect_location:
                hops += 1
                if method != "GET" and status not in (307, 308):
                    raise unreadable(f"a {status} redirect of a {method}", status)
                url, params = self._follow(response, params, hops)
                continue
            if status < 500:
                return response
            verdict = Verdict(
                Outcome.TRANSIENT, f"the Hub answered {status} {response.reason_phrase}", status
            )
            attempt += 1
            if attempt > retries or not run.pause(self.backoff * 2 ** (attempt - 1)):
                raise verdict

    def next_page(self, response: httpx2.Response) -> str | None:
        """The listing's next page (`Link: <…>; rel="next"`), if it is on the endpoint."""
        try:
            link = response.links.get("next", {}).get("url")
            target = response.url.join(link) if link else None
        except (ValueError, httpx2.InvalidURL):
            raise unreadable("a Link header that does not parse") from None
        if target is not None and origin(target) != self.origin:
            raise Verdict(
                Outcome.TRANSIENT, f"the Hub's next page is at {_short(target)}; not followed"
            )
        return None if target is None else str(target)

    def note(self, line: str) -> None:
        with self.lock:
            if line not in self.figures.errors:
                self.figures.errors.append(line)

    def _fetch(
        self, run: Run, method: str, url: str, params: Params, form: Form
    ) -> httpx2.Response:
        """One request, read to the end within the deadline, without following redirects."""
        session = hub.get_session()
        request = session.build_request(
            method,
            url,
            params=cast(Any, params),
            data=form,
            headers=self.headers,
            timeout=self.timeout,
        )
        run.check()  # the moment before it leaves, so that nothing leaves after a close
        deadline = time.monotonic() + self.timeout
        with contextlib.closing(
            session.send(request, stream=True, follow_redirects=False)
        ) as streamed:
            body = bytearray()
            for chunk in streamed.iter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    raise AnswerTooLarge(
                        f"an answer over {MAX_BODY} bytes", request=streamed.request
                    )
                if time.monotonic() > deadline:
                    raise AnswerTooSlow(
                        f"the answer took more than {self.timeout:g} s in all "
                        "(a connection dripping bytes?)",
                        request=streamed.request,
                    )
        # The body is decoded already: its encoding and length headers would mislead.
        headers = [
            (k, v)
            for k, v in streamed.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx2.Response(
            streamed.status_code, headers=headers, content=bytes(body), request=streamed.request
        )

    def _follow(self, response: httpx2.Response, params: Params, hops: int) -> tuple[str, Params]:
        """Where a redirect leads, if it may be followed (a rename's 307 on the same host)."""
        status = response.status_code
        try:
            target = response.url.join(response.headers["Location"])
        except (ValueError, httpx2.InvalidURL):
            raise unreadable(f"a {status} redirect to an invalid URL", status) from None
        if origin(target) != self.origin:
            error = f"the Hub redirected to {_short(target)}; not followed"
            raise Verdict(Outcome.TRANSIENT, error, status)
        if hops > MAX_HOPS:
            raise Verdict(Outcome.TRANSIENT, f"more than {MAX_HOPS} redirects", status)
        # A Location without a query would drop `expand`: the same question, asked there.
        return str(target), None if target.query else params

    def _note_limits(self, run: Run, response: httpx2.Response) -> int | None:
        """Keep the budget the Hub reports; the seconds it asks to wait, if it is spent."""
        limits = parse_ratelimit_headers(response.headers)
        wait = limits.reset_in_seconds if limits is not None else None
        if wait is None and response.status_code == 429:
            retry_after = response.headers.get("Retry-After", "")
            wait = int(retry_after) if retry_after.isdigit() else None
        with self.lock:
            if limits is not None:
                self.figures.remaining = limits.remaining
                self.figures.limit = limits.limit or self.figures.limit
            if wait is not None and (limits is None or limits.remaining == 0):
                self.figures.remaining = 0
                self.figures.reset_at = run.now + timedelta(seconds=wait)
        return wait


def origin(url: httpx2.URL) -> tuple[str, str, int | None]:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), port


def _short(url: httpx2.URL) -> str:
    """A URL without its query (which may be long, or carry a token), for messages."""
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:200]


def describe(exc: httpx2.RequestError, timeout: float) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    if isinstance(exc, AnswerTooSlow | AnswerTooLarge):
        return text
    if isinstance(exc, httpx2.ConnectError):
        return f"could not connect to the Hub ({text or type(exc).__name__})"
    if isinstance(exc, httpx2.TimeoutException):
        return f"no answer from the Hub within {timeout:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx2.RemoteProtocolError) and "complete" in text:
        return (
            "unreadable answer from the Hub: the connection closed before the answer was complete"
        )
    return f"the connection to the Hub failed ({type(exc).__name__}: {text})"


def is_json(response: httpx2.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "").lower()


def read_json(response: httpx2.Response, expected: type[dict[str, Any]] | type[list[Any]]) -> Any:
    """The answer's JSON value, of the expected shape, or a `Verdict` saying what came instead."""
    status = response.status_code
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    start = response.content[:64].lstrip().lower()
    if "html" in kind or start.startswith((b"<!doctype", b"<html")):
        raise unreadable("HTML where JSON was expected (a captive portal or proxy?)", status)
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        what = (
            "an empty body"
            if not response.content
            else "JSON that does not parse (cut short?)"
            if "json" in kind
            else f"{kind or 'a body'} that is not JSON"
        )
        raise unreadable(f"{what} where JSON was expected", status) from None
    if not isinstance(data, expected):
        wanted = "an object" if expected is dict else "a list"
        raise unreadable(f"JSON {type(data).__name__} where {wanted} was expected", status)
    return data
