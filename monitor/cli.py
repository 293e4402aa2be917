"""The command line: the composition root of monitor.

This is the one place that reads the process environment, builds real objects
(files, clients, clocks) and turns outcomes into exit statuses. Each command
parses its options, calls the library, prints, and exits: 0 done, 1 done with
new alerts (`monitor check`), 2 bad input (nothing written), anything else a
failed run. No other logic lives here.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn, TypeVar

import click

from monitor import __version__
from monitor.catalog.extract import (
    DEFAULT_MAX_BYTES,
    MARKDOWN_SUFFIXES,
    Extraction,
    Progress,
    extract_links,
    read_document,
)
from monitor.catalog.file import Entry, read_catalog_text, write_atomically
from monitor.catalog.importer import ImportReport, plan_import
from monitor.config import catalog_path, load_configuration
from monitor.errors import DocumentError, Problem, RunFailed, UserInputError
from monitor.model import Kind
from monitor.probes import Probe
from monitor.runner import RunResult
from monitor.settings import SECRET_ENV_VARS, Settings
from monitor.store import Store

EXIT_OK = 0
EXIT_ALERTS = 1
EXIT_BAD_INPUT = 2
EXIT_FAILED = 3

T = TypeVar("T")


def _secrets() -> list[str]:
    found = [os.environ.get(name, "") for name in SECRET_ENV_VARS]
    return [s for s in found if len(s) >= 4]


def redact(text: str, secrets: Sequence[str] | None = None) -> str:
    """Replace every credential value in `text` with ***."""
    for secret in secrets if secrets is not None else _secrets():
        text = text.replace(secret, "***")
    return text


def _fail(problems: Sequence[Problem]) -> NoReturn:
    for problem in problems:
        click.echo(redact(f"error: {problem}"), err=True)
    noun = "problem" if len(problems) == 1 else "problems"
    click.echo(f"{len(problems)} {noun}; nothing was changed.", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _guarded(action: Callable[[], T]) -> T:
    """Run `action`; bad input exits 2 with every problem listed, a bug exits 3 with no secrets."""
    try:
        return action()
    except UserInputError as exc:
        _fail(exc.problems)
    except RunFailed as exc:
        click.echo(redact(f"error: {exc}"), err=True)
        sys.exit(EXIT_FAILED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        raise  # the reader went away (`monitor status | head`): handled in run()
    except Exception:
        click.echo(redact(traceback.format_exc()), err=True)
        click.echo("monitor failed unexpectedly; the trace above says where.", err=True)
        sys.exit(EXIT_FAILED)


@contextmanager
def _progress(description: str) -> Iterator[Progress]:
    """A progress bar on an interactive terminal; silence under cron and in pipes."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)i?b?\s*", text.lower())
    if not match:
        raise click.BadParameter(f"{text!r} is not a size such as 32MB")
    return int(match[1]) << (10 * " kmg".index(match[2] or " "))


def run() -> None:
    """The console script: `main`, quiet when its reader stops reading (`| head`)."""
    try:
        main(prog_name="monitor")
    except BrokenPipeError:
        # Python would print a trace while flushing stdout at exit; point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="monitor")
def main() -> None:
    """Keep a curated catalog of LLM resources honest.

    monitor polls every GitHub repo, Hugging Face model, dataset and space,
    arXiv paper and web page listed in the catalog (sources.toml), records what
    it sees over time, and reports what changed: renames, deletions, licence
    changes, dead links, stars and new commits.

    Settings come from the environment (MONITOR_CATALOG, MONITOR_DATABASE_URL,
    MONITOR_REPORTS_DIR, MONITOR_GITHUB_API_URL, GITHUB_TOKEN, MONITOR_HF_ENDPOINT,
    HF_TOKEN, MONITOR_ARXIV_API_URL, MONITOR_ALERT_URLS, MONITOR_NOW) over the
    catalog's [settings] table. Exit status: 0 done, 1 new alerts, 2 bad input,
    other non-zero a failed run.
    """


@main.group()
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
    default=f"{DEFAULT_MAX_BYTES // 1_048_576}MB",
    show_default=True,
    help="Refuse documents larger than this.",
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
def catalog_import(
    files: tuple[Path, ...], into: Path | None, include_code: bool, max_size: str, dry_run: bool
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

    Files named .md or .markdown are read as markdown; anything else as plain
    text, where indentation is not code.
    """
    limit = _parse_size(max_size)
    target = catalog_path(os.environ, into)
    report = _guarded(lambda: _import(files, target, include_code, limit, dry_run))
    _print_import(report, target, dry_run)


def _import(
    files: Sequence[Path], target: Path, include_code: bool, limit: int, dry_run: bool
) -> ImportReport:
    problems: list[Problem] = []
    texts: list[tuple[Path, str]] = []
    for path in dict.fromkeys(files):
        try:
            texts.append((path, read_document(path, max_bytes=limit)))
        except DocumentError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DocumentError(problems)
    existing = read_catalog_text(target) if target.exists() else None
    extractions: list[Extraction] = []
    with _progress("extracting links") as progress:
        for path, text in texts:
            name = Path(os.path.normpath(path)).as_posix()
            extractions.append(
                extract_links(
                    text,
                    name,
                    markdown=path.suffix.lower() in MARKDOWN_SUFFIXES,
                    include_code=include_code,
                    progress=progress,
                )
            )
    report = plan_import(extractions, existing, target)
    if not dry_run and (report.changed or existing is None):
        write_atomically(target, report.text)
    return report


def _print_import(report: ImportReport, target: Path, dry_run: bool) -> None:
    entries = len(report.added) + report.updated + report.unchanged
    click.echo(
        f"{len(report.documents)} document(s), {report.links} links -> {entries} entries: "
        f"{len(report.added)} new, {report.updated} updated, {report.unchanged} unchanged."
    )
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
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path),
    default=None,
    help="The catalog. [default: MONITOR_CATALOG or sources.toml]",
)
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")
def catalog_fix(documents: tuple[Path, ...], catalog_file: Path | None, dry_run: bool) -> None:
    """Replace every renamed or permanently redirected URL with its new location.

    Reads from the store where each source lives now: a renamed repository's or
    model's new URL, a web page's permanent (301/308) redirect, a path or issue
    whose repository moved; only sources that answer at the new place count.

    Without DOCUMENTS it rewrites the catalog, keeping each old URL in
    `previous_urls` (so the store keeps the source's history). With DOCUMENTS
    (markdown or text) it rewrites their links in place instead, so the list
    itself can be repaired in one commit. --dry-run prints the diff only.
    """
    catalog_loaded, settings = _guarded(
        lambda: load_configuration(os.environ, catalog=catalog_file)
    )
    _guarded(lambda: _fix(catalog_loaded.path, documents, settings, dry_run))


def _fix(catalog_file: Path, documents: Sequence[Path], settings: Settings, dry_run: bool) -> None:
    import difflib

    from monitor.catalog.fix import Move, fix_catalog, fix_document, relocations

    store = open_store(settings.database_url)
    try:
        moves = relocations(store.sources())
    finally:
        store.close()
    targets: list[tuple[Path, str, str, list[Move]]] = []
    if documents:
        problems: list[Problem] = []
        for path in documents:
            try:
                text = read_document(path)
            except DocumentError as exc:
                problems.extend(exc.problems)
                continue
            fixed, applied = fix_document(
                text, str(path), moves, markdown=path.suffix.lower() in MARKDOWN_SUFFIXES
            )
            targets.append((path, text, fixed, applied))
        if problems:
            raise DocumentError(problems)
    else:
        text = read_catalog_text(catalog_file)
        fixed, applied = fix_catalog(text, moves)
        targets.append((catalog_file, text, fixed, applied))
    changed = 0
    for path, before, after, applied in targets:
        for move in applied:
            click.echo(f"{path}: {move.old_url} -> {move.new_url}")
        if before == after:
            continue
        changed += 1
        if dry_run:
            click.echo(
                "".join(
                    difflib.unified_diff(
                        before.splitlines(keepends=True),
                        after.splitlines(keepends=True),
                        fromfile=f"a/{path}",
                        tofile=f"b/{path}",
                    )
                ),
                nl=False,
            )
        else:
            write_atomically(path, after)
    verb = "would change" if dry_run else "changed"
    click.echo(f"{len(moves)} moved source(s) known; {changed} file(s) {verb}.")


@catalog.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--catalog",
    "catalog_option",
    type=click.Path(path_type=Path),
    default=None,
    help="The catalog to check (same as PATH). [default: MONITOR_CATALOG or sources.toml]",
)
def catalog_check(path: Path | None, catalog_option: Path | None) -> None:
    """Validate the catalog and the settings; report every problem with its line.

    Checks TOML syntax, unknown keys, missing and unparseable URLs, unknown
    kinds, duplicate entries (the same resource spelled two ways), and the
    [settings], [policy], [schedule] and [alerts] tables together with the
    MONITOR_* environment variables. Exits 2 if anything is wrong; changes
    nothing either way.
    """
    chosen = path or catalog_option
    loaded, _settings = _guarded(lambda: load_configuration(os.environ, catalog=chosen))
    kinds = Counter(e.kind.value for e in loaded.entries)
    click.echo(f"{loaded.path}: {len(loaded.entries)} entries, no problems found.")
    click.echo("  " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


@main.group()
def emulator() -> None:
    """Run the offline world: GitHub, the Hugging Face Hub, arXiv and web hosts on loopback."""


@emulator.command("serve")
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    default=None,
    help="A TOML scenario file (format: see monitor/emulator/scenario.py).",
)
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Seed a healthy world with every entry of this catalog.",
)
@click.option("--now", default=None, help="The date seeded values are relative to (ISO 8601).")
@click.option("--latency-ms", type=float, default=None, help="Delay every answer, in ms.")
@click.option(
    "--port",
    type=int,
    default=0,
    show_default=True,
    help="First port; the services take five in a row. 0 picks free ports.",
)
def emulator_serve(
    scenario: Path | None,
    catalog_file: Path | None,
    now: str | None,
    latency_ms: float | None,
    port: int,
) -> None:
    """Serve the emulated services on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM).

    It prints the base URL of each service. Point monitor at it with:

    \b
      export MONITOR_GITHUB_API_URL=<GitHub URL>     (GraphQL is <GitHub URL>/graphql)
      export MONITOR_HF_ENDPOINT=<Hugging Face URL>
      export MONITOR_ARXIV_API_URL=<arXiv URL>
      export MONITOR_CONNECT_TO='*=<web address>'  (web checks of every host go there)

    With --catalog, every entry of the catalog exists and is healthy; with
    --scenario, the world is what the file says (both may be given; the
    scenario is applied after the seed). The control URL takes
    POST /call/<mutation> with {"args": [...], "kwargs": {...}} to change the
    world (rename, delete, star, set_page, ...) and GET /stats for request counts.
    """
    _guarded(lambda: _serve(scenario, catalog_file, now, latency_ms, port))


def _serve(
    scenario: Path | None,
    catalog_file: Path | None,
    now: str | None,
    latency_ms: float | None,
    port: int,
) -> None:
    import signal
    import threading
    from datetime import UTC, datetime

    from monitor.catalog.file import load_catalog
    from monitor.emulator import Emulator, World
    from monitor.emulator.scenario import load_scenario, seed_world
    from monitor.settings import parse_now

    world = World()
    if catalog_file is not None:
        try:
            moment = parse_now(now) if now else datetime.now(UTC)
        except ValueError as exc:
            raise UserInputError([Problem("--now", str(exc))]) from None
        seeded = seed_world(load_catalog(catalog_file).entries, moment, world)
        counts = ", ".join(f"{k} {n}" for k, n in sorted(seeded.counts.items()))
        click.echo(f"Seeded from {catalog_file}: {counts}.")
        for url, why in seeded.skipped:
            click.echo(f"  left out {url}: {why}")
    if scenario is not None:
        load_scenario(scenario, world)
    if latency_ms is not None:
        world.set_latency(latency_ms / 1000)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with Emulator(world, base_port=port) as running:
        click.echo(f"GitHub        {running.github_url}   (GraphQL {running.github_url}/graphql)")
        click.echo(f"Hugging Face  {running.hf_url}")
        click.echo(f"arXiv         {running.arxiv_url}")
        click.echo(f"web           {running.web_url}")
        click.echo(f"control       {running.control_url}")
        click.echo("\nPoint monitor at it:")
        for name, value in running.environment().items():
            click.echo(f"  export {name}={value}")
        click.echo("\nServing until Ctrl-C or SIGTERM.", nl=True)
        sys.stdout.flush()
        stop.wait()
        counts = ", ".join(f"{k} {n}" for k, n in sorted(world.counts.items())) or "none"
        click.echo(f"Stopped. Requests served: {counts}.")


# --- checking ------------------------------------------------------------------------------------


def build_probes(settings: Settings) -> dict[Kind, Probe]:
    """The real clients, built from the settings: the one place tokens are handed out."""
    from github import Auth, Github
    from huggingface_hub import HfApi

    from monitor.probes import PROBES
    from monitor.probes.arxiv import ArxivProbe
    from monitor.probes.github import GitHubProbe
    from monitor.probes.huggingface import HuggingFaceProbe, install_client
    from monitor.probes.web import WebProbe

    limits = settings.probes
    github_token = settings.github_token.reveal() if settings.github_token else None
    hf_token = settings.hf_token.reveal() if settings.hf_token else None
    github = Github(
        base_url=settings.github_api_url,
        auth=Auth.Token(github_token) if github_token else None,
        retry=None,
        seconds_between_requests=None,
        timeout=20,
        user_agent=f"monitor/{__version__}",
    )
    counter = install_client(timeout=20.0)
    hub = HfApi(
        endpoint=settings.hf_endpoint,
        token=hf_token or False,
        library_name="monitor",
        library_version=__version__,
    )
    services: dict[str, Probe] = {
        "github": GitHubProbe(github, token=github_token, batch_size=limits.github_batch_size),
        "hf": HuggingFaceProbe(
            hub,
            token=hf_token,
            counter=lambda: counter.count,
            workers=limits.hf_workers,
            list_threshold=limits.hf_list_threshold,
        ),
        "arxiv": ArxivProbe(settings.arxiv_api_url, interval=limits.arxiv_interval_seconds),
        "web": WebProbe(
            concurrency=limits.web_concurrency,
            per_host=limits.web_per_host,
            min_interval=limits.web_min_interval_ms / 1000,
            timeout=float(limits.web_timeout_seconds),
            user_agent=limits.user_agent,
            connect_to=dict(settings.connect_to),
            backoff=limits.web_retry_backoff_ms / 1000,
        ),
    }
    return {kind: services[service] for kind, service in PROBES.items()}


@main.command()
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path),
    default=None,
    help="The catalog. [default: MONITOR_CATALOG or sources.toml]",
)
@click.option(
    "--now",
    default=None,
    help="The clock, ISO 8601 with an offset (simulations); same as MONITOR_NOW.",
)
def check(catalog_file: Path | None, now: str | None) -> None:
    """Check every source that is due, once: the cron entry point.

    Polls GitHub, the Hugging Face Hub, arXiv and web pages for every catalog
    entry not checked within the last hour, records what it saw, and writes
    the day's reports: reports/YYYY-MM-DD.md and .json (the UTC date of the
    run; a second run that day merges into them without repeating an event).

    \b
    Exit status:
      0  the run completed
      1  it completed and raised at least one new alert
      2  the catalog or a setting is invalid (nothing written, store untouched)
      3  the run itself failed
    """
    catalog_loaded, settings = _guarded(
        lambda: load_configuration(os.environ, catalog=catalog_file, now=now)
    )
    result = _guarded(lambda: _check(catalog_loaded.entries, settings))
    verdict = f"{len(result.new_alerts)} new alert(s)" if result.new_alerts else "no new alerts"
    click.echo(
        f"Checked {result.checked} source(s); {result.deferred} deferred to the next run"
        f"{'; DEGRADED: most hosts unreachable' if result.degraded else ''}. "
        f"{result.events} event(s), {verdict}."
    )
    for line in result.errors:
        click.echo(redact(f"error: {line}"), err=True)
    for path in result.reports:
        click.echo(f"Report: {path}")
    sys.exit(EXIT_ALERTS if result.new_alerts else EXIT_OK)


def _check(entries: Sequence[Entry], settings: Settings) -> RunResult:
    from datetime import UTC, datetime, timedelta

    from monitor.runner import run_check

    store = open_store(settings.database_url)
    try:
        probes = build_probes(settings)
        with _progress("checking") as progress:
            return run_check(
                entries,
                store,
                probes,
                now=settings.now or datetime.now(UTC),
                policy=settings.policy,
                reports_dir=settings.reports_dir,
                progress=progress,
                interval=timedelta(minutes=settings.policy.recheck_after_minutes),
            )
    finally:
        store.close()


def open_store(url: str) -> Store:
    """The store at `url`, migrated; RunFailed (exit 3) with the reason if it cannot be opened."""
    import sqlalchemy as sa

    from monitor.store import Store

    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        return Store.connect(url)
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise RunFailed(
            f"cannot open the store at {shown}: {reason} (check MONITOR_DATABASE_URL "
            "and that the database server is running)"
        ) from None


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path),
    default=None,
    help="The catalog. [default: MONITOR_CATALOG or sources.toml]",
)
def status(as_json: bool, catalog_file: Path | None) -> None:
    """Show the current state of every source, and the last run."""
    _, settings = _guarded(lambda: load_configuration(os.environ, catalog=catalog_file))
    _guarded(lambda: _status(settings, as_json))


def _status(settings: Settings, as_json: bool) -> None:
    import json

    store = open_store(settings.database_url)
    try:
        sources = store.sources()
        runs = store.runs(limit=1)
    finally:
        store.close()
    rows: list[dict[str, str | None]] = []
    for source in sources:
        state, facts = source.state, source.state.facts
        rows.append(
            {
                "url": source.url,
                "kind": source.kind.value,
                "name": source.name,
                "health": state.health.value,
                "last_checked_at": state.last_checked_at.isoformat()
                if state.last_checked_at
                else None,
                "stars": str(facts.stars) if facts and facts.stars is not None else None,
                "last_commit": facts.last_commit.date().isoformat()
                if facts and facts.last_commit
                else None,
                "license": facts.license if facts else None,
            }
        )
    last = runs[0] if runs else None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "last_run": {
                        "id": last.id,
                        "at": last.at.isoformat(),
                        "status": last.status,
                        "degraded": last.degraded,
                        "finished_at": last.finished_at.isoformat() if last.finished_at else None,
                    }
                    if last
                    else None,
                    "sources": rows,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if last is None:
        click.echo("No run yet: run `monitor check`.")
    else:
        click.echo(
            f"Last run: #{last.id} at {last.at.isoformat()}, {last.status}"
            f"{', degraded' if last.degraded else ''}."
        )
    counts = Counter(r["health"] for r in rows)
    click.echo(f"{len(rows)} sources: " + ", ".join(f"{n} {h}" for h, n in sorted(counts.items())))
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("health", "kind", "name", "stars", "last commit", "licence", "checked")
        for row in rows:
            table.add_row(
                row["health"],
                row["kind"],
                row["name"],
                row["stars"] or "",
                row["last_commit"] or "",
                row["license"] or "",
                (row["last_checked_at"] or "")[:16],
            )
        Console().print(table)
    else:
        for row in rows:
            click.echo(
                "\t".join(
                    str(row[k] or "")
                    for k in (
                        "health",
                        "kind",
                        "name",
                        "url",
                        "stars",
                        "last_commit",
                        "license",
                        "last_checked_at",
                    )
                )
            )
