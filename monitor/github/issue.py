"""`monitor github issue`: one tracking issue in the list's repository, kept current.

    result = keep_issue(connect(settings, name), sources, events, now, by=..., entries=...)

The issue is found again by the label `monitor` and the hidden `MARKER` in its
body, listing the repository's issues with that label, open and closed (one
request for up to 100 of them), so it is found even when the store is lost; its
number is never trusted from anywhere else. Of several, an open one wins (the
oldest), else the one closed last. What the run does:

- something needs action and ours is open: edit the body in place, only if what it
  says changed. "Changed" is the `digest` of what needs action (each item's event,
  URL, name, suggested URL, old/new, since when, and the documents and lines that
  link to it), kept in the body's hidden state; the header's time and run, each
  item's last check and last answer are not part of it, so a run that finds the same
  problems makes no write at all (the header then says when the issue last changed);
- something needs action and ours is closed: reopen it (with the new body) rather
  than open a second one, so one issue holds the list's whole history and its
  number and subscribers stay. An issue closed by hand while listing problems stays
  closed until a problem it did not list appears;
- something needs action and there is none: create the label if missing, open one;
- nothing needs action and ours is open: comment what was resolved and why, and
  close it. Suspects never need action, so they never open it.

An item listed before whose source the store no longer knows for sure (a store
rebuilt from scratch re-confirms everything) stays listed until it is confirmed
or resolved, rather than passing for fixed (`monitor.needs`, `listed`).

Text from outside (names, URLs, answers) is escaped as in the day report. Every
request is counted (`Connection.counter`): a run that changes nothing costs two
(the repository, the listing); opening costs four, editing, reopening three,
closing four.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from monitor.github.client import Connection, refusals
from monitor.model import Entry, EventType, Seen
from monitor.needs import Need, grouped, needs_action, resolution
from monitor.render.report import ACTION, NEVER_WORKED_NOTE, heading, link, md, plural

if TYPE_CHECKING:
    from github.Issue import Issue

    from monitor.store import StoredEvent, StoredRun, StoredSource

MARKER = "<!-- monitor:tracking-issue -->"
LABEL = "monitor"
LABEL_COLOR = "d93f0b"
LABEL_DESCRIPTION = "Links in the list that need action (kept by monitor)"
TITLE = "monitor: links that need action"
#: GitHub refuses bodies over 65,536 characters; the listing is shortened to fit below this.
MAX_BODY = 60_000
#: The most places listed per item ("linked from").
MAX_SEEN = 5
#: How many items of each group are shown, tried in turn until the body fits.
LIMITS = (None, 200, 100, 50, 20, 10, 5, 1)

_STATE = re.compile(r"<!-- monitor:state (\{.*?\}) -->")
_TITLES = {event_type: (title, note) for event_type, title, note in ACTION}
_TITLES[EventType.REDIRECTED] = ("Redirected", "Moved permanently: put the new URL in the list.")

Action = Literal["opened", "reopened", "edited", "closed", "unchanged", "left closed", "none"]


# --- the body ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listed:
    """What a body says it lists (its hidden state): the digest and the items shown."""

    digest: str
    #: (event word, URL, name) of each item shown
    items: tuple[tuple[str, str, str], ...] = ()

    @property
    def identities(self) -> set[tuple[str, str]]:
        return {(word, url) for word, url, _ in self.items}


def digest(needs: Sequence[Need]) -> str:
    """What needs action, as a short hash of everything the issue says about it except
    the moments that move on every run (last check, last answer, the header)."""
    text = json.dumps([n.to_json(volatile=False) for n in needs], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_state(body: str | None) -> Listed | None:
    """The hidden state of a body this module wrote, or None."""
    found = _STATE.search(body or "")
    if not found:
        return None
    try:
        data = json.loads(found[1])
        items = tuple((str(w), str(u), str(n)) for w, u, n in data.get("items", []))
        return Listed(str(data["digest"]), items)
    except (ValueError, KeyError, TypeError):
        return None


def _state_comment(state: Listed) -> str:
    text = json.dumps({"digest": state.digest, "items": [list(i) for i in state.items]})
    # No ">" (nor "<") inside, so nothing can end the HTML comment early.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return f"<!-- monitor:state {text} -->"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def _day(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else ""


def _header(at: datetime, by: str) -> str:
    return (
        f"_Kept by monitor: last updated {_when(at)} UTC, after {by}. Edited only when what "
        "needs action changes; closed when nothing does._"
    )


def render_body(
    needs: Sequence[Need], *, at: datetime, by: str, lines: bool = True
) -> tuple[str, Listed]:
    """The issue's body and its hidden state: what needs action, grouped as the day
    report's "Needs action", each item with its links, suggested URL, since when, last
    check and (with `lines`) the documents and lines that link to it."""
    for limit in LIMITS:
        shown, left = _shown(needs, limit)
        state = Listed(digest(needs), tuple((n.event.value, n.url, n.name) for n in shown))
        body = _body(needs, shown, left, state, at=at, by=by, lines=lines)
        if len(body) <= MAX_BODY:
            break
    return body, state


def _shown(needs: Sequence[Need], limit: int | None) -> tuple[list[Need], int]:
    if limit is None:
        return list(needs), 0
    shown = [n for _, items in grouped(needs) for n in items[:limit]]
    return shown, len(needs) - len(shown)


def _body(
    needs: Sequence[Need],
    shown: Sequence[Need],
    left: int,
    state: Listed,
    *,
    at: datetime,
    by: str,
    lines: bool,
) -> str:
    counts = ", ".join(f"{len(items)} {t.value}" for t, items in grouped(needs))
    out = [MARKER, _state_comment(state), _header(at, by), ""]
    out += [
        f"**{plural(len(needs), 'link')} need{'s' if len(needs) == 1 else ''} action:** {counts}.",
        "",
    ]
    groups = dict(grouped(needs))
    for event_type, items in grouped(shown):
        title, note = _TITLES[event_type]
        out += [heading(3, title, [event_type.value], len(groups[event_type])), ""]
        if note:
            out += [note, ""]
        out += _group(event_type, items, lines=lines)
        hidden = len(groups[event_type]) - len(items)
        if hidden:
            out += ["", f"…and {hidden} more: `monitor status` lists them all."]
        out.append("")
    if left:
        out += [f"{left} items are not shown, to keep the issue within GitHub's limits.", ""]
    out += _footer(needs)
    return "\n".join(out).rstrip() + "\n"


def _footer(needs: Sequence[Need]) -> list[str]:
    words = {n.event for n in needs}
    out = ["---", ""]
    if words & {EventType.RENAMED, EventType.REDIRECTED}:
        out += [
            "`monitor catalog fix` writes the new URLs into the catalog "
            "(`monitor catalog fix README.md`: into the documents).",
            "",
        ]
    out += [
        "In `sources.toml`, `snooze_until = YYYY-MM-DD` holds an entry until then and "
        "`ignore = true` drops it from this issue.",
    ]
    return out


def _group(event_type: EventType, items: Sequence[Need], *, lines: bool) -> list[str]:
    if event_type in (EventType.DELETED, EventType.DEAD):
        # Typos first, under their own note, as in the day report.
        never = [n for n in items if n.never_worked]
        gone = [n for n in items if not n.never_worked]
        out: list[str] = []
        if never:
            out += [NEVER_WORKED_NOTE, "", *_table(event_type, never, lines=lines)]
            if gone:
                out += ["", "Worked before, gone now:", ""]
        return out + (_table(event_type, gone, lines=lines) if gone else [])
    return _table(event_type, items, lines=lines)


def _table(event_type: EventType, items: Sequence[Need], *, lines: bool) -> list[str]:
    if event_type in (EventType.RENAMED, EventType.REDIRECTED):
        columns = ["link", "now at", "since", "last checked"]
    elif event_type is EventType.LICENSE_CHANGED:
        columns = ["link", "was", "now", "reported", "last checked"]
    elif event_type is EventType.ARCHIVED:
        columns = ["link", "reported", "last checked"]
    else:
        columns = ["link", "since", "last checked", "last answer"]
    if lines:
        columns.append("linked from")
    rows = [f"| {' | '.join(columns)} |", "|" + "---|" * len(columns)]
    for item in items:
        since = _day(item.since) if not item.carried else "listed before; not confirmed again yet"
        cells = [_source(item)]
        if event_type in (EventType.RENAMED, EventType.REDIRECTED):
            cells += [link(item.new_url), since, _when(item.last_checked)]
        elif event_type is EventType.LICENSE_CHANGED:
            cells += [md(item.old or "none"), md(item.new or "none"), since]
            cells.append(_when(item.last_checked))
        elif event_type is EventType.ARCHIVED:
            cells += [since, _when(item.last_checked)]
        else:
            cells += [since, _when(item.last_checked), md(item.answer)]
        if lines:
            cells.append(_places(item.seen))
        rows.append(f"| {' | '.join(cells)} |")
    return rows


def _source(item: Need) -> str:
    if not item.name or item.name == item.url:
        return link(item.url)
    return f"{md(item.name)} {link(item.url)}"


def _places(seen: Sequence[Seen]) -> str:
    if not seen:
        return "no document (added by hand)"
    places = [f"{md(s.document)}:{s.line}" for s in seen[:MAX_SEEN]]
    if len(seen) > MAX_SEEN:
        places.append(f"{len(seen) - MAX_SEEN} more")
    return ", ".join(places)


def render_closed(at: datetime, by: str) -> str:
    """The body of a closed issue: nothing needs action."""
    return "\n".join(
        [
            MARKER,
            _state_comment(Listed(digest([]))),
            _header(at, by),
            "",
            "Nothing needs action. This issue is reopened when something does.",
            "",
        ]
    )


def render_comment(
    resolved: Sequence[tuple[tuple[str, str, str], str]], at: datetime, by: str
) -> str:
    """The comment closing the issue: what was resolved since the last update, and why."""
    out = [f"Nothing needs action any more ({_when(at)} UTC, after {by})."]
    if resolved:
        out += ["", "Resolved since the last update:", ""]
        for (word, url, name), why in resolved:
            named = f"{md(name)} {link(url)}" if name and name != url else link(url)
            out.append(f"- `{word}` {named}: {md(why)}")
    return "\n".join(out) + "\n"


def updated_by(environ: Mapping[str, str], run: StoredRun | None) -> str:
    """Which run the body comes from: the store's last monitor run, and the GitHub
    Actions workflow run when there is one (GITHUB_RUN_ID)."""
    by = f"monitor run #{run.id}" if run is not None else "monitor"
    run_id = environ.get("GITHUB_RUN_ID", "").strip()
    repository = environ.get("GITHUB_REPOSITORY", "").strip()
    if run_id.isdigit() and re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com").strip().rstrip("/")
        by += f", in workflow run {link(f'{server}/{repository}/actions/runs/{run_id}')}"
    return by


# --- keeping the issue -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """One of our issues, as the listing gave it."""

    issue: Issue
    number: int
    state: str
    body: str
    url: str
    closed_at: str = ""


@dataclass
class Result:
    """What one run did to the issue (or, with `dry_run`, would do)."""

    action: Action
    needs: list[Need]
    #: the body written (or that would be), "" when none is
    body: str = ""
    #: the comment written on closing
    comment: str = ""
    number: int | None = None
    url: str | None = None
    #: requests made to GitHub by this run, `connect`'s included
    requests: int = 0
    #: (event word, URL, name) of what was listed before and is resolved now, with why
    resolved: list[tuple[tuple[str, str, str], str]] = field(default_factory=list)
    #: other issues of ours (both marked and labelled), left alone
    duplicates: list[int] = field(default_factory=list)
    dry_run: bool = False


def find_issue(connection: Connection) -> tuple[Found | None, list[int]]:
    """Our issue and the numbers of any others: those with the label and the marker,
    open or closed. An open one wins (the oldest), else the one closed last."""
    connection.github.per_page = 100
    found: list[Found] = []
    with refusals(connection.name, "list the issues", "issues: read"):
        for issue in connection.repo.get_issues(state="all", labels=[LABEL]):
            # The listing's own data: reading PyGithub attributes it lacks (`pull_request`
            # on a plain issue) would cost a request per issue.
            raw: dict[str, Any] = issue._rawData
            body = str(raw.get("body") or "")
            if raw.get("pull_request") or MARKER not in body:
                continue
            found.append(
                Found(
                    issue,
                    int(raw["number"]),
                    str(raw.get("state") or "open"),
                    body,
                    str(raw.get("html_url") or ""),
                    str(raw.get("closed_at") or ""),
                )
            )
    opened = sorted((f for f in found if f.state == "open"), key=lambda f: f.number)
    chosen = (
        opened[0] if opened else max(found, key=lambda f: (f.closed_at, f.number), default=None)
    )
    return chosen, sorted(f.number for f in found if f is not chosen)


def keep_issue(
    connection: Connection,
    sources: Sequence[StoredSource],
    events: Iterable[StoredEvent],
    now: datetime,
    *,
    by: str,
    entries: Sequence[Entry] | None = None,
    dry_run: bool = False,
) -> Result:
    """Bring the tracking issue in line with what needs action at `now` (see the module's
    docstring); with `dry_run`, only read, and say what would be written."""
    found, others = find_issue(connection)
    previous = read_state(found.body) if found is not None else None
    listed = previous.items if previous is not None else ()
    needs = needs_action(
        sources, events, now, entries=entries, listed=[(w, u) for w, u, _ in listed]
    )
    result = Result("none", needs, duplicates=others, dry_run=dry_run)
    if found is not None:
        result.number, result.url = found.number, found.url
    if needs:
        result.body, state = render_body(needs, at=now, by=by, lines=entries is not None)
        if found is None:
            result.action = "opened"
        elif found.state == "open":
            changed = previous is None or previous.digest != state.digest
            result.action = "edited" if changed else "unchanged"
        elif previous is None or state.identities - previous.identities:
            result.action = "reopened"
        else:
            result.action = "left closed"  # closed by hand, and nothing new since
    elif found is not None and found.state == "open":
        result.action = "closed"
        result.body = render_closed(now, by)
        by_url = {s.url: s for s in sources}
        by_key = {e.key: e for e in entries} if entries is not None else None
        result.resolved = [
            (item, resolution(item[:2], by_url, now, entries=by_key)) for item in listed
        ]
        result.comment = render_comment(result.resolved, now, by)
    if not dry_run:
        _apply(connection, found, result)
    result.requests = connection.counter.requests
    return result


def _apply(connection: Connection, found: Found | None, result: Result) -> None:
    from github import GithubException

    name = connection.name
    if result.action == "opened":
        with refusals(name, "open the tracking issue", "issues: write"):
            try:
                connection.repo.create_label(LABEL, LABEL_COLOR, LABEL_DESCRIPTION)
            except GithubException as exc:
                if exc.status != 422:  # 422: it exists already
                    raise
            issue = connection.repo.create_issue(TITLE, result.body, labels=[LABEL])
        result.number, result.url = issue.number, issue.html_url
        return
    if found is None:
        return
    if result.action == "reopened":
        with refusals(name, f"reopen issue #{found.number}", "issues: write"):
            found.issue.edit(state="open", body=result.body)
    elif result.action == "edited":
        with refusals(name, f"edit issue #{found.number}", "issues: write"):
            found.issue.edit(body=result.body)
    elif result.action == "closed":
        with refusals(name, f"close issue #{found.number}", "issues: write"):
            found.issue.create_comment(result.comment)
            found.issue.edit(state="closed", state_reason="completed", body=result.body)
