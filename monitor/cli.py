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
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

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
from monitor.probes import PROBES, Probe, ServiceProbes
from monitor.runner import RunResult
from monitor.settings import SECRET_ENV_VARS, Settings
from monitor.store import Heartbeat, Store

if TYPE_CHECKING:
    from datetime import datetime

EXIT_OK = 0
EXIT_ALERTS = 1
EXIT_BAD_INPUT = 2
EXIT_FAILED = 3

T = TypeVar("T")
FC = TypeVar("FC", bound=Callable[..., Any])


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


def _catalog_option(
    what: str = "The catalog.", *, dest: str = "catalog_file"
) -> Callable[[FC], FC]:
    """The `--catalog` option of the commands that read the catalog."""
    return click.option(
        "--catalog",
        dest,
        type=click.Path(path_type=Path),
        default=None,
        help=f"{what} [default: MONITOR_CATALOG or sources.toml]",
    )


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
@_catalog_option()
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
@_catalog_option("The catalog to check (same as PATH).", dest="catalog_option")
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
@click.option(
    "--chaos",
    "chaos_rate",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    metavar="RATE",
    help="Fault this fraction of requests (0.2 = 20 %) the way the real internet does.",
)
@click.option(
    "--chaos-seed",
    type=int,
    default=None,
    metavar="N",
    help="Seed for --chaos, so a run can be replayed (default: one is chosen and printed).",
)
def emulator_serve(
    scenario: Path | None,
    catalog_file: Path | None,
    now: str | None,
    latency_ms: float | None,
    port: int,
    chaos_rate: float | None,
    chaos_seed: int | None,
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

    With --chaos RATE, each request (the control port's excepted) is, with
    that probability, answered with a fault its service really shows: a stall
    (5 s, then the connection closes), a dripping or truncated body, a TCP
    reset, a 5xx or 429 in the service's own shape, GitHub's secondary limit
    and pathless GraphQL error, arXiv's "Rate exceeded.", a captive-portal
    page, an API redirect to https:// or another host. --chaos-seed makes the
    draws reproducible. Faults can also be set one at a time over the control
    URL: POST /call/inject_fault with {"args": ["github", "5xx"], "kwargs":
    {"times": 1}}, /call/set_chaos, /call/clear_faults (see
    monitor/emulator/chaos.py). The injected counts are printed at the end.
    """
    _guarded(lambda: _serve(scenario, catalog_file, now, latency_ms, port, chaos_rate, chaos_seed))


def _serve(
    scenario: Path | None,
    catalog_file: Path | None,
    now: str | None,
    latency_ms: float | None,
    port: int,
    chaos_rate: float | None = None,
    chaos_seed: int | None = None,
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
    if chaos_rate is not None:
        world.set_chaos(chaos_rate, seed=chaos_seed)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with Emulator(world, base_port=port) as running:
        click.echo(f"GitHub        {running.github_url}   (GraphQL {running.github_url}/graphql)")
        click.echo(f"Hugging Face  {running.hf_url}")
        click.echo(f"arXiv         {running.arxiv_url}")
        click.echo(f"web           {running.web_url}")
        click.echo(f"control       {running.control_url}")
        if world.chaos.rate:
            click.echo(
                f"chaos         {world.chaos.rate * 100:g}% of requests faulted "
                f"(seed {world.chaos.seed}; --chaos-seed {world.chaos.seed} replays it)"
            )
        click.echo("\nPoint monitor at it:")
        for name, value in running.environment().items():
            click.echo(f"  export {name}={value}")
        click.echo("\nServing until Ctrl-C or SIGTERM.", nl=True)
        sys.stdout.flush()
        stop.wait()
        counts = ", ".join(f"{k} {n}" for k, n in sorted(world.counts.items())) or "none"
        click.echo(f"Stopped. Requests served: {counts}.")
        injected = sorted(world.chaos.injected.items())
        if world.chaos.rate or injected:
            faults = ", ".join(f"{service} {fault} {n}" for (service, fault), n in injected)
            click.echo(f"Faults injected: {faults or 'none'}.")


# --- checking ------------------------------------------------------------------------------------


def build_probes(settings: Settings) -> ServiceProbes:
    """The real clients, built from the settings: the one place tokens are handed out.

    Each service's probe is built when a source of its kind is first due (`ServiceProbes`).
    """
    limits = settings.probes
    github_token = settings.github_token.reveal() if settings.github_token else None
    hf_token = settings.hf_token.reveal() if settings.hf_token else None

    def github() -> Probe:
        from github import Auth, Github

        from monitor.probes.github import GitHubProbe

        client = Github(
            base_url=settings.github_api_url,
            auth=Auth.Token(github_token) if github_token else None,
            retry=None,
            seconds_between_requests=None,
            # GraphQL batches are POSTs but read-only queries: PyGithub's default spacing of
            # "writes" (1 s) would make every batch of 100 repositories wait a second.
            seconds_between_writes=None,
            # The probe's own connection enforces the (fractional) timeout; PyGithub's is
            # a whole number of seconds, a fallback only.
            timeout=max(1, round(limits.api_timeout_seconds)),
            user_agent=f"monitor/{__version__}",
        )
        return GitHubProbe(
            client,
            token=github_token,
            batch_size=limits.github_batch_size,
            max_wait=float(limits.max_wait_seconds),
            backoff=limits.api_retry_backoff_ms / 1000,
            timeout=limits.api_timeout_seconds,
        )

    def hf() -> Probe:
        from huggingface_hub import HfApi

        from monitor.probes.huggingface import HuggingFaceProbe, install_client

        counter = install_client(timeout=limits.api_timeout_seconds)
        hub = HfApi(
            endpoint=settings.hf_endpoint,
            token=hf_token or False,
            library_name="monitor",
            library_version=__version__,
        )
        return HuggingFaceProbe(
            hub,
            token=hf_token,
            counter=lambda: counter.count,
            workers=limits.hf_workers,
            list_threshold=limits.hf_list_threshold,
            timeout=limits.api_timeout_seconds,
            backoff=limits.api_retry_backoff_ms / 1000,
        )

    def arxiv() -> Probe:
        from monitor.probes.arxiv import ArxivProbe

        return ArxivProbe(
            settings.arxiv_api_url,
            interval=limits.arxiv_interval_seconds,
            timeout=limits.api_timeout_seconds,
            max_wait=float(limits.max_wait_seconds),
        )

    def web() -> Probe:
        from monitor.probes.web import WebProbe

        return WebProbe(
            concurrency=limits.web_concurrency,
            per_host=limits.web_per_host,
            min_interval=limits.web_min_interval_ms / 1000,
            timeout=float(limits.web_timeout_seconds),
            user_agent=limits.user_agent,
            connect_to=dict(settings.connect_to),
            backoff=limits.web_retry_backoff_ms / 1000,
            allow_private_redirects=limits.allow_private_redirects,
            max_wait=float(limits.max_wait_seconds),
        )

    return ServiceProbes(PROBES, {"github": github, "hf": hf, "arxiv": arxiv, "web": web})


@main.command()
@_catalog_option()
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
    verdict = f"{len(result.alerts)} new alert(s)" if result.alerts else "no new alerts"
    if result.adopted_alerts:
        verdict += (
            f" ({len(result.adopted_alerts)} stored by an earlier run that was stopped "
            "before it could report them)"
        )
    click.echo(
        f"Checked {result.checked} source(s); {result.deferred} deferred to the next run"
        f"{'; DEGRADED: most hosts unreachable' if result.degraded else ''}. "
        f"{result.events} event(s), {verdict}."
    )
    for line in result.errors:
        click.echo(redact(f"error: {line}"), err=True)
    if result.delivery is not None:
        for line in result.delivery.lines():
            click.echo(redact(line), err=not line.startswith("Alerts sent"))
    for path in result.reports:
        click.echo(f"Report: {path}")
    sys.exit(EXIT_ALERTS if result.alerts else EXIT_OK)


def _check(
    entries: Sequence[Entry],
    settings: Settings,
    *,
    store: Store | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """One check with the real clients; takes the store's writer lock unless given a store
    (the daemon's, whose lock it already holds)."""
    from datetime import UTC, datetime, timedelta

    from monitor.alerts import apprise_channels
    from monitor.runner import run_check
    from monitor.store.lock import writer_lock

    channels = apprise_channels([url.reveal() for url in settings.alert_urls])
    owned = store is None
    opened = store or open_store(settings.database_url)
    try:
        with writer_lock(opened, role="monitor check") if owned else nullcontext():
            probes = build_probes(settings)
            with _progress("checking") as progress:
                return run_check(
                    entries,
                    opened,
                    probes,
                    now=settings.now or datetime.now(UTC),
                    policy=settings.policy,
                    reports_dir=settings.reports_dir,
                    progress=progress,
                    interval=timedelta(minutes=settings.policy.recheck_after_minutes),
                    channels=channels,
                    stop=stop,
                    deadline=float(settings.probes.service_deadline_seconds),
                )
    finally:
        if owned:
            opened.close()


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
@_catalog_option()
@click.option(
    "--heartbeat",
    is_flag=True,
    help="Only check that the daemon is alive (a healthcheck): exit 0 if its heartbeat is "
    "fresh and its last check neither failed nor found the catalog invalid, 1 otherwise.",
)
@click.option(
    "--max-age",
    type=click.IntRange(min=1),
    default=None,
    help="With --heartbeat: seconds after which a silent daemon counts as dead. "
    "[default: 5 heartbeats, 300 s with [schedule] heartbeat_seconds = 60]",
)
def status(as_json: bool, catalog_file: Path | None, heartbeat: bool, max_age: int | None) -> None:
    """Show the current state of every source, the last run and the daemon's heartbeat.

    With --heartbeat it prints one line about the daemon and exits 0 if the
    daemon beat within --max-age seconds (it beats every minute) and its last
    check did not fail, 1 otherwise: the container healthcheck.
    """
    _, settings = _guarded(lambda: load_configuration(os.environ, catalog=catalog_file))
    if heartbeat:
        limit = max_age or 5 * settings.schedule.heartbeat_seconds
        healthy = _guarded(lambda: _heartbeat(settings, limit))
        sys.exit(EXIT_OK if healthy else 1)
    _guarded(lambda: _status(settings, as_json))


#: How long after the services' deadline a check may still be storing and reporting.
CHECK_GRACE_SECONDS = 300


def _heartbeat(settings: Settings, max_age: int) -> bool:
    from datetime import UTC, datetime

    from monitor.scheduler import RUNNING

    store = open_store(settings.database_url)
    try:
        beat = store.heartbeat()
    finally:
        store.close()
    now = datetime.now(UTC)
    click.echo(_daemon_line(beat, now))
    if beat is None or beat.stopped_at is not None:
        return False
    fresh = (now - beat.beat_at).total_seconds() <= max_age
    if beat.last_status == RUNNING and beat.last_run_at is not None:
        # Every service is let go at its deadline; storing, reports and alerts get a
        # grace period after it. A check still running past both is stuck.
        limit = settings.probes.service_deadline_seconds + CHECK_GRACE_SECONDS
        running = (now - beat.last_run_at).total_seconds()
        if running > limit:
            click.echo(f"The check has been running for {running:.0f} s, past its {limit} s limit.")
            return False
    return fresh and beat.last_status not in ("failed", "invalid")


def _daemon_line(beat: Heartbeat | None, now: datetime) -> str:
    if beat is None:
        return "Daemon: never run against this store."
    where = f"pid {beat.pid} on {beat.host}"
    if beat.stopped_at is not None:
        return f"Daemon: stopped at {beat.stopped_at.isoformat(timespec='seconds')} ({where})."
    age = int((now - beat.beat_at).total_seconds())
    line = f"Daemon: last heartbeat {age} s ago ({where}, up since "
    line += f"{beat.started_at.isoformat(timespec='seconds')})"
    if beat.last_run_at is not None:
        line += f"; last check {beat.last_run_at.isoformat(timespec='seconds')} {beat.last_status}"
    if beat.next_run_at is not None:
        line += f"; next check {beat.next_run_at.isoformat(timespec='seconds')}"
    return line + "."


def _status(settings: Settings, as_json: bool) -> None:
    import json
    from datetime import UTC, datetime

    store = open_store(settings.database_url)
    try:
        sources = store.sources()
        runs = store.runs(limit=1)
        beat = store.heartbeat()
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
                    "daemon": {
                        "pid": beat.pid,
                        "host": beat.host,
                        "started_at": beat.started_at.isoformat(),
                        "beat_at": beat.beat_at.isoformat(),
                        "last_run_at": beat.last_run_at.isoformat() if beat.last_run_at else None,
                        "last_status": beat.last_status,
                        "next_run_at": beat.next_run_at.isoformat() if beat.next_run_at else None,
                        "stopped_at": beat.stopped_at.isoformat() if beat.stopped_at else None,
                    }
                    if beat
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
    if beat is not None:
        click.echo(_daemon_line(beat, datetime.now(UTC)))
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


# --- the daemon, the digest, alerts --------------------------------------------------------------


@main.command()
@_catalog_option("The catalog, read again before every check.")
def daemon(catalog_file: Path | None) -> None:
    """Run checks and the weekly digest on their schedules until SIGTERM or SIGINT.

    The check runs on [schedule] check (cron, default "0 */6 * * *"), the
    digest on [schedule] digest (default "mon 08:00"), in [schedule] timezone,
    each delayed by up to [schedule] jitter_seconds. A run never overlaps the
    next; after downtime the daemon makes up one missed check (and a missed
    digest), not a burst. The catalog is read again before every check, so
    edits take effect without a restart (settings need one).

    Only one monitor writes a store at a time: a second daemon (or a cron
    `monitor check`) on the same store says which process holds it and exits
    3. One log line per run goes to stdout; a heartbeat in the store every
    minute feeds `monitor status --heartbeat`. SIGTERM ends the running check
    between batches and exits 0.
    """
    loaded, settings = _guarded(lambda: load_configuration(os.environ, catalog=catalog_file))
    if settings.now is not None:
        _fail([Problem("MONITOR_NOW / --now", "the daemon runs on the real clock; unset it")])
    _guarded(lambda: _daemon(loaded.path, catalog_file, settings))


def _daemon(path: Path, catalog_file: Path | None, settings: Settings) -> None:
    import signal
    from datetime import UTC, datetime

    from monitor.digest import last_complete_week, write_week_digest
    from monitor.scheduler import Daemon, JobResult
    from monitor.store.lock import writer_lock

    def log(line: str) -> None:
        click.echo(redact(line))

    store = open_store(settings.database_url)
    try:
        with writer_lock(store, role="monitor daemon"):

            def one_check(stop: threading.Event) -> JobResult:
                try:
                    loaded, current = load_configuration(os.environ, catalog=catalog_file)
                except UserInputError as exc:
                    return "invalid", {"error": "; ".join(str(p) for p in exc.problems)}
                result = _check(loaded.entries, current, store=store, stop=stop)
                figures: dict[str, Any] = {
                    "checked": result.checked,
                    "deferred": result.deferred,
                    "events": result.events,
                    "alerts": len(result.alerts),
                }
                if result.delivery is not None:
                    figures["alerts_sent"] = result.delivery.sent
                    figures["alert_channels_failed"] = len(result.delivery.failed)
                if result.errors:
                    figures["errors"] = len(result.errors)
                return result.status, figures

            def one_digest(now: datetime) -> JobResult:
                week = last_complete_week(now)
                written = write_week_digest(store, week, settings.reports_dir)
                return "written", {"week": week.label, "files": len(written)}

            def digest_written(now: datetime) -> bool:
                week = last_complete_week(now)
                return (settings.reports_dir / "weekly" / f"{week.label}.md").exists()

            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            log(f"{datetime.now(UTC).isoformat(timespec='seconds')} daemon catalog={path}")
            Daemon(
                store,
                settings.schedule,
                check=one_check,
                digest=one_digest,
                digest_written=digest_written,
                log=log,
                beat_seconds=float(settings.schedule.heartbeat_seconds),
            ).run(stop)
    finally:
        store.close()


@main.command()
@click.option(
    "--week",
    default=None,
    help="The ISO week, YYYY-Www (e.g. 2026-W46). [default: the last complete week]",
)
@click.option(
    "--now",
    default=None,
    help="The clock, ISO 8601 with an offset; decides the default week. Same as MONITOR_NOW.",
)
@_catalog_option()
def digest(week: str | None, now: str | None, catalog_file: Path | None) -> None:
    """Write the weekly digest: reports/weekly/YYYY-Www.md, .json and a star chart (.svg).

    The week at a glance (sources by state, the share alive), what needs
    action (deleted, dead, renamed with the new URL, licence changes,
    archived, blocked, unreachable), star movers, what shipped, what went
    stale and what recovered, grouped by the catalog's sections. Weeks run
    Monday to Monday in UTC. Built from the store alone: rebuilding a past
    week gives the same files.
    """
    _, settings = _guarded(lambda: load_configuration(os.environ, catalog=catalog_file, now=now))
    _guarded(lambda: _digest(settings, week))


def _digest(settings: Settings, week_text: str | None) -> None:
    from datetime import UTC, datetime

    from monitor.digest import Week, last_complete_week, write_week_digest

    if week_text is None:
        week = last_complete_week(settings.now or datetime.now(UTC))
    else:
        try:
            week = Week.parse(week_text)
        except ValueError as exc:
            raise UserInputError([Problem("--week", str(exc))]) from None
    store = open_store(settings.database_url)
    try:
        written = write_week_digest(store, week, settings.reports_dir)
    finally:
        store.close()
    click.echo(f"Week {week.label} ({week.start.date()} to {week.end.date()}):")
    for path in written:
        click.echo(f"  {path}")


@main.group()
def alerts() -> None:
    """Alerts through Apprise: MONITOR_ALERT_URLS or [alerts] urls."""


@alerts.command("test")
@_catalog_option("The catalog (for its [alerts] table).")
def alerts_test(catalog_file: Path | None) -> None:
    """Send a test message to every configured alert URL and say which ones got it.

    Exit status: 0 every channel accepted it, 2 no alert URL is configured or
    one is not understood, 3 a channel failed to accept it.
    """
    _, settings = _guarded(lambda: load_configuration(os.environ, catalog=catalog_file))
    ok = _guarded(lambda: _alerts_test(settings))
    sys.exit(EXIT_OK if ok else EXIT_FAILED)


def _alerts_test(settings: Settings) -> bool:
    from datetime import UTC, datetime

    from monitor.alerts import apprise_channels, send_test

    if not settings.alert_urls:
        raise UserInputError(
            [
                Problem(
                    "MONITOR_ALERT_URLS / [alerts] urls",
                    "no alert URL is configured",
                    hint='set MONITOR_ALERT_URLS="ntfy://my-topic" or [alerts] urls in the catalog',
                )
            ]
        )
    channels = apprise_channels([url.reveal() for url in settings.alert_urls])
    results = send_test(channels, datetime.now(UTC))
    for label, delivered in results:
        click.echo(redact(f"{'sent  ' if delivered else 'FAILED'} {label}"))
    return all(delivered for _, delivered in results)


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write the demo's store and reports: a new or empty directory, or an "
    "earlier demo's. [default: a new temporary directory]",
)
@_catalog_option("The catalog the world is seeded from.")
@click.option(
    "--now",
    default=None,
    help="Start the simulated week at the Monday of the week before this time (ISO 8601 "
    "with offset). [default: now]",
)
def demo(directory: Path | None, catalog_file: Path | None, now: str | None) -> None:
    """The offline tour: a simulated week of the catalog's life, with reports and a digest.

    Starts the emulator (GitHub, the Hugging Face Hub, arXiv and web hosts on
    loopback) seeded from the catalog, checks it, then changes the world each
    night the way real lists rot (a model deleted, a repository renamed, a
    licence changed, a link dead, stars moving) and checks every morning for a
    week. Writes the daily reports, the week's digest and its star chart, and
    prints where they are. Needs no tokens and no internet; takes well under a
    minute. Your store, your settings and your alert URLs are left alone.
    """
    import tempfile
    from datetime import UTC, datetime, timedelta

    from monitor.catalog.file import load_catalog
    from monitor.digest import Week
    from monitor.settings import parse_now

    path = catalog_path(os.environ, catalog_file)
    loaded = _guarded(lambda: load_catalog(path))
    try:
        moment = parse_now(now) if now else datetime.now(UTC)
    except ValueError as exc:
        _fail([Problem("--now", str(exc))])
    start = Week.containing(moment).previous().start + timedelta(hours=6)
    target = directory or Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    click.echo(f"monitor demo: a simulated week from {start:%Y-%m-%d}, written to {target}")
    result = _guarded(lambda: _demo(loaded.entries, target, start))
    click.echo("")
    events = ", ".join(f"{n} {k}" for k, n in result.events.most_common())
    click.echo(f"The week's events: {events}.")
    click.echo(f"Alert messages a channel would have received: {len(result.alert_messages)}.")
    click.echo(f"Daily reports:  {target / 'reports'} ({len(result.reports) // 2} days)")
    for written in result.digest:
        click.echo(f"Weekly digest:  {written}")
    click.echo(
        f"\nLook around:  MONITOR_DATABASE_URL=sqlite:///{target / 'monitor.db'} monitor status"
    )
    click.echo("Then for real: set GITHUB_TOKEN (no scopes needed) and run `monitor check`.")


def _demo(entries: Sequence[Entry], target: Path, start: datetime) -> Any:
    from monitor.demo import run_demo

    try:
        # One line per simulated day is the progress; a bar would garble it.
        return run_demo(
            entries, target, probes_for=build_probes, start=start, say=lambda s: click.echo(s)
        )
    except FileExistsError as exc:
        raise UserInputError([Problem("--dir", str(exc))]) from None
