"""Probes: where a remote service's answer becomes an `Observation`.

A probe checks many sources of its service at once (batched, rate-limited,
concurrent as its service allows) and yields one observation per source as
answers arrive. It never raises for a remote failure: a 404, a timeout or a
spent budget is an observation with an outcome, so a run always completes.

`PROBES` is the registry: an explicit dict from kind to the service whose
probe checks it. The CLI builds one probe per service from the settings and
hands the runner `{kind: probe}`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from monitor.model import Kind, Observation, Source

#: kind -> the service whose probe checks it.
PROBES: Mapping[Kind, str] = {
    Kind.GITHUB_REPO: "github",
    Kind.GITHUB_PATH: "github",
    Kind.GITHUB_ISSUE: "github",
    Kind.GITHUB_OWNER: "github",
    Kind.HF_MODEL: "hf",
    Kind.HF_DATASET: "hf",
    Kind.HF_SPACE: "hf",
    Kind.HF_OWNER: "hf",
    Kind.ARXIV: "arxiv",
    Kind.WEB: "web",
}


@dataclass
class Figures:
    """What a probe spent and learnt about its service's limits during one run."""

    requests: int = 0
    #: rate-limit points charged (GitHub GraphQL cost, REST requests that were not 304)
    points: int = 0
    not_modified: int = 0
    deferred: int = 0
    remaining: int | None = None
    limit: int | None = None
    reset_at: datetime | None = None
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "points": self.points,
            "not_modified": self.not_modified,
            "deferred": self.deferred,
            "remaining": self.remaining,
            "limit": self.limit,
            "reset_at": self.reset_at.isoformat() if self.reset_at else None,
            "errors": list(self.errors),
        }


class Probe(Protocol):
    """Checks the sources of one service."""

    @property
    def service(self) -> str: ...

    def observe(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        """One observation per source, in any order, as answers arrive."""
        ...

    def figures(self) -> Figures:
        """Requests made, points spent and limits seen since the probe was built."""
        ...
