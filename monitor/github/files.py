"""Files of the list's repository as text: where they are, read at a commit, written back.

The catalog's path in the repository is its path relative to the current directory
(the checkout's root in a GitHub Action); `[catalog] documents` are relative to the
catalog's folder. A file is read through the contents API (the git blob API past
1 MB) and decoded as UTF-8, or UTF-16 with a byte-order mark; its byte-order mark
and codec are kept, so the bytes written back differ only where the text does.
`blob_id` is git's id of a blob, to compare a branch's file with what it should be
without downloading anything more.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import posixpath
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from monitor.catalog.fix import Move
from monitor.errors import DocumentError, Problem, RunFailed, UserInputError
from monitor.github.client import refusals

if TYPE_CHECKING:
    from github.Repository import Repository

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True, slots=True)
class RepoFile:
    """One file of the repository as the base branch holds it, and as the fixes leave it."""

    path: str
    data: bytes
    before: str
    after: str
    applied: tuple[Move, ...]
    #: the byte-order mark it began with and the codec of the rest, both kept when written
    prefix: bytes = b""
    encoding: str = "utf-8"

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def encoded(self) -> bytes:
        """The file's bytes after the fixes."""
        return self.prefix + self.after.encode(self.encoding) if self.changed else self.data


# --- where things are --------------------------------------------------------------------------


def catalog_in_repository(catalog: Path, cwd: Path | None = None) -> str:
    """The catalog's path inside the repository: `catalog` relative to the current directory
    (the checkout's root in a GitHub Action)."""
    here = cwd or Path.cwd()
    where = catalog if catalog.is_absolute() else here / catalog
    relative = None
    # As written first (a symbolic link named as the catalog stays itself), then resolved
    # (a current directory reached through a link).
    for inside, root in ((where.absolute(), here.absolute()), (where.resolve(), here.resolve())):
        try:
            relative = Path(posixpath.normpath(inside.as_posix())).relative_to(root)
            break
        except ValueError:
            continue
    path = posixpath.normpath(relative.as_posix()) if relative is not None else ""
    if not path or path == "." or path.startswith("../"):
        raise UserInputError(
            [
                Problem(
                    str(catalog),
                    "is not inside the current directory, so its path in the repository is unknown",
                    hint="run from the root of the repository's checkout, with MONITOR_CATALOG "
                    "(or --catalog) naming the catalog relative to it, e.g. sources.toml",
                )
            ]
        )
    return path


def document_paths(catalog: str, documents: Sequence[str], where: str) -> list[str]:
    """`[catalog] documents` (relative to the catalog's folder) as paths in the repository."""
    folder = posixpath.dirname(catalog)
    found: list[str] = []
    problems: list[Problem] = []
    for document in documents:
        path = posixpath.normpath(posixpath.join(folder, document))
        if PurePosixPath(document).is_absolute() or path.startswith("../") or path == "..":
            problems.append(
                Problem(
                    where,
                    f"[catalog] documents names {document!r}, which is outside the repository",
                    hint="name documents relative to the catalog's folder",
                )
            )
        elif path not in found:
            found.append(path)
    if problems:
        raise UserInputError(problems)
    return found


@contextmanager
def asking(name: str, doing: str, needs: str | None = None) -> Iterator[None]:
    """GitHub's refusals as `GitHubRefused` (exit 3); a network failure as `RunFailed`."""
    try:
        with refusals(name, doing, needs):
            yield
    except OSError as exc:  # requests' errors are OSErrors: no answer at all
        raise RunFailed(
            f"could not reach GitHub to {doing} in {name}: {type(exc).__name__}"
        ) from None


def read_file(repo: Repository, name: str, path: str, ref: str, where: str) -> RepoFile | None:
    """A text file at commit `ref`, or None when there is none at `path`."""
    from github import UnknownObjectException

    with asking(name, f"read {path}"):
        try:
            found = repo.get_contents(path, ref=ref)
        except UnknownObjectException:
            return None
        if isinstance(found, list) or found.type != "file":
            raise DocumentError([Problem(where, "is not a file")])
        if found.encoding == "base64" and found.content is not None:
            data = base64.b64decode(found.content)
        else:  # more than 1 MB: the contents API leaves the content out
            data = base64.b64decode(repo.get_git_blob(found.sha).content)
    prefix, encoding = next(((b, e) for b, e in _BOMS if data.startswith(b)), (b"", "utf-8"))
    try:
        text = data[len(prefix) :].decode(encoding)
    except UnicodeDecodeError as exc:
        raise DocumentError(
            [
                Problem(
                    where,
                    f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                    hint="monitor rewrites UTF-8 (or UTF-16 with a byte-order mark) only",
                )
            ]
        ) from None
    return RepoFile(path, data, text, text, (), prefix, encoding)


def blob_id(data: bytes) -> str:
    """Git's id of a blob holding `data`, as `git hash-object` and the contents API give it."""
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()
