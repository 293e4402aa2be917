"""The admission rules of `monitor gate`: what a link added to the list must be.

    RULES[Rule.RENAMED].level          # Level.ERROR
    promotable()                       # the warnings `[gate] errors = [...]` may promote

Owns the rules' names, levels and words, nothing else: `gate` decides which rule
an answer breaks, `render.gate` writes findings out (one SARIF rule per entry
here). A rule's name is part of the outside interface: it appears in the
output, in `[gate] errors` and in code-scanning alerts, so names never change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How much a broken rule counts: an error fails the gate (exit 1), a warning does not."""

    ERROR = "error"
    WARNING = "warning"


class Rule(StrEnum):
    """One admission rule; the value is its name in output, settings and SARIF."""

    NOT_FOUND = "not-found"
    DELETED = "deleted"
    BLOCKED = "blocked"
    RENAMED = "renamed"
    REDIRECTED = "redirected"
    ARCHIVED = "archived"
    NO_LICENSE = "no-license"
    STALE = "stale"
    GATED = "gated"
    WITHDRAWN = "withdrawn"
    UNVERIFIED = "unverified"


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule's default level and its words: a title, and what to do about it."""

    level: Level
    title: str
    help: str
    #: `[gate] errors` may make this warning an error
    promotable: bool = True


#: Every rule, in the order findings are listed for one link.
RULES: Mapping[Rule, RuleInfo] = {
    Rule.NOT_FOUND: RuleInfo(
        Level.ERROR,
        "The link leads nowhere",
        "The page, path or issue answered 404 or 410, or its host name does not exist. "
        "Check the URL for a typo, or link where the resource lives now.",
    ),
    Rule.DELETED: RuleInfo(
        Level.ERROR,
        "The service has no such repository, model, dataset, space, owner or paper",
        "GitHub, the Hugging Face Hub or arXiv says it does not exist: deleted, made "
        "private, or never there. Check the name for a typo.",
    ),
    Rule.BLOCKED: RuleInfo(
        Level.ERROR,
        "The service blocks access to it",
        "GitHub answers 451 (a legal takedown) or 403 'Repository access blocked'. Link "
        "something readers can open.",
    ),
    Rule.RENAMED: RuleInfo(
        Level.ERROR,
        "It was renamed or transferred",
        "The repository or model now lives under another name; the old URL only redirects, "
        "and breaks the day someone takes the old name. Link the URL given.",
    ),
    Rule.REDIRECTED: RuleInfo(
        Level.ERROR,
        "The link redirects permanently",
        "The page answers with a permanent redirect (301 or 308) to another URL. Link the "
        "URL given.",
    ),
    Rule.ARCHIVED: RuleInfo(
        Level.WARNING,
        "The repository is archived",
        "Its owner made it read-only: no fixes will come. Fine for history, worth saying so "
        "in the list.",
    ),
    Rule.NO_LICENSE: RuleInfo(
        Level.WARNING,
        "It has no licence that can be identified",
        "No licence file, or one GitHub cannot identify (NOASSERTION): readers may not be "
        "allowed to use it.",
    ),
    Rule.STALE: RuleInfo(
        Level.WARNING,
        "No commit for a long time",
        "The default branch has had no commit for longer than [policy] stale_after_days. "
        "It may be finished or abandoned.",
    ),
    Rule.GATED: RuleInfo(
        Level.WARNING,
        "Access must be requested",
        "The Hugging Face repository is gated: readers must accept conditions or wait for "
        "approval before they can download it.",
    ),
    Rule.WITHDRAWN: RuleInfo(
        Level.WARNING,
        "The paper was withdrawn",
        "Its authors withdrew it on arXiv. Link a later paper, or say so in the list.",
    ),
    Rule.UNVERIFIED: RuleInfo(
        Level.WARNING,
        "It could not be verified",
        "Timeouts, server errors, a rate limit or a wall aimed at robots stood in the way: "
        "the link may well work. Open it in a browser; this never fails the gate.",
        promotable=False,
    ),
}


def promotable() -> tuple[str, ...]:
    """The warnings that `[gate] errors = [...]` may promote to errors, by name."""
    return tuple(
        rule.value
        for rule, info in RULES.items()
        if info.level is Level.WARNING and info.promotable
    )
