"""The values that flow through monitor, from a catalog entry to an event in a report.

    Source --probe--> Observation --policy(SourceState)--> SourceState', [Event]

Everything here is an immutable value (frozen dataclasses, `StrEnum`s) with no
I/O. A remote failure is a value too: an `Observation` whose `outcome` says
what went wrong, never an exception. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What a catalog URL points at; decides which probe checks it."""

    GITHUB_REPO = "github_repo"
    GITHUB_PATH = "github_path"
    GITHUB_OWNER = "github_owner"
    GITHUB_ISSUE = "github_issue"
    HF_MODEL = "hf_model"
    HF_DATASET = "hf_dataset"
    HF_SPACE = "hf_space"
    HF_OWNER = "hf_owner"
    HF_PATH = "hf_path"  # a /blob/, /tree/ or /resolve/ link inside a Hub model, dataset or space
    ARXIV = "arxiv"
    WEB = "web"


class Outcome(StrEnum):
    """What one check of one source found."""

    OK = "ok"  # the resource answered; `facts` says what it is now
    NOT_MODIFIED = "not_modified"  # a conditional request answered 304: as last time
    NOT_FOUND = "not_found"  # a definitive "no such thing" (404, 410, NOT_FOUND, RepoNotFound)
    BLOCKED = "blocked"  # access blocked or disabled by the service (451, 403 block)
    TRANSIENT = "transient"  # timeouts, resets, 5xx, unreadable answers: ask again later
    #: the page answered only to turn a robot away (a bot wall, LinkedIn's 999, 429): it may
    #: well work for people; monitor cannot tell from here
    REFUSED = "refused"
    NETWORK = "network"  # could not reach the host at all (DNS, connection refused)
    DEFERRED = "deferred"  # not asked: a rate limit ran out first; due again next run


#: Outcomes that say nothing about the resource, only about the way to it.
INCONCLUSIVE = frozenset({Outcome.TRANSIENT, Outcome.NETWORK, Outcome.REFUSED, Outcome.DEFERRED})


class Health(StrEnum):
    """What monitor currently believes about a source."""

    UNKNOWN = "unknown"  # never checked conclusively
    OK = "ok"
    SUSPECT = "suspect"  # failing definitively, not yet long enough to be called gone
    DELETED = "deleted"  # the API confirmed it is gone (policy: 2 checks, 24 h apart)
    DEAD = "dead"  # a link or path confirmed dead (policy: 3 checks over 48 h)
    BLOCKED = "blocked"
    UNREACHABLE = "unreachable"  # only transient failures, for 7 days
    UNVERIFIABLE = "unverifiable"  # only refusals aimed at robots, for 3 days: never alerted


class EventType(StrEnum):
    """The contract's event names (the `event` field of the JSON report)."""

    ADDED = "added"
    STARS_CHANGED = "stars_changed"
    NEW_COMMITS = "new_commits"
    LICENSE_CHANGED = "license_changed"
    RENAMED = "renamed"
    ARCHIVED = "archived"
    UNARCHIVED = "unarchived"
    DELETED = "deleted"
    BLOCKED = "blocked"
    GATED_CHANGED = "gated_changed"
    REDIRECTED = "redirected"
    DEAD = "dead"
    UNREACHABLE = "unreachable"
    RECOVERED = "recovered"
    STALE = "stale"
    NEW_VERSION = "new_version"
    UNVERIFIABLE = "unverifiable"


#: Events a maintainer is told about at once (the contract's "alert" column).
ALERTS = frozenset(
    {
        EventType.LICENSE_CHANGED,
        EventType.RENAMED,
        EventType.ARCHIVED,
        EventType.DELETED,
        EventType.BLOCKED,
        EventType.DEAD,
        EventType.UNREACHABLE,
        EventType.RECOVERED,
    }
)


@dataclass(frozen=True, slots=True)
class Seen:
    """One place a document links to an entry."""

    document: str
    line: int
    section: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Judgement:
    """The maintainer's say about one source, from its catalog entry.

    `ignore`: never checked, never reported. `snooze_until`: checked and recorded, but
    no alert and no "needs action" before that date. `finished`: a project that is done,
    not abandoned: never `stale`. `accept`: HTTP statuses that count as alive for it.
    """

    ignore: bool = False
    snooze_until: date | None = None
    finished: bool = False
    accept: tuple[int, ...] = ()

    def snoozed(self, now: datetime) -> bool:
        return self.snooze_until is not None and now.date() < self.snooze_until

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.ignore:
            data["ignore"] = True
        if self.snooze_until is not None:
            data["snooze_until"] = self.snooze_until.isoformat()
        if self.finished:
            data["maintenance"] = "finished"
        if self.accept:
            data["accept"] = list(self.accept)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Judgement:
        if not data:
            return cls()
        until = data.get("snooze_until")
        return cls(
            ignore=bool(data.get("ignore")),
            snooze_until=date.fromisoformat(until) if until else None,
            finished=data.get("maintenance") == "finished",
            accept=tuple(int(s) for s in data.get("accept", ())),
        )

    def words(self) -> str:
        """The judgement as `monitor status` shows it: "ignored", "snoozed until …", …"""
        parts = ["ignored"] if self.ignore else []
        if self.snooze_until is not None:
            parts.append(f"snoozed until {self.snooze_until.isoformat()}")
        if self.finished:
            parts.append("finished")
        if self.accept:
            parts.append("accepts " + ",".join(str(s) for s in self.accept))
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource the monitor watches: a catalog entry, as the catalog file reads it."""

    url: str
    kind: Kind
    key: str
    name: str = ""
    tags: tuple[str, ...] = ()
    section: str = ""
    seen: tuple[Seen, ...] = ()
    previous_urls: tuple[str, ...] = ()
    line: int | None = None
    judgement: Judgement = field(default_factory=Judgement)
    #: imported from documents (it has `seen`, even empty: no document links to it now)
    imported: bool = False

    @property
    def display_name(self) -> str:
        return self.name or self.url


#: How the detail of a `deleted` or `dead` event starts when the link never worked.
NEVER_WORKED = "never worked since it was added: check the list for a typo"


@dataclass(frozen=True, slots=True)
class Source:
    """A catalog entry as a probe sees it: where to look, and what it knew last time."""

    key: str
    url: str
    kind: Kind
    name: str = ""
    remote_id: str | None = None
    #: conditional-request validators from the last check (ETags), per request kind
    validators: tuple[tuple[str, str], ...] = ()
    #: the facts of the last conclusive check, for probes that revalidate
    last: Facts | None = None
    #: HTTP statuses the maintainer accepts as alive for this source (`accept = [999]`)
    accept: tuple[int, ...] = ()

    def validator(self, name: str) -> str | None:
        return dict(self.validators).get(name)


@dataclass(frozen=True, slots=True)
class Facts:
    """What a service said about a resource. None means "not reported", not "empty"."""

    remote_id: str | None = None
    #: the canonical name now: "owner/repo", an HF id, an arXiv id
    name: str | None = None
    #: where the resource lives now (a renamed repo's new URL)
    url: str | None = None
    stars: int | None = None  # GitHub stars, HF likes
    downloads: int | None = None
    #: the default branch's latest commit (GitHub), lastModified (HF), latest version (arXiv)
    last_commit: datetime | None = None
    pushed_at: datetime | None = None
    #: SPDX id; "NOASSERTION" (GitHub's "other"), "other" (HF), "NONE" for no licence
    license: str | None = None
    archived: bool | None = None
    disabled: bool | None = None
    gated: str | None = None  # "false", "auto", "manual"
    private: bool | None = None
    sha: str | None = None
    version: str | None = None  # arXiv "v3"
    title: str | None = None
    withdrawn: bool | None = None
    owner_type: str | None = None  # "user" / "org" for owner entries
    #: what a URL that cannot tell turned out to be: "hf_model" for `huggingface.co/gpt2`,
    #: one of the Hub's legacy un-namespaced models rather than an owner
    resolved_kind: str | None = None
    state: str | None = None  # issue state: "open" / "closed"

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None:
                found[item.name] = value.isoformat() if isinstance(value, datetime) else value
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name in data:
                value = data[item.name]
                if item.name in ("last_commit", "pushed_at") and value is not None:
                    value = datetime.fromisoformat(value)
                values[item.name] = value
        return cls(**values)

    def merged(self, newer: Facts) -> Facts:
        """These facts updated by every value `newer` reports."""
        changes = {
            f.name: getattr(newer, f.name)
            for f in fields(newer)
            if getattr(newer, f.name) is not None
        }
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Observation:
    """One check of one source, whatever came of it."""

    key: str
    at: datetime
    outcome: Outcome
    facts: Facts | None = None
    http_status: int | None = None
    error: str | None = None
    #: validators to keep for the next conditional request
    validators: tuple[tuple[str, str], ...] = ()
    #: the host that answered (or did not), for degraded-run detection
    host: str | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    """What monitor believes about a source between checks."""

    health: Health = Health.UNKNOWN
    facts: Facts | None = None
    #: consecutive definitive failures, and when the streak began
    failures: int = 0
    failing_since: datetime | None = None
    #: when the current run of transient failures began (a refusal ends it: the host answers)
    transient_since: datetime | None = None
    #: when the current run of refusals aimed at robots began (transient failures do not
    #: end it; a conclusive answer does)
    refused_since: datetime | None = None
    last_checked_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_outcome: Outcome | None = None
    last_status: int | None = None
    last_error: str | None = None
    stale: bool = False
    #: the URL a web page permanently redirects to, once reported
    redirected_to: str | None = None
    #: good answers in a row since a verdict (deleted, dead, blocked, unreachable), while
    #: that verdict waits for the policy's confirmation that the source works again
    recovering: int = 0
    #: alerts held while the source was snoozed, owed once the snooze has passed
    owed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None or (
                value in (0, False, ()) and item.name in ("failures", "stale", "recovering", "owed")
            ):
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Facts):
                value = value.to_json()
            data[item.name] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceState:
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name not in data:
                continue
            value = data[item.name]
            if item.name == "facts":
                value = Facts.from_json(value)
            elif item.name in (
                "failing_since",
                "transient_since",
                "refused_since",
                "last_checked_at",
                "last_ok_at",
            ):
                value = datetime.fromisoformat(value)
            elif item.name == "health":
                value = Health(value)
            elif item.name == "last_outcome":
                value = Outcome(value)
            elif item.name == "owed":
                value = tuple(value)
            values[item.name] = value
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Event:
    """A change worth telling a maintainer about."""

    event: EventType
    key: str
    url: str
    kind: Kind
    at: datetime
    old: str | None = None
    new: str | None = None
    new_url: str | None = None
    detail: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    #: raised while the source is snoozed: recorded and reported, but not alerted
    held: bool = False

    @property
    def alert(self) -> bool:
        return self.event in ALERTS and not self.held

    @property
    def never_worked(self) -> bool:
        """A `deleted` or `dead` for a link that failed at every check since it was added:
        more likely a typo in the list than something that died."""
        return bool(self.detail and self.detail.startswith(NEVER_WORKED))
