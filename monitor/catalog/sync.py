"""`[catalog] documents`: the catalog kept in step with the list it watches.

    catalog = keep_in_step(open_catalog(path), settings)     # before every check

Every check imports the listed documents into the catalog file first (new links
join as entries the maintainer can annotate), then takes as its entries those a
listed document links to, plus the ones added by hand (never imported). An
entry no listed document links to any more stays in the file, with its
judgement, but is left out: the store retires it, keeping its history, and it
comes back if the link does. A document that cannot be read stops the check
before anything is written (`DocumentError`, exit 2).
"""

from __future__ import annotations

import os
from pathlib import Path

from monitor.catalog.stream import StreamedCatalog, open_catalog
from monitor.model import Entry
from monitor.settings import Settings


def keep_in_step(catalog: StreamedCatalog, settings: Settings) -> StreamedCatalog:
    """The catalog after importing `[catalog] documents`, with only the entries in them
    (filtered as they stream; the filter is part of the digest)."""
    if not settings.documents:
        return catalog
    # Only a catalog kept in step with documents pays for the importer (markdown-it & co.).
    from monitor.catalog.importer import import_documents

    import_documents(
        [catalog.path.parent / name for name in settings.documents],
        catalog.path,
        exclude=settings.exclude,
        record=False,
    )
    listed = _listed(settings)
    return open_catalog(catalog.path).filtered(
        lambda entry: _kept(entry, listed), "documents:" + "\n".join(sorted(listed))
    )


def _listed(settings: Settings) -> frozenset[str]:
    return frozenset(Path(os.path.normpath(name)).as_posix() for name in settings.documents)


def _kept(entry: Entry, listed: frozenset[str]) -> bool:
    """Added by hand (never imported), or linked from a listed document."""
    return not entry.imported or any(seen.document in listed for seen in entry.seen)
