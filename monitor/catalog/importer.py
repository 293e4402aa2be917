"""Links found in documents, merged into the catalog: one entry per resource, user edits kept.

`plan_import` is pure: extractions and the current catalog text in, the new
catalog text and a report out. It decides

- **identity**: links are grouped by `kinds.identify(url).key`, so one resource
  listed five times, spelled five ways, is one entry that remembers all five
  places (`seen`);
- **names**: see `naming` (the link text if it names something, else the table
  row's label, else an id such as `owner/repo`, else a heading of its own);
- **merging**: an entry already in the catalog keeps its url, name, kind, tags
  and section; only its `seen` records for the documents being imported are
  replaced, so importing again changes nothing and importing more adds;
- **suspicion**: links a human should look at — glued URLs that were split, a
  space inside a URL, impossible owner names, malformed destinations (recovered
  or not). One URL linked under several texts is not suspicious: long lists do
  that all the time.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Array, Table

from monitor.catalog.extract import (
    DEFAULT_MAX_BYTES,
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    Extraction,
    Link,
    Progress,
    extract_links,
    read_document,
)
from monitor.catalog.file import parse_catalog, read_catalog_text, write_atomically
from monitor.catalog.kinds import NotAWebURL, Resource, identify
from monitor.catalog.naming import best_name, crowded_headings, learn_generic
from monitor.errors import DocumentError, Problem
from monitor.model import Kind

HEADER = """\
# The monitor's catalog: every resource it watches (see README.md, "The catalog").
# Written by `monitor catalog import`. Edit freely: the url, name, kind, tags and
# section you set are kept when documents are imported again; `seen` is rewritten.
"""


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
    #: entries no document of this import links to any more (their `seen` lost those places)
    gone: list[str] = field(default_factory=list)
    #: links left out by `[catalog] exclude`
    excluded: int = 0
    #: documents recorded in `[catalog] documents` for the first time
    recorded: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.recorded)


def plan_import(
    extractions: Sequence[Extraction],
    existing: str | None,
    catalog_path: Path,
    *,
    exclude: Sequence[str] = (),
    record: bool = False,
) -> ImportReport:
    """Merge `extractions` into the catalog text `existing` (None: a new catalog).

    Links matching a regular expression of `exclude` are left out. An entry the
    imported documents no longer link to loses their places from its `seen` (it is in
    `gone` when no place is left). With `record`, the documents are added to the
    catalog's `[catalog] documents`, so later checks keep the catalog in step with them.

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
    # The catalog's own `[catalog] exclude` applies to every import into it.
    exclude = (*exclude, *(str(p) for p in document.get("catalog", {}).get("exclude", [])))
    added = tomlkit.aot()

    report = ImportReport(text="", documents=tuple(e.document for e in extractions))
    by_key = {identify(str(table["url"])).key: table for table in existing_tables}

    groups: dict[str, list[tuple[Link, Resource]]] = defaultdict(list)
    for extraction in extractions:
        report.skipped_in_code += extraction.skipped_in_code
        report.links += len(extraction.links)
        for malformed in extraction.malformed:
            report.suspicious.append(
                Suspicion(
                    extraction.document,
                    malformed.line,
                    malformed.written,
                    (f"skipped: {malformed.reason}; fix it in the document",),
                )
            )
        for link in extraction.links:
            if any(re.search(pattern, link.url) for pattern in exclude):
                report.excluded += 1
                continue
            try:
                resource = identify(link.url)
            except NotAWebURL as exc:
                report.suspicious.append(
                    Suspicion(
                        link.document, link.line, link.url, (*link.warnings, f"skipped: {exc}")
                    )
                )
                continue
            groups[resource.key].append((link, resource))

    titles = {e.document: e.title for e in extractions}
    generic = learn_generic((link, key) for key, found in groups.items() for link, _ in found)
    crowded = crowded_headings((link for found in groups.values() for link, _ in found), generic)
    imported = set(report.documents)
    for key, found in groups.items():
        records = _seen_records(found)
        table = by_key.get(key)
        if table is None:
            link, resource = found[0]
            name = best_name(found, crowded, generic)
            section = link.headings[0] if link.headings else titles.get(link.document, "")
            added.append(_new_table(resource, name, section, records))
            report.added.append(NewEntry(resource.url, resource.kind, name))
        elif _replace_seen(table, records, imported):
            report.updated += 1
        else:
            report.unchanged += 1

    for key, table in by_key.items():
        if key not in groups and _replace_seen(table, [], imported):
            report.updated += 1
            if not table.get("seen"):
                report.gone.append(str(table["url"]))
    if record:
        report.recorded = _record_documents(document, report.documents)

    report.suspicious.extend(_suspicions(groups))
    report.suspicious.sort(key=lambda s: (report.documents.index(s.document), s.line, s.url))
    text = tomlkit.dumps(document) if existing else HEADER
    if not existing and report.recorded:
        text += "\n" + tomlkit.dumps({"catalog": document["catalog"]})
    report.text = _join(text, added)
    return report


def _record_documents(document: tomlkit.TOMLDocument, documents: Sequence[str]) -> tuple[str, ...]:
    """Add `documents` to the catalog's `[catalog] documents`; the ones that were new."""
    catalog = document.get("catalog")
    if catalog is None:
        catalog = tomlkit.table()
        document["catalog"] = catalog
    listed = catalog.get("documents")
    if listed is None:
        listed = tomlkit.array()
        catalog["documents"] = listed
    new = tuple(d for d in documents if d not in listed)
    listed.extend(new)
    return new


def _join(text: str, added: AoT) -> str:
    """Append new entries as one block, so spacing is the same however the catalog grew."""
    if not added:
        return text
    block = tomlkit.dumps({"source": added})
    return text.rstrip("\n") + "\n\n" + block if text.strip() else block


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
    return found


def import_documents(
    files: Sequence[Path],
    target: Path,
    *,
    include_code: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    dry_run: bool = False,
    progress: Progress | None = None,
    exclude: Sequence[str] = (),
    record: bool = True,
) -> ImportReport:
    """`monitor catalog import`: read every document (all problems at once, `DocumentError`),
    extract its links, merge them into the catalog at `target`, and write it unless
    `dry_run` (or nothing changed and it exists).

    Documents are named, in `seen` and in `[catalog] documents` (with `record`), by their
    path relative to the catalog's folder, so the catalog finds them again from anywhere.
    """
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
    base = target.parent.resolve()
    extractions = [
        extract_links(
            text,
            Path(os.path.relpath(path.resolve(), base)).as_posix(),
            markdown=path.suffix.lower() in MARKDOWN_SUFFIXES,
            html=path.suffix.lower() in HTML_SUFFIXES,
            include_code=include_code,
            progress=progress,
        )
        for path, text in texts
    ]
    report = plan_import(extractions, existing, target, exclude=exclude, record=record)
    if not dry_run and (report.changed or existing is None):
        write_atomically(target, report.text)
    return report
