"""Web pages: is the link alive, dead, moved, or only unlucky today?

httpx, asynchronously, within limits that keep monitor polite: at most
`concurrency` requests at once overall and `per_host` at once per host, with
`min_interval` between requests to one host, and a host that answered 429 or
503 with `Retry-After` left alone until then. When the overall limit binds, a free
slot goes first to the host with the most pages still to check (the one that
decides when the run ends). Each host has its own small pool of kept-alive
connections.

    web.py            the probe: limits, HEAD/GET, redirects, retries, deadlines, stopping
    web_answers.py    what an answer means (the outcome classes below)
    web_addresses.py  which redirects are refused (public host -> private address)
    web_transport.py  the overall limit (Slots), per-host pools, MONITOR_CONNECT_TO
    web_exchange.py   one request: status, headers, the start of the body
    web_network.py    the pools' sockets: httpcore on asyncio itself, not on anyio

A page known to be alive is asked with HEAD first. GET follows when HEAD is
rejected or unreliable (405, 403, 400, 401, 501, 404, 999, 5xx, 429 and dropped
connections: many servers answer HEAD worse than GET), and for an HTML page
whose validators (ETag, Last-Modified, length) changed, to read its start and
catch a soft 404. A page seen for the first time, or failing at its last
check, is asked with GET alone: that GET would follow the HEAD anyway (a new
HTML page must be read; a failure must be confirmed by GET), so the HEAD would
only double the requests. Redirects are followed hop by hop and the chain is
kept; a redirect from a public host into a loopback, link-local or private
address is not followed (web_addresses.py; `allow_private_redirects` allows it).

What the answers mean (the outcome classes):

- ok: 2xx; **redirected** when the chain starts with permanent hops (301/308)
  to a different resource: `facts.url` is where they lead;
- definitive failure (`NOT_FOUND`): 404, 410, an unknown host, and soft 404s
  (a 200 whose title or heading says "not found", or a deep link redirected to
  the site's home page);
- refused (`REFUSED`): answers aimed at robots, not news of the page: LinkedIn's
  999, a 403 or 503 with `cf-mitigated` (Cloudflare's challenge), a captcha or
  challenge page (on 200, 403 or 503), and a 429 still there after the in-run
  retries (or asking for a longer wait than a run gives). The page may well work
  for people; the policy makes a long streak `unverifiable`, never dead;
- transient (`TRANSIENT`): timeouts, resets, unreadable answers (a body cut
  short), 5xx and other 4xx, a refused redirect into a private address, and
  the pages of a host given up on for the run after repeated timeouts;
- network (`NETWORK`): the host could not be reached at all;
- deferred (`DEFERRED`): not asked, because the host asked (Retry-After) to be
  left alone for longer than `max_wait`: due again next run.

Transient failures and 429s are retried twice within the run, with GET and
backoff (a `Retry-After` longer than `max_wait` is not waited for). Whether a
failure counts is for the policy and the runner (a degraded run counts none).

Every exchange has a wall-clock deadline (`EXCHANGE_FACTOR` times `timeout`):
httpx's timeout bounds each phase (connecting, each read), so a body dripping a
byte a second would otherwise hold a request for ever. A host is given up for
the rest of the run when it cannot be connected to, or when `down_after`
requests to it in a row time out: its other pages get that failure at once,
so a black-holed host with 100 pages costs a few timeouts, not 100.

The checks run on an event loop in a thread of their own; `observe()` yields
their observations as they come. Closing its generator (the runner does when a
service overruns its deadline or the run is stopped) cancels every check still
going: no further request leaves, and the thread ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.model import Kind, Observation, Outcome, Source
from monitor.probes import Figures
from monitor.probes.web_addresses import Addresses
from monitor.probes.web_answers import (
    Answer,
    ExchangeTimeout,
    HostBackedOff,
    HostDown,
    RedirectRefused,
    Stopped,
    classify,
    is_html,
    retry_after_seconds,
    validators_of,
)
from monitor.probes.web_exchange import Exchange
from monitor.probes.web_network import Pool
from monitor.probes.web_transport import ConnectTo, HostPools, Slots
from monitor.settings import DEFAULT_USER_AGENT

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MAX_HOPS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})
RETRIES = 2
#: A whole exchange (connecting, the headers, the start of the body) may take this many
#: times `timeout`: enough for a slow connect and a slow first byte, not for a drip.
EXCHANGE_FACTOR = 1.5
#: How long an observation may wait for others to cross threads with it (see _Outbox).
OUTBOX_WAIT = 0.02
#: How long closing the generator waits for the checks' thread to end.
STOP_WAIT = 5.0
#: HEAD answers not worth believing before a GET has confirmed them.
HEAD_DOUBTFUL = frozenset({400, 401, 403, 404, 405, 429, 501, 999}) | frozenset(range(500, 600))
#: Errors after which a page is not asked with GET as well: they say nothing of HEAD.
METHOD_NEUTRAL = (
    httpx.TimeoutException,
    httpx.ConnectError,
    HostBackedOff,
    HostDown,
    Stopped,
    RedirectRefused,
)


@dataclass
class _Host:
    """What the probe knows about one host during a run."""

    limit: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_at: float = 0.0  # no request to this host before this monotonic time
    #: why the host is given up for the run (it could not be connected to, or timed out
    #: too often): its other pages get this error without being asked
    gone: httpx.TransportError | None = None
    timeouts: int = 0  # requests in a row that timed out
    pending: int = 0  # pages of this host not checked yet: its priority for overall slots


@dataclass
class _Run:
    """The limits of one run: every host's, and the overall one."""

    per_host: int
    overall: Slots
    #: the private-redirect rule, None when private redirects are allowed
    addresses: Addresses | None = None
    #: set when the generator is closed: no request may leave after that
    stopping: threading.Event = field(default_factory=threading.Event)
    hosts: dict[str, _Host] = field(default_factory=dict)

    def host(self, name: str) -> _Host:
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = _Host(asyncio.Semaphore(self.per_host))
        return host


class _Control:
    """How the consumer's thread stops the checks running on the worker's event loop."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None

    def attach(self) -> bool:
        """Called first on the worker's loop; False when already stopped (nothing to do)."""
        with self._lock:
            if self.stopping.is_set():
                return False
            self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
            return True

    def stop(self) -> None:
        """No request leaves after this; the checks in flight are cancelled."""
        with self._lock:
            self.stopping.set()
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing left to stop
                loop.call_soon_threadsafe(task.cancel)


class _Outbox:
    """Observations handed to the consumer's thread in small batches.

    Each hand-over wakes that thread, which then competes with the event loop for the
    interpreter: one per observation costs the loop more than the observation itself.
    The first observation of a batch waits at most `OUTBOX_WAIT` for others to join it.
    """

    def __init__(self, answers: queue.Queue[list[Observation] | BaseException | None]) -> None:
        self.answers = answers
        self.held: list[Observation] = []

    def put(self, observation: Observation) -> None:
        self.held.append(observation)
        if len(self.held) == 1:
            asyncio.get_running_loop().call_later(OUTBOX_WAIT, self.flush)

    def flush(self) -> None:
        if self.held:
            self.answers.put(self.held)
            self.held = []


class WebProbe:
    """Checks `web` sources."""

    service = "web"

    def __init__(
        self,
        *,
        concurrency: int = 64,
        per_host: int = 4,
        min_interval: float = 0.01,
        timeout: float = 15.0,
        user_agent: str = DEFAULT_USER_AGENT,
        connect_to: Mapping[str, str] | None = None,
        max_wait: float = 30.0,
        backoff: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_private_redirects: bool = False,
        down_after: int = 3,
        host_accept: Callable[[str], Sequence[int]] = lambda _host: (),
    ) -> None:
        """`host_accept(host)`: the statuses the maintainer accepts as alive for every page
        of a host (`[policy.hosts."…"] accept`); a page's own `accept` adds to them."""
        self.concurrency = concurrency
        self.per_host = per_host
        self.min_interval = min_interval
        self.timeout = timeout
        #: the wall-clock bound of one exchange
        self.deadline = timeout * EXCHANGE_FACTOR
        self.user_agent = user_agent
        self.connect_to = dict(connect_to or {})
        self.max_wait = max_wait
        self.backoff = backoff
        self.transport = transport
        self.allow_private_redirects = allow_private_redirects
        self.down_after = down_after
        self.host_accept = host_accept
        self._figures = Figures()
        self._lock = threading.Lock()

    def figures(self) -> Figures:
        return self._figures

    def observe(
        self, sources: Sequence[Source], now: datetime
    ) -> Generator[Observation, None, None]:
        pages = [s for s in sources if s.kind is Kind.WEB]
        if not pages:
            return
        # Observations cross to this thread a few at a time (see _Outbox), errors alone.
        answers: queue.Queue[list[Observation] | BaseException | None] = queue.Queue()
        control = _Control()

        def work() -> None:
            try:
                asyncio.run(self._check_all(pages, now, answers, control))
            except asyncio.CancelledError:
                pass  # stopped by closing the generator: nobody is listening any more
            except BaseException as exc:  # handed back to the caller's thread
                answers.put(exc)
            finally:
                answers.put(None)

        worker = threading.Thread(target=work, name="web-checks", daemon=True)
        worker.start()
        try:
            while (item := answers.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield from item
        finally:
            # Closed early (the service's deadline, a stopped run) or failed: cancel every
            # check still going, so that no further request leaves, and let the thread end.
            control.stop()
            worker.join(STOP_WAIT)

    def _transport(self) -> httpx.AsyncBaseTransport:
        if self.transport is not None:
            return ConnectTo(self.transport, self.connect_to) if self.connect_to else self.transport
        # A small pool per host (see HostPools) on asyncio's sockets (web_network.py). The
        # semaphores bound the requests in flight, so a pool never makes one wait; it keeps
        # `per_host` connections alive. One TLS context for all of them, made when the
        # first https host is met: making one reads the system's CA certificates (~10 ms).
        tls = functools.cache(httpx.create_ssl_context)

        def pool() -> httpx.AsyncBaseTransport:
            inner = Pool(tls, keepalive=self.per_host)
            return ConnectTo(inner, self.connect_to) if self.connect_to else inner

        return HostPools(pool, most=self.concurrency)

    async def _check_all(
        self,
        pages: Sequence[Source],
        now: datetime,
        answers: queue.Queue[list[Observation] | BaseException | None],
        control: _Control,
    ) -> None:
        if not control.attach():
            return
        addresses = (
            None
            if self.allow_private_redirects
            else Addresses(self.connect_to, timeout=min(self.timeout, 5.0))
        )
        run = _Run(self.per_host, Slots(self.concurrency), addresses, control.stopping)
        for page in pages:
            run.host(_host_of(page.url)).pending += 1
        outbox = _Outbox(answers)
        headers = {
            "User-Agent": self.user_agent,
            "Accept": ACCEPT,
            "Accept-Language": "en,zh;q=0.8",
        }
        transport = self._transport()
        # The client holds what every request shares (httpx's default headers merged with
        # these, the cookie jar, the timeouts) and closes the transport at the end; the
        # requests themselves go to the transport directly (web_exchange.py says why).
        async with httpx.AsyncClient(
            transport=transport,
            headers=headers,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
        ) as client:
            exchange = Exchange(client, transport)

            async def one(source: Source) -> None:
                observation = await self._check(exchange, source, now, run)
                run.host(_host_of(source.url)).pending -= 1
                if observation.outcome is Outcome.DEFERRED:
                    with self._lock:
                        self._figures.deferred += 1
                outbox.put(observation)

            # A few workers per host, not a task per page: a million-source catalog has
            # 150,000 pages, and a task with its coroutine each held ~300 MB at once.
            # Each host's pages are taken in catalog order, as the per-host slots would.
            queues: dict[str, deque[Source]] = {}
            for page in pages:
                queues.setdefault(_host_of(page.url), deque()).append(page)

            async def worker(queue: deque[Source]) -> None:
                while queue:
                    await one(queue.popleft())

            try:
                await asyncio.gather(
                    *(
                        worker(queue)
                        for queue in queues.values()
                        for _ in range(min(self.per_host, len(queue)))
                    )
                )
            finally:
                outbox.flush()

    # --- one page ------------------------------------------------------------------------------

    async def _check(
        self,
        exchange: Exchange,
        source: Source,
        now: datetime,
        run: _Run,
    ) -> Observation:
        host = _host_of(source.url)
        origin = run.host(host)
        attempt = 0
        while True:
            if attempt == 0 and source.last is not None:
                answer = await self._chain(exchange, "HEAD", source.url, run, origin)
                # Failing to connect, waiting too long or a refused redirect says nothing
                # about HEAD itself.
                needs_get = (
                    (answer.status is None and not isinstance(answer.error, METHOD_NEUTRAL))
                    or (answer.error is None and answer.status in HEAD_DOUBTFUL)
                    or (
                        answer.status == 200
                        and is_html(answer.headers)
                        and validators_of(answer.headers) != source.validator("page")
                    )
                )
                if needs_get:
                    answer = await self._chain(exchange, "GET", source.url, run, origin)
            else:
                # New or failing at its last check (see the module docstring), or HEAD already
                # proved unreliable for this page: GET only.
                answer = await self._chain(exchange, "GET", source.url, run, origin)
            accepted = (*source.accept, *self.host_accept(urlsplit(source.url).hostname or ""))
            observation = classify(source, now, host, answer, accepted)
            if attempt >= RETRIES or not _worth_retrying(observation, answer, run):
                return observation
            retry_after = retry_after_seconds(answer.headers)
            if retry_after is not None and retry_after > self.max_wait:
                return observation
            attempt += 1
            await asyncio.sleep(
                retry_after if retry_after is not None else self.backoff * 2 ** (attempt - 1)
            )

    async def _chain(
        self,
        exchange: Exchange,
        method: str,
        url: str,
        run: _Run,
        origin: _Host,
    ) -> Answer:
        """Follow redirects hop by hop, each hop within its host's limits."""
        chain: list[tuple[int, str]] = []
        current = url
        for _ in range(MAX_HOPS):
            try:
                status, headers, body = await self._send(exchange, method, current, run, origin)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                return Answer(None, current, tuple(chain), error=exc)
            location = headers.get("location")
            if status in REDIRECTS and location:
                try:
                    target = urljoin(current, location)
                except ValueError as exc:  # "http://[::1" and the like
                    return Answer(status, current, tuple(chain), headers, error=exc)
                chain.append((status, current))
                if run.addresses is not None and await run.addresses.refused(current, target):
                    # The target is never asked (web_addresses.py says why).
                    return Answer(
                        status, current, tuple(chain), headers, error=RedirectRefused(target)
                    )
                current = target
                continue
            return Answer(status, current, tuple(chain), headers, body)
        return Answer(
            None,
            current,
            tuple(chain),
            error=httpx.TooManyRedirects(f"more than {MAX_HOPS} redirects"),
        )

    async def _send(
        self,
        exchange: Exchange,
        method: str,
        url: str,
        run: _Run,
        origin: _Host,
    ) -> tuple[int, dict[str, str], str]:
        """One request within the host's limits: (status, lowercased headers, start of body).

        `origin` is the host of the page being checked (this may be a hop elsewhere): its
        pages still to check are the request's priority for an overall slot.
        """
        host_name = _host_of(url)
        host = run.host(host_name)
        if host.gone is not None:
            raise host.gone.with_traceback(None)  # shared by its pages: a fresh traceback each
        async with host.limit, run.overall.slot(priority=origin.pending):
            if host.gone is not None:
                raise host.gone.with_traceback(None)
            async with host.lock:
                wait = host.next_at - time.monotonic()
                # The politeness spacing (`min_interval`) is always kept; only a pause the
                # host asked for (Retry-After) can be longer than a run is willing to wait.
                if wait > max(self.max_wait, self.min_interval):
                    # The host asked for a longer pause than a run waits: left alone till next run.
                    raise HostBackedOff(f"{host_name} asked to be left alone for {wait:.0f} s")
                if wait > 0:
                    await asyncio.sleep(wait)
                host.next_at = time.monotonic() + self.min_interval
            if run.stopping.is_set():
                # Closed while this request waited its turn (the cancellation is on its way).
                raise Stopped("the run was stopped")
            with self._lock:
                self._figures.requests += 1
            try:
                async with asyncio.timeout(self.deadline):
                    status, headers, body = await exchange(method, url)
            except TimeoutError as exc:
                late = ExchangeTimeout(f"no complete answer within {self.deadline:g} s")
                self._timed_out(host_name, host, late)
                raise late from exc
            except httpx.TimeoutException as exc:
                self._timed_out(host_name, host, exc)
                raise
            except httpx.ConnectError as exc:
                host.gone = exc
                raise
            except httpx.HTTPError:
                host.timeouts = 0
                raise
            host.timeouts = 0
        retry_after = retry_after_seconds(headers)
        if status in (429, 503) and retry_after:
            host.next_at = max(host.next_at, time.monotonic() + retry_after)
        return status, headers, body

    def _timed_out(self, name: str, host: _Host, error: httpx.TimeoutException) -> None:
        """Count a timeout; `down_after` in a row and the host is given up for the run."""
        host.timeouts += 1
        if host.timeouts >= self.down_after and host.gone is None:
            host.gone = HostDown(
                f"{name} timed out {host.timeouts} times in a row: not asked again this run",
                network=isinstance(error, httpx.ConnectTimeout),
            )

    # --- what an answer means ------------------------------------------------------------------


def _worth_retrying(observation: Observation, answer: Answer, run: _Run) -> bool:
    """Whether asking again within the run may get another answer."""
    if observation.outcome is Outcome.REFUSED:
        return answer.status == 429  # a rate limit may lift within the run; a bot wall will not
    if observation.outcome not in (Outcome.TRANSIENT, Outcome.NETWORK):
        return False
    if isinstance(answer.error, RedirectRefused | Stopped):
        return False
    # A host given up on for the run would only fail again at once.
    host = run.hosts.get(_host_of(answer.url))
    return host is None or host.gone is None


def _host_of(url: str) -> str:
    """Host and port: the key of a host's limits, and the name errors and reports give it
    (without any user:password a URL carries)."""
    return urlsplit(url).netloc.rpartition("@")[2].lower()
