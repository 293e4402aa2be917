"""A little git object store, one per emulated repository: blobs, trees, commits, branches.

Object ids are real git ids (SHA-1 over git's own encoding of each object), so a
file's blob sha is what `git hash-object` prints, the contents API's `sha` of a
file is its blob's, and a tree or commit built twice from the same parts gets
the same id. Nothing here knows about GitHub or the world: world_github.py keeps
a repository's store in step with its `trees` and `commits`, and github_git.py
serves it.

Paths are flat ("docs/a.md"); directories exist while something is under them,
as in git. A leaf is (mode, type, sha): a file ("100644"/"100755", blob), a
symbolic link ("120000", blob) or a submodule ("160000", commit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ObjectType = Literal["blob", "tree", "commit"]
#: (mode, type, sha) of a path that is not a directory
Leaf = tuple[str, ObjectType, str]
FILE_MODE = "100644"
TREE_MODE = "040000"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: datetime


@dataclass(frozen=True)
class Blob:
    data: bytes


@dataclass(frozen=True)
class TreeEntry:
    name: str
    mode: str
    type: ObjectType
    sha: str


@dataclass(frozen=True)
class Tree:
    entries: tuple[TreeEntry, ...]


@dataclass(frozen=True)
class GitCommit:
    tree: str
    parents: tuple[str, ...]
    message: str
    author: Person
    committer: Person


GitObject = Blob | Tree | GitCommit


def _hash(kind: str, payload: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(payload)}\0".encode() + payload).hexdigest()


def blob_sha(data: bytes | str) -> str:
    """The git id of a blob holding `data` (text is UTF-8)."""
    return _hash("blob", data.encode() if isinstance(data, str) else data)


def _signature(person: Person) -> str:
    return f"{person.name} <{person.email}> {int(person.date.timestamp())} +0000"


def _tree_order(entry: TreeEntry) -> str:
    return entry.name + "/" if entry.type == "tree" else entry.name


@dataclass
class GitStore:
    """Every object of one repository, by id, and its branches (name -> commit id)."""

    objects: dict[str, GitObject] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    # --- writing -------------------------------------------------------------------------------

    def put_blob(self, data: bytes) -> str:
        sha = blob_sha(data)
        self.objects[sha] = Blob(data)
        return sha

    def put_tree(self, entries: list[TreeEntry]) -> str:
        ordered = tuple(sorted(entries, key=_tree_order))
        payload = b"".join(
            f"{e.mode.lstrip('0')} {e.name}\0".encode() + bytes.fromhex(e.sha) for e in ordered
        )
        sha = _hash("tree", payload)
        self.objects[sha] = Tree(ordered)
        return sha

    def put_leaves(self, leaves: Mapping[str, Leaf]) -> str:
        """The root tree holding exactly `leaves` (nested trees are written as needed)."""
        children: dict[str, dict[str, Leaf]] = {}
        entries: list[TreeEntry] = []
        for path, (mode, kind, sha) in leaves.items():
            head, slash, rest = path.partition("/")
            if slash:
                children.setdefault(head, {})[rest] = (mode, kind, sha)
            else:
                entries.append(TreeEntry(head, mode, kind, sha))
        for name, below in children.items():
            entries.append(TreeEntry(name, TREE_MODE, "tree", self.put_leaves(below)))
        return self.put_tree(entries)

    def put_files(self, files: Mapping[str, str]) -> str:
        """The root tree of text files {path: content}, each a plain file."""
        return self.put_leaves(
            {
                path: (FILE_MODE, "blob", self.put_blob(text.encode()))
                for path, text in files.items()
            }
        )

    def put_commit(self, commit: GitCommit, sha: str | None = None) -> str:
        """Store `commit` under its git id, or under `sha` when the world already named it."""
        if sha is None:
            lines = [f"tree {commit.tree}", *(f"parent {p}" for p in commit.parents)]
            lines += [f"author {_signature(commit.author)}"]
            lines += [f"committer {_signature(commit.committer)}", "", commit.message]
            sha = _hash("commit", "\n".join(lines).encode())
        self.objects[sha] = commit
        return sha

    # --- reading -------------------------------------------------------------------------------

    def kind(self, sha: str) -> ObjectType | None:
        found = self.objects.get(sha)
        if found is None:
            return None
        return (
            "blob" if isinstance(found, Blob) else "tree" if isinstance(found, Tree) else "commit"
        )

    def blob(self, sha: str) -> Blob:
        found = self.objects[sha]
        if not isinstance(found, Blob):
            raise KeyError(sha)
        return found

    def tree(self, sha: str) -> Tree:
        found = self.objects[sha]
        if not isinstance(found, Tree):
            raise KeyError(sha)
        return found

    def commit(self, sha: str) -> GitCommit:
        found = self.objects[sha]
        if not isinstance(found, GitCommit):
            raise KeyError(sha)
        return found

    def leaves(self, tree_sha: str, prefix: str = "") -> dict[str, Leaf]:
        """Every non-directory path under a tree, flat."""
        found: dict[str, Leaf] = {}
        for entry in self.tree(tree_sha).entries:
            path = prefix + entry.name
            if entry.type == "tree":
                found.update(self.leaves(entry.sha, path + "/"))
            else:
                found[path] = (entry.mode, entry.type, entry.sha)
        return found

    def walk(self, tree_sha: str, prefix: str = "") -> Iterator[tuple[str, TreeEntry]]:
        """(path, entry) of every entry under a tree, directories before what they hold."""
        for entry in self.tree(tree_sha).entries:
            yield prefix + entry.name, entry
            if entry.type == "tree":
                yield from self.walk(entry.sha, prefix + entry.name + "/")

    def files(self, commit_sha: str) -> dict[str, str]:
        """{path: text} of every blob in a commit (symbolic links included; not submodules)."""
        return {
            path: self.blob(sha).data.decode("utf-8", "replace")
            for path, (_, kind, sha) in self.leaves(self.commit(commit_sha).tree).items()
            if kind == "blob"
        }

    def subtree(self, tree_sha: str, path: str) -> str | None:
        """The id of the directory `path` under a tree ("" is the tree itself), or None."""
        sha = tree_sha
        for part in [p for p in path.split("/") if p]:
            entry = next((e for e in self.tree(sha).entries if e.name == part), None)
            if entry is None or entry.type != "tree":
                return None
            sha = entry.sha
        return sha

    def ancestors(self, sha: str) -> list[str]:
        """`sha` and every commit it descends from, nearest first."""
        seen: list[str] = []
        queue = [sha]
        while queue:
            current = queue.pop(0)
            if current in seen or current not in self.objects:
                continue
            seen.append(current)
            queue.extend(self.commit(current).parents)
        return seen

    def merge_base(self, one: str, other: str) -> str | None:
        """The nearest commit both descend from."""
        theirs = set(self.ancestors(other))
        return next((sha for sha in self.ancestors(one) if sha in theirs), None)

    def first_parents(self, sha: str) -> Iterator[str]:
        """`sha`, its first parent, that one's first parent, and so on."""
        current: str | None = sha
        while current is not None and current in self.objects:
            yield current
            parents = self.commit(current).parents
            current = parents[0] if parents else None


def tree_sha(files: Mapping[str, str]) -> str:
    """The git id of the tree holding exactly these text files ({relative path: content})."""
    return GitStore().put_files(files)
