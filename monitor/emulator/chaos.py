"""Chaos: the emulator misbehaving the way the real internet does, on demand or at random.

Owns which request gets which fault, and what a faulted answer says. Two ways in:

    world.chaos.inject("github", Fault.STALL, times=1, path=r"^/repos/")   # tests: one fault
    world.chaos.set_rate(0.2, seed=7)                                    # soaks: 20 % at random

Rules are checked in the order they were added; a request no rule takes is,
with probability `rate`, given a fault drawn (from a seeded RNG, so a run can
be replayed) among those its service can really show (`APPLICABLE`). The
control port is never faulted. Everything random about a fault (a 502 or a
504, JSON or GitHub's "Unicorn!" page, which redirect target) is drawn from the
same RNG unless an option pins it.

server.py owns the wire: it asks `decide()` once per request, then stalls,
drips, truncates or resets the connection itself, or sends `answer()`.

Shapes, as the real services send them (../shared/api-facts.md §3, §5, §8):
- GitHub: 5xx as JSON `{"message": "Server Error"}` (octokit/request.js#589),
  GitHub's HTML "Unicorn!" page on 502/503 (PyGithub#2047, octokit/graphql.js#554),
  and a 504 saying "We couldn't respond to your request in time"
  (anmol098/waka-readme-stats#425); a primary limit is 403 or 429 with
  `x-ratelimit-remaining: 0` (HTTP 200 with a RATE_LIMITED error on GraphQL);
  a secondary limit 403 or 429 with `retry-after`; GraphQL's "Something went
  wrong while executing your query" is HTTP 200, `data: null` and one error
  with neither `path` nor `type` (gitkraken/vscode-gitlens#3298).
- The Hub: a 500 is JSON `{"error": "Internal Error - We're working hard to fix
  this as soon as possible!"}` (huggingface/datasets#7516); 502-504 come from
  the front proxy as HTML; a 429 carries `RateLimit: "api";r=0;t=N` and
  `RateLimit-Policy` (hub-docs rate-limits.md), on list endpoints too.
- arXiv: throttling is 429 or 503 with the plain-text body `Rate exceeded.`
  (arXiv/html_feedback#2363, ZJU-REAL/Polaris#198).
- The Wayback Machine: slow or stalled answers, its front end's HTML 5xx pages and
  429s (plain answers, as web hosts give them).
- Any service behind a captive portal: 200 text/html asking to sign in, or a
  redirect to another host; an HTTP->HTTPS upgrade is a redirect to another
  scheme, which PyGithub refuses with RuntimeError (PyGithub#2524).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from http import HTTPStatus
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import quote

from monitor.emulator.http import HttpRequest

if TYPE_CHECKING:
    from monitor.emulator.world import World


class Fault(StrEnum):
    """One way a service misbehaves."""

    #: accept, read the request, never answer (until the client leaves, `stall_seconds`
    #: pass or the emulator stops; then the connection is closed without an answer)
    STALL = "stall"
    #: the real answer, its body trickling out one piece every `drip_interval` seconds
    DRIP = "drip"
    #: TCP RST instead of an answer
    RESET = "reset"
    #: 500/502/503/504 in the service's own shape
    SERVER_ERROR = "5xx"
    #: the service's rate-limit answer (429; GitHub: 403 or 429, GraphQL: 200 + RATE_LIMITED)
    RATE_LIMIT = "429"
    #: GitHub only: "You have exceeded a secondary rate limit", 403 or 429 with retry-after
    SECONDARY_LIMIT = "secondary"
    #: GitHub POST /graphql only: HTTP 200, data null, one error without path or type
    GRAPHQL_PATHLESS = "graphql-pathless"
    #: HTTP 200 text/html: a captive portal's sign-in page instead of the answer
    PORTAL = "portal"
    #: the real answer with its full Content-Length, part of the body, then the connection closed
    TRUNCATED = "truncated"
    #: arXiv: 503 text/plain "Rate exceeded."
    RATE_EXCEEDED = "rate-exceeded"
    #: an API answering 301/302/307 to another scheme (https://same-host) or another host
    REDIRECT_AWAY = "redirect-away"


#: What each service can really show ("x"). GitHub's REST API and its /graphql endpoint are
#: two rows because GraphQL has a failure of its own; the control port shows nothing.
TABLE: Final = """
                stall drip reset 5xx 429 secondary graphql-pathless portal truncated rate-exceeded redirect-away
github            x    x    x     x   x      x             .           x       x          .             x
github-graphql    x    x    x     x   x      x             x           x       x          .             x
hf                x    x    x     x   x      .             .           x       x          .             x
arxiv             x    x    x     x   x      .             .           x       x          x             x
web               x    x    x     x   x      .             .           x       x          .             .
wayback           x    x    x     x   x      .             .           x       x          .             x
control           .    .    .     .   .      .             .           .       .          .             .
"""  # noqa: E501


def _applicable(table: str) -> dict[str, tuple[Fault, ...]]:
    heading, *rows = table.strip().splitlines()
    columns = [Fault(name) for name in heading.split()]
    parsed: dict[str, tuple[Fault, ...]] = {}
    for row in rows:
        service, *marks = row.split()
        if len(marks) != len(columns):
            raise ValueError(f"the chaos table's row {row!r} has {len(marks)} columns")
        parsed[service] = tuple(f for f, mark in zip(columns, marks, strict=True) if mark == "x")
    return parsed


APPLICABLE: Final[Mapping[str, tuple[Fault, ...]]] = _applicable(TABLE)

#: The status a faulted request has in the world's request log when no HTTP status went out.
RESET_STATUS: Final = -1
STALLED_STATUS: Final = -2
TRUNCATED_STATUS: Final = -3

Wire = Literal["answer", "stall", "drip", "reset", "truncate"]
_WIRE: Final[Mapping[Fault, Wire]] = {
    Fault.STALL: "stall",
    Fault.DRIP: "drip",
    Fault.RESET: "reset",
    Fault.TRUNCATED: "truncate",
}
#: Statuses a fault may be pinned to with `status=`, and the ones drawn when it is not.
_STATUSES: Final[Mapping[Fault, frozenset[int]]] = {
    Fault.SERVER_ERROR: frozenset(range(500, 600)),
    Fault.RATE_LIMIT: frozenset({200, 403, 429}),
    Fault.SECONDARY_LIMIT: frozenset({403, 429}),
    Fault.REDIRECT_AWAY: frozenset({301, 302, 303, 307, 308}),
}
_DRAWN: Final[Mapping[tuple[Fault, str], tuple[int, ...]]] = {
    (Fault.SERVER_ERROR, "github-graphql"): (502, 504),
    (Fault.RATE_LIMIT, "github"): (403, 429),
    (Fault.RATE_LIMIT, "github-graphql"): (200,),
    (Fault.SECONDARY_LIMIT, "github"): (403, 429),
    (Fault.SECONDARY_LIMIT, "github-graphql"): (403,),
    (Fault.REDIRECT_AWAY, "github"): (301,),
    (Fault.REDIRECT_AWAY, "github-graphql"): (301, 307),
    (Fault.REDIRECT_AWAY, "hf"): (302, 307),
    (Fault.REDIRECT_AWAY, "arxiv"): (301, 302),
    (Fault.REDIRECT_AWAY, "wayback"): (301, 302),
}
_DRAWN_DEFAULT: Final[Mapping[Fault, tuple[int, ...]]] = {
    Fault.SERVER_ERROR: (500, 502, 503, 504),
    Fault.RATE_LIMIT: (429,),
    Fault.PORTAL: (200,),
    Fault.GRAPHQL_PATHLESS: (200,),
    Fault.RATE_EXCEEDED: (503,),
}


@dataclass(frozen=True)
class Options:
    """How a fault behaves; every field has a sane default and can be set per rule."""

    #: STALL: seconds before the connection is closed unanswered; None: until the client
    #: leaves or the emulator stops (random mode defaults to 5 s)
    stall_seconds: float | None = None
    #: DRIP: seconds between two pieces, and how many pieces the body is cut into
    drip_interval: float = 0.5
    drip_chunks: int = 10
    #: TRUNCATED: the fraction of the body sent before the connection closes
    keep: float = 0.5
    #: 429, secondary limits, arXiv's throttle: the wait the answer asks for, in seconds
    retry_after: int = 30
    #: 5xx, 429, secondary, redirect-away: pin the status instead of drawing it
    status: int | None = None
    #: REDIRECT_AWAY: "scheme" (https:// on the same host) or "host" (a portal on another
    #: host) instead of drawing one, or a `location` used as it is
    away: str | None = None
    location: str | None = None
    #: 5xx on GitHub: True for the HTML "Unicorn!" page, False for JSON (default: drawn)
    html: bool | None = None

    def build(self, **values: object) -> Options:
        """These options with `values` applied (`Options().build(stall_seconds=1)`): TypeError
        for an unknown option, ValueError for a bad value."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(f"unknown chaos option(s) {unknown}; known: {sorted(known)}")
        converted = {name: _convert(name, value) for name, value in values.items()}
        return replace(self, **converted)  # type: ignore[arg-type]


#: Random faults must end: a stall lasts 5 s, then the connection closes unanswered.
RANDOM_DEFAULTS: Final = Options(stall_seconds=5.0)


def _convert(name: str, value: object) -> object:
    optional = name in ("stall_seconds", "status", "away", "location", "html")
    if value is None:
        if optional:
            return None
        raise ValueError(f"chaos option {name} cannot be None")
    if name == "location":
        return str(value)
    if name == "away":
        if value not in ("scheme", "host"):
            raise ValueError(f'chaos option away must be "scheme" or "host", not {value!r}')
        return value
    if name == "html":
        if not isinstance(value, bool):
            raise ValueError(f"chaos option html must be true or false, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"chaos option {name} must be a number, not {value!r}")
    number = float(value)
    low, high = {"keep": (0.0, 0.999), "drip_chunks": (1.0, 10_000.0)}.get(name, (0.0, 1e9))
    if not low <= number <= high:
        raise ValueError(f"chaos option {name}={value!r} is out of range [{low}, {high}]")
    return int(number) if name in ("drip_chunks", "retry_after", "status") else number


@dataclass
class Rule:
    """One injected fault: the next `times` requests that match get it (all of them if None)."""

    service: str
    fault: Fault
    times: int | None = None
    path: re.Pattern[str] | None = None
    method: str | None = None
    options: Options = Options()
    hits: int = 0

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(0, self.times - self.hits)

    @property
    def active(self) -> bool:
        return self.times is None or self.hits < self.times

    def matches(self, service: str, method: str, target: str) -> bool:
        return (
            self.active
            and self.service == service
            and (self.method is None or self.method == method.upper())
            and (self.path is None or self.path.search(target) is not None)
        )


@dataclass(frozen=True)
class Injection:
    """The fault one request gets, with everything random about it already drawn."""

    service: str
    #: "github-graphql" for GitHub's POST /graphql, else the service
    endpoint: str
    fault: Fault
    options: Options
    status: int | None = None
    #: 5xx: "json" or "html"; redirect-away: "scheme", "host" or "given"; else ""
    variant: str = ""
    rule: Rule | None = None

    @property
    def wire(self) -> Wire:
        """What the server does: send `chaos_answers.answer()`, or act on the connection itself."""
        return _WIRE.get(self.fault, "answer")

    @property
    def log_status(self) -> int | None:
        """The request log's status when no HTTP status goes out (None: the answer's own)."""
        return {
            Fault.RESET: RESET_STATUS,
            Fault.STALL: STALLED_STATUS,
            Fault.TRUNCATED: TRUNCATED_STATUS,
        }.get(self.fault)


def endpoint(service: str, request: HttpRequest) -> str:
    """The row of `APPLICABLE` a request falls in."""
    if (
        service == "github"
        and request.method == "POST"
        and request.path.rstrip("/") in ("/graphql", "/api/graphql")
    ):
        return "github-graphql"
    return service


def _fault(value: Fault | str) -> Fault:
    try:
        return Fault(value)
    except ValueError:
        raise ValueError(
            f"unknown fault {value!r}; known: {', '.join(f.value for f in Fault)}"
        ) from None


class Chaos:
    """Faults for one `World`'s services: injected rules first, then the random rate.

    Thread-safe with a lock of its own, under which it never takes `world.lock`, so the
    world may call in while holding that. `injected` counts (service, fault) pairs; `seen`
    counts the requests consulted per service; `held` the connections being stalled or
    dripped right now.
    """

    def __init__(self, world: World | None = None) -> None:
        self.world = world
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._rng = random.Random(0)
        self._request_ids = itertools.count(1)
        self.rate = 0.0
        self.seed: int | None = None
        self.faults: tuple[Fault, ...] | None = None
        self.services: frozenset[str] | None = None
        #: (service, fault) pairs never drawn at random
        self.spared: frozenset[tuple[str, Fault]] = frozenset()
        #: the options of randomly drawn faults (`set_rate(..., **options)` sets them)
        self.options = RANDOM_DEFAULTS
        self.injected: Counter[tuple[str, str]] = Counter()
        self.seen: Counter[str] = Counter()
        self._held = 0

    # --- configuring -------------------------------------------------------------------------

    def inject(
        self,
        service: str,
        fault: Fault | str,
        *,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
        **options: object,
    ) -> Rule:
        """The next `times` requests of `service` (all, when None) matching `path` (a regex
        searched in path?query) and `method` get `fault`. ValueError if the service cannot
        show it."""
        chosen = _fault(fault)
        rows = [key for key in APPLICABLE if key.split("-")[0] == service]
        if not rows:
            raise ValueError(f"unknown service {service!r}; known: {sorted(APPLICABLE)}")
        if not any(chosen in APPLICABLE[row] for row in rows):
            raise ValueError(f"{service} does not show {chosen.value!r} faults")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every request)")
        settings = Options().build(**options)
        _check_status(chosen, settings.status)
        try:
            pattern = re.compile(path) if path is not None else None
        except re.error as exc:
            raise ValueError(f"path {path!r} is not a regular expression: {exc}") from None
        rule = Rule(service, chosen, times, pattern, method.upper() if method else None, settings)
        with self._lock:
            self._rules.append(rule)
        return rule

    def set_rate(
        self,
        rate: float,
        *,
        seed: int | None = None,
        faults: Iterable[Fault | str] | None = None,
        services: Iterable[str] | None = None,
        spare: Iterable[tuple[str, Fault | str]] = (),
        **options: float | int | str | None,
    ) -> None:
        """Fault each request (of `services`, default all) with probability `rate`, drawing
        the fault among `faults` (default all) that its service can show, never one of the
        (service, fault) pairs in `spare`. `seed` makes the draws reproducible; without one
        a seed is chosen and reported by `stats()`."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the chaos rate must be within [0, 1], not {rate}")
        chosen = None if faults is None else tuple(_fault(f) for f in faults)
        wanted = None if services is None else frozenset(services)
        unknown = sorted((wanted or set()) - set(APPLICABLE))
        if unknown:
            raise ValueError(f"unknown service(s) {unknown}; known: {sorted(APPLICABLE)}")
        settings = RANDOM_DEFAULTS.build(**options)
        if seed is None:
            seed = random.SystemRandom().randrange(2**32)
        with self._lock:
            self.rate, self.seed, self.faults, self.services = rate, seed, chosen, wanted
            self.spared = frozenset((service, _fault(fault)) for service, fault in spare)
            self.options = settings
            self._rng = random.Random(seed)

    def clear(self, service: str | None = None) -> None:
        """Remove the injected rules (of one service) and, when `service` is None, the rate."""
        with self._lock:
            self._rules = [r for r in self._rules if service is not None and r.service != service]
            if service is None:
                self.rate, self.faults, self.services = 0.0, None, None
                self.spared = frozenset()

    @property
    def rules(self) -> list[Rule]:
        """The rules still active, in the order they are checked."""
        with self._lock:
            return [r for r in self._rules if r.active]

    # --- per request -------------------------------------------------------------------------

    def decide(self, service: str, request: HttpRequest) -> Injection | None:
        """The fault this request gets, if any (counted in `injected`)."""
        row = endpoint(service, request)
        possible = APPLICABLE.get(row, ())
        if not possible:
            return None
        target = request.path + (f"?{request.raw_query}" if request.raw_query else "")
        with self._lock:
            self.seen[service] += 1
            injection = self._from_rules(service, row, request.method, target, possible)
            if (
                injection is None
                and self.rate
                and (self.services is None or service in self.services)
                and self._rng.random() < self.rate
            ):
                candidates = [
                    f
                    for f in possible
                    if (self.faults is None or f in self.faults) and (service, f) not in self.spared
                ]
                if candidates:
                    fault = self._rng.choice(candidates)
                    injection = self._draw(service, row, fault, self.options, None)
            if injection is not None:
                self.injected[(service, injection.fault.value)] += 1
            return injection

    def _from_rules(
        self, service: str, row: str, method: str, target: str, possible: tuple[Fault, ...]
    ) -> Injection | None:
        for rule in self._rules:
            if rule.fault in possible and rule.matches(service, method, target):
                rule.hits += 1
                if not rule.active:
                    self._rules.remove(rule)
                return self._draw(service, row, rule.fault, rule.options, rule)
        return None

    def _draw(
        self, service: str, row: str, fault: Fault, options: Options, rule: Rule | None
    ) -> Injection:
        status = options.status
        if status is None:
            drawn = _DRAWN.get((fault, row)) or _DRAWN_DEFAULT.get(fault)
            status = self._rng.choice(drawn) if drawn else None
        variant = ""
        if fault is Fault.SERVER_ERROR:
            variant = "html"
            if service == "github":
                # GitHub answers JSON, except its front end's "Unicorn!" page on 502/503.
                html = options.html
                if html is None:
                    html = status in (502, 503) and self._rng.random() < 0.5
                variant = "html" if html else "json"
            elif service == "hf" and status == 500:
                variant = "json"  # the Hub's own 500; 502-504 come from its front proxy
        elif fault is Fault.REDIRECT_AWAY:
            variant = options.away or self._rng.choice(("scheme", "host"))
            if options.location:
                variant = "given"
        return Injection(service, row, fault, options, status, variant, rule)

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Count a connection the server is stalling or dripping (`held`) while inside."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1

    @property
    def held(self) -> int:
        """Connections being stalled or dripped right now."""
        with self._lock:
            return self._held

    # --- figures -----------------------------------------------------------------------------

    def stats(self) -> dict[str, object]:
        """JSON-ready figures: the rate and seed, rules, requests seen, faults injected."""
        with self._lock:
            by_service: dict[str, dict[str, int]] = {}
            for (service, fault), count in sorted(self.injected.items()):
                by_service.setdefault(service, {})[fault] = count
            return {
                "rate": self.rate,
                "seed": self.seed,
                "rules": len([r for r in self._rules if r.active]),
                "seen": dict(self.seen),
                "injected": by_service,
                "total": sum(self.injected.values()),
                "held": self._held,
            }

    def reset_counts(self) -> None:
        with self._lock:
            self.injected.clear()
            self.seen.clear()

    def next_request_id(self) -> str:
        """A request id for a faulted GitHub answer, as GitHub's `x-github-request-id`."""
        with self._lock:
            return f"E{next(self._request_ids):04X}"

    def limit(self, resource: Literal["core", "graphql", "hf"], token: str) -> int:
        """The budget size a rate-limit answer reports (the world's, or GitHub's defaults)."""
        if self.world is None:
            return {"core": 5000, "graphql": 5000, "hf": 1000}[resource]
        if resource == "hf":
            return self.world.hf_limits[0 if token else 1]
        return self.world.github_limits[resource][0 if token else 1]

    def now(self) -> float:
        import time

        return self.world.clock() if self.world is not None else time.time()


def _check_status(fault: Fault, status: int | None) -> None:
    if status is None:
        return
    allowed = _STATUSES.get(fault)
    if allowed is None:
        raise ValueError(f"status= does not apply to {fault.value!r} faults")
    if status not in allowed:
        raise ValueError(f"status {status} is not a {fault.value!r} status: {sorted(allowed)}")


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def portal_url(request: HttpRequest) -> str:
    """Where a captive portal sends a request: another host, continuing to the original."""
    _, _, port = request.host.partition(":")
    original = f"http://{request.host}{request.path}"
    if request.raw_query:
        original += f"?{request.raw_query}"
    return f"http://127.0.0.2:{port or 80}/portal/login?continue={quote(original, safe='')}"
