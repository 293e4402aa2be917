"""Web pages: is the link alive, dead, moved, or only unlucky today?

httpx, asynchronously, within limits that keep monitor polite: at most
`concurrency` requests at once overall and `per_host` at once per host, with
`min_interval` between requests to one host, and a host that answered 429 or
503 with `Retry-After` left alone until then. When the overall limit binds, a free
slot goes first to the host with the most pages still to check (the one that
decides when the run ends). Each host has its own small pool of kept-alive
connections (`HostPools`), so a run opens about `per_host` connections per host,
not one per request.

A page known to be alive is asked with HEAD first. GET follows when HEAD is
refused or unreliable (405, 403, 400, 401, 501, 404, 999, 5xx, 429 and dropped
connections: many servers answer HEAD worse than GET), and for an HTML page
whose validators (ETag, Last-Modified, length) changed, to read its start and
catch a soft 404. A page seen for the first time, or failing at its last
check, is asked with GET alone: that GET would follow the HEAD anyway (a new
HTML page must be read; a failure must be confirmed by GET), so the HEAD would
only double the requests. Redirects are followed hop by hop and the chain is
kept.

What the answers mean (the outcome classes):

- ok: 2xx; **redirected** when the chain starts with permanent hops (301/308)
  to a different resource: `facts.url` is where they lead;
- definitive failure (`NOT_FOUND`): 404, 410, an unknown host, and soft 404s
  (a 200 whose title or heading says "not found", or a deep link redirected to
  the site's home page);
- transient: timeouts, resets, 5xx, 429, and bot walls (403 with
  `cf-mitigated`, LinkedIn's 999, a captcha page): these never make a link dead;
- network (`NETWORK`): the host could not be reached at all.

Transient failures are retried twice within the run, with GET and backoff (a
`Retry-After` longer than `max_wait` is not waited for). Whether a failure
counts is for the policy and the runner (a degraded run counts none).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import queue
import re
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.catalog.kinds import NotAWebURL, identify
from monitor.model import Facts, Kind, Observation, Outcome, Source
from monitor.probes import Figures
from monitor.settings import DEFAULT_USER_AGENT

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MAX_HOPS = 10
SNIFF_BYTES = 32_768
RETRIES = 2
#: HEAD answers not worth believing before a GET has confirmed them.
HEAD_DOUBTFUL = frozenset({400, 401, 403, 404, 405, 429, 501, 999}) | frozenset(range(500, 600))
BOT_WALL_TITLE = re.compile(
    r"captcha|are you (a )?(human|robot)|attention required|just a moment|access denied|"
    r"verify you are human|unusual traffic|security check",
    re.IGNORECASE,
)
NOT_FOUND_TITLE = re.compile(
    r"\b404\b|not found|page (does not|doesn.t) exist|no longer (available|exists)|"
    r"page not found|找不到|页面不存在|不存在的页面|ページが見つかりません",
    re.IGNORECASE,
)
TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


@dataclass
class _Host:
    """What the probe knows about one host during a run."""

    limit: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_at: float = 0.0  # no request to this host before this monotonic time
    #: the host could not be reached at all this run: its other pages need not try
    unreachable: httpx.ConnectError | None = None
    pending: int = 0  # pages of this host not checked yet: its priority for overall slots


@dataclass
class _Run:
    """The limits of one run: every host's, and the overall one."""

    per_host: int
    overall: Slots
    hosts: dict[str, _Host] = field(default_factory=dict)

    def host(self, name: str) -> _Host:
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = _Host(asyncio.Semaphore(self.per_host))
        return host


@dataclass(frozen=True, slots=True)
class Answer:
    """The last response of a chain, or the reason there was none."""

    status: int | None
    url: str
    chain: tuple[tuple[int, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    error: BaseException | None = None


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
    ) -> None:
        self.concurrency = concurrency
        self.per_host = per_host
        self.min_interval = min_interval
        self.timeout = timeout
        self.user_agent = user_agent
        self.connect_to = dict(connect_to or {})
        self.max_wait = max_wait
        self.backoff = backoff
        self.transport = transport
        self._figures = Figures()
        self._lock = threading.Lock()

    def figures(self) -> Figures:
        return self._figures

    def observe(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        pages = [s for s in sources if s.kind is Kind.WEB]
        if not pages:
            return
        answers: queue.Queue[Observation | BaseException | None] = queue.Queue()

        def work() -> None:
            try:
                asyncio.run(self._check_all(pages, now, answers.put))
            except BaseException as exc:  # handed back to the caller's thread
                answers.put(exc)
            finally:
                answers.put(None)

        worker = threading.Thread(target=work, name="web-checks", daemon=True)
        worker.start()
        while (item := answers.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
        worker.join()

    async def _check_all(
        self, pages: Sequence[Source], now: datetime, emit: Callable[[Observation], None]
    ) -> None:
        if self.transport is not None:
            transport = self.transport
            if self.connect_to:
                transport = ConnectTo(transport, self.connect_to)
        else:
            # A small pool per host (see HostPools), its limits given to the transport: an
            # AsyncClient given a transport ignores its own `limits`. The semaphores bound
            # the requests in flight, so a pool never makes one wait; it keeps `per_host`
            # connections alive. One TLS context for all of them: making one reads the
            # system's CA certificates (~10 ms).
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=self.per_host)
            tls = httpx.create_ssl_context()

            def pool() -> httpx.AsyncBaseTransport:
                inner = httpx.AsyncHTTPTransport(verify=tls, retries=0, limits=limits)
                return ConnectTo(inner, self.connect_to) if self.connect_to else inner

            transport = HostPools(pool, most=self.concurrency)
        run = _Run(self.per_host, Slots(self.concurrency))
        for page in pages:
            run.host(_host_of(page.url)).pending += 1
        headers = {
            "User-Agent": self.user_agent,
            "Accept": ACCEPT,
            "Accept-Language": "en,zh;q=0.8",
        }
        async with httpx.AsyncClient(
            transport=transport,
            headers=headers,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
        ) as client:

            async def one(source: Source) -> None:
                observation = await self._check(client, source, now, run)
                run.host(_host_of(source.url)).pending -= 1
                emit(observation)

            await asyncio.gather(*(one(s) for s in pages))

    # --- one page ------------------------------------------------------------------------------

    async def _check(
        self,
        client: httpx.AsyncClient,
        source: Source,
        now: datetime,
        run: _Run,
    ) -> Observation:
        host = _host_of(source.url)
        origin = run.host(host)
        attempt = 0
        while True:
            if attempt == 0 and source.last is not None:
                answer = await self._chain(client, "HEAD", source.url, run, origin)
                # Failing to connect or waiting too long says nothing about HEAD itself.
                method_neutral = isinstance(
                    answer.error, httpx.TimeoutException | httpx.ConnectError
                )
                needs_get = (
                    (answer.status is None and not method_neutral)
                    or answer.status in HEAD_DOUBTFUL
                    or (
                        answer.status == 200
                        and _is_html(answer.headers)
                        and _validators(answer.headers) != source.validator("page")
                    )
                )
                if needs_get:
                    answer = await self._chain(client, "GET", source.url, run, origin)
            else:
                # New or failing at its last check (see the module docstring), or HEAD already
                # proved unreliable for this page: GET only.
                answer = await self._chain(client, "GET", source.url, run, origin)
            observation = self._classify(source, now, host, answer)
            retry_after = _retry_after(answer.headers)
            transient = observation.outcome in (Outcome.TRANSIENT, Outcome.NETWORK)
            bot_wall = (observation.error or "").startswith("bot wall")
            if not transient or bot_wall or attempt >= RETRIES:
                return observation
            if retry_after is not None and retry_after > self.max_wait:
                return observation
            attempt += 1
            await asyncio.sleep(
                retry_after if retry_after is not None else self.backoff * 2 ** (attempt - 1)
            )

    async def _chain(
        self,
        client: httpx.AsyncClient,
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
                status, headers, body = await self._send(client, method, current, run, origin)
            except httpx.HTTPError as exc:
                return Answer(None, current, tuple(chain), error=exc)
            location = headers.get("location")
            if status in (301, 302, 303, 307, 308) and location:
                chain.append((status, current))
                current = urljoin(current, location)
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
        client: httpx.AsyncClient,
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
        if host.unreachable is not None:
            raise host.unreachable
        async with host.limit, run.overall.slot(priority=origin.pending):
            if host.unreachable is not None:
                raise host.unreachable
            async with host.lock:
                wait = host.next_at - time.monotonic()
                if wait > self.max_wait:
                    # The host asked for a longer pause than a run waits: left alone till next run.
                    raise HostBackedOff(f"{host_name} asked to be left alone for {wait:.0f} s")
                if wait > 0:
                    await asyncio.sleep(wait)
                host.next_at = time.monotonic() + self.min_interval
            with self._lock:
                self._figures.requests += 1
            try:
                status, headers, body = await self._exchange(client, method, url)
            except httpx.ConnectError as exc:
                host.unreachable = exc
                raise
        retry_after = _retry_after(headers)
        if status in (429, 503) and retry_after:
            host.next_at = max(host.next_at, time.monotonic() + retry_after)
        return status, headers, body

    async def _exchange(
        self, client: httpx.AsyncClient, method: str, url: str
    ) -> tuple[int, dict[str, str], str]:
        if method == "HEAD":
            response = await client.head(url)
            return response.status_code, _lower(response.headers), ""
        # Only the start of a page is read: enough for its title, not its video.
        async with client.stream("GET", url) as streamed:
            content = b""
            async for chunk in streamed.aiter_bytes():
                content += chunk
                if len(content) >= SNIFF_BYTES:
                    break
            status, headers = streamed.status_code, _lower(streamed.headers)
            encoding = streamed.charset_encoding or "utf-8"
        try:
            body = content[:SNIFF_BYTES].decode(encoding, errors="replace")
        except LookupError:  # a charset Python does not know
            body = content[:SNIFF_BYTES].decode("utf-8", errors="replace")
        return status, headers, body

    # --- what an answer means ------------------------------------------------------------------

    def _classify(self, source: Source, now: datetime, host: str, answer: Answer) -> Observation:
        def seen(
            outcome: Outcome,
            error: str | None = None,
            facts: Facts | None = None,
            validators: tuple[tuple[str, str], ...] = (),
        ) -> Observation:
            return Observation(
                source.key,
                now,
                outcome,
                facts,
                http_status=answer.status,
                error=error,
                validators=validators,
                host=host,
            )

        if answer.error is not None:
            return seen(*_connection_failure(answer.error))
        status = answer.status or 0
        if status in (404, 410):
            return seen(Outcome.NOT_FOUND, f"HTTP {status}")
        if status == 999 or (status == 403 and "cf-mitigated" in answer.headers):
            return seen(Outcome.TRANSIENT, f"bot wall (HTTP {status})")
        if not 200 <= status < 300:
            return seen(Outcome.TRANSIENT, f"HTTP {status}")
        title = _text(TITLE, answer.body)
        if answer.body and BOT_WALL_TITLE.search(title or _text(HEADING, answer.body) or ""):
            return seen(Outcome.TRANSIENT, f"bot wall: {title[:80]}")
        if answer.body and (
            NOT_FOUND_TITLE.search(title)
            or (not title and NOT_FOUND_TITLE.search(_text(HEADING, answer.body)))
        ):
            return seen(Outcome.NOT_FOUND, f"soft 404: the page says {title[:80]!r}")
        if answer.chain and _home_page(source.url, answer.url):
            return seen(Outcome.NOT_FOUND, "soft 404: redirected to the site's home page")
        moved = _permanent_target(answer.chain, answer.url)
        facts = Facts(
            url=moved if moved and _different(source.url, moved) else None,
            title=title[:200] or None,
        )
        page = _validators(answer.headers)
        validators = (("page", page),) if page and _is_html(answer.headers) else ()
        return seen(Outcome.OK, facts=facts, validators=validators)


class Slots:
    """At most `limit` holders at once; a free slot goes to the waiter of highest priority.

    The web probe's overall limit: the priority is how many pages the waiter's host
    still has to check, so the hosts with the longest queues, which decide when the
    run ends, keep their `per_host` requests going while the overall limit binds.
    Equal priorities are served first come, first served.
    """

    def __init__(self, limit: int) -> None:
        self.free = limit
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @contextlib.asynccontextmanager
    async def slot(self, priority: int = 0) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, priority: int = 0) -> None:
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (-priority, next(self._order), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as the waiter was cancelled
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = heapq.heappop(self._waiters)[2]
            if not waiter.done():  # a cancelled waiter stays in the heap until here
                waiter.set_result(None)  # the slot passes straight to it
                return
        self.free += 1


class HostBackedOff(httpx.TransportError):
    """A host's Retry-After reaches beyond this run: its other pages are not asked now."""


class HostPools(httpx.AsyncBaseTransport):
    """A small connection pool per host (scheme, host, port), each made by `make`.

    httpx's pool looks at every connection it holds on each request and each closed
    response (asking each idle socket whether the server hung up), so one pool for
    all hosts costs CPU in proportion to its size; kept small instead, it closes one
    host's idle connection to open another's, and nearly every request pays for a new
    connection. Here each host keeps its own few connections alive, and when more
    than `most` pools are open, the least recently used idle ones are closed.
    """

    def __init__(self, make: Callable[[], httpx.AsyncBaseTransport], *, most: int) -> None:
        self.make = make
        self.most = most
        #: least recently used first
        self.pools: dict[tuple[str, str, int | None], httpx.AsyncBaseTransport] = {}
        self.active: Counter[tuple[str, str, int | None]] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.scheme, request.url.host, request.url.port)
        pool = self.pools.pop(key, None)
        new = pool is None
        pool = self.pools[key] = pool or self.make()
        self.active[key] += 1
        try:
            if new:
                await self._trim()
            response = await pool.handle_async_request(request)
        except BaseException:
            self._done(key)
            raise
        if not isinstance(response.stream, httpx.AsyncByteStream):  # not from httpx's pools
            self._done(key)
            return response
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Tracked(response.stream, lambda: self._done(key)),
            extensions=response.extensions,
        )

    def _done(self, key: tuple[str, str, int | None]) -> None:
        self.active[key] -= 1
        if self.active[key] <= 0:
            del self.active[key]

    async def _trim(self) -> None:
        for key in list(self.pools):
            if len(self.pools) <= self.most:
                return
            if not self.active[key] and key in self.pools:  # checked again after each await
                await self.pools.pop(key).aclose()

    async def aclose(self) -> None:
        pools, self.pools = list(self.pools.values()), {}
        for pool in pools:
            await pool.aclose()


class _Tracked(httpx.AsyncByteStream):
    """A response body that says when it is closed (its connection is back in the pool)."""

    def __init__(self, inner: httpx.AsyncByteStream, closed: Callable[[], None]) -> None:
        self.inner = inner
        self.closed: Callable[[], None] | None = closed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            yield chunk

    async def aclose(self) -> None:
        closed, self.closed = self.closed, None
        try:
            await self.inner.aclose()
        finally:
            if closed is not None:
                closed()


class ConnectTo(httpx.AsyncBaseTransport):
    """Send requests for some hosts to another address, keeping their Host header.

    Like curl's --connect-to: `{"*": "127.0.0.1:8080"}` sends every web check to
    a local emulator, over plain HTTP, while the emulator still sees which host
    was meant. For demos and tests; production checks never set it.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, mapping: Mapping[str, str]) -> None:
        self.inner = inner
        self.mapping = {k.lower(): v for k, v in mapping.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower()
        target = self.mapping.get(host) or self.mapping.get("*")
        if target is not None:
            address, _, port = target.rpartition(":")
            request.url = request.url.copy_with(scheme="http", host=address, port=int(port))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _connection_failure(error: BaseException) -> tuple[Outcome, str]:
    text = f"{type(error).__name__}: {error}"[:300]
    if isinstance(error, httpx.ConnectError) and (
        "Name or service not known" in text
        or "nodename nor servname" in text
        or "No address associated" in text
    ):
        return Outcome.NOT_FOUND, f"unknown host ({text})"
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return Outcome.NETWORK, text
    return Outcome.TRANSIENT, text


def _host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _lower(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _is_html(headers: Mapping[str, str]) -> bool:
    return "html" in headers.get("content-type", "")


def _validators(headers: Mapping[str, str]) -> str:
    parts = [headers.get(name, "") for name in ("etag", "last-modified", "content-length")]
    return "|".join(parts) if any(parts) else ""


def _text(pattern: re.Pattern[str], body: str) -> str:
    match = pattern.search(body)
    return re.sub(r"<[^>]+>|\s+", " ", match[1]).strip() if match else ""


def _permanent_target(chain: Sequence[tuple[int, str]], final: str) -> str | None:
    """Where the permanent hops at the start of the chain lead; None if the first is not."""
    target = None
    for index, (status, _) in enumerate(chain):
        if status not in (301, 308):
            break
        target = chain[index + 1][1] if index + 1 < len(chain) else final
    return target


def _home_page(original: str, final: str) -> bool:
    """A link deep into a site that lands on its home page: the page it meant is gone."""
    start, end = urlsplit(original), urlsplit(final)
    return start.path.strip("/") != "" and end.path.strip("/") == "" and not end.query


def _different(original: str, moved: str) -> bool:
    try:
        return identify(original).key != identify(moved).key
    except NotAWebURL:
        return True
