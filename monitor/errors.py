"""The exception tree of monitor, and the one value type it carries: `Problem`.

Exceptions are for bad input a user can fix and for bugs. A remote service that
fails (a 404, a timeout, a rate limit) is never an exception: probes turn it
into an observation with a status, so a run can go on and report it.

::

    MonitorError                 base of everything monitor raises on purpose
    ├── UserInputError           the user gave us something we cannot use; exit status 2
    │   ├── CatalogError         sources.toml is missing, unreadable or invalid
    │   ├── SettingsError        an environment variable or [settings] value is invalid
    │   ├── DocumentError        a document given to `catalog import` cannot be read
    │   ├── StoreMissing         a command that only reads the store found none there
    │   ├── GitError             `monitor gate` cannot compare with the base (no git, no
    │   │                        repository, a base revision that is not there)
    │   └── ScenarioError        an emulator scenario file is invalid (monitor.emulator)
    ├── RunFailed                the run could not be carried out (the store is unreachable);
    │                            exit status 3, nothing half-done is left behind
    └── StoreBusy                another monitor is writing the same store (a daemon, a
                                 slow cron run); this one did nothing: exit status 4, try later

Every `UserInputError` carries one or more `Problem`s, each naming the file,
the line where known, what is wrong and how to fix it, so the CLI can print
all of them at once instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the user's input, located as precisely as we can."""

    where: str
    message: str
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        location = f"{self.where}:{self.line}" if self.line is not None else self.where
        text = f"{location}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class MonitorError(Exception):
    """Base class of every error monitor raises on purpose."""


class UserInputError(MonitorError):
    """Input the user can fix; the CLI prints the problems and exits with status 2."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("a UserInputError needs at least one problem")
        super().__init__("\n".join(str(p) for p in self.problems))


class CatalogError(UserInputError):
    """The catalog file is missing, unreadable, or fails validation."""


class SettingsError(UserInputError):
    """A setting from the environment or the catalog's tables is invalid."""


class DocumentError(UserInputError):
    """A document given to `monitor catalog import` cannot be read as text."""


class RunFailed(MonitorError):
    """The run itself could not be carried out; the message says why and what to check."""


class GitError(UserInputError):
    """`monitor gate` cannot tell what changed: git, the repository or the base is missing."""


class StoreMissing(UserInputError):
    """A command that only reads the store was pointed at a store that does not exist."""


class StoreBusy(MonitorError):
    """Another monitor holds the store's writer lock; the message says which one."""
