"""Probes: where a remote service's answer becomes an `Observation`.

A probe checks many sources of its service at once (batched, rate-limited,
concurrent as its service allows) and yields one observation per source as
answers arrive. It never raises for a remote failure: a 404, a timeout or a
spent budget is an observation with an outcome, so a run always completes.

`PROBES` is the registry: an explicit dict from kind to the service whose
probe checks it. The CLI builds one probe per service from the settings and
hands the runner `{kind: probe}` (a `ServiceProbes`, which builds each probe
only when a source of its kind is due).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
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
    Kind.HF_PATH: "hf",
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


class ServiceProbes(Mapping[Kind, Probe]):
    """`{kind: probe}` whose probes are built the first time a source of their kind is due.

    Building a probe means importing its client library (PyGithub, huggingface_hub:
    half a second together) and making its client; a run with nothing due, or over
    web pages alone, needs neither. `kinds` says which service checks each kind
    (`PROBES`), `factories` how to build each service's probe.
    """

    def __init__(
        self, kinds: Mapping[Kind, str], factories: Mapping[str, Callable[[], Probe]]
    ) -> None:
        self.kinds = {kind: service for kind, service in kinds.items() if service in factories}
        self.factories = factories
        self.built: dict[str, Probe] = {}

    def __getitem__(self, kind: Kind) -> Probe:
        service = self.kinds[kind]
        probe = self.built.get(service)
        if probe is None:
            probe = self.built[service] = self.factories[service]()
        return probe

    def __contains__(self, kind: object) -> bool:
        return kind in self.kinds

    def __iter__(self) -> Iterator[Kind]:
        return iter(self.kinds)

    def __len__(self) -> int:
        return len(self.kinds)
