"""One `monitor check` with the real clients, and the store it needs, opened as it should be.

    take_in(catalog, synced_catalog(settings.database_url), settings, allow_empty=False)
    store, created = open_store(settings.database_url, create=True)
    result = check_once(catalog.entries(), settings, store=store, digest=catalog.digest)

Owns what happens around a run rather than in it: opening (or refusing to
create) the store, checking before anything is written that the run will be
able to write its reports and its store, refusing an empty catalog that would
retire every source, and the writer lock. `runner.run_check` is the run itself.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import Problem, RunFailed, StoreMissing, UserInputError
from monitor.model import Entry
from monitor.runner import Progress, RunResult
from monitor.settings import Settings
from monitor.store import Store

if TYPE_CHECKING:
    from monitor.catalog.stream import StreamedCatalog


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory stores)."""
    if url.startswith("sqlite:///") and url not in ("sqlite:///:memory:", "sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    return None


def shown(url: str) -> str:
    """A database URL as it may be printed: no password."""
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def open_store(url: str, *, create: bool) -> tuple[Store, bool]:
    """The store at `url`, migrated, and whether it was created just now.

    With `create=False` (the commands that only read the store) a store that does not
    exist yet is `StoreMissing` (exit 2), never a new empty one; a store that cannot
    be opened is `RunFailed` (exit 3) with the reason.
    """
    import sqlalchemy as sa

    path = sqlite_path(url)
    if path is not None:
        existed = path.exists() and path.stat().st_size > 0
        if not existed and not create:
            raise StoreMissing(url_missing(url))
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path is None:
            store = Store.connect(url, migrate=False)
            existed = store.revision() is not None
            if not existed and not create:
                store.close()
                raise StoreMissing(url_missing(url))
            store.upgrade()
        else:
            store = Store.connect(url)
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise RunFailed(
            f"cannot open the store at {shown(url)}: {reason} (check MONITOR_DATABASE_URL "
            "and that the database server is running)"
        ) from None
    return store, not existed


def url_missing(url: str) -> list[Problem]:
    return [
        Problem(
            "MONITOR_DATABASE_URL",
            f"there is no store at {shown(url)}",
            hint="run `monitor check` to create one, or point MONITOR_DATABASE_URL at yours",
        )
    ]


def synced_catalog(url: str) -> tuple[str, int] | None:
    """The digest and size of the catalog the store at `url` last took in; None when there
    is no such store yet (it is not created) or it cannot tell."""
    import sqlalchemy as sa

    path = sqlite_path(url)
    if path is not None and not (path.exists() and path.stat().st_size > 0):
        return None
    try:
        store = Store.connect(url, migrate=False)
    except (sa.exc.SQLAlchemyError, OSError):
        return None
    try:
        return store.synced_catalog()
    except (sa.exc.SQLAlchemyError, OSError):
        return None  # an older store, without the row: it takes the catalog in
    finally:
        store.close()


def take_in(
    catalog: StreamedCatalog,
    synced: tuple[str, int] | None,
    settings: Settings,
    *,
    allow_empty: bool,
) -> None:
    """Before anything is written: the catalog's entries validated, unless the store took
    in this very catalog already (`synced`, by digest), and an empty one refused."""
    known = synced is not None and synced[0] == catalog.digest
    count = synced[1] if synced is not None and known else catalog.validate()
    refuse_empty(count, settings, allow_empty=allow_empty)


def refuse_empty(entries: int, settings: Settings, *, allow_empty: bool) -> None:
    """A catalog with no entries would retire every stored source: only on purpose."""
    if not entries and not allow_empty:
        raise UserInputError(
            [
                Problem(
                    str(settings.catalog),
                    "the catalog has no entries: checking it would retire every stored source",
                    hint="add [[source]] entries, or run `monitor check --allow-empty` to retire "
                    "them all on purpose",
                )
            ]
        )


def preflight(settings: Settings) -> None:
    """Before anything is written: what would make the run fail halfway (exit 2)."""
    problems: list[Problem] = []
    reports = settings.reports_dir
    why = _unwritable(reports)
    if why:
        problems.append(
            Problem(
                "MONITOR_REPORTS_DIR",
                f"reports cannot be written to {reports}: {why}",
                hint="create it or point MONITOR_REPORTS_DIR at a folder you can write",
            )
        )
    path = sqlite_path(settings.database_url)
    if path is not None:
        why = _unwritable(path.parent) or (
            "it is not a file" if path.exists() and not path.is_file() else ""
        )
        if not why and path.exists() and not os.access(path, os.W_OK):
            why = "the file is read-only"
        if why:
            problems.append(
                Problem(
                    "MONITOR_DATABASE_URL",
                    f"the store {path} cannot be written: {why}",
                    hint="point MONITOR_DATABASE_URL at a file in a folder you can write",
                )
            )
    if problems:
        raise UserInputError(problems)


def _unwritable(folder: Path) -> str:
    """Why files cannot be created in `folder` (made first if missing), or "" if they can."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            return "no part of the path exists"
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return ""


def strangers(reports_dir: Path) -> int:
    """Day reports already in `reports_dir` (which a store created just now never wrote)."""
    if not reports_dir.is_dir():
        return 0
    return sum(1 for _ in reports_dir.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].json"))


def check_once(
    entries: Iterable[Entry],
    settings: Settings,
    *,
    store: Store,
    digest: str | None = None,
    lock: bool = True,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """One check of what is due with the real clients, under the store's writer lock
    (unless `lock` is False: the daemon holds it for its whole life). `entries` are read
    only if the catalog's `digest` is not the one the store took in last."""
    from monitor.alerts import apprise_channels
    from monitor.probes.build import build_probes
    from monitor.runner import run_check
    from monitor.store.lock import writer_lock

    channels = apprise_channels([url.reveal() for url in settings.alert_urls])
    with writer_lock(store, role="monitor check") if lock else nullcontext():
        return run_check(
            entries,
            store,
            build_probes(settings),
            now=settings.now or datetime.now(UTC),
            policy=settings.policy,
            reports_dir=settings.reports_dir,
            progress=progress,
            interval=timedelta(minutes=settings.policy.recheck_after_minutes),
            channels=channels,
            stop=stop,
            deadline=float(settings.probes.service_deadline_seconds),
            digest=digest,
        )
