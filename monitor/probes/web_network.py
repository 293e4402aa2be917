"""The web probe's sockets: httpcore's connection pool on asyncio directly, without anyio.

httpx's own transport runs httpcore on anyio, which costs about as much as the
rest of a request's bookkeeping: each read and each write opens a cancel scope
(looking up the current task); a read with data waiting still takes one more
turn of the event loop, and one without restarts and stops the socket's
reading (two `epoll_ctl` calls); and since a socket not being read cannot tell
that its server closed it, each request polls every idle connection, through a
dictionary of every attribute of its socket (`getsockname`, `getpeername`). The
web probe makes thousands of small requests on one event loop, which must turn
them around quickly: a slow host's next page waits for it. Here:

- `Pool`: an httpx transport over one `httpcore.AsyncConnectionPool` (httpcore's
  public interface; httpx depends on it), whose connections are `Stream`s;
  httpcore's errors become httpx's, as httpx's own transport maps them;
- `Stream`: one connection as an `asyncio.Protocol` that reads as data comes
  (paused only when a reader falls behind) and keeps it until httpcore asks;
  a timer is armed only when a read or a write has to wait.

HTTP/1.1 parsing, keep-alive and TLS settings stay httpcore's and httpx's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, cast

import httpcore
import httpx

#: A connection stops reading from its socket with this much received and not yet read:
#: the probe reads at most 32 KB of a body, so reading far ahead would only pull in more
#: of a page it is about to cut off. (httpcore asks for 64 KB at a time.)
HIGH_WATER = 64 * 1024
#: anyio's and asyncio's delay before trying a host's next address (RFC 8305).
HAPPY_EYEBALLS_DELAY = 0.25

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class _Protocol(asyncio.Protocol):
    """What one connection received and not yet read, whether it ended, and its writability."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.ended = False  # the peer closed its side, or the connection was lost
        self.error: BaseException | None = None  # why it was lost, when not cleanly
        self.paused_reading = False
        self.paused_writing = False
        #: the read or write waiting for data, the end, or room to write
        self.waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (cast, not checked: uvloop's do not derive from asyncio's).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > HIGH_WATER and not self.paused_reading and self.transport:
            self.paused_reading = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        self.ended = True
        self._wake()
        return None  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self.paused_writing = False
        self._wake()

    def pause_writing(self) -> None:
        self.paused_writing = True

    def resume_writing(self) -> None:
        self.paused_writing = False
        self._wake()

    def take(self, most: int) -> bytes:
        chunk = self.chunks.popleft()
        if len(chunk) > most:
            self.chunks.appendleft(chunk[most:])
            chunk = chunk[:most]
        self.buffered -= len(chunk)
        if self.paused_reading and self.buffered <= HIGH_WATER // 4 and self.transport:
            self.paused_reading = False
            self.transport.resume_reading()
        return chunk

    async def wait(self, timeout: float | None, late: type[httpcore.TimeoutException]) -> None:
        """Until something happens (data, the end, room to write), at most `timeout` s."""
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter, late)
        try:
            await waiter
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


def _expire(waiter: asyncio.Future[None], late: type[httpcore.TimeoutException]) -> None:
    if not waiter.done():
        waiter.set_exception(late())  # empty, like anyio's: "ReadTimeout: "


class Stream(httpcore.AsyncNetworkStream):
    """One connection, for httpcore."""

    def __init__(self, protocol: _Protocol, transport: asyncio.Transport) -> None:
        self.protocol = protocol
        self.transport = transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self.protocol
        while not protocol.chunks and not protocol.ended:
            await protocol.wait(timeout, httpcore.ReadTimeout)
        if protocol.chunks:
            return protocol.take(max_bytes)
        if protocol.error is not None:  # reset, not closed: as anyio says it, a read error
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
        return b""  # closed by the peer: httpcore decides what that means

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self.protocol
        if protocol.ended or self.transport.is_closing():
            raise httpcore.WriteError(str(protocol.error or "the connection is closed"))
        self.transport.write(buffer)
        while protocol.paused_writing and not protocol.ended:
            await protocol.wait(timeout, httpcore.WriteTimeout)
        if protocol.error is not None:
            raise httpcore.WriteError(str(protocol.error))

    async def aclose(self) -> None:
        # At once, as anyio does: a connection is closed when it is done with (nothing left
        # to send) or cut off mid-body, when a TLS goodbye would only wait on the server.
        self.transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
                async with asyncio.timeout(timeout):
                    secure = await loop.start_tls(
                        self.transport,
                        self.protocol,
                        ssl_context,
                        server_hostname=server_hostname,
                    )
        except BaseException:
            self.transport.close()
            raise
        self.protocol.transport = cast(asyncio.Transport, secure)
        return Stream(self.protocol, self.protocol.transport)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self.transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self.transport.get_extra_info("sockname")
        if info == "server_addr":
            return self.transport.get_extra_info("peername")
        if info == "socket":
            return self.transport.get_extra_info("socket")
        if info == "is_readable":
            # httpcore asks this of an idle connection: anything received, or its end,
            # means the server is done with it. Reading as data comes, the protocol knows.
            return self.protocol.ended or bool(self.protocol.chunks)
        return None


class Backend(httpcore.AsyncNetworkBackend):
    """Connections made by the running asyncio loop."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
                )
        return _stream(transport, protocol, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_unix_connection(_Protocol, path)
        return _stream(transport, protocol, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _stream(
    transport: asyncio.BaseTransport,
    protocol: _Protocol,
    options: Iterable[SocketOption] | None,
) -> Stream:
    raw = transport.get_extra_info("socket")
    for option in options or ():
        raw.setsockopt(*option)
    return Stream(protocol, cast(asyncio.Transport, transport))


@contextlib.contextmanager
def _mapped(
    late: type[httpcore.TimeoutException], failed: type[httpcore.NetworkError]
) -> Iterator[None]:
    try:
        yield
    except TimeoutError as exc:  # before OSError, of which it is one
        raise late(str(exc)) from exc
    except (OSError, ssl.SSLError) as exc:
        raise failed(str(exc)) from exc


class Pool(httpx.AsyncBaseTransport):
    """An httpx transport: one origin's kept-alive connections, made by `Backend`.

    What httpx's `AsyncHTTPTransport(verify=tls(), limits=…, retries=0)` does, but
    for the sockets: no proxy (the web probe never used one: an AsyncClient given
    a transport ignores the environment's proxies), HTTP/1.1 only. `tls` is called
    only if the origin is https.
    """

    def __init__(self, tls: Callable[[], ssl.SSLContext], *, keepalive: int) -> None:
        self.tls = tls
        self.keepalive = keepalive
        self.pool: httpcore.AsyncConnectionPool | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        if self.pool is None:
            self.pool = httpcore.AsyncConnectionPool(
                ssl_context=self.tls() if url.scheme == "https" else None,
                max_connections=None,
                max_keepalive_connections=self.keepalive,
                retries=0,
                network_backend=Backend(),
            )
        asked = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            answer = await self.pool.handle_async_request(asked)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()


class _Body(httpx.AsyncByteStream):
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self.inner:
                yield part

    async def aclose(self) -> None:
        await self.inner.aclose()


#: httpcore's errors and httpx's, as httpx's own transport maps them (most specific first).
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's errors raised as httpx's, with the same message."""
    try:
        yield
    except Exception as exc:
        for theirs, ours in _ERRORS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc
        raise
