"""The catalog file, `sources.toml`: read it, validate it with line numbers, write it back safely.

Reading goes through `tomllib` (strict, fast); writing goes through `tomlkit`
so a user's comments and layout survive every rewrite. Validation reports
*every* problem at once, each with its line: TOML syntax errors (recovering
past each one to find the next), unknown keys with a did-you-mean, missing or
unparseable URLs, unknown kinds, and duplicates (two entries that are the same
resource, however differently their URLs are spelled).

A catalog entry looks like this; only `url` is required::

    [[source]]
    url = "https://github.com/tatsu-lab/stanford_alpaca"
    kind = "github_repo"        # inferred from the url when absent
    name = "Stanford Alpaca"
    tags = ["alpaca"]
    section = "Alpaca family"   # where the digest groups it
    seen = [                    # where `catalog import` found it (it rewrites this)
        {document = "awesome.md", line = 12, section = "Alpaca family", text = "Stanford Alpaca"},
    ]
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.catalog.judgement import JUDGEMENT_KEYS, read_judgement
from monitor.catalog.kinds import NotAWebURL, identify
from monitor.errors import CatalogError, Problem, SettingsError
from monitor.model import Entry, Kind, Seen
from monitor.settings import TABLES, resolve_settings

ENTRY_KEYS = (
    "url",
    "kind",
    "name",
    "tags",
    "section",
    "seen",
    "previous_urls",
    "notes",
    *JUDGEMENT_KEYS,
)
SEEN_KEYS = ("document", "line", "section", "text")
TOP_LEVEL_KEYS = ("source", *TABLES)
MAX_SYNTAX_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class LineIndex:
    """Where things are in the file: the line of each `[[source]]` and of each key.

    An entry's key lines are found when asked (only a problem asks), by scanning that
    entry's block of `text` again: holding every key line of 100,000 entries would cost
    more memory than the entries themselves.
    """

    entry_lines: tuple[int, ...] = ()
    #: where each entry's `[[source]]` line starts in `text`
    entry_offsets: tuple[int, ...] = ()
    table_keys: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    text: str = ""

    def entry(self, index: int, key: str | None = None) -> int | None:
        if index >= len(self.entry_lines):
            return None
        if key is not None and self.text:
            found = self.entry_keys(index).get(key)
            if found is not None:
                return found
        return self.entry_lines[index]

    def entry_keys(self, index: int) -> dict[str, int]:
        """The line of each key of entry `index`."""
        keys: dict[str, int] = {}
        start = self.entry_lines[index]
        lines = _lines(self.text, self.entry_offsets[index])
        for number, event, name in scan_layout(lines, start):
            if number > start and event != "key":
                break
            if event == "key":
                keys.setdefault(name, number)
        return keys

    def table(self, table: str, key: str) -> int | None:
        keys = self.table_keys.get(table, {})
        return keys.get(key, keys.get(""))

    def entry_at(self, line: int) -> int | None:
        """The index of the entry whose block contains `line`, if any."""
        found = None
        for index, start in enumerate(self.entry_lines):
            if start <= line:
                found = index
        if found is None:
            return None
        for keys in self.table_keys.values():
            header = keys.get("")
            if header is not None and self.entry_lines[found] < header <= line:
                return None
        return found


@dataclass(frozen=True, slots=True)
class Catalog:
    """A validated catalog: its entries and its settings tables."""

    path: Path
    entries: tuple[Entry, ...]
    tables: Mapping[str, Any]
    lines: LineIndex

    def line_of(self, table: str, key: str) -> int | None:
        return self.lines.table(table, key)


# --- reading -----------------------------------------------------------------------------------


def read_catalog_text(path: Path) -> str:
    """The catalog's text, or a `CatalogError` saying why it cannot be read."""
    return decode_catalog(read_catalog_bytes(path), str(path))


def read_catalog_bytes(path: Path) -> bytes:
    """The catalog file's bytes, or a `CatalogError` saying why it cannot be read."""
    where = str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(
            [
                Problem(
                    where,
                    "no such catalog file",
                    hint="create one with `monitor catalog import FILE…`, or "
                    "point --catalog / MONITOR_CATALOG at it",
                )
            ]
        ) from None
    except IsADirectoryError:
        raise CatalogError([Problem(where, "is a directory, not a catalog file")]) from None
    except PermissionError:
        raise CatalogError([Problem(where, "permission denied")]) from None


def decode_catalog(data: bytes, where: str) -> str:
    """The catalog's bytes as text, or a `CatalogError`: binary, or not UTF-8."""
    if b"\x00" in data:
        raise CatalogError([Problem(where, "is a binary file, not a TOML catalog")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogError(
            [
                Problem(
                    where,
                    f"is not UTF-8 text (byte 0x{data[exc.start]:02x})",
                    line,
                    "TOML files must be UTF-8",
                )
            ]
        ) from None


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog at `path`; raises `CatalogError` with every problem."""
    return parse_catalog(read_catalog_text(path), path)


def parse_catalog(text: str, path: Path) -> Catalog:
    """Validate catalog `text` (read from `path`, used in messages) and return it."""
    where = str(path)
    problems: list[Problem] = []
    data, damaged = _parse_recovering(text, where, problems)
    lines = index_lines(text)
    damaged_entries = {i for i in (lines.entry_at(n) for n in damaged) if i is not None}

    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(
                unknown_key(where, key, TOP_LEVEL_KEYS, _top_line(text, key), "at the top level")
            )

    raw_entries = data.get("source", [])
    if not isinstance(raw_entries, list) or not all(isinstance(e, dict) for e in raw_entries):
        problems.append(
            Problem(
                where,
                "`source` must be an array of tables",
                _top_line(text, "source"),
                "write each entry as a [[source]] block",
            )
        )
        raw_entries = []

    entries: list[Entry] = []
    first_by_key: dict[str, Entry] = {}
    for index, raw in enumerate(raw_entries):
        if index in damaged_entries:
            continue
        entry = read_entry(raw, index, lines, where, problems)
        if entry is None:
            continue
        if entry.key in first_by_key:
            first = first_by_key[entry.key]
            problems.append(
                Problem(
                    where,
                    f"duplicate entry: {entry.url} is the same resource as {first.url} "
                    f"(line {first.line})",
                    entry.line,
                    "keep one entry and move the other's name and tags into it",
                )
            )
            continue
        first_by_key[entry.key] = entry
        entries.append(entry)

    tables = {name: data[name] for name in TABLES if name in data}
    try:
        # The tables' values are checked here, with their lines; the environment later.
        resolve_settings({}, tables, where=where, line_of=lines.table)
    except SettingsError as exc:
        problems.extend(exc.problems)
    if problems:
        raise CatalogError(sorted(problems, key=lambda p: p.line or 0))
    # The entries' lines served the messages above; the catalog keeps only what `line_of`
    # reads, not the text.
    return Catalog(path, tuple(entries), tables, LineIndex((), (), lines.table_keys))


def _parse_recovering(
    text: str, where: str, problems: list[Problem]
) -> tuple[dict[str, Any], set[int]]:
    """Parse TOML; on a syntax error, report it, blank that line and try again for the next."""
    try:
        return tomllib.loads(text), set()
    except tomllib.TOMLDecodeError:
        pass
    lines = text.split("\n")
    blanked: set[int] = set()
    while True:
        try:
            return tomllib.loads("\n".join(lines)), blanked
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            match = re.search(r"\(at line (\d+), column \d+\)", message)
            reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
            line = int(match[1]) if match else None
            problems.append(
                Problem(where, f"TOML syntax error: {reason}", line, _syntax_hint(reason))
            )
            if line is None or line in blanked or len(blanked) >= MAX_SYNTAX_PROBLEMS:
                return {}, blanked
            blanked.add(line)
            lines[line - 1] = ""


def _syntax_hint(reason: str) -> str | None:
    if reason.startswith("Invalid value"):
        return 'strings need quotes: url = "https://…"'
    if "Cannot overwrite" in reason or "Cannot declare" in reason:
        return "a key appears twice in the same table"
    if reason.startswith("Unclosed") or "unterminated" in reason.lower():
        return "close the bracket or quote opened on this line"
    return None


def read_entry(
    raw: Mapping[str, Any], index: int, lines: LineIndex, where: str, problems: list[Problem]
) -> Entry | None:
    def line(key: str | None = None) -> int | None:
        return lines.entry(index, key)

    for key in raw:
        if key not in ENTRY_KEYS:
            problems.append(unknown_key(where, key, ENTRY_KEYS, line(key), "in [[source]]"))
    url = raw.get("url")
    if url is None:
        problems.append(
            Problem(where, "[[source]] has no url", line(), 'every entry needs url = "https://…"')
        )
        return None
    if not isinstance(url, str):
        problems.append(Problem(where, "url must be a string", line("url")))
        return None
    try:
        resource = identify(url)
    except NotAWebURL as exc:
        problems.append(
            Problem(
                where,
                f"unparseable url: {exc}",
                line("url"),
                "use an absolute http:// or https:// URL",
            )
        )
        return None
    if re.search(r"\s", url.strip()):
        # The importer keeps a document's raw space as %20 and warns; typed into the
        # catalog by hand it is a URL no browser would send as written.
        problems.append(
            Problem(
                where,
                f"url {url!r} contains a space",
                line("url"),
                "a URL cannot hold a raw space: write it as %20, or fix the link",
            )
        )
    kind = resource.kind
    raw_kind = raw.get("kind")
    if raw_kind is not None:
        try:
            kind = Kind(raw_kind)
        except ValueError:
            close = difflib.get_close_matches(str(raw_kind), [k.value for k in Kind], n=1)
            hint = f"did you mean {close[0]!r}?" if close else None
            problems.append(
                Problem(
                    where,
                    f"unknown kind {raw_kind!r}",
                    line("kind"),
                    hint or "known kinds: " + ", ".join(Kind),
                )
            )
        else:
            if kind not in allowed_kinds(resource.kind):
                problems.append(
                    Problem(
                        where,
                        f"kind {kind.value!r} does not fit {url}",
                        line("kind"),
                        f"this URL is a {resource.kind.value}; remove `kind` to infer it, or use "
                        "'web' to check it as a plain page",
                    )
                )
    for key in ("name", "section", "notes"):
        if key in raw and not isinstance(raw[key], str):
            problems.append(Problem(where, f"{key} must be a string", line(key)))
    tags = _strings(raw, "tags", line, where, problems)
    previous = _strings(raw, "previous_urls", line, where, problems)
    seen = _seen(raw.get("seen", []), lambda: line("seen"), where, problems)
    judgement = read_judgement(raw, line, where, problems)
    # Even an entry with problems is returned, so that duplicates are still found.
    return Entry(
        url=url,
        kind=kind,
        key=resource.key,
        name=raw.get("name", ""),
        tags=tags,
        section=raw.get("section", ""),
        seen=seen,
        previous_urls=previous,
        line=line(),
        judgement=judgement,
        imported="seen" in raw,
    )


def allowed_kinds(inferred: Kind) -> frozenset[Kind]:
    """The kinds a user may declare for a URL whose inferred kind is `inferred`.

    Any URL may be checked as a plain web page. `huggingface.co/<name>` is an owner
    page or one of the Hub's old un-namespaced models (`bert-base-uncased`, `gpt2`):
    the URL cannot tell, so the catalog may say `kind = "hf_model"`.
    """
    if inferred is Kind.HF_OWNER:
        return frozenset({inferred, Kind.WEB, Kind.HF_MODEL})
    return frozenset({inferred, Kind.WEB})


def _strings(
    raw: Mapping[str, Any], key: str, line: Any, where: str, problems: list[Problem]
) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    problems.append(
        Problem(where, f"{key} must be a list of strings", line(key), f'e.g. {key} = ["…", "…"]')
    )
    return ()


def _seen(
    value: Any, line: Callable[[], int | None], where: str, problems: list[Problem]
) -> tuple[Seen, ...]:
    # `line` is asked only for a message: finding a key's line scans the entry's block.
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(Problem(where, "seen must be a list of {document, line, …} tables", line()))
        return ()
    found = []
    for item in value:
        unknown = [k for k in item if k not in SEEN_KEYS]
        document, number = item.get("document"), item.get("line")
        if unknown or not isinstance(document, str) or not isinstance(number, int):
            problems.append(
                Problem(
                    where,
                    "each seen record needs document (string) and line "
                    "(number), and nothing but section and text besides",
                    line(),
                )
            )
            return ()
        found.append(
            Seen(document, number, str(item.get("section", "")), str(item.get("text", "")))
        )
    return tuple(found)


def unknown_key(
    where: str, key: str, known: tuple[str, ...], line: int | None, place: str
) -> Problem:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else "known keys: " + ", ".join(known)
    return Problem(where, f"unknown key {key!r} {place}", line, hint)


# --- where things are ---------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')


def index_lines(text: str) -> LineIndex:
    """Find the line of every `[[source]]`, table header and table key, for messages."""
    entry_lines: list[int] = []
    entry_offsets: list[int] = []
    table_keys: dict[str, dict[str, int]] = {}
    current: dict[str, int] | None = None
    offsets = _line_offsets(text)
    for number, event, name in scan_layout(_lines(text), 1):
        if event == "entry":
            entry_lines.append(number)
            entry_offsets.append(offsets(number))
            current = None
        elif event == "table":
            current = table_keys.setdefault(name, {})
            current[""] = number
        elif current is not None:
            current.setdefault(name, number)
        elif not entry_lines:
            table_keys.setdefault("", {}).setdefault(name, number)
    return LineIndex(tuple(entry_lines), tuple(entry_offsets), table_keys, text)


def scan_layout(lines: Iterator[str], first: int) -> Iterator[tuple[int, str, str]]:
    """(line number, "entry" | "table" | "key", name) for the lines from line `first` on.

    A light scanner, not a parser: it skips the insides of multi-line arrays and
    strings, which is all the catalog's own layout needs.
    """
    depth = 0
    in_multiline = False
    for number, line in enumerate(lines, start=first):
        if in_multiline:
            in_multiline = line.count('"""') % 2 == 0 and line.count("'''") % 2 == 0
            continue
        if depth == 0:
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                name = _unquoted(header[1].strip())
                if line.lstrip().startswith("[[") and name == "source":
                    yield number, "entry", name
                else:
                    yield number, "table", name
                continue
            key = _KEY.match(line)
            if key:
                yield number, "key", key[1].strip("\"'")
        if line.count('"""') % 2 or line.count("'''") % 2:
            in_multiline = True
            continue
        code = _STRING.sub("", line).split("#", 1)[0]
        depth = max(
            0, depth + code.count("[") + code.count("{") - code.count("]") - code.count("}")
        )


def _unquoted(name: str) -> str:
    """A table name as written, its quotes dropped only when they wrap all of it
    (`["settings"]`), never from a dotted name's last part (`policy.hosts."x.org"`)."""
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'" and name.count(name[0]) == 2:
        return name[1:-1]
    return name


def _lines(text: str, start: int = 0) -> Iterator[str]:
    """The lines of `text` from offset `start`, one at a time (not a list of them all)."""
    while True:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def _line_offsets(text: str) -> Callable[[int], int]:
    """A function from a line number, asked in increasing order, to where that line starts."""
    state = [1, 0]  # the line number and offset reached so far

    def offset(number: int) -> int:
        line, at = state
        while line < number:
            at = text.index("\n", at) + 1
            line += 1
        state[:] = [line, at]
        return at

    return offset


def _top_line(text: str, key: str) -> int | None:
    index = index_lines(text)
    return index.table_keys.get("", {}).get(key) or index.table_keys.get(key, {}).get("")


# --- writing -----------------------------------------------------------------------------------


def write_atomically(path: Path, text: str | Iterable[str]) -> None:
    """Replace `path` with `text` so that a crash leaves either the old file or the new one.

    `text` may come in pieces (an iterable of strings), written as they come."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            if isinstance(text, str):
                handle.write(text)
            else:
                handle.writelines(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
