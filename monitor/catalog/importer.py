"""Links found in documents, merged into the catalog: one entry per resource, user edits kept.

`plan_import` is pure: extractions and the current catalog text in, the new
catalog text and a report out. It decides

- **identity**: links are grouped by `kinds.identify(url).key`, so one resource
  listed five times, spelled five ways, is one entry that remembers all five
  places (`seen`);
- **names**: the link text if it says something (not "github", not a bare URL,
  not a date), else the table row's first cell, else for repositories, models
  and papers their id (`owner/repo`), else for web pages the nearest heading when
  that heading belongs to this link alone;
- **merging**: an entry already in the catalog keeps its url, name, kind, tags
  and section; only its `seen` records for the documents being imported are
  replaced, so importing again changes nothing and importing more adds;
- **suspicion**: links a human should look at — glued URLs that were split, a
  space inside a URL, impossible owner names, and one URL linked under two
  unrelated names in one document (a copy-paste slip).
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Array, Table

from monitor.catalog.extract import (
    DEFAULT_MAX_BYTES,
    MARKDOWN_SUFFIXES,
    Extraction,
    Link,
    Progress,
    TextFrom,
    extract_links,
    read_document,
)
from monitor.catalog.file import parse_catalog, read_catalog_text, write_atomically
from monitor.catalog.kinds import NotAWebURL, Resource, identify
from monitor.errors import DocumentError, Problem
from monitor.model import Kind

HEADER = """\
# The monitor's catalog: every resource it watches (see README.md, "The catalog").
# Written by `monitor catalog import`. Edit freely: the url, name, kind, tags and
# section you set are kept when documents are imported again; `seen` is rewritten.
"""

#: Link texts that say where a link goes, not what it is.
GENERIC_TEXTS = frozenset(
    """github gitee code paper pdf blog demo link links here this website homepage home site url
    source repo repository project huggingface hf arxiv model models dataset datasets docs
    地址 链接 这里 官网 论文 代码 博客 项目 项目地址
    开源地址 模型 数据集 在线体验 体验地址 主页""".split()
)
_DATE = r"\d{4}(?:\s*[-/.年]\s*\d{1,2}(?:\s*[-/.月]\s*\d{1,2}\s*日?)?)?"
_ANNOTATION = re.compile(
    rf"\s*[（(]?\s*(?:updated?\s*(?:on\s*)?|更新于?\s*)?{_DATE}\s*(?:更新)?\s*[)）]?\s*$",
    re.IGNORECASE,
)
# "5.34、", "2.3.1 ", "四、": outline numbers, at most two digits a level so years survive.
_OUTLINE = re.compile(
    r"^\s*(?:\d{1,2}(?:\.\d{1,3})*(?:[.、)]\s*|\s+)|[一二三四五六七八九十百]+[、.]\s*)"
)
# A scheme, `www.`, or a dotted host followed by a path: `alpaca_data.json` or
# `llama2.c` are names, `blog.lucien.ink/archives/538` is an address.
_URL_LIKE = re.compile(r"^(?:[a-z]+://\S+|www\.\S+|[\w-]+(?:\.[\w-]+)+/\S*)$", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]{3,}")


@dataclass(frozen=True, slots=True)
class Suspicion:
    """A link a human should look at before trusting the catalog entry made from it."""

    document: str
    line: int
    url: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry the import adds."""

    url: str
    kind: Kind
    name: str


@dataclass(slots=True)
class ImportReport:
    """What an import found and what it changed."""

    text: str
    documents: tuple[str, ...]
    links: int = 0
    added: list[NewEntry] = field(default_factory=list)
    updated: int = 0
    unchanged: int = 0
    skipped_in_code: int = 0
    suspicious: list[Suspicion] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def plan_import(
    extractions: Sequence[Extraction], existing: str | None, catalog_path: Path
) -> ImportReport:
    """Merge `extractions` into the catalog text `existing` (None: a new catalog).

    Raises `CatalogError` if `existing` is not a valid catalog: an import never
    builds on a file it cannot fully understand.
    """
    if existing is not None and existing.strip():
        parse_catalog(existing, catalog_path)
        document = tomlkit.parse(existing)
    else:
        document = tomlkit.document()
    sources = document.get("source")
    existing_tables: list[Table] = list(sources) if isinstance(sources, AoT) else []
    added = tomlkit.aot()

    report = ImportReport(text="", documents=tuple(e.document for e in extractions))
    by_key = {identify(str(table["url"])).key: table for table in existing_tables}

    groups: dict[str, list[tuple[Link, Resource]]] = defaultdict(list)
    for extraction in extractions:
        report.skipped_in_code += extraction.skipped_in_code
        report.links += len(extraction.links)
        for link in extraction.links:
            try:
                resource = identify(link.url)
            except NotAWebURL as exc:
                report.suspicious.append(
                    Suspicion(link.document, link.line, link.url, (f"skipped: {exc}",))
                )
                continue
            groups[resource.key].append((link, resource))

    titles = {e.document: e.title for e in extractions}
    crowded = _crowded_headings(extractions)
    imported = set(report.documents)
    for key, found in groups.items():
        records = _seen_records(found)
        table = by_key.get(key)
        if table is None:
            link, resource = found[0]
            name = _best_name(found, crowded)
            section = link.headings[0] if link.headings else titles.get(link.document, "")
            added.append(_new_table(resource, name, section, records))
            report.added.append(NewEntry(resource.url, resource.kind, name))
        elif _replace_seen(table, records, imported):
            report.updated += 1
        else:
            report.unchanged += 1

    report.suspicious.extend(_suspicions(groups))
    report.suspicious.sort(key=lambda s: (report.documents.index(s.document), s.line, s.url))
    report.text = _join(tomlkit.dumps(document) if existing else HEADER, added)
    return report


def _join(text: str, added: AoT) -> str:
    """Append new entries as one block, so spacing is the same however the catalog grew."""
    if not added:
        return text
    block = tomlkit.dumps({"source": added})
    return text.rstrip("\n") + "\n\n" + block if text.strip() else block


# --- naming ------------------------------------------------------------------------------------


def is_generic(text: str) -> bool:
    """True if `text` names no resource: empty, a URL, "github", "here", a bare date."""
    words = text.strip().strip("[]()（）【】:：").strip()
    if not words or _URL_LIKE.match(words):
        return True
    if words.lower() in GENERIC_TEXTS:
        return True
    return not _ANNOTATION.sub("", words).strip()


def clean_name(text: str) -> str:
    """A name without outline numbering ("5.34、") or a trailing date ("（更新于2023年7月3日）")."""
    name = " ".join(text.split())
    stripped = _ANNOTATION.sub("", name).strip()
    name = stripped or name
    return _OUTLINE.sub("", name).strip() or name


def _best_name(
    found: list[tuple[Link, Resource]], crowded: set[tuple[str, tuple[str, ...]]]
) -> str:
    ranked: list[tuple[int, str]] = []
    for link, resource in found:
        if link.text and not is_generic(link.text):
            rank = 3 if link.text_from is TextFrom.LINK else 2
            ranked.append((rank, clean_name(link.text)))
        elif resource.kind is not Kind.WEB:
            ranked.append((1, resource.label))
        elif link.headings and (link.document, link.headings) not in crowded:
            ranked.append((1, clean_name(link.headings[-1])))
        else:
            ranked.append((0, resource.label))
    best = max(rank for rank, _ in ranked)
    return next(name for rank, name in ranked if rank == best)


def _crowded_headings(extractions: Sequence[Extraction]) -> set[tuple[str, tuple[str, ...]]]:
    """Headings with several unnamed links under them: they name none of them."""
    counts: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for extraction in extractions:
        for link in extraction.links:
            if not link.text or is_generic(link.text):
                counts[(link.document, link.headings)] += 1
    return {place for place, count in counts.items() if count >= 2}


# --- writing entries ---------------------------------------------------------------------------


def _seen_records(found: list[tuple[Link, Resource]]) -> list[dict[str, str | int]]:
    records: list[dict[str, str | int]] = []
    for link, _ in found:
        record: dict[str, str | int] = {"document": link.document, "line": link.line}
        if link.headings:
            record["section"] = " › ".join(link.headings)
        if link.text:
            record["text"] = " ".join(link.text.split())
        if record not in records:
            records.append(record)
    return records


def _seen_array(records: list[dict[str, str | int]]) -> Array:
    array = tomlkit.array()
    for record in records:
        item = tomlkit.inline_table()
        item.update(record)
        array.append(item)
    return array.multiline(True)


def _new_table(
    resource: Resource, name: str, section: str, records: list[dict[str, str | int]]
) -> Table:
    table = tomlkit.table()
    table.add("url", resource.url)
    table.add("kind", resource.kind.value)
    table.add("name", name)
    if section:
        table.add("section", section)
    table.add("seen", _seen_array(records))
    return table


def _replace_seen(table: Table, records: list[dict[str, str | int]], imported: set[str]) -> bool:
    """Swap this import's documents' records into `table`; True if anything changed."""
    old = [dict(item) for item in table.get("seen", [])]
    fresh: dict[object, list[dict[str, str | int]]] = defaultdict(list)
    for record in records:
        fresh[record["document"]].append(record)
    new: list[dict[str, str | int]] = []
    for record in old:
        document = record.get("document")
        if document not in imported:
            new.append(record)
        elif document in fresh:
            # A re-imported document's records take the place its old ones had.
            new.extend(fresh.pop(document))
    for rest in fresh.values():
        new.extend(rest)
    if new == old:
        return False
    table["seen"] = _seen_array(new)
    return True


# --- suspicion ---------------------------------------------------------------------------------


def _suspicions(groups: dict[str, list[tuple[Link, Resource]]]) -> list[Suspicion]:
    found: list[Suspicion] = []
    for links in groups.values():
        for link, resource in links:
            reasons = [*link.warnings, *resource.problems]
            if reasons:
                found.append(Suspicion(link.document, link.line, resource.url, tuple(reasons)))
        found.extend(_misnamed(links))
    return found


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _misnamed(links: list[tuple[Link, Resource]]) -> list[Suspicion]:
    """A link named unlike its URL, when the same document links that URL under a fitting name."""
    found = []
    by_document: dict[str, list[tuple[Link, Resource]]] = defaultdict(list)
    for link, resource in links:
        if link.text_from is TextFrom.LINK and not is_generic(link.text):
            by_document[link.document].append((link, resource))
    for named in by_document.values():
        fitting = [link for link, r in named if _words(link.text) & _words(r.label)]
        if not fitting:
            continue
        for link, resource in named:
            words = _words(link.text)
            if (
                words
                and not words & _words(resource.label)
                and not any(words & _words(other.text) for other in fitting)
            ):
                first = fitting[0]
                found.append(
                    Suspicion(
                        link.document,
                        link.line,
                        resource.url,
                        (
                            f"linked as {link.text!r}, but the same document links this URL as "
                            f"{first.text!r} on line {first.line}: is this the right link?",
                        ),
                    )
                )
    return found


def import_documents(
    files: Sequence[Path],
    target: Path,
    *,
    include_code: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """`monitor catalog import`: read every document (all problems at once, `DocumentError`),
    extract its links, merge them into the catalog at `target`, and write it unless
    `dry_run` (or nothing changed and it exists)."""
    problems: list[Problem] = []
    texts: list[tuple[Path, str]] = []
    for path in dict.fromkeys(files):
        try:
            texts.append((path, read_document(path, max_bytes=max_bytes)))
        except DocumentError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DocumentError(problems)
    existing = read_catalog_text(target) if target.exists() else None
    extractions = [
        extract_links(
            text,
            Path(os.path.normpath(path)).as_posix(),
            markdown=path.suffix.lower() in MARKDOWN_SUFFIXES,
            include_code=include_code,
            progress=progress,
        )
        for path, text in texts
    ]
    report = plan_import(extractions, existing, target)
    if not dry_run and (report.changed or existing is None):
        write_atomically(target, report.text)
    return report
