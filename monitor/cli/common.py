"""What every command shares: exit statuses, error printing, secrets redacted, progress bars.

A command's body is `guarded(lambda: library_call(...))`: bad input becomes its
problems on stderr and exit 2, a busy store exit 4, a failed run exit 3 with
the reason, and a bug exit 3 with its trace (tokens redacted). Nothing else in
the CLI decides an exit status.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from monitor.errors import Problem, RunFailed, StoreBusy, UserInputError
from monitor.settings import SECRET_ENV_VARS

EXIT_OK = 0
EXIT_ALERTS = 1
EXIT_BAD_INPUT = 2
EXIT_FAILED = 3
EXIT_BUSY = 4

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


def fail(problems: Sequence[Problem]) -> NoReturn:
    for problem in problems:
        click.echo(redact(f"error: {problem}"), err=True)
    noun = "problem" if len(problems) == 1 else "problems"
    click.echo(f"{len(problems)} {noun}; nothing was changed.", err=True)
    sys.exit(EXIT_BAD_INPUT)


def guarded(action: Callable[[], T]) -> T:
    """Run `action`; bad input exits 2 with every problem listed, a busy store 4, a failed
    run 3 with its reason, a bug 3 with its trace (no secrets)."""
    try:
        return action()
    except UserInputError as exc:
        fail(exc.problems)
    except StoreBusy as exc:
        click.echo(redact(f"busy: {exc}"), err=True)
        sys.exit(EXIT_BUSY)
    except RunFailed as exc:
        click.echo(redact(f"error: {exc}"), err=True)
        sys.exit(EXIT_FAILED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        raise  # the reader went away (`monitor status | head`): handled by the top group
    except Exception:
        click.echo(redact(traceback.format_exc()), err=True)
        click.echo("monitor failed unexpectedly; the trace above says where.", err=True)
        sys.exit(EXIT_FAILED)


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
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


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)i?b?\s*", text.lower())
    if not match:
        raise click.BadParameter(f"{text!r} is not a size such as 32MB")
    return int(match[1]) << (10 * " kmg".index(match[2] or " "))


def catalog_option(what: str = "The catalog.", *, dest: str = "catalog_file") -> Callable[[FC], FC]:
    """The `--catalog` option of the commands that read the catalog."""
    return click.option(
        "--catalog",
        dest,
        type=click.Path(path_type=Path),
        default=None,
        help=f"{what} [default: MONITOR_CATALOG or sources.toml]",
    )


def environ() -> Mapping[str, str]:
    """The process environment: read here, and only through this, by the commands."""
    return os.environ
