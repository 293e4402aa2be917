"""`monitor catalog import | fix | check`: the catalog's commands, thin over `monitor.catalog`."""

from __future__ import annotations

import difflib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.catalog.file import write_atomically
from monitor.cli.common import catalog_option, environ, guarded, parse_size, progress_bar
from monitor.config import catalog_path, load_configuration, load_settings

if TYPE_CHECKING:
    from monitor.catalog.importer import ImportReport
    from monitor.github.repair import Repair


@click.group()
def catalog() -> None:
    """Build and validate the catalog (sources.toml)."""


@catalog.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--into",
    "into",
    type=click.Path(path_type=Path),
    default=None,
    help="Catalog to create or merge into. [default: MONITOR_CATALOG or sources.toml]",
)
@click.option(
    "--include-code",
    is_flag=True,
    help="Also take links from code blocks and inline code (skipped by default).",
)
@click.option(
    "--max-size",
    default="32MB",  # monitor.catalog.extract.DEFAULT_MAX_BYTES (a test holds them together)
    show_default=True,
    help="Refuse documents larger than this.",
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--no-record",
    is_flag=True,
    help="Do not add FILES to the catalog's [catalog] documents, which every check imports "
    "first (for a one-off import).",
)
def catalog_import(
    files: tuple[Path, ...],
    into: Path | None,
    include_code: bool,
    max_size: str,
    dry_run: bool,
    no_record: bool,
) -> None:
    """Extract every link from markdown or text FILES into the catalog.

    Finds markdown links, reference definitions, autolinks and bare URLs in
    prose and tables; splits URLs glued together, trims trailing punctuation
    (ASCII and CJK), and merges links to the same resource (http/https, www.,
    trailing slashes, #fragments, /abs/ and /pdf/ of one paper) into one entry
    that remembers every place it was seen.

    Importing again, or importing more documents, merges: no entry appears
    twice, and names, tags, kinds and sections you edited are kept. Links that
    look wrong (a space inside, two URLs glued together, an impossible owner
    name) are listed at the end for you to check.

    Files named .md or .markdown are read as markdown, .html and .htm as HTML;
    anything else as plain text, where indentation is not code.

    The FILES are recorded in the catalog's [catalog] documents (unless
    --no-record): from then on every `monitor check` imports them first, so the
    catalog follows the list as it is edited.
    """
    limit = parse_size(max_size)
    target = catalog_path(environ(), into)

    from monitor.catalog.importer import import_documents

    def run() -> ImportReport:
        with progress_bar("extracting links") as progress:
            return import_documents(
                files,
                target,
                include_code=include_code,
                max_bytes=limit,
                dry_run=dry_run,
                progress=progress,
                record=not no_record,
            )

    report = guarded(run)
    _print_import(report, target, dry_run)


def _print_import(report: ImportReport, target: Path, dry_run: bool) -> None:
    entries = len(report.added) + report.updated + report.unchanged
    click.echo(
        f"{len(report.documents)} document(s), {report.links} links -> {entries} entries: "
        f"{len(report.added)} new, {report.updated} updated, {report.unchanged} unchanged."
    )
    if report.excluded:
        click.echo(f"{report.excluded} links matched [catalog] exclude and were left out.")
    if report.gone:
        click.echo(
            f"{len(report.gone)} entries are linked from none of these documents any more "
            "(kept in the catalog; a check with [catalog] documents retires them)."
        )
    if report.recorded:
        click.echo(f"[catalog] documents now lists {', '.join(report.recorded)}.")
    if report.skipped_in_code:
        click.echo(
            f"{report.skipped_in_code} links inside code were skipped "
            "(use --include-code to take them)."
        )
    if report.added:
        kinds = Counter(e.kind.value for e in report.added)
        click.echo(
            "New entries by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        )
    verb = "Would write" if dry_run else "Wrote"
    if report.changed or not target.exists() or dry_run:
        click.echo(f"{verb} {target}.")
    else:
        click.echo(f"{target} is already up to date.")
    if report.suspicious:
        click.echo(f"\n{len(report.suspicious)} suspicious link(s); check them in the documents:")
        for item in report.suspicious:
            click.echo(f"  {item.document}:{item.line}: {item.url}")
            for reason in item.reasons:
                click.echo(f"      {reason}")


@catalog.command("fix")
@click.argument("documents", nargs=-1, type=click.Path(path_type=Path))
@catalog_option()
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")
@click.option(
    "--pr",
    "pull_request",
    is_flag=True,
    help="Open or update one pull request in the list's repository instead of writing files.",
)
@click.option(
    "--repo",
    "repository",
    metavar="OWNER/NAME",
    default=None,
    help="With --pr: the list's repository. [default: MONITOR_GITHUB_REPO]",
)
@click.option(
    "--base",
    metavar="BRANCH",
    default=None,
    help="With --pr: the branch to fix. [default: the repository's default branch]",
)
def catalog_fix(
    documents: tuple[Path, ...],
    catalog_file: Path | None,
    dry_run: bool,
    pull_request: bool,
    repository: str | None,
    base: str | None,
) -> None:
    """Replace every renamed or permanently redirected URL with its new location.

    Reads from the store where each source lives now: a renamed repository's or
    model's new URL, a web page's permanent (301/308) redirect, a path or issue
    whose repository moved; only sources that answer at the new place count.

    Without DOCUMENTS it rewrites the catalog, keeping each old URL in
    `previous_urls` (so the store keeps the source's history). With DOCUMENTS
    (markdown or text) it rewrites their links in place instead, so the list
    itself can be repaired in one commit. --dry-run prints the diff only.

    With --pr it writes no file here: it fixes the documents of the catalog's
    [catalog] documents and the catalog itself in the list's repository
    (MONITOR_GITHUB_REPO or --repo), as the base branch holds them, and opens or
    updates one pull request from the branch monitor/fix-links. The catalog's path
    in the repository is its path relative to the current directory (run from the
    checkout's root). Dead links are not replaced; the description proposes the
    Wayback Machine's copy from before each died. A run with nothing new changes
    nothing. --dry-run prints the diff and the description. Exit 3 when GitHub
    refuses (the token needs contents: write and pull-requests: write).
    """
    if not pull_request and (repository or base):
        raise click.UsageError("--repo and --base go with --pr.")
    if pull_request and documents:
        raise click.UsageError(
            "--pr takes no DOCUMENTS: it fixes the catalog's [catalog] documents in the repository."
        )
    if pull_request:
        _fix_pull_request(catalog_file, dry_run, repository, base)
        return
    from monitor.catalog.fix import fix_files, relocations
    from monitor.check import open_store

    if documents:  # only the store and the documents: no catalog needed
        settings = guarded(lambda: load_settings(environ(), catalog=catalog_file))
    else:
        settings = guarded(lambda: load_configuration(environ(), catalog=catalog_file))[1]
    store, _ = guarded(lambda: open_store(settings.database_url, create=False))
    try:
        moves = relocations(store.sources())
    finally:
        store.close()
    fixes = guarded(lambda: fix_files(moves, settings.catalog, documents))

    def apply() -> int:
        changed = 0
        for fix in fixes:
            for move in fix.applied:
                click.echo(f"{fix.path}: {move.old_url} -> {move.new_url}")
            if not fix.changed:
                continue
            changed += 1
            if dry_run:
                diff = difflib.unified_diff(
                    fix.before.splitlines(keepends=True),
                    fix.after.splitlines(keepends=True),
                    fromfile=f"a/{fix.path}",
                    tofile=f"b/{fix.path}",
                )
                click.echo("".join(diff), nl=False)
            else:
                write_atomically(fix.path, fix.after)
        return changed

    changed = guarded(apply)
    verb = "would change" if dry_run else "changed"
    click.echo(f"{len(moves)} moved source(s) known; {changed} file(s) {verb}.")


def _fix_pull_request(
    catalog_file: Path | None, dry_run: bool, repository: str | None, base: str | None
) -> None:
    """`catalog fix --pr`: the store's fixes as one pull request in the list's repository."""
    from monitor.check import open_store
    from monitor.github.client import repository_name
    from monitor.github.files import catalog_in_repository
    from monitor.github.repair import repair

    settings = guarded(lambda: load_settings(environ(), catalog=catalog_file))
    name = guarded(lambda: repository_name(settings, repository))
    catalog = guarded(lambda: catalog_in_repository(settings.catalog))
    store, _ = guarded(lambda: open_store(settings.database_url, create=False))
    try:
        sources = store.sources()
    finally:
        store.close()
    done = guarded(
        lambda: repair(settings, sources, name=name, catalog=catalog, base=base, dry_run=dry_run)
    )
    _print_repair(done)


def _print_repair(done: Repair) -> None:
    from monitor.github.repair_text import BRANCH

    plan = done.plan
    for item in plan.replacements:
        click.echo(f"{', '.join(item.places)}: {item.move.old_url} -> {item.move.new_url}")
    if done.dry_run:
        for file in plan.changed:
            diff = difflib.unified_diff(
                file.before.splitlines(keepends=True),
                file.after.splitlines(keepends=True),
                fromfile=f"a/{file.path}",
                tofile=f"b/{file.path}",
            )
            for line in diff:
                ending = "" if line.endswith("\n") else "\n\\ No newline at end of file\n"
                click.echo(line + ending, nl=False)
        if plan.changed:
            click.echo(f"\n--- pull request: {plan.title}\n{plan.body}--- end\n")
    archived = sum(1 for d in plan.dead if d.lookup.capture is not None)
    if plan.dead:
        click.echo(
            f"{len(plan.dead)} dead link(s), not replaced; an archived copy found for {archived}."
        )
    if not plan.changed:
        for link in plan.dead:
            capture = link.lookup.capture
            click.echo(f"  {link.url}: {capture.url if capture else 'no archived copy found'}")
    where = f"{plan.repository}@{plan.base}"
    number = f"#{done.number}" if done.number else ""
    would = done.dry_run
    if done.action == "nothing":
        click.echo(f"Nothing to replace in {where}.")
    elif done.action == "closed":
        verb = "would close" if would else "closed"
        click.echo(f"Nothing left to replace in {where}; {verb} pull request {number}.")
    elif done.action == "declined":
        click.echo(
            f"Pull request {number} with these same fixes was closed unmerged; not opened "
            f"again until there is something new to fix ({done.url})."
        )
    elif done.action == "opened":
        if would:
            click.echo(f"Would open a pull request from {BRANCH} into {where}.")
        else:
            click.echo(f"Opened pull request {number}: {done.url}")
    elif done.action == "updated":
        what = ", ".join("a new commit" if e == "commit" else f"its {e}" for e in done.edited)
        verb = "Would update" if would else "Updated"
        click.echo(f"{verb} pull request {number} ({what}): {done.url}")
    else:
        click.echo(f"Pull request {number} is up to date; nothing was changed: {done.url}")
    click.echo(
        f"{done.requests} GitHub request(s), {done.archive_requests} to the Wayback Machine."
    )


@catalog.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@catalog_option("The catalog to check (same as PATH).", dest="catalog_option")
def catalog_check(path: Path | None, catalog_option: Path | None) -> None:
    """Validate the catalog and the settings; report every problem with its line.

    Checks TOML syntax, unknown keys, missing and unparseable URLs, unknown
    kinds, duplicate entries (the same resource spelled two ways), and the
    [settings], [policy], [schedule] and [alerts] tables together with the
    MONITOR_* environment variables. Exits 2 if anything is wrong; changes
    nothing either way.
    """
    chosen = path or catalog_option
    loaded, _settings = guarded(lambda: load_configuration(environ(), catalog=chosen))
    kinds = Counter(e.kind.value for e in loaded.entries)
    click.echo(f"{loaded.path}: {len(loaded.entries)} entries, no problems found.")
    click.echo("  " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
