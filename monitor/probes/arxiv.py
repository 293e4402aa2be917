"""arXiv papers, through the export API: many ids per request, one request every 3 seconds.

Owns what an answer from arXiv's export API means, and when to stop asking.

`GET {MONITOR_ARXIV_API_URL}?id_list=ID1,ID2,…&max_results=N` answers an Atom
feed whose entries carry each paper's latest version in their `<id>`
(`…/abs/2106.09685v2`), its title (hard-wrapped; unwrapped here) and, for a
withdrawn paper, a comment saying so (../shared/api-facts.md §8).

What an answer may conclude (`read_feed`):
- Only a well-formed Atom `<feed>` carrying `opensearch:totalResults` speaks for
  arXiv. In such a feed an id with no entry does not exist (NOT_FOUND).
  Everything else is TRANSIENT for the whole batch: a captive portal's or a
  proxy's HTML (named so, whatever its content type), an XHTML page that parses
  as XML, JSON, plain text, an empty or cut-short body, or a feed without
  `totalResults`. Reading every id that is missing from such an answer as "no
  such paper" would make every paper `deleted` two runs later. A body declared
  HTML is refused even if it parses, since arXiv never sends HTML here. A body
  declared anything else is judged by what it holds, because proxies mislabel
  content types. A DTD is refused too: a feed has none, and refusing it shuts
  out entity tricks.
- An entry titled "Error" is arXiv complaining, not a paper. A complaint that
  names one of the ids ("incorrect id format for X") makes that id NOT_FOUND;
  the ids missing alongside it are asked again without it, because arXiv
  answers a request holding one malformed id with that error alone. A
  complaint about the query as a whole, or an entry whose `<id>` cannot be
  read, leaves the missing ids TRANSIENT.
- A redirect is not followed (the client does not follow any). Pointing to
  another host or scheme, it is TRANSIENT, and its error says where it pointed.

Pacing and deadlines:
- arXiv's terms ask for no more than one request every 3 seconds, so requests
  are spaced by `interval`.
- A throttled answer (429, 503, or a "Rate exceeded." body, whatever the
  status) is asked again after the interval, or after its `Retry-After` when
  that is longer, up to twice. A batch that stays throttled is TRANSIENT. A
  `Retry-After` longer than `max_wait` is not slept through: that batch is
  TRANSIENT at once.
- Each request has a wall-clock deadline, `timeout`, on top of httpx's
  per-read timeout, which a body dripping one byte a second would never trip.
  The body is streamed and checked against the clock between pieces, and a
  watchdog shuts the socket at the deadline, so a body that trickles one byte
  every few seconds is cut too. The watchdog learns the socket when a new
  connection is made, or, on a reused one, when the headers come in; until
  then httpx's own timeouts bound each step.
- 5xx is asked again twice. A request that got no complete HTTP answer (a
  timeout, a reset, a cut-short body) is asked again once. A connection that
  is refused or cannot be made is not tried again: arXiv will not become
  reachable a second later.

When to stop asking, for the rest of the run: after `DOWN_AFTER` batches in a
row that failed (no answer, 5xx, an unreadable answer, a redirect), or at once
when arXiv keeps throttling or asks for a wait longer than `max_wait`. The
batches not yet asked are then DEFERRED, not NETWORK. They were not asked, and
DEFERRED says exactly that: their state does not move, and being the most
overdue they are the first asked next run. So papers take turns at being the
ones that carry the failure, and a paper that stays unreachable for a week is
still reported `unreachable`. The batches that were asked carry the evidence.
A refused connection or a connect timeout is NETWORK, which is enough for the
runner to see that arXiv's host is silent and to spot an offline machine.
Anything else is TRANSIENT. A black-holed arXiv thus costs a few timeouts, not
one per batch, and it stays polite: arXiv's terms frown on hammering a host
that is throttling or failing.

The runner may close the generator between any two observations. No request
and no sleep happens after that, because the only code that asks or waits
runs before a batch's first observation is yielded.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.catalog.kinds import identify
from monitor.model import Facts, Kind, Observation, Outcome, Source
from monitor.probes import Figures
from monitor.probes.arxiv_feed import (
    Feed,
    Unreadable,
    read_feed,
    retry_after,
    says_rate_exceeded,
    throttled,
)

#: Requests per batch when arXiv answers 5xx or throttles: the first and two more.
ATTEMPTS = 3
#: Extra requests per batch when one got no HTTP answer at all (a timeout, a reset).
SILENT_RETRIES = 1
#: Batches in a row that failed before the rest of the run is deferred.
DOWN_AFTER = 2
#: Requests per batch when arXiv rejects ids: the first and a second without them.
ROUNDS = 2
#: A feed of 100 entries is well under 1 MB; anything this large is not one.
MAX_BODY = 16 * 1024 * 1024


def paper_id(source: Source) -> str:
    """The arXiv id of a source, without version ("2106.09685", "hep-th/9901001")."""
    return identify(source.url).key.removeprefix("arxiv:")


# --- the transport --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    """A complete HTTP answer."""

    status: int
    headers: httpx.Headers
    body: bytes


@dataclass(frozen=True)
class _Failure:
    """Why a request taught nothing about its papers."""

    outcome: Outcome
    error: str
    status: int | None = None
    #: no HTTP answer at all (or not a complete one): worth one more try
    silent: bool = False
    #: arXiv is throttling: asking again this run would only make it worse
    throttled: bool = False

    def verdict(self) -> _Verdict:
        return _Verdict(self.outcome, self.error, self.status)


class _Failed(Exception):
    """Raised by `ArxivProbe._get` with the failure it met."""

    def __init__(self, failure: _Failure) -> None:
        super().__init__(failure.error)
        self.failure = failure


class _Watchdog:
    """Shuts a request's socket at its deadline, wherever the read is blocked.

    httpx's timeouts bound each read, not the whole answer. The socket comes from
    httpcore's `trace` extension (a new connection) or from the response's
    `network_stream` extension (a reused one). Shutting it down wakes the blocked read,
    which then fails. Without a socket (a mock transport, or a connection still being
    made, which httpx's connect timeout bounds) this does nothing; the clock checks
    between body pieces remain.
    """

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._stream: Any = None
        self._due = False
        self._over = False
        #: the socket was shut: whatever failed next failed because of the deadline
        self.cut = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: note each new connection's stream."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.attach(info.get("return_value"))

    def attach(self, stream: Any) -> None:
        with self._lock:
            if stream is None or self._over:
                return
            self._stream = stream
            if self._due:
                self.cut = _shut(stream)

    def _fire(self) -> None:
        with self._lock:
            if self._over:
                return
            self._due = True
            if self._stream is not None:
                self.cut = _shut(self._stream)

    def stop(self) -> None:
        """The request is over: from now on the watchdog touches nothing."""
        with self._lock:
            self._over = True
        self._timer.cancel()


def _shut(stream: Any) -> bool:
    """Shut down the socket under an httpcore network stream; True if it was done."""
    try:
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
            return True
    except Exception:  # a stream without a socket, a socket already closed: nothing to cut
        return False
    return False


# --- the probe ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    """What one paper's check came to, before it is dressed as its source's observation."""

    outcome: Outcome
    error: str | None = None
    status: int | None = None
    facts: Facts | None = None


@dataclass
class _Run:
    """What one `observe` call has learnt about arXiv."""

    #: batches in a row that failed
    failed: int = 0
    #: why the rest of the run is not asked (None: keep asking)
    stopped: str | None = None


class ArxivProbe:
    """Checks `arxiv` sources.

    `timeout` bounds one request, wall clock, from connecting to the body's last byte
    (settings: `[probes] api_timeout_seconds`). `max_wait` is the longest `Retry-After`
    a run sleeps through (`[probes] max_wait_seconds`). `interval` spaces requests
    (`arxiv_interval_seconds`; arXiv's terms ask for 3 s). `sleep` and `clock` pace the
    requests and may be fakes in tests. Deadlines always use the real clock.
    """

    service = "arxiv"

    def __init__(
        self,
        api_url: str,
        *,
        client: httpx.Client | None = None,
        batch_size: int = 100,
        interval: float = 3.0,
        timeout: float = 20.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_url = api_url
        self.timeout = timeout
        self.client = client or httpx.Client(
            timeout=timeout,
            headers={"User-Agent": "monitor (link-and-freshness monitor; polite: 1 request / 3 s)"},
            # arXiv's terms ask for a single connection
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self.batch_size = batch_size
        self.interval = interval
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self.host = urlsplit(api_url).netloc
        self._figures = Figures()
        self._last = float("-inf")

    def figures(self) -> Figures:
        return self._figures

    def observe(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        papers = [s for s in sources if s.kind is Kind.ARXIV]
        run = _Run()
        for start in range(0, len(papers), self.batch_size):
            batch = papers[start : start + self.batch_size]
            if run.stopped is None:
                verdicts = self._batch(batch, run, left=len(papers) - start - len(batch))
            else:
                self._figures.deferred += len(batch)
                verdicts = {paper_id(s): _Verdict(Outcome.DEFERRED, run.stopped) for s in batch}
            # Only now, with every request of the batch made, are its observations handed
            # out: a generator closed at any of these yields asks and sleeps no more.
            for source in batch:
                verdict = verdicts[paper_id(source)]
                yield Observation(
                    source.key,
                    now,
                    verdict.outcome,
                    verdict.facts,
                    http_status=verdict.status,
                    error=verdict.error[:300] if verdict.error else None,
                    host=self.host,
                )

    # --- one batch ------------------------------------------------------------------------------

    def _batch(self, batch: Sequence[Source], run: _Run, *, left: int) -> dict[str, _Verdict]:
        """A verdict per paper id of the batch; asked again without ids arXiv rejects.

        `left` papers come after this batch: the count for the run's error line should
        this batch make the run stop asking."""
        settled: dict[str, _Verdict] = {}
        asked = sorted({paper_id(s) for s in batch})
        for _ in range(ROUNDS):
            answer = self._ask(asked)
            if isinstance(answer, _Failure):
                settled.update(dict.fromkeys(asked, answer.verdict()))
                self._count_failure(answer, run, left)
                return settled
            run.failed = 0
            for paper, facts in answer.papers.items():
                settled[paper] = _Verdict(Outcome.OK, status=200, facts=facts)
            for paper, complaint in answer.rejected.items():
                settled[paper] = _Verdict(
                    Outcome.NOT_FOUND, f"arXiv rejects this id: {complaint}", 200
                )
            missing = [p for p in asked if p not in settled]
            if answer.doubts:
                # arXiv complained about the query, or sent entries monitor cannot read:
                # a missing id may be in them, so nothing is concluded about it.
                doubt = _Verdict(Outcome.TRANSIENT, "; ".join(answer.doubts), 200)
                settled.update(dict.fromkeys(missing, doubt))
                return settled
            if not answer.rejected:
                gone = _Verdict(Outcome.NOT_FOUND, "arXiv has no paper with this id", 200)
                settled.update(dict.fromkeys(missing, gone))
                return settled
            # arXiv answers a request with a malformed id by that complaint alone: the ids
            # missing beside it were not looked up, so they are asked again without it.
            asked = missing
            if not asked:
                return settled
        unasked = _Verdict(
            Outcome.TRANSIENT, "not looked up: arXiv kept rejecting other ids of the batch", 200
        )
        settled.update(dict.fromkeys(asked, unasked))
        return settled

    def _count_failure(self, failure: _Failure, run: _Run, left: int) -> None:
        """Count a failed batch; decide whether arXiv is worth asking again this run."""
        run.failed += 1
        if failure.throttled:
            run.stopped = failure.error
        elif run.failed >= DOWN_AFTER:
            run.stopped = f"{run.failed} arXiv batches in a row failed ({failure.error})"
        if run.stopped is not None and left:
            self._figures.errors.append(
                f"{run.stopped}; {left} arXiv paper(s) deferred to the next run"[:400]
            )

    # --- one request, with the retries it deserves ------------------------------------------------

    def _ask(self, ids: Sequence[str]) -> Feed | _Failure:
        """arXiv's feed for `ids`, or why there is none."""
        params = {"id_list": ",".join(ids), "max_results": str(len(ids)), "start": "0"}
        silent = 0
        pause = 0.0
        failure: _Failure | None = None
        for attempt in range(ATTEMPTS):
            if attempt:
                self.sleep(pause)
            self._wait_turn()
            self._figures.requests += 1
            backoff = self.interval * (attempt + 1)
            try:
                reply = self._get(params)
            except _Failed as exc:
                failure, pause = exc.failure, backoff
                silent += 1
                if failure.outcome is Outcome.NETWORK or silent > SILENT_RETRIES:
                    return failure
                continue
            failure = self._judge(reply)
            if failure is None:
                try:
                    return read_feed(reply.body, reply.headers.get("content-type"))
                except Unreadable as exc:
                    return _Failure(
                        Outcome.TRANSIENT, f"unreadable answer from arXiv: {exc}", reply.status
                    )
            if failure.throttled:
                wait = retry_after(reply.headers)
                if wait is not None and wait > self.max_wait:
                    # not slept through: the rest of the run is deferred instead
                    return replace(
                        failure,
                        error=f"{failure.error}, asking for a {wait:g} s pause (Retry-After), "
                        f"longer than the {self.max_wait:g} s a run waits",
                    )
                pause = max(backoff, wait or 0.0)
            elif reply.status >= 500:
                pause = backoff
            else:
                return failure  # a redirect or a 4xx: asking again would get the same
        assert failure is not None
        return failure

    def _judge(self, reply: _Reply) -> _Failure | None:
        """Why a complete answer is not one to read, or None if it may be the feed."""
        status = reply.status
        if throttled(status, reply.body):
            said = " 'Rate exceeded.'" if says_rate_exceeded(reply.body) else ""
            return _Failure(
                Outcome.TRANSIENT,
                f"arXiv is throttling (HTTP {status}{said})",
                status,
                throttled=True,
            )
        if 300 <= status < 400:
            return _Failure(Outcome.TRANSIENT, self._redirect(reply), status)
        if status != 200:
            return _Failure(Outcome.TRANSIENT, f"HTTP {status} from arXiv", status)
        return None

    def _redirect(self, reply: _Reply) -> str:
        location = reply.headers.get("location")
        if not location:
            return f"HTTP {reply.status} from arXiv: a redirect without a Location"
        target = urljoin(self.api_url, location)
        here, there = urlsplit(self.api_url), urlsplit(target)
        shown = target if len(target) <= 160 else target[:157] + "…"
        if (there.scheme, there.netloc) == (here.scheme, here.netloc):
            return (
                f"arXiv's API redirected (HTTP {reply.status}) to {shown}; not followed "
                "(if arXiv moved, set MONITOR_ARXIV_API_URL)"
            )
        elsewhere = "another host" if there.netloc != here.netloc else "another scheme"
        return (
            f"arXiv's API redirected (HTTP {reply.status}) to {elsewhere}: {shown}; not "
            "followed (a captive portal or proxy? if arXiv moved, set MONITOR_ARXIV_API_URL)"
        )

    def _get(self, params: Mapping[str, str]) -> _Reply:
        """One GET, read whole within `timeout` seconds of wall clock, or `_Failed`."""
        deadline = time.monotonic() + self.timeout
        late = _Failure(
            Outcome.TRANSIENT,
            f"no complete answer from arXiv within {self.timeout:g} s",
            silent=True,
        )
        watchdog = _Watchdog(self.timeout)
        try:
            with self.client.stream(
                "GET",
                self.api_url,
                params=params,
                timeout=self.timeout,
                extensions={"trace": watchdog.trace},
            ) as response:
                watchdog.attach(response.extensions.get("network_stream"))
                body = bytearray()
                for piece in response.iter_bytes():
                    body += piece
                    if time.monotonic() > deadline:
                        raise _Failed(late)
                    if len(body) > MAX_BODY:
                        raise _Failed(
                            _Failure(
                                Outcome.TRANSIENT,
                                f"unreadable answer from arXiv: over {MAX_BODY // 2**20} MB, "
                                "not the export API's feed",
                                response.status_code,
                            )
                        )
                watchdog.stop()
                return _Reply(response.status_code, response.headers, bytes(body))
        except httpx.HTTPError as exc:
            watchdog.stop()
            raise _Failed(self._transport_failure(exc, late, cut=watchdog.cut)) from None
        except httpx.InvalidURL as exc:
            raise _Failed(
                _Failure(Outcome.NETWORK, f"arXiv's API address is invalid: {exc}")
            ) from None
        finally:
            watchdog.stop()

    def _transport_failure(self, exc: httpx.HTTPError, late: _Failure, *, cut: bool) -> _Failure:
        """What an exception from httpx means: no connection (NETWORK), or no answer."""
        if isinstance(exc, httpx.ConnectTimeout):
            error = f"no connection to arXiv within {self.timeout:g} s"
        elif isinstance(exc, httpx.ConnectError):
            error = f"could not connect to arXiv ({exc})"
        elif cut or isinstance(exc, httpx.TimeoutException):
            return late  # the watchdog or a read timeout: either way, too slow
        else:
            return _Failure(
                Outcome.TRANSIENT,
                f"no complete answer from arXiv ({type(exc).__name__}: {exc})",
                silent=isinstance(exc, httpx.TransportError),
            )
        return _Failure(Outcome.NETWORK, error, silent=True)

    def _wait_turn(self) -> None:
        wait = self._last + self.interval - self.clock()
        if wait > 0:
            self.sleep(wait)
        self._last = self.clock()
