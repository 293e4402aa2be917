"""Start-up stays light: commands import only what they use (the figures are in BENCHMARKS.md)."""

from __future__ import annotations

import subprocess
import sys

import click

from monitor.catalog.extract import DEFAULT_MAX_BYTES
from monitor.cli import main

#: Libraries no command needs before it runs, and `monitor check` never needs at all
#: unless the catalog follows documents (markdown-it) or a channel is set (Apprise).
HEAVY = ("matplotlib", "apprise", "alembic", "markdown_it", "huggingface_hub", "github")


def loaded_after(code: str) -> list[str]:
    """The HEAVY libraries a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.split()


def test_the_cli_and_help_load_no_heavy_library() -> None:
    """`monitor --help` builds every command without one heavy library."""
    assert loaded_after("from monitor.cli import main") == []


def test_a_check_loads_only_the_clients_it_calls() -> None:
    """The run and its reports need neither the importer, Apprise, Alembic nor matplotlib."""
    code = "import monitor.cli.check, monitor.check, monitor.runner, monitor.outputs"
    assert loaded_after(code) == []


def test_the_import_size_limit_is_the_extractors() -> None:
    """`catalog import --max-size` defaults to the extractor's own limit, written out."""
    command = main.commands["catalog"]
    assert isinstance(command, click.Group)
    (option,) = [p for p in command.commands["import"].params if p.name == "max_size"]
    assert option.default == f"{DEFAULT_MAX_BYTES // 1_048_576}MB"
