"""The links a change adds to the documents: git diff, read by the importer's own extractor.

    base = resolve_base(root, None, os.environ)        # the merge base with the default branch
    change = added_links(root, base, ["README.md"])   # links on added lines, new to the document

Owns everything `monitor gate` asks of git: the repository's root, the base
revision, which lines of a document are new, and what the document said at the
base. A link counts as added when it sits on a line the change adds and the
document did not link to the same resource (`kinds.identify(url).key`) at the
base, so a line that is only reworded, moved or re-indented never blames the
change for a link that was there (and perhaps broken) before it.

Documents are compared in the working tree with the base commit, so the gate
sees what a contributor has not committed yet, and in CI, where the checkout is
the pull request's head, exactly the pull request.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.catalog.extract import HTML_SUFFIXES, MARKDOWN_SUFFIXES, extract_links, read_document
from monitor.catalog.kinds import NotAWebURL, Resource, identify
from monitor.catalog.links import Extraction, Link
from monitor.errors import DocumentError, GitError, Problem

#: What the gate reads when no document is named and the catalog names none: these,
#: wherever the change touches them.
DOCUMENT_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | {".txt", ".rst"}

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_FETCH_HINT = (
    "fetch the base first (git fetch origin main); in GitHub Actions give "
    "actions/checkout `fetch-depth: 0`"
)


@dataclass(frozen=True, slots=True)
class Base:
    """The revision the documents are compared with."""

    sha: str
    #: how it was chosen, for the output: "origin/main" or "the merge base with origin/main"
    described: str


@dataclass(frozen=True, slots=True)
class Added:
    """A link the change adds: where it is, and what it is."""

    link: Link
    resource: Resource


@dataclass(frozen=True, slots=True)
class Malformed:
    """A destination on an added line that meant to be a web link but is none."""

    document: str
    line: int
    written: str
    reason: str


@dataclass(frozen=True, slots=True)
class Change:
    """What the change adds to the documents."""

    base: Base
    documents: tuple[str, ...]
    links: tuple[Added, ...]
    malformed: tuple[Malformed, ...] = ()
    #: links on added lines the document already had at the base (not the change's doing)
    kept: int = 0
    #: links left out by `[catalog] exclude`
    excluded: int = 0


def git(root: Path, *args: str) -> str:
    """Run git in `root` and return its output; `GitError` with git's own words if it fails."""
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=root,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitError(
            [Problem("git", "is not installed", hint="install git: monitor gate compares with it")]
        ) from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(
            [Problem(f"git {' '.join(args)}", said[-1] if said else f"exit {done.returncode}")]
        )
    return done.stdout.decode("utf-8", "replace")


def repository_root(start: Path) -> Path:
    """The top folder of the git repository holding `start`."""
    try:
        return Path(git(start, "rev-parse", "--show-toplevel").strip())
    except GitError:
        raise GitError(
            [
                Problem(
                    str(start),
                    "is not inside a git repository",
                    hint="run monitor gate in a clone of the list's repository",
                )
            ]
        ) from None


def resolve_base(root: Path, given: str | None, environ: Mapping[str, str]) -> Base:
    """`given` (`--base REF`) as a commit; by default the merge base of HEAD with the default
    branch (the pull request's base branch in GitHub Actions, else `origin/HEAD`, else the
    first of origin/main, origin/master, main and master that exists)."""
    if given:
        return Base(_commit(root, given), given)
    candidates: list[str] = []
    pull_base = environ.get("GITHUB_BASE_REF", "").strip()
    if pull_base:
        candidates += [f"origin/{pull_base}", pull_base]
    try:
        origin_head = git(root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD").strip()
        candidates.append(origin_head.removeprefix("refs/remotes/"))
    except GitError:
        pass
    candidates += ["origin/main", "origin/master", "main", "master"]
    for name in dict.fromkeys(candidates):
        try:
            _commit(root, name)
        except GitError:
            continue
        try:
            sha = git(root, "merge-base", "HEAD", name).strip()
        except GitError:
            raise GitError(
                [
                    Problem(
                        "--base",
                        f"HEAD and {name} share no history here (a shallow clone?)",
                        hint=_FETCH_HINT,
                    )
                ]
            ) from None
        return Base(sha, f"the merge base with {name}")
    raise GitError(
        [
            Problem(
                "--base",
                "cannot find the default branch to compare with (tried "
                + ", ".join(dict.fromkeys(candidates))
                + ")",
                hint="name it: monitor gate --base origin/main",
            )
        ]
    )


def _commit(root: Path, name: str) -> str:
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}").strip()
    except GitError:
        raise GitError(
            [Problem("--base", f"{name!r} is not a commit in this repository", hint=_FETCH_HINT)]
        ) from None


def changed_documents(root: Path, base: Base) -> tuple[str, ...]:
    """Documents (by suffix) that differ between `base` and the working tree, or are new and
    not yet tracked."""
    changed = git(root, "diff", "--name-only", "--no-renames", "--diff-filter=AM", base.sha)
    untracked = git(root, "ls-files", "--others", "--exclude-standard")
    names = [*changed.splitlines(), *untracked.splitlines()]
    return tuple(sorted({n for n in names if n and Path(n).suffix.lower() in DOCUMENT_SUFFIXES}))


def added_lines(diff: str) -> set[int]:
    """The new side's line numbers of every line a `git diff --unified=0` adds (pure)."""
    lines: set[int] = set()
    for text in diff.splitlines():
        match = _HUNK.match(text)
        if match is None:
            continue
        start, count = int(match[1]), int(match[2]) if match[2] is not None else 1
        lines.update(range(start, start + count))
    return lines


def added_links(
    root: Path,
    base: Base,
    documents: Sequence[str],
    *,
    exclude: Sequence[str] = (),
    include_code: bool = False,
) -> Change:
    """The links `documents` (paths relative to `root`) gain between `base` and the working
    tree, each where the working tree has it. A document missing from the working tree is
    `DocumentError` (exit 2)."""
    found: list[Added] = []
    malformed: list[Malformed] = []
    kept = excluded = 0
    problems: list[Problem] = []
    for name in dict.fromkeys(documents):
        path = root / name
        try:
            text = read_document(path) if path.stat().st_size else ""
        except FileNotFoundError:
            problems.append(Problem(name, "no such file", hint="name a document of this change"))
            continue
        except DocumentError as exc:
            problems.extend(exc.problems)
            continue
        before = _at_base(root, base, name)
        if before is None:
            lines: set[int] | None = None  # new to the repository: every line is added
        else:
            lines = added_lines(
                git(root, "diff", "--unified=0", "--no-color", base.sha, "--", name)
            )
            if not lines:
                continue
        had = {r.key for r in _resources(_extract(before or "", name, include_code))}
        extraction = _extract(text, name, include_code)
        for bad in extraction.malformed:
            if lines is None or bad.line in lines:
                malformed.append(Malformed(name, bad.line, bad.written, bad.reason))
        for link in extraction.links:
            if lines is not None and link.line not in lines:
                continue
            if any(re.search(pattern, link.url) for pattern in exclude):
                excluded += 1
                continue
            try:
                resource = identify(link.url)
            except NotAWebURL:
                continue  # the extractor's own warnings cover it; not a web link to check
            if resource.key in had:
                kept += 1
                continue
            found.append(Added(link, resource))
    if problems:
        raise DocumentError(problems)
    return Change(
        base, tuple(dict.fromkeys(documents)), tuple(found), tuple(malformed), kept, excluded
    )


def _at_base(root: Path, base: Base, name: str) -> str | None:
    """The document's text at the base, or None when it did not exist there."""
    try:
        git(root, "cat-file", "-e", f"{base.sha}:{name}")
    except GitError:
        return None
    return git(root, "show", f"{base.sha}:{name}")


def _extract(text: str, name: str, include_code: bool) -> Extraction:
    suffix = Path(name).suffix.lower()
    return extract_links(
        text,
        name,
        markdown=suffix in MARKDOWN_SUFFIXES,
        html=suffix in HTML_SUFFIXES,
        include_code=include_code,
    )


def _resources(extraction: Extraction) -> list[Resource]:
    found = []
    for link in extraction.links:
        try:
            found.append(identify(link.url))
        except NotAWebURL:
            continue
    return found
