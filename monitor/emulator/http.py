"""A request as an emulated service sees it, and what the service answers: plain values.

server.py turns sockets into these and back; every service (github.py,
huggingface.py, …) and the chaos (chaos.py, chaos_answers.py) speaks in them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class HttpRequest:
    """A request as a service sees it."""

    method: str
    path: str
    raw_query: str
    headers: Message
    body: bytes
    host: str

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.raw_query, keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, *names: str) -> list[str]:
        found: list[str] = []
        for name in names:
            found += self.query.get(name, [])
        return found

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def token(self) -> str:
        """The credential in `Authorization: token X` or `Bearer X`, or "" when anonymous."""
        value = self.headers.get("Authorization", "")
        scheme, _, credential = value.partition(" ")
        return credential.strip() if scheme.lower() in ("token", "bearer") else ""

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class HttpResponse:
    """What a service answers. `reset` drops the connection instead; `delay` stalls first."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    reset: bool = False
    delay: float = 0.0
    cost: int = 0

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        response = cls(status, body, [("Content-Type", "application/json; charset=utf-8")])
        response.headers += list((headers or {}).items())
        return response

    @classmethod
    def text(
        cls,
        status: int,
        text: str,
        content_type: str = "text/plain; charset=utf-8",
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        response = cls(status, text.encode(), [("Content-Type", content_type)])
        response.headers += list((headers or {}).items())
        return response

    def header(self, name: str, value: str) -> HttpResponse:
        self.headers.append((name, value))
        return self
