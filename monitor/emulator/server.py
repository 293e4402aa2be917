"""The emulator's HTTP plumbing: one threaded listener per service on a free loopback port.

GitHub, the Hugging Face Hub, arXiv and the web hosts each get their own port,
so "which host did this token reach?" has the same answer here as on the real
internet. A service is anything with a `handle(HttpRequest) -> HttpResponse`;
this module does the rest: HTTP/1.1 keep-alive, the configured latency, abrupt
connection resets, and one `Request` in the world's log per exchange.

It also carries out the world's chaos (chaos.py decides, per request): a fault
with an HTTP answer is sent instead of the service's; a stall keeps the
connection open unanswered, a drip sends the real answer a piece at a time, a
truncation sends part of it and closes, a reset sends a TCP RST. Stalls and
drips end when the client leaves or the listener stops, so `stop()` stays quick.
"""

from __future__ import annotations

import contextlib
import io
import select
import socket
import struct
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from monitor.emulator.chaos_answers import answer
from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world import Request, Service, World

if TYPE_CHECKING:
    from monitor.emulator.chaos import Injection

#: How often a stalled or dripping connection checks for its client leaving or a stop.
POLL = 0.05


class Handler(Protocol):
    base_url: str

    @property
    def name(self) -> Service: ...

    @property
    def server_header(self) -> str: ...

    def handle(self, request: HttpRequest) -> HttpResponse: ...


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], service: Handler, world: World) -> None:
        self.service = service
        self.world = world
        #: set by `Listener.stop()`: stalled and dripping connections give up at once
        self.stopping = threading.Event()
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that timed out and left is normal traffic, not an error
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a kept-alive connection
    # waits for the client's delayed ACK (40 ms) before sending the body.
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return self.server.service.server_header

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the world's request log is the log

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def finish(self) -> None:
        # The connection was reset on purpose, or the client went away.
        with contextlib.suppress(OSError):
            super().finish()

    def _serve(self) -> None:
        world, service = self.server.world, self.server.service
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        host = (self.headers.get("Host") or "").lower()
        request = HttpRequest(self.command, url.path, url.query, self.headers, body, host)
        started = time.time()
        world.started(host)
        logged = False

        def log(status: int, cost: int, fault: str = "") -> None:
            nonlocal logged
            logged = True
            world.finished(
                Request(
                    service.name,
                    host,
                    self.command,
                    url.path,
                    url.query,
                    tuple(self.headers.items()),
                    status,
                    started,
                    time.time(),
                    cost,
                    fault,
                )
            )

        try:
            delay = world.latency_for(service.name)
            if delay and self.server.stopping.wait(delay):
                self.close_connection = True  # stopped meanwhile: no answer
                return
            fault = world.chaos.decide(service.name, request)
            if fault is not None and fault.wire in ("stall", "reset"):
                log(fault.log_status or 0, 0, fault.fault.value)
                if fault.wire == "reset":
                    self._reset()
                else:
                    with world.chaos.holding():
                        self._wait(fault.options.stall_seconds)
                    self.close_connection = True  # unanswered: all the client gets is the close
                return
            if fault is not None and fault.wire == "answer":
                response = answer(world.chaos, fault, request)
            else:
                try:
                    response = service.handle(request)
                except Exception:
                    response = HttpResponse.text(500, "emulator error\n" + traceback.format_exc())
            if response.delay and self.server.stopping.wait(response.delay):
                self.close_connection = True
                return
            # Logged before the answer leaves, so a client that has its answer can count on
            # finding the request in the log.
            if response.reset:
                log(-1, response.cost, fault.fault.value if fault else "")
                self._reset()
            elif fault is None:
                log(response.status, response.cost)
                self._send(response)
            else:
                log(fault.log_status or response.status, response.cost, fault.fault.value)
                self._faulty_send(response, fault)
        finally:
            if not logged:
                log(0, 0)

    def _head(self, response: HttpResponse) -> bytes:
        """The status line and headers of `response`, as `_send` would write them."""
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        real, buffer = self.wfile, io.BytesIO()
        self.wfile = buffer
        try:
            self.end_headers()
        finally:
            self.wfile = real
        return buffer.getvalue()

    def _send(self, response: HttpResponse) -> None:
        head = self._head(response)
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    def _faulty_send(self, response: HttpResponse, fault: Injection) -> None:
        """Send `response` as the fault says: whole, dripped or truncated."""
        if fault.wire == "answer":
            self._send(response)
            return
        head = self._head(response)
        body = b"" if self.command == "HEAD" else response.body
        if fault.wire == "truncate":
            # The full Content-Length is declared; part of the body (or, with none, part of
            # the headers) goes out, then the connection closes.
            if body:
                self.wfile.write(
                    head + body[: min(len(body) - 1, int(len(body) * fault.options.keep))]
                )
            else:
                self.wfile.write(head[: len(head) // 2])
            self.close_connection = True
            return
        # Drip: the headers at once, then the body in pieces (with no body, the headers).
        if body:
            self.wfile.write(head)
        else:
            head, body = b"", head
        pieces = max(1, min(fault.options.drip_chunks, len(body)))
        size = -(-len(body) // pieces)
        with self.server.world.chaos.holding():
            for start in range(0, len(body), size):
                if not self._wait(fault.options.drip_interval):
                    self.close_connection = True  # the client left, or the emulator stops
                    return
                self.wfile.write(body[start : start + size])

    def _wait(self, seconds: float | None) -> bool:
        """Wait `seconds` (None: for ever) unless the client leaves or the listener stops;
        True if the time ran out with the client still there."""
        deadline = None if seconds is None else time.monotonic() + seconds
        stopping = self.server.stopping
        while not stopping.is_set():
            step = POLL if deadline is None else min(POLL, deadline - time.monotonic())
            if step <= 0:
                return True
            if self._client_left(step):
                return False
        return False

    def _client_left(self, timeout: float) -> bool:
        """Wait up to `timeout` for the client's side to close; True if it did."""
        try:
            readable, _, _ = select.select([self.connection], [], [], timeout)
            if not readable:
                return False
            data = self.connection.recv(1, socket.MSG_PEEK)  # readable: this does not block
        except (OSError, ValueError):
            return True
        if data:  # the client sent more (a pipelined request): it is still there
            self.server.stopping.wait(timeout)
            return False
        return True

    def _reset(self) -> None:
        """Close with a TCP RST, as a crashed server or a middlebox does."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


class Listener:
    """One service listening on a loopback port, served from a background thread.

    Stopped and started again, it listens on the same port: an outage, then its end.
    """

    def __init__(
        self, service: Handler, world: World, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.service, self.world = service, world
        self.server = _Server((host, port), service, world)
        self.thread = self._thread()
        self._stopped = False

    def _thread(self) -> threading.Thread:
        # A short poll keeps stop() quick; the loop is idle between requests anyway.
        return threading.Thread(
            target=self.server.serve_forever,
            args=(0.02,),
            name=f"emulator-{self.service.name}",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.netloc}"

    @property
    def netloc(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host.decode() if isinstance(host, bytes) else host}:{port}"

    @property
    def stopped(self) -> bool:
        """Stopped after it had started: an outage that `start()` ends."""
        return self._stopped

    def start(self) -> None:
        if self._stopped:
            host, port = self.netloc.rsplit(":", 1)
            self.server = _Server((host, int(port)), self.service, self.world)
            self.thread = self._thread()
            self._stopped = False
        self.thread.start()

    def stop(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._stopped = True
