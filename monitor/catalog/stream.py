"""The catalog read a block at a time, for `monitor check`: never all of its entries at once.

    catalog = open_catalog(path)              # the settings tables and a digest, no entries
    catalog.validate()                        # every entry, with lines; CatalogError
    for batch in catalog.batches():           # validated entries, 1,000 at a time
        ...

A catalog of 100,000 entries is 12 MB of TOML; parsed whole it is a few hundred
MB of dicts and `Entry` values, and it takes seconds. A check needs far less:
its settings, and the entries only when the file changed since the store last
took them in (`digest`, over the bytes and whatever else decides the entries;
the store keeps the digest of the catalog it holds). So the file is cut at its
table headers: the blocks that are not `[[source]]` are parsed at once, the
entries only when asked, one block at a time, each keeping the line it starts
at, so that every problem still names its line without the document being held
as parsed values.

Cutting TOML at its headers is only safe for the plain layout `catalog import`
writes and people keep: bare `[table]` and `[[source]]` headers, no multi-line
strings. Anything else (a multi-line string, a dotted or repeated header, a
block that does not parse on its own) is read the old way, whole, by
`parse_catalog`, which also reports syntax errors exactly as before.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.catalog.file import (
    TOP_LEVEL_KEYS,
    Catalog,
    LineIndex,
    decode_catalog,
    parse_catalog,
    read_catalog_bytes,
    read_entry,
    scan_layout,
    unknown_key,
)
from monitor.errors import CatalogError, Problem, SettingsError
from monitor.model import Entry
from monitor.settings import TABLES, resolve_settings

#: Bumped when what a catalog's text means for the store changes (how entries are keyed
#: or named), so that a store synced by an older monitor takes the catalog in again.
FORMAT = "1"
BATCH = 1000

#: A line that may open a table: `[` first. Which of these are headers is `_HEADER`'s call.
_CANDIDATE = re.compile(r"(?m)^[ \t]*\[")
_ENTRY = r"[ \t]*\[\[[ \t]*source[ \t]*\]\][ \t]*(?:#[^\n]*)?\r?$"
#: An entry's header, and any other line that starts with `[` (found without a Python loop
#: over the entries: at a million entries, that loop would be most of a check's time).
_ENTRIES = re.compile(r"(?m)^" + _ENTRY)
_OTHERS = re.compile(r"(?m)^(?!" + _ENTRY + r")[ \t]*\[")
_HEADER = re.compile(r"[ \t]*(\[\[?)[ \t]*([A-Za-z0-9_-]+)[ \t]*(\]\]?)[ \t]*(?:#[^\n]*)?\r?$")

Keep = Callable[[Entry], bool]


@dataclass(frozen=True, slots=True)
class _Block:
    line: int  # of the header
    start: int  # offset of the header in the text
    body: int  # offset of the line after the header
    end: int


@dataclass
class StreamedCatalog:
    """A catalog whose entries are read when asked, a block at a time."""

    path: Path
    text: str
    tables: Mapping[str, Any]
    lines: LineIndex
    #: over the text, the entry filter's identity and `FORMAT`: equal digests, equal entries
    digest: str
    #: the catalog read whole, where cutting it into blocks was not safe
    whole: Catalog | None = None
    keep: Keep | None = None
    #: entries kept, once `validate` has counted them
    count: int | None = None
    validated: bool = False

    def line_of(self, table: str, key: str) -> int | None:
        return self.lines.table(table, key)

    def filtered(self, keep: Keep, identity: str) -> StreamedCatalog:
        """The same catalog with only the entries `keep` accepts; `identity` names the
        filter, so that the digest changes with it."""
        digest = hashlib.sha256(f"{self.digest}\n{identity}".encode()).hexdigest()
        return StreamedCatalog(
            self.path, self.text, self.tables, self.lines, digest, self.whole, keep
        )

    def validate(self) -> int:
        """Check every entry (raising `CatalogError` with all the problems, each with its
        line, as `parse_catalog` would) and return how many are kept."""
        try:
            self.count = self._count()
        except tomllib.TOMLDecodeError:
            # A block that is not TOML on its own: the whole file says exactly what is
            # wrong, and if nothing is, the cut was wrong and the file is read whole.
            self.whole = parse_catalog(self.text, self.path)
            self.count = self._count()
        self.validated = True
        return self.count

    def _count(self) -> int:
        entries = iter(self.whole.entries) if self.whole is not None else self._checked()
        return sum(1 for entry in entries if self.keep is None or self.keep(entry))

    def batches(self, size: int = BATCH) -> Iterator[list[Entry]]:
        """The kept entries, validated, `size` at a time."""
        if not self.validated:
            self.validate()
        source = iter(self.whole.entries) if self.whole is not None else self._parsed()
        batch: list[Entry] = []
        for entry in source:
            if self.keep is not None and not self.keep(entry):
                continue
            batch.append(entry)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def entries(self) -> Iterator[Entry]:
        """The kept entries one by one (what `Store.sync_catalog` takes)."""
        for batch in self.batches():
            yield from batch

    # --- the blocks ------------------------------------------------------------------------

    def _blocks(self) -> Iterator[_Block]:
        """Each `[[source]]` block, found again on every pass rather than held."""
        text = self.text
        line, at = 1, 0
        for match in _ENTRIES.finditer(text):
            start = match.start()
            line += text.count("\n", at, start)
            at = start
            yield self._block(start, line)

    def _block(self, start: int, line: int) -> _Block:
        body = self.text.find("\n", start)
        body = len(self.text) if body < 0 else body + 1
        following = _CANDIDATE.search(self.text, body)
        return _Block(line, start, body, following.start() if following else len(self.text))

    def _checked(self) -> Iterator[Entry]:
        """Every entry with its problems found; duplicates by resource key across blocks."""
        where = str(self.path)
        problems: list[Problem] = []
        first: dict[str, int] = {}  # resource key -> where its first block starts
        for block in self._blocks():
            entry = self._entry(block, where, problems)
            if entry is None:
                continue
            earlier = first.setdefault(entry.key, block.start)
            if earlier != block.start:
                line = self.text.count("\n", 0, earlier) + 1
                other = self._entry(self._block(earlier, line), where, [])
                assert other is not None
                problems.append(
                    Problem(
                        where,
                        f"duplicate entry: {entry.url} is the same resource as {other.url} "
                        f"(line {other.line})",
                        entry.line,
                        "keep one entry and move the other's name and tags into it",
                    )
                )
                continue
            yield entry
        if problems:
            raise CatalogError(sorted(problems, key=lambda p: p.line or 0))

    def _parsed(self) -> Iterator[Entry]:
        where = str(self.path)
        for block in self._blocks():
            problems: list[Problem] = []
            entry = self._entry(block, where, problems)
            if problems or entry is None:  # cannot happen to a validated text; never skip one
                raise CatalogError(problems or [Problem(where, "an entry could not be read")])
            yield entry

    def _entry(self, block: _Block, where: str, problems: list[Problem]) -> Entry | None:
        text = self.text[block.start : block.end]
        raw = tomllib.loads(text[block.body - block.start :])
        # The block's own line index: its key lines are found when a message asks.
        lines = LineIndex((block.line,), (0,), {}, text)
        return read_entry(raw, 0, lines, where, problems)


def open_catalog(path: Path) -> StreamedCatalog:
    """The catalog at `path` with its tables parsed and checked, its entries not yet
    (`CatalogError` for what is wrong with the file or its tables)."""
    data = read_catalog_bytes(path)
    # Over the bytes as read: hashing the text would encode a second copy of the file.
    digest = hashlib.sha256(FORMAT.encode() + b"\n")
    digest.update(data)
    text = decode_catalog(data, str(path))
    del data  # the text is all that is kept
    return streamed_catalog(text, path, digest.hexdigest())


def streamed_catalog(text: str, path: Path, digest: str) -> StreamedCatalog:
    """`text` as a `StreamedCatalog`: cut into blocks where that is safe, else read whole."""
    split = _split(text, str(path))
    if split is None:
        whole = parse_catalog(text, path)
        return StreamedCatalog(
            path,
            text,
            whole.tables,
            whole.lines,
            digest,
            whole,
            count=len(whole.entries),
            validated=True,
        )
    tables, lines = split
    return StreamedCatalog(path, text, tables, lines, digest)


def _split(text: str, where: str) -> tuple[dict[str, Any], LineIndex] | None:
    """The settings tables and their key lines; None where cutting the text at its headers
    might not mean what the whole file means (the entries' blocks are found when read)."""
    if '"""' in text or "'''" in text:
        return None
    first = _CANDIDATE.search(text)
    preamble_end = first.start() if first else len(text)
    tables: dict[str, Any] = {}
    table_text: list[tuple[int, int, int]] = []  # (header line, start, end) to scan
    try:
        for match in _OTHERS.finditer(text):
            start = match.start()
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            header = _HEADER.fullmatch(text, start, end)
            if header is None or header[1] != "[" or header[3] != "]":
                return None  # not a plain `[table]` header: leave it to the parser
            name = header[2]
            if name in tables or name == "source":
                return None
            following = _CANDIDATE.search(text, end)
            stop = following.start() if following else len(text)
            tables[name] = tomllib.loads(text[end:stop])
            table_text.append((text.count("\n", 0, start) + 1, start, stop))
        preamble = tomllib.loads(text[:preamble_end])
    except tomllib.TOMLDecodeError:
        return None  # parse_catalog says where, exactly as before
    if set(preamble) & ({"source"} | set(tables)):
        return None
    data = {**preamble, **tables}
    problems: list[Problem] = []
    index = _table_lines(text, preamble_end, table_text)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            line_of = index.table_keys.get("", {}).get(key) or index.table(key, "")
            problems.append(unknown_key(where, key, TOP_LEVEL_KEYS, line_of, "at the top level"))
    chosen = {name: data[name] for name in TABLES if name in data}
    try:
        resolve_settings({}, chosen, where=where, line_of=index.table)
    except SettingsError as exc:
        problems.extend(exc.problems)
    if problems:
        return None  # parse_catalog reports them with every problem of the entries
    return chosen, index


def _table_lines(text: str, preamble_end: int, tables: list[tuple[int, int, int]]) -> LineIndex:
    """Key lines of the preamble and of the settings tables (never of the entries)."""
    keys: dict[str, dict[str, int]] = {}
    for first, start, end in [(1, 0, preamble_end), *tables]:
        current: dict[str, int] | None = None
        for number, event, name in scan_layout(iter(text[start:end].split("\n")), first):
            if event == "table":
                current = keys.setdefault(name, {})
                current[""] = number
            elif event == "key":
                (current if current is not None else keys.setdefault("", {})).setdefault(
                    name, number
                )
    return LineIndex((), (), keys)
