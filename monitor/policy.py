"""Verdicts without false alarms: (previous state, observation, policy) -> (new state, events).

A pure function, so every rule of the contract is a row in
`tests/data/policy/*.toml`:

- a single failed check never makes a source `deleted` or `dead`;
- `deleted` (repositories, models, owners, papers) needs `deleted_after_checks`
  not-found answers spanning `deleted_min_hours`; `dead` (web links, paths,
  issues) needs `dead_after_checks` definitive failures spanning
  `dead_min_hours`; until then the source is `suspect`, shown but not alerted;
- transient failures (timeouts, resets, 5xx, unreadable answers) never make a
  source dead, only `unreachable` once they have lasted `unreachable_after_days`,
  and they neither advance nor break a streak of definitive failures;
- refusals aimed at robots (bot walls, 999, 429 on a web page) never make a
  source dead or unreachable (a refusal ends a run of timeouts: the host
  answers): after `unverifiable_after_days` of refusals, timeouts aside, it is
  `unverifiable`, which is reported but never alerted; a conclusive answer
  ends it (an ok one without `recovered`, since nothing was alerted);
- a `deleted` or `dead` for a source that failed at every check since it was
  added says so ("never worked since it was added"): a typo, more likely;
- in a degraded run (most hosts unreachable: the machine is offline) no
  failure counter moves at all;
- a source that was deleted, dead, blocked or unreachable and answers again on
  `recovered_after_checks` checks in a row (one good answer may be a captive
  portal's page) is `recovered`;
- `stale` is reported when a repository's last commit first crosses
  `stale_after_days`; `renamed`, `archived` and `stale` are reported on first
  sight too, because a list that links an archived repo wants to know.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.catalog.kinds import identify
from monitor.model import (
    ALERTS,
    NEVER_WORKED,
    Event,
    EventType,
    Facts,
    Health,
    Judgement,
    Kind,
    Observation,
    Outcome,
    SourceState,
)
from monitor.settings import Policy

#: Kinds whose "not found" is a link that died rather than a resource the API deleted.
LINK_KINDS = frozenset({Kind.WEB, Kind.GITHUB_PATH, Kind.HF_PATH, Kind.GITHUB_ISSUE})
#: Kinds whose last commit can go stale.
COMMITTED_KINDS = frozenset({Kind.GITHUB_REPO, Kind.HF_MODEL, Kind.HF_DATASET, Kind.HF_SPACE})
_GONE = frozenset({Health.DELETED, Health.DEAD, Health.BLOCKED, Health.UNREACHABLE})


@dataclass(frozen=True, slots=True)
class Subject:
    """The source being judged: what the catalog says it is."""

    key: str
    url: str
    kind: Kind
    #: the name the catalog's URL implies ("owner/repo", an HF id), for rename detection
    expected_name: str | None = None
    #: `maintenance = "finished"`: done, not abandoned, so never stale
    finished: bool = False


def assess(
    subject: Subject,
    previous: SourceState | None,
    observation: Observation,
    policy: Policy,
    *,
    degraded: bool = False,
) -> tuple[SourceState, list[Event]]:
    """The new state of `subject` after `observation`, and the events the change raises."""
    prior = previous or SourceState()
    now = observation.at
    outcome = observation.outcome
    if outcome is Outcome.DEFERRED:
        return prior, []
    event = _Raised(subject, now)
    events = event.events
    # "added" marks the first answer that says something about the source: a run on an
    # offline machine (degraded) has not added anything.
    conclusive = outcome in (Outcome.OK, Outcome.NOT_MODIFIED, Outcome.BLOCKED) or (
        outcome is Outcome.NOT_FOUND and not degraded
    )
    if conclusive and _never_answered(prior):
        event(EventType.ADDED)
    checked = replace(
        prior,
        last_checked_at=now,
        last_outcome=outcome,
        last_status=observation.http_status,
        last_error=observation.error,
        recovering=0,
    )

    if outcome in (Outcome.OK, Outcome.NOT_MODIFIED):
        # One good answer after a verdict may be a captive portal's page, a proxy's, a
        # stale cache: the verdict stands until the next check says the same.
        good = prior.recovering + 1
        if prior.health in _GONE and good < policy.recovered_after_checks:
            return replace(checked, recovering=good), []
        facts = prior.facts if outcome is Outcome.NOT_MODIFIED else observation.facts
        if outcome is Outcome.NOT_MODIFIED and facts is not None and observation.facts:
            facts = facts.merged(observation.facts)
        if prior.health in _GONE:
            event(EventType.RECOVERED, old=prior.health.value)
        _changes(subject, prior.facts, facts, event)
        stale = not subject.finished and _is_stale(subject.kind, facts, now, policy)
        if stale and not prior.stale and facts is not None and facts.last_commit:
            event(EventType.STALE, old=facts.last_commit.date().isoformat())
        redirected_to = prior.redirected_to
        # A link that now lives elsewhere (a permanent redirect, a path or issue whose
        # repository moved, a transferred issue) is reported once per new home.
        if (
            subject.kind in LINK_KINDS
            and facts is not None
            and facts.url
            and facts.url != subject.url
        ):
            if facts.url != prior.redirected_to:
                event(EventType.REDIRECTED, new_url=facts.url)
            redirected_to = facts.url
        return replace(
            checked,
            health=Health.OK,
            facts=facts,
            failures=0,
            failing_since=None,
            transient_since=None,
            refused_since=None,
            last_ok_at=now,
            stale=stale,
            redirected_to=redirected_to,
        ), events

    if outcome is Outcome.BLOCKED:
        if prior.health is not Health.BLOCKED:
            event(EventType.BLOCKED, detail=observation.error)
        facts = observation.facts or prior.facts
        return replace(
            checked,
            health=Health.BLOCKED,
            facts=facts,
            failures=0,
            failing_since=None,
            transient_since=None,
            refused_since=None,
            recovering=0,
        ), events

    if outcome is Outcome.NOT_FOUND:
        if degraded:
            return checked, events
        failures = prior.failures + 1
        since = prior.failing_since if prior.failures else now
        assert since is not None
        link = subject.kind in LINK_KINDS
        need = policy.dead_after_checks if link else policy.deleted_after_checks
        hours = policy.dead_min_hours if link else policy.deleted_min_hours
        health = prior.health
        if health not in (Health.DELETED, Health.DEAD):
            if failures >= need and now - since >= timedelta(hours=hours):
                health = Health.DEAD if link else Health.DELETED
                failing = _failing(since, observation)
                event(
                    EventType.DEAD if link else EventType.DELETED,
                    old=prior.facts.name if prior.facts and prior.facts.name else None,
                    detail=f"{NEVER_WORKED}; {failing}" if _never_worked(prior) else failing,
                )
            else:
                health = Health.SUSPECT
        return replace(
            checked,
            health=health,
            failures=failures,
            failing_since=since,
            transient_since=None,
            refused_since=None,
            recovering=0,
        ), events

    # TRANSIENT, NETWORK or REFUSED: nothing learnt about the resource itself.
    if degraded:
        return checked, events
    health = prior.health
    if outcome is Outcome.REFUSED:
        # Turned away as a robot: it may work for people, and its host does answer, so a
        # refusal ends a run of timeouts; timeouts amid refusals do not end the refusals.
        refused = prior.refused_since or now
        # An alerted verdict (unreachable, dead, …) stays until a normal answer ends it:
        # sporadic refusals from a host that is mostly silent must not relabel it quietly,
        # nor let it be alerted unreachable a second time.
        if now - refused >= timedelta(days=policy.unverifiable_after_days) and health in (
            Health.UNKNOWN,
            Health.OK,
            Health.SUSPECT,
        ):
            health = Health.UNVERIFIABLE
            event(EventType.UNVERIFIABLE, detail=_refused(refused, observation))
        return replace(checked, health=health, refused_since=refused, transient_since=None), events
    since = prior.transient_since or now
    if now - since >= timedelta(days=policy.unreachable_after_days) and health not in (
        Health.UNREACHABLE,
        Health.DELETED,
        Health.DEAD,
        Health.BLOCKED,
    ):
        health = Health.UNREACHABLE
        event(EventType.UNREACHABLE, detail=_failing(since, observation))
    return replace(checked, health=health, transient_since=since), events


def _never_answered(prior: SourceState) -> bool:
    """No conclusive answer yet: only silence, transient failures or refusals so far."""
    return (
        prior.health in (Health.UNKNOWN, Health.UNREACHABLE, Health.UNVERIFIABLE)
        and prior.last_ok_at is None
        and prior.facts is None
        and prior.failures == 0
    )


def _never_worked(prior: SourceState) -> bool:
    """Every check since the source was added failed: it has never once answered."""
    return prior.last_ok_at is None and prior.facts is None


def _refused(since: datetime, observation: Observation) -> str:
    last = last_answer(observation.http_status, observation.error, observation.outcome)
    return f"answering robots only with refusals since {since.isoformat()}; last: {last}"


def _failing(since: datetime, observation: Observation) -> str:
    last = last_answer(observation.http_status, observation.error, observation.outcome)
    return f"failing since {since.isoformat()}; last: {last}"


def last_answer(status: int | None, error: str | None, outcome: Outcome | None) -> str:
    """The last answer in a few words: the HTTP status, unless it was a 2xx whose body
    carried the verdict (GraphQL's NOT_FOUND comes at HTTP 200), then the error."""
    if status and not (200 <= status < 300 and error):
        return f"HTTP {status}"
    return error or (outcome.value if outcome else "")


def _committed(kind: Kind, facts: Facts | None) -> bool:
    """Whether the source has commits: by its kind, or by what its URL turned out to be
    (`huggingface.co/gpt2`, an `hf_owner` by the URL, is a legacy model)."""
    resolved = facts.resolved_kind if facts is not None else None
    return kind in COMMITTED_KINDS or (resolved is not None and resolved in COMMITTED_KINDS)


def _is_stale(kind: Kind, facts: Facts | None, now: datetime, policy: Policy) -> bool:
    if not _committed(kind, facts) or facts is None or facts.last_commit is None:
        return False
    return now - facts.last_commit >= timedelta(days=policy.stale_after_days)


class _Raised:
    """Collects the events of one assessment: `raised(EventType.X, old=..., new=...)`."""

    def __init__(self, subject: Subject, at: datetime) -> None:
        self.subject = subject
        self.at = at
        self.events: list[Event] = []

    def __call__(
        self,
        kind: EventType,
        *,
        old: str | None = None,
        new: str | None = None,
        new_url: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.events.append(
            Event(
                kind,
                self.subject.key,
                self.subject.url,
                self.subject.kind,
                self.at,
                old=old,
                new=new,
                new_url=new_url,
                detail=detail,
            )
        )


def _changes(subject: Subject, old: Facts | None, new: Facts | None, emit: _Raised) -> None:
    """Events for what changed between two sets of facts (first sight: what is notable)."""
    if new is None:
        return
    known = old.name if old is not None and old.name else subject.expected_name
    if new.name and known and new.name.lower() != known.lower():
        emit(EventType.RENAMED, old=known, new=new.name, new_url=new.url)
    if old is None:
        if new.archived:
            emit(EventType.ARCHIVED)
        return
    if old.stars is not None and new.stars is not None and old.stars != new.stars:
        emit(EventType.STARS_CHANGED, old=str(old.stars), new=str(new.stars))
    if (
        _committed(subject.kind, new)
        and old.last_commit
        and new.last_commit
        and new.last_commit > old.last_commit
    ):
        emit(
            EventType.NEW_COMMITS, old=old.last_commit.isoformat(), new=new.last_commit.isoformat()
        )
    if old.license is not None and new.license is not None and old.license != new.license:
        emit(EventType.LICENSE_CHANGED, old=old.license, new=new.license)
    if old.archived is not None and new.archived is not None and old.archived != new.archived:
        emit(EventType.ARCHIVED if new.archived else EventType.UNARCHIVED)
    if old.gated is not None and new.gated is not None and old.gated != new.gated:
        emit(EventType.GATED_CHANGED, old=old.gated, new=new.gated)
    if old.version and new.version and old.version != new.version:
        emit(
            EventType.NEW_VERSION,
            old=old.version,
            new=new.version,
            detail="withdrawn" if new.withdrawn else None,
        )


#: What a held alert must still be true of to be raised once the snooze has passed.
_STILL: dict[EventType, Callable[[SourceState], bool]] = {
    EventType.DELETED: lambda s: s.health is Health.DELETED,
    EventType.DEAD: lambda s: s.health is Health.DEAD,
    EventType.BLOCKED: lambda s: s.health is Health.BLOCKED,
    EventType.UNREACHABLE: lambda s: s.health is Health.UNREACHABLE,
    EventType.ARCHIVED: lambda s: bool(s.facts and s.facts.archived),
    EventType.RENAMED: lambda s: True,
    EventType.LICENSE_CHANGED: lambda s: True,
}


def hold(
    judgement: Judgement,
    state: SourceState,
    events: Sequence[Event],
    now: datetime,
    subject: Subject,
) -> tuple[SourceState, list[Event]]:
    """The maintainer's snooze, applied to one check's verdict.

    While `snooze_until` is ahead, alert-worthy events are held: recorded and
    reported, not alerted, and remembered as owed. Once it has passed, each owed
    alert whose cause is still true (still dead, still archived; a rename or a
    licence change stays news) is raised anew, once; what recovered meanwhile is
    forgotten.
    """
    if judgement.snoozed(now):
        held = [replace(e, held=True) if e.event in ALERTS else e for e in events]
        owed = {e.event.value for e in held if e.held} | set(state.owed)
        owed.discard(EventType.RECOVERED.value)
        return replace(state, owed=tuple(sorted(owed))), held
    if not state.owed:
        return state, list(events)
    raised = _Raised(subject, now)
    until = judgement.snooze_until.isoformat() if judgement.snooze_until else "earlier"
    present = {e.event for e in events}
    for value in state.owed:
        kind = EventType(value)
        still = _STILL.get(kind)
        if kind not in present and still is not None and still(state):
            raised(kind, detail=f"held while snoozed until {until}; still so")
    return replace(state, owed=()), [*events, *raised.events]


class Hosts:
    """Per host, whether every answer this run was a network-level failure: the run is
    degraded (the machine is offline) when most hosts never answered at all."""

    def __init__(self) -> None:
        self.silent: dict[str, bool] = {}

    def add(self, observation: Observation) -> None:
        assert observation.host
        was = self.silent.get(observation.host, True)
        self.silent[observation.host] = was and network_level(observation)

    def degraded(self, policy: Policy) -> bool:
        """True when more than the policy's share of hosts never answered at all this run."""
        if not self.silent:
            return False
        return sum(self.silent.values()) / len(self.silent) > policy.degraded_host_share


def network_level(observation: Observation) -> bool:
    """The host was never reached (no connection, or its name did not resolve)."""
    if observation.outcome is Outcome.NETWORK:
        return True
    return observation.outcome is Outcome.NOT_FOUND and (observation.error or "").startswith(
        "unknown host"
    )


def expected_name(url: str, kind: Kind) -> str | None:
    """The name a catalog URL implies, to compare with what the service now calls it.

    `hf_owner` included: `huggingface.co/gpt2` may turn out to be a legacy model now named
    `openai-community/gpt2`, which is then reported `renamed` (an owner keeps its name)."""
    if kind in (
        Kind.GITHUB_REPO,
        Kind.GITHUB_OWNER,
        Kind.HF_MODEL,
        Kind.HF_DATASET,
        Kind.HF_SPACE,
        Kind.HF_OWNER,
    ):
        return identify(url).label
    return None
