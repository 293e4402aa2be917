"""The web probe's connections: how its requests reach hosts, and in what order.

- `Slots`: the overall limit on requests in flight, a free slot going to the host
  with the most pages still to check;
- `HostPools`: a small pool of kept-alive connections per host;
- `ConnectTo`: curl's --connect-to, sending some hosts' requests to another
  address (the emulator) with their Host header kept.

None of it knows what an answer means; that is web.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping

import httpx


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
