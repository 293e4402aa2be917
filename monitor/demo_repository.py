"""The demo's last act: the list's own repository, as monitor leaves it at the week's end.

The list (a README of the catalog's entries, by section, and the catalog that keeps
it) is published in an emulated repository before the week starts; after the last
morning the tracking issue is kept (`monitor github issue`) and the repair pull
request opened (`monitor catalog fix --pr`) there, through the real PyGithub
against the emulator, as they would be in the list's repository on GitHub. What
they wrote is returned for the demo to show: the issue's body, the pull request's
description and its diff, and the requests each spent.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import tomlkit

from monitor.emulator import World
from monitor.model import Entry, Seen
from monitor.settings import Settings
from monitor.store import Store

#: The emulated repository that holds the demo's list.
LIST_REPO = "demo-lists/awesome-llm"
README = "README.md"
CATALOG = "sources.toml"


@dataclass(frozen=True)
class RepositoryViews:
    """What the tracking issue and the repair pull request say after the week."""

    issue_action: str
    issue_body: str
    issue_requests: int
    pull_action: str
    pull_description: str
    pull_diff: str
    pull_requests: int


def readme_of(entries: Sequence[Entry]) -> tuple[str, list[Entry]]:
    """The list as a maintainer keeps it (a heading per section, a line per entry), and
    the entries as importing it would leave them: each seen on its line of the README."""
    lines = ["# An awesome list of LLM resources", ""]
    sections: dict[str, list[Entry]] = {}
    for entry in entries:
        sections.setdefault(entry.section or "More", []).append(entry)
    seen: list[Entry] = []
    for section, members in sections.items():
        lines += [f"## {section}", ""]
        for entry in members:
            lines.append(f"- [{entry.display_name}]({entry.url})")
            place = Seen(README, len(lines), section, entry.display_name)
            seen.append(replace(entry, seen=(place,), imported=True))
        lines.append("")
    return "\n".join(lines), seen


def catalog_of(entries: Sequence[Entry]) -> str:
    """The catalog that keeps the list: `[catalog] documents` and one entry per link."""
    document = tomlkit.document()
    document["catalog"] = {"documents": [README]}
    sources = tomlkit.aot()
    for entry in entries:
        table = tomlkit.table()
        table["url"] = entry.url
        if entry.name:
            table["name"] = entry.name
        if entry.section:
            table["section"] = entry.section
        sources.append(table)
    document["source"] = sources
    return tomlkit.dumps(document)


def publish(world: World, entries: Sequence[Entry]) -> list[Entry]:
    """The list's repository, holding the README and the catalog on its default branch;
    the entries as the catalog kept from that README has them."""
    readme, listed = readme_of(entries)
    world.add_repo(LIST_REPO, stars=120, files=())
    world.commit_files(
        LIST_REPO, {README: readme, CATALOG: catalog_of(entries)}, message="The list"
    )
    return listed


def the_week_in_the_repository(
    settings: Settings, store: Store, world: World, entries: Sequence[Entry], now: datetime
) -> RepositoryViews:
    """Keep the tracking issue and open the repair pull request; what they say."""
    from monitor.github.client import connect
    from monitor.github.issue import keep_issue
    from monitor.github.repair import repair

    here = replace(settings, github_repo=LIST_REPO)
    sources = store.sources()
    kept = keep_issue(
        connect(here, LIST_REPO),
        sources,
        store.events(since=now.replace(year=now.year - 1)),
        now,
        by="monitor demo",
        entries=entries,
    )
    fixed = repair(here, sources, name=LIST_REPO, catalog=CATALOG, now=now)
    pulls = world.pulls_of(LIST_REPO)
    description = pulls[-1].body or "" if pulls else ""
    branch = "monitor/fix-links"
    before, after = world.files_of(LIST_REPO), world.files_of(LIST_REPO, branch)
    diff = "".join(
        "".join(
            difflib.unified_diff(
                before.get(path, "").splitlines(keepends=True),
                after.get(path, "").splitlines(keepends=True),
                fromfile=f"a/{path}",
                tofile=f"b/{path}",
            )
        )
        for path in sorted(set(before) | set(after))
        if after and before.get(path) != after.get(path)
    )
    return RepositoryViews(
        kept.action,
        kept.body or "",
        kept.requests,
        fixed.action,
        description,
        diff,
        fixed.requests + fixed.archive_requests,
    )
