"""The emulated world as data: repositories, models, papers, pages, budgets and the request log.

Everything the emulator serves is read from a `World`, and every change a test
makes between two polls is one method call on it (`rename`, `delete`, `star`,
`add_commit`, `hf_gate`, `add_version`, `set_page`, …). Values are plain
dataclasses; the services in this package turn them into the wire formats of
GitHub, the Hugging Face Hub, arXiv and web hosts. The Hub's repositories, owners
and files are world_hub.py's (`World` inherits them); GitHub's write side (labels,
comments, pull requests, git objects, token permissions, the content-creation limit)
world_github.py's; the Wayback Machine's captures world_wayback.py's; ids and UTC
helpers basics.py's.

The world is shared by the server's threads, so every read and write takes
`world.lock`. Timestamps of the data (commits, pushes, versions) are whatever a
scenario says; rate-limit windows run on the real clock, because clients wait
on them in real seconds.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from monitor.emulator.basics import EPOCH, fake_sha, utc
from monitor.emulator.gitstore import GitStore
from monitor.emulator.world_github import (
    Comment,
    GitHubWorld,
    Label,
    PullInfo,
    default_labels,
    ensure_labels,
)
from monitor.emulator.world_github import (
    Commit as Commit,  # re-exported: the read side's commits were first defined here
)
from monitor.emulator.world_hub import HubWorld
from monitor.emulator.world_wayback import WaybackWorld

if TYPE_CHECKING:
    from monitor.emulator.chaos import Chaos, Fault, Rule

RepoStatus = Literal["ok", "deleted", "dmca", "tos", "unavailable"]
Service = Literal["github", "hf", "arxiv", "web", "control", "wayback"]

# --- GitHub ------------------------------------------------------------------------------------


@dataclass
class Owner:
    login: str
    id: int
    type: Literal["User", "Organization"] = "Organization"
    name: str | None = None
    created_at: datetime = EPOCH


@dataclass
class Issue:
    number: int
    title: str = "An issue"
    state: Literal["open", "closed"] = "open"
    is_pull: bool = False
    created_at: datetime = EPOCH
    closed_at: datetime | None = None
    deleted: bool = False
    #: (repo id, number) the issue was transferred to
    moved_to: tuple[int, int] | None = None
    body: str | None = None
    #: label names, as the repository spells them
    labels: list[str] = field(default_factory=list)
    #: the login of who opened it; None: the repository's owner
    author: str | None = None
    updated_at: datetime | None = None
    #: "completed", "not_planned" or "reopened" (None: never closed)
    state_reason: str | None = None
    closed_by: str | None = None
    comments: list[Comment] = field(default_factory=list)
    #: set when the pull request was opened through the API (world_github.py)
    pull: PullInfo | None = None


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    stars: int = 0
    forks: int = 0
    watchers: int = 0
    description: str | None = None
    homepage: str | None = None
    language: str | None = "Python"
    topics: list[str] = field(default_factory=list)
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH
    pushed_at: datetime = EPOCH
    archived: bool = False
    disabled: bool = False
    private: bool = False
    fork: bool = False
    #: SPDX id; "NOASSERTION" is GitHub's "Other"; None means no licence file
    license: str | None = "MIT"
    default_branch: str = "main"
    #: newest first, on the default branch
    commits: list[Commit] = field(default_factory=list)
    #: branch or tag -> {path: content}
    trees: dict[str, dict[str, str]] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    status: RepoStatus = "ok"
    blocked_at: datetime = EPOCH
    #: lower-cased name -> label
    labels: dict[str, Label] = field(default_factory=default_labels)
    #: the git objects and branches behind `trees` and `commits` (world_github.py)
    git: GitStore = field(default_factory=GitStore)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def node_id(self) -> str:
        return "R_" + fake_sha("repo", self.id)[:12]

    @property
    def last_commit(self) -> Commit | None:
        return self.commits[0] if self.commits else None


# --- arXiv and the web -------------------------------------------------------------------------


@dataclass
class Paper:
    id: str
    title: str
    #: publication date of each version, v1 first
    versions: list[datetime]
    summary: str = "An abstract."
    authors: list[str] = field(default_factory=lambda: ["A. Author"])
    category: str = "cs.CL"
    comment: str | None = None
    withdrawn: bool = False


#: What a page does when asked for. Cycled per request when a list is given.
Behaviour = Literal[
    "ok", "soft-404", "captcha", "cf-challenge", "slow", "reset", "redirect", "head-405", "status"
]


@dataclass
class Page:
    behaviour: list[Behaviour | int] = field(default_factory=lambda: ["ok"])
    title: str = "A page"
    body: str = "<p>Content.</p>"
    location: str | None = None
    redirect_status: int = 301
    retry_after: int = 30
    slow_seconds: float = 30.0
    hits: int = 0

    def next_behaviour(self) -> Behaviour | int:
        chosen = self.behaviour[self.hits % len(self.behaviour)]
        self.hits += 1
        return chosen


# --- budgets, the request log ------------------------------------------------------------------


@dataclass
class Budget:
    """A fixed-window rate limit: `limit` units per `window` seconds."""

    limit: int
    window: float
    used: int = 0
    reset_at: float = 0.0

    def roll(self, now: float) -> None:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + self.window

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True)
class Request:
    """One request as the emulator saw it, for tests to assert on."""

    service: Service
    host: str
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    status: int
    started: float
    finished: float
    cost: int = 0
    #: the chaos fault this request got ("stall", "5xx", …), "" when none
    fault: str = ""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


@dataclass
class SecondaryLimit:
    remaining_hits: int
    status: int
    retry_after: int


class World(HubWorld, GitHubWorld, WaybackWorld):
    """All the emulated state. Every public method is one change a test can make."""

    def __init__(self, *, clock: Callable[[], float] = time.time, log_size: int = 200_000) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._ids = itertools.count(600_000_000)
        # GitHub
        self.repos: dict[int, Repo] = {}
        self._repo_names: dict[str, int] = {}
        self._moved: dict[str, int] = {}
        self.owners: dict[str, Owner] = {}
        self.github_tokens: set[str] | None = None
        self.github_limits = {"core": (5000, 60), "graphql": (5000, 0), "search": (30, 10)}
        self._budgets: dict[tuple[str, str], Budget] = {}
        self.secondary: SecondaryLimit | None = None
        self.graphql_rate_limit_type = "RATE_LIMITED"
        self._init_github_write()  # world_github.py: permissions, limits, labels, pulls
        # Hugging Face (world_hub.py)
        self._init_hub()
        self.hf_tokens: set[str] | None = None
        self.hf_limits = (1000, 500)
        # arXiv, web
        self.papers: dict[str, Paper] = {}
        self.arxiv_min_interval = 0.0
        self._arxiv_last = 0.0
        self.pages: dict[tuple[str, str], Page] = {}
        self._init_wayback()  # world_wayback.py
        # the server
        self.latency: dict[Service | Literal["*"], float] = {"*": 0.0}
        self.log: deque[Request] = deque(maxlen=log_size)
        self.counts: Counter[str] = Counter()
        self.points: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        from monitor.emulator.chaos import Chaos  # chaos.py imports the server, which imports us

        self.chaos: Chaos = Chaos(self)

    # --- ids -----------------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    # --- GitHub: building ----------------------------------------------------------------------

    def add_owner(
        self,
        login: str,
        *,
        type: Literal["User", "Organization"] = "Organization",
        name: str | None = None,
        created_at: datetime | str = EPOCH,
    ) -> Owner:
        with self.lock:
            owner = Owner(login, self.next_id(), type, name, utc(created_at))
            self.owners[login.lower()] = owner
            return owner

    def add_repo(
        self,
        full_name: str,
        *,
        stars: int = 0,
        license: str | None = "MIT",
        last_commit: datetime | str | None = EPOCH,
        pushed_at: datetime | str | None = None,
        created_at: datetime | str = EPOCH,
        archived: bool = False,
        private: bool = False,
        default_branch: str = "main",
        files: Iterable[str] = ("README.md",),
        description: str | None = None,
        status: RepoStatus = "ok",
        forks: int = 0,
    ) -> Repo:
        """Create a repository (and its owner if new); `last_commit=None` makes it empty."""
        owner_login, name = full_name.split("/", 1)
        with self.lock:
            owner = self.owners.get(owner_login.lower()) or self.add_owner(owner_login)
            repo = Repo(
                id=self.next_id(),
                owner=owner.login,
                name=name,
                stars=stars,
                forks=forks,
                license=license,
                created_at=utc(created_at),
                archived=archived,
                private=private,
                default_branch=default_branch,
                description=description,
                status=status,
            )
            if last_commit is not None:
                when = utc(last_commit)
                repo.commits = [Commit(fake_sha(full_name, when), when, "Initial commit")]
            repo.pushed_at = (
                utc(pushed_at)
                if pushed_at
                else (repo.commits[0].date if repo.commits else repo.created_at)
            )
            repo.updated_at = max(repo.pushed_at, repo.created_at)
            repo.trees[default_branch] = {path: f"content of {path}\n" for path in files}
            self.repos[repo.id] = repo
            self._repo_names[full_name.lower()] = repo.id
            return repo

    def repo(self, full_name: str) -> Repo:
        """The repository currently named `full_name` (case-insensitive); KeyError if none."""
        with self.lock:
            return self.repos[self._repo_names[full_name.lower()]]

    def find_repo(self, full_name: str, *, follow_moves: bool = True) -> tuple[Repo | None, bool]:
        """(repo, moved): the repository at this name now, or the one that moved away from it."""
        with self.lock:
            key = full_name.lower()
            if key in self._repo_names:
                return self.repos[self._repo_names[key]], False
            if follow_moves and key in self._moved:
                return self.repos.get(self._moved[key]), True
            return None, False

    def find_owner(self, login: str) -> Owner | None:
        with self.lock:
            return self.owners.get(login.lower())

    # --- GitHub: changes between polls ---------------------------------------------------------

    def star(self, full_name: str, stars: int) -> None:
        """Set the star count."""
        with self.lock:
            self.repo(full_name).stars = stars

    def add_commit(self, full_name: str, when: datetime | str, message: str = "Update") -> Commit:
        """A new commit on the default branch; it also moves `pushed_at`."""
        with self.lock:
            repo = self.repo(full_name)
            date = utc(when)
            commit = Commit(fake_sha(full_name, date, message), date, message)
            repo.commits.insert(0, commit)
            repo.pushed_at = max(repo.pushed_at, date)
            repo.updated_at = max(repo.updated_at, date)
            return commit

    def push_elsewhere(self, full_name: str, when: datetime | str) -> None:
        """A push to another ref (a PR branch): `pushed_at` moves, the default branch does not."""
        with self.lock:
            repo = self.repo(full_name)
            repo.pushed_at = utc(when)
            repo.updated_at = max(repo.updated_at, repo.pushed_at)

    def rename(self, full_name: str, new_name: str) -> Repo:
        """Rename within the owner (`new_name` is the bare name) or transfer (`owner/name`)."""
        with self.lock:
            repo = self.repo(full_name)
            old_key = repo.full_name.lower()
            if "/" in new_name:
                owner_login, name = new_name.split("/", 1)
                owner = self.owners.get(owner_login.lower()) or self.add_owner(owner_login)
                repo.owner, repo.name = owner.login, name
            else:
                repo.name = new_name
            del self._repo_names[old_key]
            self._repo_names[repo.full_name.lower()] = repo.id
            self._moved[old_key] = repo.id
            self._moved.pop(repo.full_name.lower(), None)
            return repo

    transfer = rename

    def delete(self, full_name: str) -> None:
        """The repository is gone: 404 from REST, NOT_FOUND from GraphQL."""
        with self.lock:
            self.repo(full_name).status = "deleted"

    def restore(self, full_name: str) -> None:
        """Undo a delete or a block."""
        with self.lock:
            self.repo(full_name).status = "ok"

    def block(
        self,
        full_name: str,
        reason: Literal["dmca", "tos", "unavailable"] = "dmca",
        when: datetime | str = EPOCH,
    ) -> None:
        """Access blocked: 451 for a DMCA takedown, 403 for terms of service or unavailable."""
        with self.lock:
            repo = self.repo(full_name)
            repo.status = reason
            repo.blocked_at = utc(when)

    def archive(self, full_name: str, archived: bool = True) -> None:
        with self.lock:
            self.repo(full_name).archived = archived

    def set_license(self, full_name: str, spdx: str | None) -> None:
        """SPDX id, "NOASSERTION" for an unrecognised licence, None for no licence file."""
        with self.lock:
            self.repo(full_name).license = spdx

    def set_private(self, full_name: str, private: bool = True) -> None:
        with self.lock:
            self.repo(full_name).private = private

    def add_path(self, full_name: str, path: str, ref: str | None = None) -> None:
        with self.lock:
            repo = self.repo(full_name)
            repo.trees.setdefault(ref or repo.default_branch, {})[path.strip("/")] = "content\n"

    def remove_path(self, full_name: str, path: str, ref: str | None = None) -> None:
        """Remove a file, or every file under a directory, from a ref (default branch)."""
        with self.lock:
            repo = self.repo(full_name)
            tree = repo.trees.get(ref or repo.default_branch, {})
            prefix = path.strip("/")
            for name in [p for p in tree if p == prefix or p.startswith(prefix + "/")]:
                del tree[name]

    def add_issue(
        self,
        full_name: str,
        number: int,
        *,
        state: Literal["open", "closed"] = "open",
        title: str = "An issue",
        is_pull: bool = False,
        body: str | None = None,
        labels: Iterable[str] = (),
        author: str | None = None,
        created_at: datetime | str = EPOCH,
    ) -> Issue:
        """An issue (or, `is_pull`, a pull request) as someone opened it; `labels` that the
        repository lacks are created."""
        with self.lock:
            repo = self.repo(full_name)
            issue = Issue(number, title, state, is_pull, created_at=utc(created_at), body=body)
            issue.labels = ensure_labels(self, repo, list(labels))
            issue.author = self.user(author).login if author else None
            if state == "closed":
                issue.closed_at, issue.state_reason = issue.created_at, "completed"
            repo.issues[number] = issue
            return issue

    def close_issue(
        self,
        full_name: str,
        number: int,
        when: datetime | str = EPOCH,
        reason: Literal["completed", "not_planned"] = "completed",
    ) -> None:
        with self.lock:
            issue = self.repo(full_name).issues[number]
            issue.state, issue.closed_at = "closed", utc(when)
            issue.updated_at, issue.state_reason = issue.closed_at, reason

    def reopen_issue(self, full_name: str, number: int, when: datetime | str = EPOCH) -> None:
        with self.lock:
            issue = self.repo(full_name).issues[number]
            issue.state, issue.closed_at, issue.closed_by = "open", None, None
            issue.updated_at, issue.state_reason = utc(when), "reopened"

    def transfer_issue(self, full_name: str, number: int, to_repo: str, new_number: int) -> None:
        with self.lock:
            target = self.repo(to_repo)
            old = self.repo(full_name).issues[number]
            target.issues[new_number] = Issue(new_number, old.title, old.state, old.is_pull)
            old.moved_to = (target.id, new_number)

    def delete_issue(self, full_name: str, number: int) -> None:
        with self.lock:
            self.repo(full_name).issues[number].deleted = True

    def rename_owner(self, login: str, new_login: str) -> None:
        """The old login 404s; the owner's repositories move (301) to the new one."""
        with self.lock:
            owner = self.owners.pop(login.lower())
            for repo in list(self.repos.values()):
                if repo.owner.lower() == login.lower() and repo.status != "deleted":
                    old_key = repo.full_name.lower()
                    repo.owner = new_login
                    del self._repo_names[old_key]
                    self._repo_names[repo.full_name.lower()] = repo.id
                    self._moved[old_key] = repo.id
            owner.login = new_login
            self.owners[new_login.lower()] = owner

    def delete_owner(self, login: str) -> None:
        with self.lock:
            self.owners.pop(login.lower(), None)

    # --- arXiv ---------------------------------------------------------------------------------

    def add_paper(
        self, paper_id: str, title: str, versions: Iterable[datetime | str], **extra: object
    ) -> Paper:
        with self.lock:
            paper = Paper(paper_id, title, [utc(v) for v in versions])
            for key, value in extra.items():
                setattr(paper, key, value)
            self.papers[paper_id] = paper
            return paper

    def add_version(self, paper_id: str, when: datetime | str, *, withdrawn: bool = False) -> None:
        """A new version; `withdrawn` makes it the withdrawal notice arXiv serves."""
        with self.lock:
            paper = self.papers[paper_id]
            paper.versions.append(utc(when))
            if withdrawn:
                paper.withdrawn = True
                paper.comment = "This paper has been withdrawn by the author."

    # --- the web -------------------------------------------------------------------------------

    def set_page(self, url: str, *behaviour: Behaviour | int, **options: object) -> Page:
        """What `url` does. `url` is a path on the emulator's own web host (`/blog/post`) or
        a full URL whose host the monitor sends to the emulator (`https://example.org/x`).
        `behaviour` may be several, cycled per request: `set_page("/p", "ok", 503)`."""
        host, path = split_page_url(url)
        with self.lock:
            page = self.pages.get((host, path)) or Page()
            if behaviour:
                page.behaviour = list(behaviour)
                page.hits = 0
            for key, value in options.items():
                setattr(page, key, value)
            self.pages[(host, path)] = page
            return page

    def page(self, url: str) -> Page:
        with self.lock:
            return self.pages[split_page_url(url)]

    # --- budgets and latency -------------------------------------------------------------------

    def budget(self, resource: str, identity: str) -> Budget:
        """The budget of `identity` (a token, or "" for anonymous) for `resource`."""
        with self.lock:
            key = (resource, identity)
            if key not in self._budgets:
                if resource == "hf":
                    limit = self.hf_limits[0] if identity else self.hf_limits[1]
                    self._budgets[key] = Budget(limit, 300.0)
                else:
                    with_token, anonymous = self.github_limits[resource]
                    window = 60.0 if resource == "search" else 3600.0
                    self._budgets[key] = Budget(with_token if identity else anonymous, window)
            budget = self._budgets[key]
            budget.roll(self.clock())
            return budget

    def set_budget(
        self,
        resource: Literal["core", "graphql", "search", "hf"],
        *,
        remaining: int,
        token: str = "",
        limit: int | None = None,
    ) -> None:
        """Set what is left of a budget now: `set_budget("core", remaining=0)` exhausts it."""
        with self.lock:
            budget = self.budget(resource, token)
            if limit is not None:
                budget.limit = limit
            budget.used = max(0, budget.limit - remaining)

    def trigger_secondary_limit(
        self, hits: int = 1, *, status: int = 403, retry_after: int = 60
    ) -> None:
        """The next `hits` GitHub requests get a secondary rate limit answer."""
        with self.lock:
            self.secondary = SecondaryLimit(hits, status, retry_after)

    def set_latency(self, seconds: float, service: Service | Literal["*"] = "*") -> None:
        """Delay every answer (of one service, or all) by `seconds`, like a real round trip."""
        with self.lock:
            self.latency[service] = seconds

    def latency_for(self, service: Service) -> float:
        with self.lock:
            return self.latency.get(service, self.latency["*"])

    # --- chaos (the methods the control port can call; see chaos.py) ---------------------------

    def inject_fault(
        self,
        service: str,
        fault: Fault | str,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
        **options: object,
    ) -> Rule:
        """The next `times` requests of `service` (all when None) matching `path` (a regex
        searched in path?query) and `method` get `fault` ("stall", "5xx", "429", …)."""
        return self.chaos.inject(service, fault, times=times, path=path, method=method, **options)

    def set_chaos(
        self,
        rate: float,
        seed: int | None = None,
        faults: Iterable[Fault | str] | None = None,
        services: Iterable[str] | None = None,
        spare: Iterable[tuple[str, Fault | str]] = (),
        **options: float | int | str | None,
    ) -> None:
        """Fault each request with probability `rate` (0 turns it off), reproducibly with `seed`."""
        self.chaos.set_rate(
            rate, seed=seed, faults=faults, services=services, spare=spare, **options
        )

    def clear_faults(self, service: str | None = None) -> None:
        """Remove injected faults (of one service) and, when `service` is None, the rate."""
        self.chaos.clear(service)

    # --- the request log -----------------------------------------------------------------------

    def started(self, host: str) -> None:
        with self.lock:
            self._in_flight[host] += 1
            self.max_in_flight[host] = max(self.max_in_flight[host], self._in_flight[host])

    def finished(self, request: Request) -> None:
        with self.lock:
            self._in_flight[request.host] -= 1
            self.log.append(request)
            self.counts[request.service] += 1
            self.points[request.service] += request.cost

    def requests(self, service: Service | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.log if service is None or r.service == service]

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()
            self.counts.clear()
            self.points.clear()
            self.max_in_flight.clear()
            self.chaos.reset_counts()

    def stats(self) -> dict[str, object]:
        with self.lock:
            return {
                "requests": dict(self.counts),
                "points": dict(self.points),
                "max_in_flight": dict(self.max_in_flight),
                "repos": len(self.repos),
                "hf_repos": len(self.hf_repos),
                "papers": len(self.papers),
                "pages": len(self.pages),
                "wayback_captures": sum(len(c) for c in self.wayback_captures.values()),
                "chaos": self.chaos.stats(),
            }

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def in_days(self, days: float) -> datetime:
        return self.now() + timedelta(days=days)


def split_page_url(url: str) -> tuple[str, str]:
    """("", "/path") for a path on the emulator's own web host, (host, "/path?q") for a URL.

    Paths and queries are kept percent-decoded, so a page set as `?q=是` is found
    when a client sends `?q=%E6%98%AF`.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = "" if url.startswith("/") else (parts.netloc or "").lower()
    return host, page_key(parts.path or "/", parts.query)


def page_key(path: str, query: str) -> str:
    from urllib.parse import unquote

    return unquote(path) + (f"?{unquote(query)}" if query else "")
