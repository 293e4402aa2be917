"""`monitor demo`: the offline tour, from any directory (a catalog ships with the package)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from monitor.cli.common import catalog_option, environ, fail, guarded
from monitor.config import catalog_path
from monitor.errors import Problem, UserInputError

#: The catalog the demo seeds its world from when none is at hand (not even sources.toml).
PACKAGED = Path(__file__).resolve().parent.parent / "demo_catalog.toml"


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write the demo's store and reports: a new or empty directory, or an "
    "earlier demo's. [default: a new temporary directory]",
)
@catalog_option("The catalog the world is seeded from.")
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
    from monitor.catalog.file import load_catalog
    from monitor.demo import prepare, run_demo
    from monitor.demo_repository import LIST_REPO
    from monitor.digest import Week
    from monitor.probes.build import build_probes
    from monitor.settings_checks import parse_now

    path = catalog_path(environ(), catalog_file)
    named = catalog_file is not None or bool(environ().get("MONITOR_CATALOG", "").strip())
    if not path.exists() and not named:
        path = PACKAGED  # outside a checkout: the list monitor ships with
    loaded = guarded(lambda: load_catalog(path))
    try:
        moment = parse_now(now) if now else datetime.now(UTC)
    except ValueError as exc:
        fail([Problem("--now", str(exc))])
    start = Week.containing(moment).previous().start + timedelta(hours=6)
    target = directory or Path(tempfile.mkdtemp(prefix="monitor-demo-"))

    def ready() -> None:
        try:
            prepare(target)
        except FileExistsError as exc:
            raise UserInputError([Problem("--dir", str(exc))]) from None

    guarded(ready)
    click.echo(f"monitor demo: a simulated week from {start:%Y-%m-%d}, written to {target}")
    # One line per simulated day is the progress; a bar would garble it.
    result = guarded(
        lambda: run_demo(
            loaded.entries, target, probes_for=build_probes, start=start, say=click.echo
        )
    )
    click.echo("")
    events = ", ".join(f"{n} {k}" for k, n in result.events.most_common())
    click.echo(f"The week's events: {events}.")
    click.echo(f"Alert messages a channel would have received: {len(result.alert_messages)}.")
    click.echo(f"Daily reports:  {target / 'reports'} ({len(result.reports) // 2} days)")
    page = target / "reports" / "index.html"
    if page.exists():
        click.echo(f"Status page:    {page} (open it in a browser; also feed.atom, badge.json,")
        click.echo("                monitor.prom beside it)")
    for written in result.digest:
        click.echo(f"Weekly digest:  {written}")
    views = result.repository
    if views is not None:
        shown = target / "github"
        shown.mkdir(exist_ok=True)
        (shown / "tracking-issue.md").write_text(views.issue_body)
        (shown / "pull-request.md").write_text(views.pull_description)
        (shown / "pull-request.diff").write_text(views.pull_diff)
        click.echo(f"\nIn the list's own repository ({LIST_REPO}, emulated), at the week's end:")
        click.echo(
            f"\n--- the tracking issue, {views.issue_action} "
            f"({views.issue_requests} requests; `monitor github issue`) ---\n"
        )
        click.echo(views.issue_body.rstrip())
        click.echo(
            f"\n--- the repair pull request, {views.pull_action} "
            f"({views.pull_requests} requests; `monitor catalog fix --pr`): its diff ---\n"
        )
        click.echo(views.pull_diff.rstrip() or "(nothing to replace)")
        click.echo(f"\nIts description, the issue and the diff: {shown}")
    click.echo(
        f"\nLook around:  MONITOR_DATABASE_URL=sqlite:///{target / 'monitor.db'} monitor status"
    )
    click.echo("Then for real: set GITHUB_TOKEN (no scopes needed) and run `monitor check`.")
