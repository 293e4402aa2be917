"""Worlds from files: TOML scenarios, and a healthy world seeded from a catalog.

A scenario file sets up a world; every key is optional::

    latency_ms = 50                       # every answer waits this long
    github_tokens = ["ghp_test"]          # only these tokens are valid (default: any)
    hf_tokens = ["hf_test"]
    arxiv_min_interval = 3.0              # answer 503 to faster arXiv requests

    [[github.repo]]
    name = "tatsu-lab/stanford_alpaca"
    stars = 29000
    license = "Apache-2.0"                # an SPDX id, "NOASSERTION", or false for none
    last_commit = "2024-05-01T00:00:00Z"  # false: an empty repository
    pushed_at = "2024-05-02T00:00:00Z"
    archived = false
    status = "ok"                         # deleted | dmca | tos | unavailable
    default_branch = "main"
    files = ["README.md", "alpaca_data.json"]
    renamed_from = ["tatsu-lab/alpaca"]   # these names answer 301 to this repository
    issues = [{number = 51, state = "open"}]

    [[github.owner]]
    login = "THUDM"
    type = "Organization"                 # or "User"

    [[hf.repo]]
    id = "banana-dev/GPTrillion"
    type = "model"                        # dataset | space
    likes = 10
    license = "apache-2.0"
    gated = false                         # "auto" | "manual"
    status = "deleted"                    # ok | deleted | disabled
    renamed_from = ["bert-base-uncased"]
    files = ["README.md", "data/train.parquet"]   # folders are their parents
    revisions = ["v1.0"]                  # branches and tags besides main

    [[hf.owner]]
    name = "decapoda-research"
    type = "org"                          # or "user"

    [[arxiv.paper]]
    id = "2106.09685"
    title = "LoRA: Low-Rank Adaptation of Large Language Models"
    versions = ["2021-06-17T17:37:18Z", "2021-10-16T16:27:40Z"]

    [[web.page]]
    url = "/blog/post"                    # or a full URL on any host
    behaviour = ["ok", 503]               # cycled per request
    title = "A post"

`seed_world` builds a world in which every entry of a catalog exists and is
healthy, with plausible values derived deterministically from its URL, so the
whole real catalog can be polled offline. Entries that cannot exist on the real
service (an owner name with a space in it) are left out and reported.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from monitor.catalog.kinds import identify
from monitor.emulator.basics import utc
from monitor.emulator.world import World
from monitor.emulator.world_hub import Gated, HfRepo, HfType
from monitor.errors import Problem, UserInputError
from monitor.model import Entry, Kind


class ScenarioError(UserInputError):
    """A scenario file cannot be read or has invalid values."""


def load_scenario(path: Path, world: World | None = None) -> World:
    """Read a TOML scenario into `world` (a new one by default)."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError([Problem(where, "no such scenario file")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(where, f"not a valid TOML scenario: {exc}")]) from None
    world = world or World()
    try:
        apply_scenario(data, world)
    except (KeyError, TypeError, ValueError) as exc:
        raise ScenarioError(
            [
                Problem(
                    where,
                    f"invalid scenario: {type(exc).__name__}: {exc}",
                    hint="see the format in `monitor emulator serve --help`",
                )
            ]
        ) from None
    return world


def apply_scenario(data: Mapping[str, Any], world: World) -> None:
    """Add everything a parsed scenario describes to `world`."""
    if "latency_ms" in data:
        world.set_latency(float(data["latency_ms"]) / 1000)
    if "github_tokens" in data:
        world.github_tokens = set(data["github_tokens"])
    if "hf_tokens" in data:
        world.hf_tokens = set(data["hf_tokens"])
    if "arxiv_min_interval" in data:
        world.arxiv_min_interval = float(data["arxiv_min_interval"])
    github = data.get("github", {})
    for owner in github.get("owner", []):
        world.add_owner(
            owner["login"], type=owner.get("type", "Organization"), name=owner.get("name")
        )
    for spec in github.get("repo", []):
        _github_repo(world, spec)
    hf = data.get("hf", {})
    for owner in hf.get("owner", []):
        world.add_hf_owner(owner["name"], owner.get("type", "org"))
    for spec in hf.get("repo", []):
        _hf_repo(world, spec)
    for paper in data.get("arxiv", {}).get("paper", []):
        extra = {k: v for k, v in paper.items() if k not in ("id", "title", "versions")}
        world.add_paper(paper["id"], paper.get("title", paper["id"]), paper["versions"], **extra)
    for page in data.get("web", {}).get("page", []):
        behaviour = page.get("behaviour", ["ok"])
        behaviours = behaviour if isinstance(behaviour, list) else [behaviour]
        options = {k: v for k, v in page.items() if k not in ("url", "behaviour")}
        world.set_page(page["url"], *behaviours, **options)


def _github_repo(world: World, spec: Mapping[str, Any]) -> None:
    names = [*spec.get("renamed_from", []), spec["name"]]
    license = spec.get("license", "MIT")
    last_commit = spec.get("last_commit", "2024-01-01T00:00:00Z")
    repo = world.add_repo(
        names[0],
        stars=int(spec.get("stars", 0)),
        forks=int(spec.get("forks", 0)),
        license=None if license is False else license,
        last_commit=None if last_commit is False else last_commit,
        pushed_at=spec.get("pushed_at"),
        created_at=spec.get("created_at", "2020-01-01T00:00:00Z"),
        archived=bool(spec.get("archived", False)),
        private=bool(spec.get("private", False)),
        default_branch=spec.get("default_branch", "main"),
        files=spec.get("files", ["README.md"]),
        description=spec.get("description"),
    )
    for previous, new in itertools.pairwise(names):
        world.rename(previous, new)
    for issue in spec.get("issues", []):
        world.add_issue(
            repo.full_name,
            int(issue["number"]),
            state=issue.get("state", "open"),
            is_pull=bool(issue.get("pull", False)),
        )
    status = spec.get("status", "ok")
    if status == "deleted":
        world.delete(repo.full_name)
    elif status != "ok":
        world.block(repo.full_name, status)


def _hf_repo(world: World, spec: Mapping[str, Any]) -> None:
    kind = cast(HfType, spec.get("type", "model"))
    names = [*spec.get("renamed_from", []), spec["id"]]
    world.add_hf_repo(
        names[0],
        kind,
        likes=int(spec.get("likes", 0)),
        downloads=int(spec.get("downloads", 0)),
        license=spec.get("license", "apache-2.0") or None,
        gated=cast(Gated, spec.get("gated", False)),
        private=bool(spec.get("private", False)),
        last_modified=spec.get("last_modified", "2024-01-01T00:00:00Z"),
        status=spec.get("status", "ok"),
    )
    for path in spec.get("files", []):
        world.hf_add_file(names[0], path, kind)
    for revision in spec.get("revisions", []):
        world.hf_add_revision(names[0], revision, kind)
    for previous, new in itertools.pairwise(names):
        world.hf_rename(previous, new, kind)


# --- a healthy world from a catalog -------------------------------------------------------------


@dataclass
class Seeded:
    """What `seed_world` built, and what it left out."""

    world: World
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class _Dice:
    """Plausible values that are the same every time for the same URL."""

    def __init__(self, url: str) -> None:
        self.seed = int.from_bytes(hashlib.sha256(url.encode()).digest()[:8], "big")

    def pick(self, low: int, high: int, salt: int = 0) -> int:
        mixed = (self.seed ^ (salt * 0x9E3779B97F4A7C15)) % (2**61 - 1)
        return low + mixed % (high - low + 1)

    def choice(self, options: list[Any], salt: int = 0) -> Any:
        return options[self.pick(0, len(options) - 1, salt)]


_GITHUB_LICENSES: list[str | None] = [
    "MIT",
    "Apache-2.0",
    "Apache-2.0",
    "MIT",
    "GPL-3.0",
    "BSD-3-Clause",
    "NOASSERTION",
    None,
]
_HF_LICENSES = ["apache-2.0", "mit", "other", "cc-by-nc-4.0", "openrail", "llama2"]


def seed_world(entries: Iterable[Entry], now: datetime, world: World | None = None) -> Seeded:
    """A world in which every catalog entry exists and is healthy as of `now`."""
    seeded = Seeded(world or World())
    for entry in entries:
        resource = identify(entry.url)
        if resource.problems:
            seeded.skipped.append((entry.url, "; ".join(resource.problems)))
            continue
        try:
            _seed(seeded.world, entry, now)
        except ValueError as exc:
            seeded.skipped.append((entry.url, str(exc)))
            continue
        seeded.counts[entry.kind.value] = seeded.counts.get(entry.kind.value, 0) + 1
    return seeded


def _seed(world: World, entry: Entry, now: datetime) -> None:
    dice = _Dice(entry.url)
    parts = [unquote(s) for s in urlsplit(entry.url).path.split("/") if s]
    kind = entry.kind
    if kind in (Kind.GITHUB_REPO, Kind.GITHUB_PATH, Kind.GITHUB_ISSUE):
        full = f"{parts[0]}/{parts[1]}"
        ref = parts[3] if kind is Kind.GITHUB_PATH else None
        repo = _ensure_repo(world, full, dice, now, ref)
        if kind is Kind.GITHUB_PATH and ref is not None:
            path = "/".join(parts[4:])
            if path:
                file = path if "." in path.rsplit("/", 1)[-1] else f"{path}/README.md"
                world.add_path(repo.full_name, file, ref)
        if kind is Kind.GITHUB_ISSUE:
            world.add_issue(repo.full_name, int(parts[3]), is_pull=parts[2] == "pull")
    elif kind is Kind.GITHUB_OWNER:
        if world.find_owner(parts[0]) is None:
            world.add_owner(
                parts[0],
                type=dice.choice(["Organization", "User"]),
                created_at=now - timedelta(days=dice.pick(400, 3000)),
            )
    elif kind in (Kind.HF_MODEL, Kind.HF_DATASET, Kind.HF_SPACE):
        hf_types: dict[Kind, HfType] = {
            Kind.HF_MODEL: "model",
            Kind.HF_DATASET: "dataset",
            Kind.HF_SPACE: "space",
        }
        repo_id = "/".join(parts[1:] if kind is not Kind.HF_MODEL else parts)
        _ensure_hf_repo(world, repo_id, hf_types[kind], dice, now)
    elif kind is Kind.HF_PATH:
        _seed_hf_path(world, parts, dice, now)
    elif kind is Kind.HF_OWNER:
        if parts[0].lower() not in world.hf_owners:
            world.add_hf_owner(parts[0], dice.choice(["org", "user"]))
    elif kind is Kind.ARXIV:
        paper_id = identify(entry.url).key.removeprefix("arxiv:")
        pinned = re.search(r"v(\d+)$", entry.url)
        count = max(int(pinned[1]) if pinned else 1, dice.pick(1, 3))
        first = now - timedelta(days=dice.pick(300, 1500))
        if paper_id not in world.papers:
            world.add_paper(
                paper_id,
                entry.name or paper_id,
                [first + timedelta(days=30 * i) for i in range(count)],
            )
    elif kind is Kind.WEB:
        world.set_page(entry.url, "ok", title=entry.name or entry.url)
    else:
        raise ValueError(f"no seed for kind {kind}")


#: the sections of a Hub URL that name a file or folder at a revision
_HF_SECTIONS = frozenset({"blob", "tree", "resolve", "raw"})


def _seed_hf_path(world: World, parts: list[str], dice: _Dice, now: datetime) -> None:
    """The repository, the revision and the file (blob, resolve, raw) or folder (tree: a
    README.md inside it) an `hf_path` link names."""
    hf_type: HfType = "model"
    if parts and parts[0] in ("datasets", "spaces"):
        hf_type = "dataset" if parts[0] == "datasets" else "space"
        parts = parts[1:]
    if len(parts) >= 4 and parts[2] in _HF_SECTIONS:
        at = 2
    elif len(parts) >= 3 and parts[1] in _HF_SECTIONS:
        at = 1  # a legacy id without an owner
    else:
        raise ValueError("not a file or folder link inside a Hub repository")
    repo_id, revision, path = "/".join(parts[:at]), parts[at + 1], "/".join(parts[at + 2 :])
    repo = _ensure_hf_repo(world, repo_id, hf_type, dice, now)
    if not repo.resolves(revision):
        world.hf_add_revision(repo.id, revision, hf_type)
    if path:
        world.hf_add_file(repo.id, path if parts[at] != "tree" else f"{path}/README.md", hf_type)


def _ensure_hf_repo(
    world: World, repo_id: str, hf_type: HfType, dice: _Dice, now: datetime
) -> HfRepo:
    repo, _ = world.find_hf_repo(repo_id, hf_type)
    if repo is None:
        repo = world.add_hf_repo(
            repo_id,
            hf_type,
            likes=_popularity(dice),
            downloads=_popularity(dice, 7) * 10,
            license=dice.choice(_HF_LICENSES),
            last_modified=now - timedelta(days=dice.pick(1, 300, 3), hours=dice.pick(0, 23)),
            created_at=now - timedelta(days=dice.pick(400, 1500, 4)),
        )
    return repo


def _popularity(dice: _Dice, salt: int = 1) -> int:
    """Log-uniform between 10 and 100,000, like stars on a curated list."""
    return int(10 ** (1 + dice.pick(0, 4000, salt) / 1000))


def _ensure_repo(world: World, full: str, dice: _Dice, now: datetime, ref: str | None) -> Any:
    repo, _ = world.find_repo(full)
    if repo is None:
        last = now - timedelta(days=dice.pick(1, 300), hours=dice.pick(0, 23, 9))
        repo = world.add_repo(
            full,
            stars=_popularity(dice),
            forks=_popularity(dice, 2) // 10,
            license=dice.choice(_GITHUB_LICENSES),
            last_commit=last,
            pushed_at=last + timedelta(hours=dice.pick(0, 48, 5)),
            created_at=utc(now) - timedelta(days=dice.pick(400, 3000, 6)),
            default_branch=ref if ref in ("main", "master") else "main",
        )
    if ref is not None and ref not in repo.trees:
        repo.trees[ref] = {"README.md": "content\n"}
    return repo
