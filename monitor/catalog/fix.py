"""Repairing a list in one commit: every renamed or permanently redirected URL replaced.

`relocations` reads where each source lives now from what the store learnt
(a renamed repository's or model's new URL, a web page's permanent redirect, a
path or issue whose repository moved), counting only sources that answer at
their new home. `fix_catalog` rewrites `sources.toml` with the new URLs, keeping
each old one in `previous_urls` so the store keeps the source's history;
`fix_document` rewrites the links of a markdown or text document in place.
Both are pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.items import AoT

from monitor.catalog.extract import MARKDOWN_SUFFIXES, extract_links, read_document
from monitor.catalog.file import read_catalog_text
from monitor.catalog.kinds import NotAWebURL, identify
from monitor.errors import DocumentError, Problem
from monitor.model import Health
from monitor.store import StoredSource


@dataclass(frozen=True, slots=True)
class Move:
    """One source that lives somewhere else now."""

    key: str
    old_url: str
    new_url: str
    name: str


def relocations(sources: Iterable[StoredSource]) -> dict[str, Move]:
    """Sources that moved and answer at their new URL, by catalog key."""
    moves: dict[str, Move] = {}
    for source in sources:
        state = source.state
        if state.health is not Health.OK:
            continue
        target = state.redirected_to or (state.facts.url if state.facts else None)
        if not target:
            continue
        try:
            moved = identify(target)
        except NotAWebURL:
            continue
        if moved.key == source.key:
            continue  # the same resource, spelled differently (case, version, slash)
        new_url = target if source.kind.value == "web" else moved.url
        moves[source.key] = Move(source.key, source.url, new_url, source.name)
    return moves


def fix_catalog(text: str, moves: Mapping[str, Move]) -> tuple[str, list[Move]]:
    """The catalog with every moved entry's URL replaced and the old one kept."""
    document = tomlkit.parse(text)
    sources = document.get("source")
    applied: list[Move] = []
    if not isinstance(sources, AoT):
        return text, applied
    for table in sources:
        url = str(table["url"])
        move = moves.get(identify(url).key)
        if move is None:
            continue
        previous = [str(u) for u in table.get("previous_urls", [])]
        if url not in previous:
            previous.append(url)
        table["url"] = move.new_url
        array = tomlkit.array()
        array.extend(previous)
        table["previous_urls"] = array
        applied.append(move)
    return tomlkit.dumps(document), applied


def fix_document(
    text: str, name: str, moves: Mapping[str, Move], *, markdown: bool = True
) -> tuple[str, list[Move]]:
    """The document with every link to a moved source pointing at its new URL.

    The extractor finds how the document spells each moved resource; every
    whole occurrence of those spellings is replaced, wherever it stands (a link,
    a bare URL, a reference definition), but never the start of a longer URL.
    """
    spellings: dict[str, Move] = {}
    for link in extract_links(text, name, markdown=markdown).links:
        try:
            move = moves.get(identify(link.url).key)
        except NotAWebURL:
            continue
        if move is not None:
            spellings[link.url] = move
    applied: list[Move] = []
    for spelling in sorted(spellings, key=len, reverse=True):
        move = spellings[spelling]
        pattern = re.escape(spelling) + r"(?![\w./~%-])"
        # A callable replacement keeps backslashes in the URL literal.
        text, count = re.subn(pattern, _literal(move.new_url), text)
        applied.extend([move] * count)
    return text, applied


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    return lambda _match: text


@dataclass(frozen=True, slots=True)
class FileFix:
    """One file `catalog fix` would rewrite: its text before and after, and what moved."""

    path: Path
    before: str
    after: str
    applied: tuple[Move, ...]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def fix_files(
    moves: Mapping[str, Move], catalog_file: Path, documents: Sequence[Path] = ()
) -> list[FileFix]:
    """What `monitor catalog fix` changes: the documents' links when documents are given
    (every unreadable one reported at once, `DocumentError`), else the catalog's URLs."""
    if not documents:
        text = read_catalog_text(catalog_file)
        fixed, applied = fix_catalog(text, moves)
        return [FileFix(catalog_file, text, fixed, tuple(applied))]
    fixes: list[FileFix] = []
    problems: list[Problem] = []
    for path in documents:
        try:
            text = read_document(path)
        except DocumentError as exc:
            problems.extend(exc.problems)
            continue
        fixed, applied = fix_document(
            text, str(path), moves, markdown=path.suffix.lower() in MARKDOWN_SUFFIXES
        )
        fixes.append(FileFix(path, text, fixed, tuple(applied)))
    if problems:
        raise DocumentError(problems)
    return fixes
