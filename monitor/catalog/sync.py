"""`[catalog] documents`: the catalog kept in step with the list it watches.

    catalog = keep_in_step(catalog, settings)     # before every check

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
from dataclasses import replace
from pathlib import Path

from monitor.catalog.file import Catalog, load_catalog
from monitor.catalog.importer import import_documents
from monitor.settings import Settings


def keep_in_step(catalog: Catalog, settings: Settings) -> Catalog:
    """The catalog after importing `[catalog] documents`, with only the entries in them."""
    if not settings.documents:
        return catalog
    base = catalog.path.parent
    import_documents(
        [base / name for name in settings.documents],
        catalog.path,
        exclude=settings.exclude,
        record=False,
    )
    fresh = load_catalog(catalog.path)
    listed = {Path(os.path.normpath(name)).as_posix() for name in settings.documents}
    kept = tuple(
        entry
        for entry in fresh.entries
        if not entry.imported or any(seen.document in listed for seen in entry.seen)
    )
    return replace(fresh, entries=kept)
