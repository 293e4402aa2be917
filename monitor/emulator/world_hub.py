"""The Hugging Face Hub's part of the emulated world: repositories, owners, the files and
revisions of each repository, and the one-call changes a test makes to them.

`World` inherits `HubWorld`, so these are `world.add_hf_repo(...)`, `world.hf_rename(...)`,
`world.hf_add_file(...)` and so on, under the world's lock like every other change.

A repository's files are one list of paths (`HfRepo.files`); its folders are the parents
of those paths, as in git (a folder exists while a file is under it). Every revision that
resolves (`HfRepo.revisions`: branch and tag names and the commits it had, plus the current
`sha`) holds those same files: the emulator keeps one tree per repository.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from monitor.emulator.basics import EPOCH, fake_sha, utc

HfType = Literal["model", "dataset", "space"]
HfStatus = Literal["ok", "deleted", "disabled"]
Gated = Literal[False, "auto", "manual"]
PathType = Literal["file", "directory"]


@dataclass
class HfRepo:
    type: HfType
    id: str
    object_id: str
    sha: str
    likes: int = 0
    downloads: int = 0
    created_at: datetime = EPOCH
    last_modified: datetime = EPOCH
    private: bool = False
    gated: Gated = False
    #: SPDX-like id as the Hub writes it (`apache-2.0`, `other`); None: no licence
    license: str | None = "apache-2.0"
    pipeline_tag: str | None = "text-generation"
    library_name: str | None = "transformers"
    tags: list[str] = field(default_factory=list)
    #: every file's path; folders are their parents
    files: list[str] = field(default_factory=lambda: [".gitattributes", "README.md"])
    #: branch and tag names, and earlier commits, that resolve (besides the current `sha`)
    revisions: set[str] = field(default_factory=lambda: {"main"})
    status: HfStatus = "ok"
    #: tokens allowed to see a private repo
    collaborators: set[str] = field(default_factory=set)

    @property
    def author(self) -> str:
        return self.id.split("/")[0] if "/" in self.id else ""

    def resolves(self, revision: str) -> bool:
        """Whether `revision` (a branch, a tag or a commit) names a commit of this repo."""
        return revision == self.sha or revision in self.revisions

    def path_type(self, path: str) -> PathType | None:
        """The type of `path`: "file", "directory" or None (no such path); "" is the root."""
        path = path.strip("/")
        if not path:
            return "directory"
        if path in self.files:
            return "file"
        if any(f.startswith(path + "/") for f in self.files):
            return "directory"
        return None


@dataclass
class HfOwner:
    name: str
    type: Literal["user", "org"] = "org"
    fullname: str = ""
    object_id: str = ""


class HubWorld:
    """The Hub's repositories and owners, and the changes a test makes to them."""

    lock: threading.RLock
    hf_repos: dict[tuple[HfType, str], HfRepo]
    _hf_moved: dict[tuple[HfType, str], str]
    hf_owners: dict[str, HfOwner]

    def _init_hub(self) -> None:
        self.hf_repos = {}
        self._hf_moved = {}
        self.hf_owners = {}

    def add_hf_repo(
        self,
        repo_id: str,
        type: HfType = "model",
        *,
        likes: int = 0,
        downloads: int = 0,
        license: str | None = "apache-2.0",
        gated: Gated = False,
        private: bool = False,
        last_modified: datetime | str = EPOCH,
        created_at: datetime | str = EPOCH,
        status: HfStatus = "ok",
    ) -> HfRepo:
        with self.lock:
            if "/" in repo_id:
                owner = repo_id.split("/")[0]
                if owner.lower() not in self.hf_owners:
                    self.add_hf_owner(owner)
            repo = HfRepo(
                type=type,
                id=repo_id,
                object_id=fake_sha("hf", type, repo_id)[:24],
                sha=fake_sha("hf-sha", repo_id, last_modified),
                likes=likes,
                downloads=downloads,
                license=license,
                gated=gated,
                private=private,
                last_modified=utc(last_modified),
                created_at=utc(created_at),
                status=status,
            )
            if type != "model":
                repo.pipeline_tag = repo.library_name = None
            self.hf_repos[(type, repo_id.lower())] = repo
            return repo

    def add_hf_owner(self, name: str, type: Literal["user", "org"] = "org") -> HfOwner:
        with self.lock:
            owner = HfOwner(name, type, name, fake_sha("hf-owner", name)[:24])
            self.hf_owners[name.lower()] = owner
            return owner

    def hf_repo(self, repo_id: str, type: HfType = "model") -> HfRepo:
        with self.lock:
            return self.hf_repos[(type, repo_id.lower())]

    def find_hf_repo(self, repo_id: str, type: HfType) -> tuple[HfRepo | None, str | None]:
        """(repo, new id if it moved away from `repo_id`)."""
        with self.lock:
            key = (type, repo_id.lower())
            if key in self.hf_repos:
                return self.hf_repos[key], None
            if key in self._hf_moved:
                return None, self._hf_moved[key]
            return None, None

    def hf_like(self, repo_id: str, likes: int, type: HfType = "model") -> None:
        with self.lock:
            self.hf_repo(repo_id, type).likes = likes

    def hf_update(self, repo_id: str, when: datetime | str, type: HfType = "model") -> None:
        """A new commit on the Hub repo: `sha` and `lastModified` change (the old commit
        still resolves, as a pinned revision)."""
        with self.lock:
            repo = self.hf_repo(repo_id, type)
            repo.revisions.add(repo.sha)
            repo.last_modified = utc(when)
            repo.sha = fake_sha("hf-sha", repo_id, repo.last_modified)

    def hf_rename(self, repo_id: str, new_id: str, type: HfType = "model") -> HfRepo:
        """The old id answers 307 to the new one."""
        with self.lock:
            repo = self.hf_repos.pop((type, repo_id.lower()))
            repo.id = new_id
            self.hf_repos[(type, new_id.lower())] = repo
            self._hf_moved[(type, repo_id.lower())] = new_id
            self._hf_moved.pop((type, new_id.lower()), None)
            return repo

    def hf_delete(self, repo_id: str, type: HfType = "model") -> None:
        """Gone: 401 with X-Error-Code RepoNotFound for anonymous callers, 404 with a token."""
        with self.lock:
            self.hf_repo(repo_id, type).status = "deleted"

    def hf_disable(self, repo_id: str, type: HfType = "model") -> None:
        with self.lock:
            self.hf_repo(repo_id, type).status = "disabled"

    def hf_gate(self, repo_id: str, gated: Gated = "manual", type: HfType = "model") -> None:
        with self.lock:
            self.hf_repo(repo_id, type).gated = gated

    def hf_set_license(self, repo_id: str, license: str | None, type: HfType = "model") -> None:
        with self.lock:
            self.hf_repo(repo_id, type).license = license

    # --- files, folders and revisions -----------------------------------------------------------

    def hf_add_file(self, repo_id: str, path: str, type: HfType = "model") -> None:
        """A file at `path` (and so the folders above it), in every revision of the repo.
        The repo's `sha` does not change: `hf_update` is the commit, when a test wants one."""
        with self.lock:
            repo = self.hf_repo(repo_id, type)
            path = path.strip("/")
            if not path:
                raise ValueError("a file needs a path")
            if path not in repo.files:
                repo.files.append(path)

    def hf_remove_path(self, repo_id: str, path: str, type: HfType = "model") -> None:
        """Remove a file, or a folder with everything under it: its paths-info entry goes,
        and its tree answers 404 EntryNotFound."""
        with self.lock:
            repo = self.hf_repo(repo_id, type)
            prefix = path.strip("/")
            repo.files = [f for f in repo.files if f != prefix and not f.startswith(prefix + "/")]

    def hf_add_revision(self, repo_id: str, revision: str, type: HfType = "model") -> None:
        """A branch or tag named `revision` (holding the repo's files)."""
        with self.lock:
            self.hf_repo(repo_id, type).revisions.add(revision)

    def hf_remove_revision(self, repo_id: str, revision: str, type: HfType = "model") -> None:
        """The branch or tag is deleted: asking for it answers 404 RevisionNotFound."""
        with self.lock:
            self.hf_repo(repo_id, type).revisions.discard(revision)
