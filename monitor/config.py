"""Loading the catalog and the settings together, reporting the problems of both at once.

The CLI calls `load_configuration` once per command; everything after it gets
a validated `Catalog` and `Settings` and never reads the environment again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from monitor.catalog.file import Catalog, load_catalog
from monitor.errors import CatalogError, Problem, SettingsError
from monitor.settings import Settings, resolve_settings


def catalog_path(environ: Mapping[str, str], given: Path | None = None) -> Path:
    """The catalog to use: the one given, else MONITOR_CATALOG, else sources.toml."""
    if given is not None:
        return given
    return Path(environ.get("MONITOR_CATALOG", "").strip() or "sources.toml")


def load_configuration(
    environ: Mapping[str, str], *, catalog: Path | None = None, now: str | None = None
) -> tuple[Catalog, Settings]:
    """Read and validate the catalog and every setting; raise one error listing all problems."""
    path = catalog_path(environ, catalog)
    problems: list[Problem] = []
    loaded: Catalog | None = None
    try:
        loaded = load_catalog(path)
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
        error = CatalogError if loaded is None else SettingsError
        raise error(problems)
    assert loaded is not None and settings is not None
    return loaded, settings


def load_settings(
    environ: Mapping[str, str], *, catalog: Path | None = None, now: str | None = None
) -> Settings:
    """The settings of a command that only reads the store (`status`, `digest`, …).

    The catalog's tables are read (and the whole catalog validated) when it exists;
    when the default `sources.toml` is simply not there, the environment and the
    defaults are enough. A catalog named on purpose (`--catalog`, MONITOR_CATALOG)
    must exist.
    """
    return load_optional_configuration(environ, catalog=catalog, now=now)[1]


def load_optional_configuration(
    environ: Mapping[str, str], *, catalog: Path | None = None, now: str | None = None
) -> tuple[Catalog | None, Settings]:
    """The catalog where there is one, and the settings, as `load_settings` finds them:
    for a command that reads the store and uses the catalog when it is at hand."""
    path = catalog_path(environ, catalog)
    named = catalog is not None or bool(environ.get("MONITOR_CATALOG", "").strip())
    if path.exists() or named:
        return load_configuration(environ, catalog=catalog, now=now)
    return None, resolve_settings(environ, catalog=path, now=now)
