"""`monitor gate`: the pull-request gate, thin over `monitor.gate` and `monitor.render.gate`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor import __version__
from monitor.cli.common import catalog_option, environ, guarded, progress_bar
from monitor.config import load_optional_configuration


@click.command()
@click.argument("documents", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--base",
    metavar="REF",
    default=None,
    help="Compare with this git revision. [default: the merge base with the default branch]",
)
@click.option(
    "--sarif",
    "sarif_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the findings as SARIF 2.1.0 to this file, for code scanning.",
)
@catalog_option("The catalog: settings, [catalog] documents and judgement (optional).")
@click.option(
    "--now", default=None, help="The clock, ISO 8601 with an offset. Same as MONITOR_NOW."
)
def gate(
    documents: tuple[Path, ...],
    base: str | None,
    sarif_file: Path | None,
    catalog_file: Path | None,
    now: str | None,
) -> None:
    """Check the links a change adds to DOCUMENTS, for a pull request.

    Only links on lines the change adds (git diff against REF, working tree
    included) that the document did not already link to are checked: at once,
    with the same probes as `monitor check` and no confirmation window. DOCUMENTS
    default to the catalog's [catalog] documents, else every markdown, HTML or text
    file the change touches.

    \b
    errors:   not-found, deleted, blocked, renamed, redirected (with the URL to use)
    warnings: archived, no-license, stale, gated, withdrawn ([gate] errors promotes
              them), and unverified: a timeout, a 5xx, a rate limit or a bot wall,
              never an error

    Prints DOCUMENT:LINE: error|warning: … lines; GitHub annotations when
    GITHUB_ACTIONS=true; the job summary when GITHUB_STEP_SUMMARY is set. Writes
    nothing to the store. Exit status: 0 no error, 1 at least one error, 2 bad input.
    """
    from monitor.gate import run_gate
    from monitor.render.gate import publish

    env = environ()
    catalog, settings = guarded(
        lambda: load_optional_configuration(env, catalog=catalog_file, now=now)
    )
    with progress_bar("Checking new links") as progress:
        result = guarded(
            lambda: run_gate(
                Path.cwd(),
                settings,
                base=base,
                documents=documents,
                catalog=catalog,
                environ=env,
                progress=progress,
            )
        )
    guarded(
        lambda: publish(
            result, environ=env, echo=click.echo, sarif_path=sarif_file, version=__version__
        )
    )
    sys.exit(result.exit_status)
