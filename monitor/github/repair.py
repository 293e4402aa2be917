"""`monitor catalog fix --pr`: one repair pull request, made through the GitHub API.

    result = repair(settings, store.sources(), name="owner/list", catalog="sources.toml")

What it changes. The documents of the repository's own catalog (`[catalog] documents`,
relative to the catalog's folder) and the catalog itself, read from the base branch's
head commit, get every rename, transfer and permanent redirect the store knows
(`relocations`) applied by the same pure functions as the local `catalog fix`
(`fix_document`, `fix_catalog`); every other byte of those files is kept, their
encoding and byte-order mark included. Dead and deleted links are not replaced: a
dead link may come back, or have a better successor than an archived copy, and
which is for the maintainer to say. The description proposes, for each, the Wayback
Machine's capture from before it died (wayback.py).

Where the catalog lives in the repository: at the path `MONITOR_CATALOG` (or
`--catalog`) names relative to the current directory, which in a GitHub Action is
the checkout's root; by default `sources.toml` at the root.

How it writes, with no clone: the git data API. Files are read with the contents
API at the base commit (files.py); a changed file becomes a blob (base64: bytes as they are),
the blobs one tree on the base commit's tree (`base_tree`), that tree one commit
whose parent is the base head, and `refs/heads/monitor/fix-links` is created or
force-moved to it. One commit for every file, where the contents API would make a
commit per file; and nothing is visible until the ref moves, so a token refused
halfway leaves no half-made branch. The branch is monitor's: it is rebuilt from
the base branch whenever what it should hold changes.

When it writes. The branch's files are compared with what they should be (git blob
ids, computed here), so a run with nothing new makes no commit; the description and
title are edited only when their text changes. The pull request is found by its
head branch among the open ones; when there is none (merged or closed) a new one is
opened, except that fixes a maintainer closed unmerged are not offered again until
something new is added to them (the fingerprint in the description's marker). When
nothing is left to replace (the fixes were made by hand), an open one is closed
with a comment saying so.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from monitor.catalog.extract import MARKDOWN_SUFFIXES, extract_links
from monitor.catalog.file import parse_catalog
from monitor.catalog.fix import Move, fix_catalog, fix_document, relocations
from monitor.catalog.kinds import NotAWebURL, identify
from monitor.errors import DocumentError, Problem, UserInputError
from monitor.github import repair_text as words
from monitor.github.client import connect
from monitor.github.files import (
    RepoFile,
    asking,
    blob_id,
    document_paths,
    read_file,
)
from monitor.github.repair_text import BRANCH, DeadLink, Replacement
from monitor.github.wayback import Lookup, Wayback
from monitor.model import Health
from monitor.settings import Settings, resolve_settings
from monitor.store import StoredSource

if TYPE_CHECKING:
    from github.GitCommit import GitCommit
    from github.PullRequest import PullRequest
    from github.Repository import Repository

CONTENTS = "contents: write"
PULLS = "pull-requests: write"


@dataclass(frozen=True)
class Plan:
    """What the repair pull request should be, from the store and the base branch."""

    repository: str
    base: str
    base_commit: GitCommit
    catalog: str
    files: tuple[RepoFile, ...]
    replacements: tuple[Replacement, ...]
    dead: tuple[DeadLink, ...]
    title: str
    body: str
    message: str
    fingerprint: str

    @property
    def changed(self) -> tuple[RepoFile, ...]:
        return tuple(f for f in self.files if f.changed)

    @property
    def lookups_failed(self) -> bool:
        return any(d.lookup.failed for d in self.dead)


@dataclass(frozen=True)
class Repair:
    """What `catalog fix --pr` did (or, with `dry_run`, would do).

    `action`: "opened", "updated" (a new commit, a new description, or both),
    "unchanged", "closed" (nothing left to replace), "nothing" (nothing to replace and
    no pull request), "declined" (the same fixes were closed unmerged before).
    """

    plan: Plan
    action: str
    number: int | None = None
    url: str | None = None
    commit: str | None = None
    edited: tuple[str, ...] = ()
    dry_run: bool = False
    #: requests made to GitHub (reads included) and to the Wayback Machine
    requests: int = 0
    archive_requests: int = 0


# --- planning ----------------------------------------------------------------------------------


def repair(
    settings: Settings,
    sources: Sequence[StoredSource],
    *,
    name: str,
    catalog: str,
    base: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Repair:
    """Open, update or leave the repair pull request of repository `name`."""
    connection = connect(settings, name)
    repo = connection.repo
    branch = base or repo.default_branch
    with Wayback.from_settings(settings) as wayback:
        plan = plan_repair(
            repo,
            name,
            branch,
            catalog,
            sources,
            wayback,
            now or settings.now or datetime.now(UTC),
        )
    done = carry_out(repo, plan, dry_run=dry_run)
    return replace(done, requests=connection.counter.requests, archive_requests=wayback.requests)


def plan_repair(
    repo: Repository,
    name: str,
    base: str,
    catalog: str,
    sources: Sequence[StoredSource],
    wayback: Wayback,
    now: datetime,
) -> Plan:
    """The files, replacements, dead links and words of the pull request."""
    head = _base_head(repo, name, base)
    where = f"{name}@{base}:{catalog}"
    catalog_file = read_file(repo, name, catalog, head.sha, where)
    if catalog_file is None:
        raise UserInputError(
            [
                Problem(
                    where,
                    "no such file in the repository's base branch",
                    hint="MONITOR_CATALOG (or --catalog) names the catalog by its path in the "
                    "repository, relative to the current directory: run from the checkout's "
                    "root, or pass --base",
                )
            ]
        )
    parsed = parse_catalog(catalog_file.before, Path(where))
    documents = resolve_settings(
        {},
        {"catalog": parsed.tables.get("catalog", {})},
        where=where,
        line_of=parsed.line_of,
    ).documents
    files: list[RepoFile] = []
    missing: list[Problem] = []
    for path in document_paths(catalog, documents, where):
        found = read_file(repo, name, path, head.sha, f"{name}@{base}:{path}")
        if found is None:
            missing.append(
                Problem(
                    where,
                    f"[catalog] documents names {path}, which the base branch {base} does not have",
                )
            )
        else:
            files.append(found)
    if missing:
        raise DocumentError(missing)

    moves = relocations(sources)
    fixed = [_fix_document(f, moves) for f in files]
    text, applied = fix_catalog(catalog_file.before, moves)
    fixed.append(_with(catalog_file, text, applied))
    lines = {e.key: e.line for e in parsed.entries}
    replacements = _replacements(fixed, catalog, lines, {s.key: s for s in sources})
    dead = _dead_links(sources, fixed[:-1], catalog, lines, wayback, now)
    paths = [f.path for f in fixed if f.changed]
    return Plan(
        repository=name,
        base=base,
        base_commit=head,
        catalog=catalog,
        files=tuple(fixed),
        replacements=replacements,
        dead=dead,
        title=words.title(replacements),
        body=words.description(replacements, dead, paths, catalog),
        message=words.commit_message(replacements, paths),
        fingerprint=words.fingerprint(replacements),
    )


def _fix_document(file: RepoFile, moves: dict[str, Move]) -> RepoFile:
    markdown = PurePosixPath(file.path).suffix.lower() in MARKDOWN_SUFFIXES
    text, applied = fix_document(file.before, file.path, moves, markdown=markdown)
    return _with(file, text, applied)


def _with(file: RepoFile, after: str, applied: Sequence[Move]) -> RepoFile:
    return RepoFile(
        file.path, file.data, file.before, after, tuple(applied), file.prefix, file.encoding
    )


def _replacements(
    files: Sequence[RepoFile],
    catalog: str,
    entry_lines: dict[str, int | None],
    sources: dict[str, StoredSource],
) -> tuple[Replacement, ...]:
    """Each move applied anywhere, once, with the places it was replaced, in file order."""
    places: dict[str, list[str]] = {}
    moves: dict[str, Move] = {}
    for file in files:
        for move in file.applied:
            moves.setdefault(move.key, move)
            places.setdefault(move.key, [])
        if file.path == catalog:
            for move in dict.fromkeys(file.applied):
                line = _url_line(file.before, entry_lines.get(move.key), move.old_url)
                places[move.key].append(f"{catalog}:{line}" if line else catalog)
            continue
        # A replacement never adds or removes a line: line N before is line N after.
        pairs = zip(file.before.splitlines(), file.after.splitlines(), strict=False)
        for number, (old, new) in enumerate(pairs, start=1):
            if old == new:
                continue
            for move in dict.fromkeys(file.applied):
                if new.count(move.new_url) > old.count(move.new_url):
                    places[move.key].append(f"{file.path}:{number}")
    return tuple(
        Replacement(move, words.evidence(sources.get(key), move), tuple(places[key]))
        for key, move in moves.items()
    )


def _url_line(text: str, entry: int | None, url: str) -> int | None:
    """The line of an entry's `url` (the first naming it from the entry's header on)."""
    if entry is None:
        return None
    lines = text.splitlines()
    quoted = (f'"{url}"', f"'{url}'")
    found = (n for n in range(entry, len(lines) + 1) if any(q in lines[n - 1] for q in quoted))
    return next(found, entry)


def _dead_links(
    sources: Sequence[StoredSource],
    documents: Sequence[RepoFile],
    catalog: str,
    entry_lines: dict[str, int | None],
    wayback: Wayback,
    now: datetime,
) -> tuple[DeadLink, ...]:
    """Every link confirmed dead or deleted (not ignored, not snoozed), with an archived copy."""
    gone = [
        s
        for s in sources
        if s.state.health in (Health.DEAD, Health.DELETED)
        and not s.judgement.ignore
        and not s.judgement.snoozed(now)
    ]
    if not gone:
        return ()
    wanted = {s.key for s in gone}
    places: dict[str, list[str]] = {key: [] for key in wanted}
    for file in documents:
        markdown = PurePosixPath(file.path).suffix.lower() in MARKDOWN_SUFFIXES
        for link in extract_links(file.before, file.path, markdown=markdown).links:
            try:
                key = identify(link.url).key
            except NotAWebURL:
                continue
            place = f"{file.path}:{link.line}"
            if key in wanted and place not in places[key]:
                places[key].append(place)
    found: list[DeadLink] = []
    for source in gone:
        where = places[source.key]
        if not where and entry_lines.get(source.key):
            where = [f"{catalog}:{entry_lines[source.key]}"]
        state = source.state
        lookup = wayback.before(source.url, state.last_ok_at) if state.last_ok_at else Lookup()
        found.append(
            DeadLink(
                source.url,
                source.name,
                state.health,
                state.failing_since,
                state.last_ok_at,
                lookup,
                tuple(where),
            )
        )
    return tuple(sorted(found, key=lambda d: (_order(d.places), d.url)))


def _order(places: Sequence[str]) -> tuple[str, int]:
    if not places:
        return ("\uffff", 0)
    path, _, line = places[0].rpartition(":")
    return (path, int(line)) if line.isdigit() else (places[0], 0)


# --- reading the repository --------------------------------------------------------------------


def _base_head(repo: Repository, name: str, base: str) -> GitCommit:
    from github import UnknownObjectException

    with asking(name, f"read the branch {base}"):
        try:
            sha = repo.get_git_ref(f"heads/{base}").object.sha
        except UnknownObjectException:
            raise UserInputError(
                [Problem(f"--base {base}", f"{name} has no branch {base}")]
            ) from None
        return repo.get_git_commit(sha)


def _holds(repo: Repository, name: str, commit: str, plan: Plan) -> bool:
    """Whether `commit` already has every file as the plan wants it (blob ids compared)."""
    from github import UnknownObjectException

    with asking(name, f"read the branch {BRANCH}"):
        for file in plan.files:
            try:
                found = repo.get_contents(file.path, ref=commit)
            except UnknownObjectException:
                return False
            if isinstance(found, list) or found.sha != blob_id(file.encoded()):
                return False
    return True


def _open_pull(repo: Repository, name: str) -> PullRequest | None:
    with asking(name, "list pull requests"):
        head = f"{repo.owner.login}:{BRANCH}"
        return next(iter(repo.get_pulls(state="open", head=head)), None)


def _declined(repo: Repository, name: str, plan: Plan) -> PullRequest | None:
    """The last pull request of these same fixes, if a maintainer closed it unmerged."""
    with asking(name, "list pull requests"):
        head = f"{repo.owner.login}:{BRANCH}"
        pulls = repo.get_pulls(state="closed", head=head, sort="created", direction="desc")
        last = next(iter(pulls), None)
    if last is None or last.merged_at is not None:
        return None
    return last if words.fingerprint_of(last.body) == plan.fingerprint else None


def _branch_head(repo: Repository, name: str) -> Any:
    """The branch's ref (read), or None when it does not exist."""
    from github import UnknownObjectException

    with asking(name, f"read the branch {BRANCH}"):
        try:
            return repo.get_git_ref(f"heads/{BRANCH}")  # read at once (the client is not lazy)
        except UnknownObjectException:
            return None


# --- writing -----------------------------------------------------------------------------------


def carry_out(repo: Repository, plan: Plan, *, dry_run: bool = False) -> Repair:
    """Make the branch and the pull request what the plan says, writing only what differs."""
    name = plan.repository
    pull = _open_pull(repo, name)
    if not plan.changed:
        if pull is None:
            return Repair(plan, "nothing", dry_run=dry_run)
        if not dry_run:
            with asking(name, f"close pull request #{pull.number}", PULLS):
                pull.create_issue_comment(
                    "Nothing is left to replace: the base branch already uses the new URLs. "
                    "Closing; `monitor catalog fix --pr` opens a new pull request when it "
                    "learns of more moved links."
                )
                pull.edit(state="closed")
        return Repair(plan, "closed", pull.number, pull.html_url, dry_run=dry_run)

    ref: Any = None
    if pull is not None:
        current: str | None = pull.head.sha
    else:
        declined = _declined(repo, name, plan)
        if declined is not None:
            return Repair(plan, "declined", declined.number, declined.html_url, dry_run=dry_run)
        ref = _branch_head(repo, name)
        current = ref.object.sha if ref is not None else None
    fresh = current is not None and _holds(repo, name, current, plan)

    commit = None
    if not fresh and not dry_run:
        if pull is not None:
            ref = _branch_head(repo, name)
        commit = _commit(repo, plan, ref)
    if pull is None:
        if dry_run:
            return Repair(plan, "opened", dry_run=True)
        with asking(name, f"open a pull request from {BRANCH}", PULLS):
            made = repo.create_pull(base=plan.base, head=BRANCH, title=plan.title, body=plan.body)
        return Repair(plan, "opened", made.number, made.html_url, commit)

    edits: dict[str, Any] = {}
    if pull.title != plan.title:
        edits["title"] = plan.title
    body = (pull.body or "").replace("\r\n", "\n")
    # A description written while the archive did not answer would lose its proposals:
    # it waits for a run that brings something new, or an archive that answers.
    if body != plan.body and not (plan.lookups_failed and fresh):
        edits["body"] = plan.body
    if pull.base.ref != plan.base:
        edits["base"] = plan.base
    if edits and not dry_run:
        with asking(name, f"edit pull request #{pull.number}", PULLS):
            pull.edit(**edits)
    changed = bool(edits) or not fresh
    shown = tuple(edits) + (() if fresh else ("commit",))
    return Repair(
        plan,
        "updated" if changed else "unchanged",
        pull.number,
        pull.html_url,
        commit,
        shown,
        dry_run,
    )


def _commit(repo: Repository, plan: Plan, ref: Any) -> str:
    """One commit on the base head with every changed file; the branch moved (or made) to it."""
    from github import InputGitTreeElement

    name = plan.repository
    with asking(name, f"write the fixes to the branch {BRANCH}", CONTENTS):
        elements = []
        for file in plan.changed:
            content = base64.b64encode(file.encoded()).decode("ascii")
            blob = repo.create_git_blob(content, "base64")
            elements.append(InputGitTreeElement(file.path, "100644", "blob", sha=blob.sha))
        tree = repo.create_git_tree(elements, base_tree=plan.base_commit.tree)
        commit = repo.create_git_commit(plan.message, tree, [plan.base_commit])
        if ref is None:
            repo.create_git_ref(f"refs/heads/{BRANCH}", commit.sha)
        else:
            ref.edit(commit.sha, force=True)
    return commit.sha
