"""`monitor github issue`: the list's own repository on GitHub, thin over `monitor.github`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli.common import catalog_option, environ, guarded
from monitor.config import load_optional_configuration
from monitor.errors import RunFailed

if TYPE_CHECKING:
    from monitor.github.issue import Result


@click.group()
def github() -> None:
    """Work in the list's own repository on GitHub (MONITOR_GITHUB_REPO).

    The token (GITHUB_TOKEN) needs issues: write there for the tracking issue.
    """


@github.command("issue")
@click.option(
    "--repo",
    default=None,
    metavar="OWNER/NAME",
    help="The repository that holds the list. [default: MONITOR_GITHUB_REPO]",
)
@catalog_option("The catalog, for the documents and lines of each link (optional).")
@click.option(
    "--now",
    default=None,
    help="The clock, ISO 8601 with an offset. Same as MONITOR_NOW.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the body it would write and what it would do; write nothing.",
)
def issue(repo: str | None, catalog_file: Path | None, now: str | None, dry_run: bool) -> None:
    """Keep one tracking issue of what needs action current in the list's repository.

    What needs action, from the store: deleted, dead, blocked and unreachable
    links while they last; renamed and redirected ones until the catalog uses the
    new URL (which the issue gives); licence changes and archived repositories for 7 days.
    Suspects and unverifiable links never. Each with its link, since when, when it
    was last checked, and the documents and lines that link to it (from the
    catalog, when there is one).

    Opens the issue (label `monitor`) when something needs action, edits it in
    place when that changes, closes it with a comment saying what was resolved
    when nothing does, and reopens the same issue when something new comes up. It
    finds its issue again by the label and a hidden marker, never opening a second
    one. Exit status: 0 done, 2 bad input, 3 GitHub refused (the message names the
    permission the token lacks).
    """
    from monitor.check import open_store
    from monitor.github.client import connect, repository_name
    from monitor.github.issue import keep_issue, updated_by
    from monitor.needs import READS

    env = dict(environ())
    if repo is not None:
        env["MONITOR_GITHUB_REPO"] = repo  # validated as the variable is
    catalog, settings = guarded(
        lambda: load_optional_configuration(env, catalog=catalog_file, now=now)
    )
    name = guarded(lambda: repository_name(settings))
    store, _ = guarded(lambda: open_store(settings.database_url, create=False))
    try:
        sources = store.sources()
        events = store.events(types=READS)
        runs = store.runs(limit=1)
    finally:
        store.close()
    moment = settings.now or datetime.now(UTC)
    by = updated_by(env, runs[0] if runs else None)

    def keep() -> Result:
        import requests

        try:
            return keep_issue(
                connect(settings, name),
                sources,
                events,
                moment,
                by=by,
                entries=catalog.entries if catalog is not None else None,
                dry_run=dry_run,
            )
        except requests.RequestException as exc:
            raise RunFailed(
                f"GitHub could not be reached at {settings.github_api_url} "
                f"({type(exc).__name__}); nothing was changed"
            ) from None

    _print(guarded(keep), name)


_DONE = {
    "opened": ("Opened", "Would open"),
    "reopened": ("Reopened", "Would reopen"),
    "edited": ("Edited", "Would edit"),
    "closed": ("Closed", "Would close"),
}


def _print(result: Result, name: str) -> None:
    from monitor.needs import counts
    from monitor.render.report import plural

    needs = len(result.needs)
    what = ", ".join(f"{n} {t.value}" for t, n in counts(result.needs))
    verb = "needs" if needs == 1 else "need"
    summary = f"{plural(needs, 'link')} {verb} action ({what})" if needs else "nothing needs action"
    number = f"issue #{result.number}" if result.number is not None else "a new issue"
    where = f" ({result.url})" if result.url else ""
    if result.action in _DONE:
        done = _DONE[result.action][1 if result.dry_run else 0]
        line = f"{done} {number} in {name}{where}: {summary}"
        if result.action == "closed":
            line += f"; {len(result.resolved)} resolved, said in a comment"
        click.echo(line + ".")
    elif result.action == "unchanged":
        click.echo(f"Issue #{result.number}{where} is up to date: {summary}; nothing written.")
    elif result.action == "left closed":
        click.echo(
            f"Issue #{result.number}{where} was closed by hand and lists the same problems: "
            f"left closed until a new one appears ({summary})."
        )
    else:
        click.echo(f"Nothing needs action, and no tracking issue is open in {name}.")
    if result.duplicates:
        others = ", ".join(f"#{n}" for n in result.duplicates)
        click.echo(f"Also marked as monitor's, left alone: {others}.")
    click.echo(f"{result.requests} request(s) to GitHub.")
    if result.dry_run and (result.body or result.comment):
        if result.comment:
            click.echo("\n--- the comment it would write ---\n" + result.comment.rstrip())
        heading = "the body it would write" if result.action != "unchanged" else "the body"
        click.echo(f"\n--- {heading} ---\n" + result.body.rstrip())
