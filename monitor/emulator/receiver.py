"""`AlertReceiver`: a webhook on loopback that records what Apprise's `json://` target sends.

Alerts are tested end to end: real Apprise posts over real HTTP to this
server, and tests assert on what arrived. The receiver can be switched `down`
to play a dead webhook in one of three ways (`failure`):

    "503"    it answers 503 Service Unavailable at once (a webhook host that is up,
             its application not)
    "reset"  it drops the connection with a TCP reset (nothing listening behind a
             proxy, a crashed server)
    "hang"   it reads the request and never answers (until `hang_seconds`): only
             the client's read timeout ends the wait

    with AlertReceiver() as receiver:
        channel = AppriseChannel(receiver.url)      # json://127.0.0.1:PORT/alerts
        ...
        receiver.down = True
        [message] = receiver.messages               # title, body, type, headers
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

Failure = Literal["503", "reset", "hang"]

#: Headers never kept: they carry the credentials a test may have put in the URL.
_SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|signature|password", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Received:
    """One message as it arrived: Apprise's JSON payload, where it was posted, how."""

    title: str
    body: str
    type: str
    method: str
    path: str
    #: request headers, minus any that could carry a credential
    headers: tuple[tuple[str, str], ...]
    at: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class AlertReceiver:
    """An HTTP server on 127.0.0.1 that takes Apprise `json://` POSTs and keeps them."""

    def __init__(
        self,
        path: str = "/alerts",
        *,
        failure: Failure = "503",
        hang_seconds: float = 30.0,
    ) -> None:
        self.path = path if path.startswith("/") else "/" + path
        self.failure: Failure = failure
        self.hang_seconds = hang_seconds
        #: every request that reached the receiver, answered or not
        self.attempts = 0
        self._down = False
        self._messages: list[Received] = []
        self._lock = threading.Lock()
        # Set whenever hanging requests should let go: the receiver came up, or stopped.
        self._release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self)
        # A short poll keeps stop() quick; the loop is idle between requests anyway.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="alert-receiver", daemon=True
        )

    # --- the switches ---------------------------------------------------------------------------

    @property
    def down(self) -> bool:
        return self._down

    @down.setter
    def down(self, value: bool) -> None:
        self._down = value
        if value:
            self._release.clear()
        else:
            self._release.set()

    # --- what arrived ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[Received]:
        """Messages accepted so far (a copy), oldest first."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self.attempts = 0

    # --- where ----------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The Apprise URL that posts here."""
        return f"json://{self.netloc}{self.path}"

    # --- lifetime -------------------------------------------------------------------------------

    def start(self) -> AlertReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> AlertReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- serving --------------------------------------------------------------------------------

    def _count(self) -> None:
        with self._lock:
            self.attempts += 1

    def _keep(self, message: Received) -> None:
        with self._lock:
            self._messages.append(message)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], receiver: AlertReceiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that timed out and left, or a reset we made on purpose
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the receiver's messages are the log

    def do_POST(self) -> None:
        receiver = self.server.receiver
        receiver._count()
        if receiver.down and receiver.failure == "reset":
            self._reset()
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if receiver.down:
            if receiver.failure == "hang":
                receiver._release.wait(receiver.hang_seconds)
            self._answer(503, {"error": "down"})
            return
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            self._answer(400, {"error": "not JSON"})
            return
        if not isinstance(payload, dict):
            self._answer(400, {"error": "not a JSON object"})
            return
        receiver._keep(
            Received(
                title=str(payload.get("title", "")),
                body=str(payload.get("message", "")),
                type=str(payload.get("type", "")),
                method=self.command,
                path=self.path,
                headers=tuple(
                    (k, v) for k, v in self.headers.items() if not _SECRET_HEADER.search(k)
                ),
                at=time.time(),
            )
        )
        self._answer(200, {"ok": True})

    do_PUT = do_PATCH = do_GET = do_POST

    def finish(self) -> None:
        # The connection was reset on purpose, or the client gave up waiting.
        with contextlib.suppress(OSError):
            super().finish()

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def _reset(self) -> None:
        """Close with a TCP RST, as a crashed server does."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
