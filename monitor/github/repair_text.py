"""The words of the repair pull request: its title, description and commit message.

Everything here is pure and deterministic: the same replacements and dead links
give the same text, byte for byte, so a run with nothing new finds the pull
request's description already right and leaves it alone. Nothing that moves
from one check to the next (the last check's time, a transient error) is
written; the dates shown (when a link died, when monitor last saw it alive)
stay put while the link stays dead.

The description opens with a hidden marker carrying a fingerprint of the
replacements, so a pull request a maintainer closed can be told apart from one
with something new in it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from monitor.catalog.fix import Move
from monitor.github.wayback import Lookup
from monitor.model import Health, Kind
from monitor.store import StoredSource

BRANCH = "monitor/fix-links"
MARKER = re.compile(r"<!-- monitor:fix-links fixes=([0-9a-f]+) -->")
#: GitHub refuses a description longer than 65,536 characters; rows beyond this are summed up.
BODY_LIMIT = 60_000
_HUB_HOSTS = ("huggingface.co", "hf.co")


@dataclass(frozen=True, slots=True)
class Replacement:
    """One moved link replaced everywhere: what moved, the evidence, where it stands."""

    move: Move
    evidence: str
    places: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeadLink:
    """A link confirmed dead or deleted: left as it is, with an archived copy proposed."""

    url: str
    name: str
    health: Health
    since: datetime | None
    last_ok_at: datetime | None
    lookup: Lookup
    places: tuple[str, ...]


# --- evidence ----------------------------------------------------------------------------------


def evidence(source: StoredSource | None, move: Move) -> str:
    """Why the new URL replaces the old one, from what the store learnt."""
    kind = source.kind if source is not None else None
    if kind is Kind.WEB or kind is None:
        return "permanent redirect (HTTP 301 or 308)"
    old, new = _identity(move.old_url), _identity(move.new_url)
    if old is None or new is None or old == new:
        return f"moved: `{_shown(move.old_url)}` → `{_shown(move.new_url)}`"
    (old_owner, old_name, old_number), (new_owner, new_name, new_number) = old, new
    if kind is Kind.GITHUB_ISSUE:
        return (
            f"transferred: `{old_owner}/{old_name}#{old_number}` → "
            f"`{new_owner}/{new_name}#{new_number}`"
        )
    if old_owner.lower() != new_owner.lower() and old_name.lower() != new_name.lower():
        how = "transferred and renamed"
    elif old_owner.lower() != new_owner.lower():
        how = "transferred"
    else:
        how = "renamed"
    change = f"`{_joined(old_owner, old_name)}` → `{_joined(new_owner, new_name)}`"
    if kind in (Kind.GITHUB_PATH, Kind.HF_PATH):
        return f"its repository was {how}: {change}"
    return f"{how}: {change}"


def _identity(url: str) -> tuple[str, str, str] | None:
    """(owner, name, issue number) of a GitHub or Hub URL; None for other hosts."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host in _HUB_HOSTS and segments and segments[0] in ("datasets", "spaces"):
        segments = segments[1:]
    elif host != "github.com" and host not in _HUB_HOSTS:
        return None
    if not segments:
        return None
    if len(segments) == 1:
        return "", segments[0], ""  # the Hub's legacy un-namespaced models (gpt2)
    number = segments[3] if len(segments) > 3 and segments[2] in ("issues", "pull") else ""
    return segments[0], segments[1], number


def _joined(owner: str, name: str) -> str:
    return f"{owner}/{name}" if owner else name


def _shown(url: str) -> str:
    return url.split("://", 1)[-1]


# --- the pull request --------------------------------------------------------------------------


def fingerprint(replacements: Sequence[Replacement]) -> str:
    """A short digest of which URL became which, for telling one set of fixes from another."""
    pairs = sorted(f"{r.move.old_url} {r.move.new_url}" for r in replacements)
    return hashlib.sha256("\n".join(pairs).encode()).hexdigest()[:16]


def fingerprint_of(body: str | None) -> str | None:
    """The fingerprint a description carries in its marker, if it is monitor's."""
    found = MARKER.search(body or "")
    return found[1] if found else None


def title(replacements: Sequence[Replacement]) -> str:
    count = len(replacements)
    return f"monitor: replace {count} moved link{'' if count == 1 else 's'}"


def commit_message(replacements: Sequence[Replacement], paths: Sequence[str]) -> str:
    """The commit's message: a summary line, then each replacement."""
    count = len(replacements)
    lines = [f"Replace {count} moved link{'' if count == 1 else 's'} in {', '.join(paths)}", ""]
    for item in replacements[:50]:
        lines.append(f"- {item.move.old_url} -> {item.move.new_url}")
    if count > 50:
        lines.append(f"- and {count - 50} more (see the pull request)")
    lines += ["", f"Made by `monitor catalog fix --pr` on the branch {BRANCH}."]
    return "\n".join(lines) + "\n"


def description(
    replacements: Sequence[Replacement],
    dead: Sequence[DeadLink],
    paths: Sequence[str],
    catalog: str,
) -> str:
    """The pull request's description; shortened to fit GitHub's limit when it must be."""
    shown_replacements, shown_dead = len(replacements), len(dead)
    while True:
        text = _description(replacements, dead, paths, catalog, shown_replacements, shown_dead)
        if len(text) <= BODY_LIMIT or (shown_replacements == 0 and shown_dead == 0):
            return text
        if shown_dead > 0:
            shown_dead = shown_dead // 2
        else:
            shown_replacements = shown_replacements // 2


def _description(
    replacements: Sequence[Replacement],
    dead: Sequence[DeadLink],
    paths: Sequence[str],
    catalog: str,
    shown_replacements: int,
    shown_dead: int,
) -> str:
    count = len(replacements)
    named = [f"`{p}`" for p in paths]
    files = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
    lines = [
        f"<!-- monitor:fix-links fixes={fingerprint(replacements)} -->",
        f"monitor found {count} link{'' if count == 1 else 's'} whose resource now lives at "
        f"another URL, and replaced {'it' if count == 1 else 'them'} in {files}. Every other "
        "byte of those files is as it was.",
    ]
    if catalog in paths:
        lines.append(
            f"In `{catalog}` each old URL is kept in `previous_urls`, so the source keeps "
            "its history."
        )
    lines += [
        "",
        "### Replaced",
        "",
        "Each new URL answered monitor's last check.",
        "",
        "| was | now | evidence | where |",
        "|---|---|---|---|",
    ]
    for item in replacements[:shown_replacements]:
        lines.append(
            "| "
            + " | ".join(
                [
                    _cell(item.move.old_url),
                    _cell(item.move.new_url),
                    _cell(item.evidence),
                    _cell(", ".join(item.places) or "—"),
                ]
            )
            + " |"
        )
    if shown_replacements < count:
        lines.append(f"\n… and {count - shown_replacements} more, in the diff.")
    if dead:
        lines += [
            "",
            "### Dead links, not changed",
            "",
            "monitor confirmed these links dead (or their resource deleted). They are left as "
            "they are for you to decide: where the Wayback Machine holds a copy from before the "
            "link died (the capture closest to, and not after, the last time monitor saw it "
            "alive), it is proposed.",
            "",
            "| link | state | last seen alive | archived copy | where |",
            "|---|---|---|---|---|",
        ]
        for link in dead[:shown_dead]:
            lines.append(
                "| "
                + " | ".join(
                    [
                        _cell(link.url),
                        _cell(_state(link)),
                        _cell(_when(link.last_ok_at) if link.last_ok_at else "never"),
                        _cell(_archived(link)),
                        _cell(", ".join(link.places) or "—"),
                    ]
                )
                + " |"
            )
        if shown_dead < len(dead):
            lines.append(
                f"\n… and {len(dead) - shown_dead} more: "
                "`monitor catalog fix --pr --dry-run` lists them all."
            )
    lines += [
        "",
        "---",
        f"Made by `monitor catalog fix --pr` from what monitor's checks found. It keeps this pull "
        f"request current: when it learns of more moved links it commits them to `{BRANCH}` "
        "(rebuilt from the base branch, so commits pushed to it by hand are replaced) and "
        "updates this description.",
    ]
    return "\n".join(lines) + "\n"


def _state(link: DeadLink) -> str:
    word = "deleted" if link.health is Health.DELETED else "dead"
    if link.since is None:
        return word
    return f"{word} (failing since {link.since.astimezone(UTC).date().isoformat()})"


def _archived(link: DeadLink) -> str:
    capture = link.lookup.capture
    if capture is not None:
        return f"[capture of {_when(capture.at)}]({capture.url})"
    if link.last_ok_at is None:
        return "none proposed: monitor never saw it alive"
    return "no archived copy found"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()
