"""GitHub's write side of the emulated world: labels, comments, pull requests, each
repository's git object store, what each token may do and how fast it may create content.

`World` inherits `GitHubWorld`, so its public methods are world mutations like any other
(`world.set_github_permissions(...)`, `world.commit_files(...)`, `world.merge_pull(...)`),
reachable from the control port; the module functions (`synced`, `move_branch`,
`ensure_labels`, …) are what the REST routes call, under `world.lock`, on a `Repo`.

A repository's files stay where the read side has always found them, `repo.trees[ref]`
and `repo.commits` (its default branch, newest first). Its git store (gitstore.py) is
kept in step both ways: `synced()` brings the store up to date with whatever the world
changed directly (`add_path`, `add_commit`), and `move_branch()` writes a pushed commit's
files back into `trees` and, on the default branch, its commits into `commits`.

Defaults are GitHub's: a token the world does not restrict may do everything (a classic
token with the `repo` scope); content creation is limited to 80 requests a minute and
500 an hour per token (every REST write counts); issues and pull requests share one
sequence of numbers per repository; new repositories have GitHub's nine default labels,
and a label an issue names that does not exist yet is created, grey (`ededed`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from monitor.emulator.basics import fake_sha, utc
from monitor.emulator.gitstore import FILE_MODE, GitCommit, GitStore, Leaf, Person

if TYPE_CHECKING:
    from monitor.emulator.world import Issue, Owner, Repo

#: The login of a token the world has not named a user for.
DEFAULT_USER = "octocat"
#: The permissions a write needs, as fine-grained tokens name them.
Permission = Literal["issues", "contents", "pull_requests"]
Level = Literal["none", "read", "write"]
PERMISSIONS: tuple[Permission, ...] = ("issues", "contents", "pull_requests")

_DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)


@dataclass
class Commit:
    """A commit as the read side lists it (`Repo.commits`, newest first)."""

    sha: str
    date: datetime
    message: str = "Update"
    author: str = "octocat"


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Comment:
    id: int
    body: str
    author: str
    created_at: datetime
    updated_at: datetime


@dataclass
class PullInfo:
    """What makes an issue a pull request: a branch of the same repository into another."""

    head: str
    base: str
    head_sha: str
    base_sha: str
    maintainer_can_modify: bool = True
    draft: bool = False
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    merged_by: str | None = None


def default_labels() -> dict[str, Label]:
    return {
        name: Label(int(fake_sha("label", name)[:8], 16), name, color, text, True)
        for name, color, text in _DEFAULT_LABELS
    }


def _level(value: str) -> Level:
    if value not in ("none", "read", "write"):
        raise ValueError(f'a permission is "none", "read" or "write", not {value!r}')
    return value  # type: ignore[return-value]


class GitHubWorld:
    """Tokens' permissions and users, the content-creation limit, and the changes a test
    makes to issues, labels, branches and pull requests."""

    lock: threading.RLock
    clock: Callable[[], float]
    github_permissions: dict[str, dict[str, Level]]
    github_token_users: dict[str, str]
    content_creation_limit: tuple[int, int]
    search_lag_seconds: float
    _creations: dict[str, deque[float]]

    if TYPE_CHECKING:

        def repo(self, full_name: str) -> Repo: ...

        def find_owner(self, login: str) -> Owner | None: ...

        def add_owner(
            self,
            login: str,
            *,
            type: Literal["User", "Organization"] = "Organization",
            name: str | None = None,
            created_at: datetime | str = ...,
        ) -> Owner: ...

        def now(self) -> datetime: ...

        def next_id(self) -> int: ...

    def _init_github_write(self) -> None:
        #: token -> {permission: level}; a token not in here may do everything
        self.github_permissions = {}
        #: token -> login of the user it belongs to (DEFAULT_USER when absent)
        self.github_token_users = {}
        #: content-generating requests allowed per minute and per hour, per token
        self.content_creation_limit = (80, 500)
        #: seconds before a new issue shows up in search (GitHub's index lags)
        self.search_lag_seconds = 0.0
        self._creations = {}

    # --- tokens ----------------------------------------------------------------------------

    def set_github_permissions(self, token: str, **levels: str) -> None:
        """What a fine-grained token may do, e.g. `set_github_permissions("t", issues="write",
        contents="read")`; permissions not named are "none". `pull-requests` may be spelled
        `pull_requests`."""
        chosen: dict[str, Level] = dict.fromkeys(PERMISSIONS, "none")
        for name, value in levels.items():
            key = name.replace("-", "_")
            if key not in PERMISSIONS:
                raise ValueError(f"unknown permission {name!r}; known: {list(PERMISSIONS)}")
            chosen[key] = _level(value)
        with self.lock:
            self.github_permissions[token] = chosen

    def clear_github_permissions(self, token: str) -> None:
        """The token may do everything again."""
        with self.lock:
            self.github_permissions.pop(token, None)

    def permission(self, token: str, name: Permission) -> Level:
        with self.lock:
            if not token:
                return "read"
            levels = self.github_permissions.get(token)
            return "write" if levels is None else levels.get(name, "none")

    def set_token_user(self, token: str, login: str) -> None:
        """The user `token` belongs to (the author of what it creates)."""
        with self.lock:
            self.github_token_users[token] = login

    def token_user(self, token: str) -> Owner:
        with self.lock:
            return self.user(self.github_token_users.get(token, DEFAULT_USER))

    def user(self, login: str) -> Owner:
        """The account `login`, made a user on first sight."""
        with self.lock:
            return self.find_owner(login) or self.add_owner(login, type="User")

    # --- the content-creation limit ----------------------------------------------------------

    def set_content_creation_limit(self, per_minute: int = 80, per_hour: int = 500) -> None:
        """How many content-generating requests (REST writes) a token may make."""
        with self.lock:
            self.content_creation_limit = (per_minute, per_hour)
            self._creations.clear()

    def set_search_lag(self, seconds: float) -> None:
        """New issues show up in `/search/issues` only `seconds` after they were opened,
        as GitHub's search index lags behind."""
        with self.lock:
            self.search_lag_seconds = seconds

    def creation_wait(self, token: str) -> int | None:
        """Seconds until `token` may create content again, or None if it may now."""
        with self.lock:
            now = self.clock()
            times = self._creations.setdefault(token, deque())
            while times and times[0] <= now - 3600:
                times.popleft()
            waits = []
            for allowed, window in zip(self.content_creation_limit, (60, 3600), strict=True):
                recent = [t for t in times if t > now - window]
                if len(recent) >= allowed:
                    oldest = recent[-allowed] if allowed else now
                    waits.append(max(1, int(oldest + window - now) + 1))
            return max(waits) if waits else None

    def record_creation(self, token: str) -> None:
        with self.lock:
            self._creations.setdefault(token, deque()).append(self.clock())

    # --- issues, labels, comments --------------------------------------------------------------

    def issues_of(self, full_name: str) -> list[Issue]:
        """The repository's issues (not its pull requests), by number."""
        with self.lock:
            issues = self.repo(full_name).issues.values()
            return sorted((i for i in issues if not i.is_pull), key=lambda i: i.number)

    def pulls_of(self, full_name: str) -> list[Issue]:
        """The repository's pull requests, by number."""
        with self.lock:
            issues = self.repo(full_name).issues.values()
            return sorted((i for i in issues if i.is_pull), key=lambda i: i.number)

    def add_label(
        self, full_name: str, name: str, color: str = "ededed", description: str | None = None
    ) -> Label:
        with self.lock:
            label = Label(self.next_id(), name, color.lstrip("#").lower(), description)
            self.repo(full_name).labels[name.lower()] = label
            return label

    def comment(
        self,
        full_name: str,
        number: int,
        body: str,
        author: str = DEFAULT_USER,
        when: datetime | str | None = None,
    ) -> Comment:
        """Someone comments on an issue or a pull request."""
        with self.lock:
            issue = self.repo(full_name).issues[number]
            date = utc(when) if when is not None else self.now()
            found = Comment(self.next_id(), body, self.user(author).login, date, date)
            issue.comments.append(found)
            issue.updated_at = date
            return found

    # --- branches and pull requests ------------------------------------------------------------

    def files_of(self, full_name: str, ref: str | None = None) -> dict[str, str]:
        """{path: content} on a branch (default: the default branch) or at a commit."""
        with self.lock:
            repo = self.repo(full_name)
            store = synced(repo, self.now())
            name = ref or repo.default_branch
            sha = store.branches.get(name, name)
            return store.files(sha) if store.kind(sha) == "commit" else {}

    def branch_head(self, full_name: str, branch: str | None = None) -> str | None:
        with self.lock:
            repo = self.repo(full_name)
            return synced(repo, self.now()).branches.get(branch or repo.default_branch)

    def commit_files(
        self,
        full_name: str,
        files: Mapping[str, str | None],
        *,
        branch: str | None = None,
        message: str = "Update files",
        author: str = DEFAULT_USER,
        when: datetime | str | None = None,
    ) -> str:
        """Someone pushes a commit to `branch` (made from the default branch if new) that
        writes `files` ({path: content}, None deletes); returns its sha."""
        with self.lock:
            repo = self.repo(full_name)
            date = utc(when) if when is not None else self.now()
            store = synced(repo, date)
            name = branch or repo.default_branch
            parent = store.branches.get(name) or store.branches.get(repo.default_branch)
            leaves: dict[str, Leaf] = (
                store.leaves(store.commit(parent).tree) if parent is not None else {}
            )
            for path, content in files.items():
                key = path.strip("/")
                if content is None:
                    leaves.pop(key, None)
                else:
                    leaves[key] = (FILE_MODE, "blob", store.put_blob(content.encode()))
            person = Person(author, f"{author}@users.noreply.github.com", date)
            sha = store.put_commit(
                GitCommit(
                    store.put_leaves(leaves),
                    (parent,) if parent else (),
                    message,
                    person,
                    person,
                )
            )
            move_branch(repo, name, sha, date)
            return sha

    def delete_branch(self, full_name: str, branch: str) -> None:
        with self.lock:
            repo = self.repo(full_name)
            synced(repo, self.now()).branches.pop(branch, None)
            repo.trees.pop(branch, None)

    def merge_pull(
        self, full_name: str, number: int, when: datetime | str | None = None, by: str = ""
    ) -> str:
        """A maintainer merges the pull request (a merge commit on its base); returns its sha."""
        with self.lock:
            repo = self.repo(full_name)
            issue = repo.issues[number]
            pull = issue.pull
            if pull is None or issue.state != "open":
                raise ValueError(f"#{number} is not an open pull request")
            date = utc(when) if when is not None else self.now()
            store = synced(repo, date)
            base = store.branches[pull.base]
            head = store.branches.get(pull.head, pull.head_sha)
            common = store.merge_base(head, base)
            files = store.files(base)
            theirs, before = store.files(head), store.files(common) if common else {}
            for path in set(theirs) | set(before):
                if theirs.get(path) != before.get(path):
                    if path in theirs:
                        files[path] = theirs[path]
                    else:
                        files.pop(path, None)
            login = self.user(by or repo.owner).login
            person = Person(login, f"{login}@users.noreply.github.com", date)
            sha = store.put_commit(
                GitCommit(
                    store.put_files(files),
                    (base, head),
                    f"Merge pull request #{number} from {repo.owner}/{pull.head}",
                    person,
                    person,
                )
            )
            # Closed first, so the pull request keeps the base it was merged into.
            issue.state, issue.closed_at, issue.updated_at = "closed", date, date
            pull.merged_at, pull.merge_commit_sha, pull.merged_by = date, sha, login
            pull.head_sha = head
            move_branch(repo, pull.base, sha, date)
            return sha


# --- what the REST routes call, under the world's lock ------------------------------------------


def next_number(repo: Repo) -> int:
    """Issues and pull requests share one sequence per repository."""
    return max(repo.issues, default=0) + 1


def ensure_labels(world: GitHubWorld, repo: Repo, names: list[str]) -> list[str]:
    """The labels' names as the repository spells them, creating (grey) the ones it lacks."""
    chosen: list[str] = []
    for name in names:
        label = repo.labels.get(name.lower())
        if label is None:
            label = Label(world.next_id(), name)
            repo.labels[name.lower()] = label
        if label.name not in chosen:
            chosen.append(label.name)
    return chosen


def _person(name: str, date: datetime) -> Person:
    return Person(name, f"{name}@users.noreply.github.com", date)


def synced(repo: Repo, now: datetime) -> GitStore:
    """The repository's git store, brought up to date with `trees` and `commits` as the
    world left them (files changed in place change the head commit's tree; commits added
    by `add_commit` become commits on top of the old head)."""
    store = repo.git
    order = sorted(repo.trees, key=lambda name: name != repo.default_branch)
    for name in order:
        files = repo.trees[name]
        head = store.branches.get(name)
        if name == repo.default_branch and repo.commits:
            known = [c for c in repo.commits if c.sha in store.objects]
            fresh = repo.commits[: repo.commits.index(known[0])] if known else repo.commits
            parent = known[0].sha if known else None
            tree = store.put_files(files)
            for commit in reversed(fresh):
                who = _person(commit.author, commit.date)
                store.put_commit(
                    GitCommit(tree, (parent,) if parent else (), commit.message, who, who),
                    commit.sha,
                )
                parent = commit.sha
            if head != repo.commits[0].sha:
                head = store.branches[name] = repo.commits[0].sha
        elif head is None:
            base = store.branches.get(repo.default_branch)
            who = _person(DEFAULT_USER, repo.created_at)
            head = store.branches[name] = store.put_commit(
                GitCommit(
                    store.put_files(files), (base,) if base else (), "Initial commit", who, who
                )
            )
        if store.files(head) != files:
            made = store.commit(head)
            store.objects[head] = replace(made, tree=store.put_files(files))
    for name in [b for b in store.branches if b not in repo.trees]:
        del store.branches[name]
    return store


def move_branch(repo: Repo, name: str, sha: str, now: datetime) -> None:
    """Point branch `name` at commit `sha` (a push): its files become `trees[name]`, the
    default branch's commits `commits`, `pushed_at` moves, and pull requests follow."""
    store = repo.git
    store.branches[name] = sha
    repo.trees[name] = store.files(sha)
    if name == repo.default_branch:
        known = {c.sha: i for i, c in enumerate(repo.commits)}
        walked: list[Commit] = []
        kept: list[Commit] = []
        for current in store.first_parents(sha):
            if current in known:
                kept = repo.commits[known[current] :]
                break
            commit = store.commit(current)
            walked.append(
                Commit(current, commit.committer.date, commit.message, commit.author.name)
            )
        repo.commits = walked + kept
    repo.pushed_at = max(repo.pushed_at, now)
    repo.updated_at = max(repo.updated_at, now)
    for issue in repo.issues.values():
        pull = issue.pull
        if pull is not None and issue.state == "open":
            if pull.head == name:
                pull.head_sha = sha
            if pull.base == name:
                pull.base_sha = sha


def commit_chain(repo: Repo, ref: str, now: datetime) -> list[Commit] | None:
    """The commits of a branch or from a commit, newest first (first parents), or None."""
    if ref == repo.default_branch:
        return repo.commits
    store = synced(repo, now)
    sha = store.branches.get(ref, ref)
    if store.kind(sha) != "commit":
        return None
    chain = []
    for current in store.first_parents(sha):
        commit = store.commit(current)
        chain.append(Commit(current, commit.committer.date, commit.message, commit.author.name))
    return chain
