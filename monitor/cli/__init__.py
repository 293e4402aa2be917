"""The command line: the composition root of monitor.

This is the one place that reads the process environment, builds real objects
(files, clients, clocks) and turns outcomes into exit statuses. Each command
parses its options, calls the library, prints, and exits: 0 done, 1 done with
new alerts (`monitor check`), 2 bad input (nothing written), 3 a failed run, 4
another monitor holds the store. Command bodies live in the library; a group of
commands per module:

    common.py    exit statuses, errors printed, secrets redacted, progress bars
    catalog.py   catalog import | fix | check
    check.py     check, daemon
    status.py    status, digest
    alerts.py    alerts test
    demo.py      demo
    emulator.py  emulator serve
    github.py    github issue
    gate.py      gate
"""

from __future__ import annotations

import os
import sys

import click

from monitor import __version__
from monitor.cli.alerts import alerts
from monitor.cli.catalog import catalog
from monitor.cli.check import check, daemon
from monitor.cli.common import redact
from monitor.cli.demo import demo
from monitor.cli.emulator import emulator
from monitor.cli.gate import gate
from monitor.cli.github import github
from monitor.cli.status import digest, status

__all__ = ["main", "redact", "run"]


class _Main(click.Group):
    """The top-level group: quiet, and successful, when its reader stops reading (`| head`)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader has what it wanted (click itself would exit 1). Python would print
            # a trace while flushing stdout at exit: point stdout at /dev/null first.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)


@click.group(
    cls=_Main,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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
    3 a failed run, 4 another monitor holds the store (try later).
    """


for command in (catalog, check, daemon, gate, status, digest, alerts, demo, emulator):
    main.add_command(command)
main.add_command(github)


def run() -> None:
    """The console script."""
    main(prog_name="monitor")
