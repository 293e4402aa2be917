"""Loading the catalog and the settings together, reporting the problems of both at once.

The CLI calls `load_configuration` once per command; everything after it gets
a validated `Catalog` and `Settings` and never reads the environment again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from monitor.catalog.file import Catalog, load_catalog
from monitor.errors import CatalogError, Problem, SettingsError
from monitor.settings import Settings, resolve_settings

if TYPE_CHECKING:
    from monitor.catalog.stream import StreamedCatalog


def catalog_path(environ: Mapping[str, str], given: Path | None = None) -> Path:
    """The catalog to use: the one given, else MONITOR_CATALOG, else sources.toml."""
    if given is not None:
        return given
    return Path(environ.get("MONITOR_CATALOG", "").strip() or "sources.toml")


def load_configuration(
    environ: Mapping[str, str], *, catalog: Path | None = None, now: str | None = None
) -> tuple[Catalog, Settings]:
    """Read and validate the catalog and every setting; raise one error listing all problems."""
    return _load(environ, catalog_path(environ, catalog), now, load_catalog)


def load_check_configuration(
    environ: Mapping[str, str], *, catalog: Path | None = None, now: str | None = None
) -> tuple[StreamedCatalog, Settings]:
    """The settings and the catalog as a check reads it: its tables now, its entries a
    block at a time when they are needed (`StreamedCatalog.validate`, `.entries`)."""
    from monitor.catalog.stream import open_catalog

    def entry_problems(loaded: StreamedCatalog) -> list[Problem]:
        # The settings are wrong: say what is wrong with the entries too, all at once.
        try:
            loaded.validate()
        except CatalogError as exc:
            return list(exc.problems)
        return []

    return _load(environ, catalog_path(environ, catalog), now, open_catalog, entry_problems)


class _Tables(Protocol):
    @property
    def tables(self) -> Mapping[str, Any]: ...

    def line_of(self, table: str, key: str) -> int | None: ...


_C = TypeVar("_C", bound=_Tables)


def _load(
    environ: Mapping[str, str],
    path: Path,
    now: str | None,
    read: Callable[[Path], _C],
    more: Callable[[_C], list[Problem]] | None = None,
) -> tuple[_C, Settings]:
    problems: list[Problem] = []
    loaded: _C | None = None
    try:
        loaded = read(path)
    except CatalogError as exc:
        problems.extend(exc.problems)
    settings: Settings | None = None
    try:
        settings = resolve_settings(
            environ,
            loaded.tables if loaded else {},
            catalog=path,
            now=now,
            where=str(path),
            line_of=loaded.line_of if loaded else None,
        )
    except SettingsError as exc:
        problems.extend(exc.problems)
    if problems:
        if loaded is not None and more is not None:
            problems = sorted([*problems, *more(loaded)], key=lambda p: p.line or 0)
        error = CatalogError if loaded is None else SettingsError
        raise error(problems)
    assert loaded is not None and settings is not None
    return loaded, settings


def load_settings(
    environ: Mapping[str, str], *, catalog: Path | None = None, now: str | None = None
) -> Settings:
    """The settings of a command that only reads the store (`status`, `digest`, …).

    The catalog's tables are read when it exists, not its entries (a store-only command
    has no use for them, and at 100,000 entries reading them is most of its time; a bad
    entry is `monitor check`'s and `monitor catalog check`'s to report). When the
    default `sources.toml` is simply not there, the environment and the defaults are
    enough. A catalog named on purpose (`--catalog`, MONITOR_CATALOG) must exist.
    """
    path = catalog_path(environ, catalog)
    if path.exists() or _named(environ, catalog):
        return load_check_configuration(environ, catalog=catalog, now=now)[1]
    return resolve_settings(environ, catalog=path, now=now)


def load_optional_configuration(
    environ: Mapping[str, str], *, catalog: Path | None = None, now: str | None = None
) -> tuple[Catalog | None, Settings]:
    """The catalog where there is one, and the settings, as `load_settings` finds them:
    for a command that reads the store and uses the catalog when it is at hand."""
    path = catalog_path(environ, catalog)
    if path.exists() or _named(environ, catalog):
        return load_configuration(environ, catalog=catalog, now=now)
    return None, resolve_settings(environ, catalog=path, now=now)


def _named(environ: Mapping[str, str], catalog: Path | None) -> bool:
    """Whether the catalog was named on purpose (then it must exist)."""
    return catalog is not None or bool(environ.get("MONITOR_CATALOG", "").strip())
