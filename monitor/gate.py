"""`monitor gate`: the links a pull request adds, checked at once and judged at the door.

    result = run_gate(root, settings, base="origin/main")
    result.findings        # [Finding(document, line, rule, level, message, ...)]
    result.exit_status     # 0 no error, 1 at least one error

The stages read like the data's path: the change's new links (`catalog.diff`,
through the importer's own extractor) -> one check of each resource with the
same probes and budgets as `monitor check` (`probes.drive`) -> admission rules
(`judge`, pure) -> findings, which `render.gate` writes out as lines, GitHub
annotations, SARIF and a job summary.

There is no confirmation window: a new link must work now. But an answer that
says nothing about the resource (a timeout, a 5xx, a rate limit, a bot wall)
is only ever a warning that the link could not be verified, and so is "no such
host" when most hosts did not answer at all (the machine is offline). The
store is never written; the catalog, where there is one, lends its judgement
(`ignore`, `accept`, `maintenance = "finished"`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from monitor.admission import RULES, Level, Rule
from monitor.catalog.diff import (
    Added,
    Change,
    added_links,
    changed_documents,
    repository_root,
    resolve_base,
)
from monitor.catalog.file import Catalog
from monitor.errors import DocumentError, Problem
from monitor.model import (
    EventType,
    Judgement,
    Kind,
    Observation,
    Outcome,
    Source,
)
from monitor.policy import LINK_KINDS, Hosts, Subject, assess, expected_name, last_answer
from monitor.probes import Probe
from monitor.probes.drive import Drive
from monitor.settings import Policy, Settings

#: Kinds whose licence, archiving and last commit say something about the project.
_PROJECT_KINDS = frozenset({Kind.GITHUB_REPO, Kind.HF_MODEL, Kind.HF_DATASET, Kind.HF_SPACE})
#: Licences that are no licence a reader can rely on.
_NO_LICENCE = frozenset({"NONE", "NOASSERTION", "unknown"})
_WHAT = {
    Kind.GITHUB_REPO: "GitHub has no repository",
    Kind.GITHUB_OWNER: "GitHub has no user or organisation",
    Kind.HF_MODEL: "the Hugging Face Hub has no model",
    Kind.HF_DATASET: "the Hugging Face Hub has no dataset",
    Kind.HF_SPACE: "the Hugging Face Hub has no space",
    Kind.HF_OWNER: "the Hugging Face Hub has no user or organisation",
    Kind.ARXIV: "arXiv has no paper",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One admission rule one added link breaks, where the change added it."""

    document: str
    line: int
    #: the link as the document writes it
    url: str
    #: the resource's identity (`kinds.identify(url).key`), for stable fingerprints
    key: str
    rule: Rule
    level: Level
    message: str
    #: the URL to link instead (renamed, redirected)
    new_url: str | None = None


@dataclass
class GateResult:
    """What a gate found, and what it cost."""

    change: Change
    findings: list[Finding] = field(default_factory=list)
    #: distinct resources checked
    checked: int = 0
    #: links left out because the catalog says `ignore = true`
    ignored: int = 0
    #: requests made, per service
    requests: dict[str, int] = field(default_factory=dict)
    #: services let go at their deadline, probes that failed
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, level: Level) -> int:
        return sum(1 for finding in self.findings if finding.level is level)

    @property
    def exit_status(self) -> int:
        """The contract's: 0 no error, 1 at least one error."""
        return 1 if self.count(Level.ERROR) else 0


ProbesFor = Callable[[Settings], Mapping[Kind, Probe]]


def _real_probes(settings: Settings) -> Mapping[Kind, Probe]:
    from monitor.probes.build import build_probes

    return build_probes(settings)


def run_gate(
    start: Path,
    settings: Settings,
    *,
    base: str | None = None,
    documents: Sequence[Path] = (),
    catalog: Catalog | None = None,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
    probes_for: ProbesFor = _real_probes,
    progress: Callable[[int, int], None] | None = None,
) -> GateResult:
    """Check the links that `documents` (default: the catalog's `[catalog] documents`, else
    every document the change touches) add relative to `base`, in the repository holding
    `start`. Raises `GitError` or `DocumentError` (exit 2) for input it cannot use."""
    began = time.monotonic()
    environ = os.environ if environ is None else environ
    now = now or settings.now or datetime.now(UTC)
    root = repository_root(start)
    resolved = resolve_base(root, base, environ)
    if documents:
        names = [_in_repository(root, path) for path in documents]
    elif settings.documents:
        folder = settings.catalog.parent
        names = [_in_repository(root, folder / name) for name in settings.documents]
    else:
        names = list(changed_documents(root, resolved))
    change = added_links(root, resolved, names, exclude=settings.exclude)
    result = GateResult(change)
    judgements = {e.key: e.judgement for e in catalog.entries} if catalog else {}

    links = [a for a in change.links if not judgements.get(a.resource.key, Judgement()).ignore]
    result.ignored = len(change.links) - len(links)
    observations = _check(links, judgements, settings, now, probes_for, result, progress)
    hosts = Hosts()
    for answer in observations.values():
        if answer.host:
            hosts.add(answer)
    offline = len(hosts.silent) > 1 and hosts.degraded(settings.policy)
    for added in links:
        judgement = judgements.get(added.resource.key, Judgement())
        result.findings.extend(
            judge(
                added,
                observations.get(added.resource.key),
                settings.policy,
                promoted=frozenset(settings.gate_errors),
                offline=offline,
                finished=judgement.finished,
            )
        )
    for bad in change.malformed:
        result.findings.append(
            Finding(
                bad.document,
                bad.line,
                bad.written,
                bad.written,
                Rule.NOT_FOUND,
                Level.ERROR,
                f"{bad.written}: not a working link ({bad.reason})",
            )
        )
    order = list(RULES)
    result.findings.sort(key=lambda f: (f.document, f.line, f.url, order.index(f.rule)))
    result.seconds = round(time.monotonic() - began, 3)
    return result


def _in_repository(root: Path, path: Path) -> str:
    """`path` (relative to the working folder) as git names it, relative to `root`."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise DocumentError(
            [Problem(str(path), f"is not in the repository at {root}", hint="name its documents")]
        ) from None


def _check(
    links: Sequence[Added],
    judgements: Mapping[str, Judgement],
    settings: Settings,
    now: datetime,
    probes_for: ProbesFor,
    result: GateResult,
    progress: Callable[[int, int], None] | None,
) -> dict[str, Observation]:
    """One observation per distinct resource, from the same probes `monitor check` uses."""
    sources: dict[str, Source] = {}
    for added in links:
        resource = added.resource
        accept = judgements.get(resource.key, Judgement()).accept
        sources.setdefault(
            resource.key, Source(resource.key, resource.url, resource.kind, accept=accept)
        )
    if not sources:
        return {}
    probes = probes_for(settings)
    groups: dict[int, tuple[Probe, list[Source]]] = {}
    for source in sources.values():
        if source.kind in probes:
            probe = probes[source.kind]
            groups.setdefault(id(probe), (probe, []))[1].append(source)
    drive = Drive(
        list(groups.values()), now, deadline=float(settings.probes.service_deadline_seconds)
    )
    found: dict[str, Observation] = {}
    total = sum(len(group) for _, group in groups.values())
    for _, observation in drive.answers():
        found[observation.key] = observation
        if progress is not None:
            progress(len(found), total)
    result.checked = len(found)
    result.errors = [*drive.errors]
    for probe, _ in groups.values():
        figures = probe.figures()
        result.requests[probe.service] = figures.requests
        result.errors.extend(figures.errors)
    return found


def judge(
    added: Added,
    observation: Observation | None,
    policy: Policy,
    *,
    promoted: frozenset[str] = frozenset(),
    offline: bool = False,
    finished: bool = False,
) -> list[Finding]:
    """The admission rules `added` breaks, given the one answer about it (None: none came
    before its service's deadline). Pure: the table of answers and findings is the test."""
    link, resource = added.link, added.resource
    found: list[Finding] = []

    def broke(rule: Rule, message: str, new_url: str | None = None) -> None:
        info = RULES[rule]
        level = Level.ERROR if rule.value in promoted and info.promotable else info.level
        found.append(
            Finding(
                link.document,
                link.line,
                link.url,
                resource.key,
                rule,
                level,
                f"{link.url}: {message}",
                new_url,
            )
        )

    if observation is None:
        broke(Rule.UNVERIFIED, "could not be verified: no answer before the service's deadline")
        return found
    outcome = observation.outcome
    said = last_answer(observation.http_status, observation.error, outcome)
    if outcome is Outcome.DEFERRED:
        broke(Rule.UNVERIFIED, f"could not be verified: not checked ({said})")
    elif outcome is Outcome.REFUSED:
        broke(
            Rule.UNVERIFIED,
            f"could not be verified: the site turns robots away ({said}); open it in a browser",
        )
    elif outcome in (Outcome.TRANSIENT, Outcome.NETWORK) or (
        outcome is Outcome.NOT_FOUND and offline and _unknown_host(observation)
    ):
        broke(Rule.UNVERIFIED, f"could not be verified: {said}")
    elif outcome is Outcome.NOT_FOUND:
        if resource.kind in LINK_KINDS:
            broke(Rule.NOT_FOUND, f"not found ({said})")
        else:
            what = _WHAT.get(resource.kind, "the service has nothing at")
            broke(Rule.DELETED, f"{what} {resource.label}: deleted, private or never there")
    elif outcome is Outcome.BLOCKED:
        broke(Rule.BLOCKED, f"access is blocked ({said})")
    else:
        _facts(added, observation, policy, finished, broke)
    return found


def _unknown_host(observation: Observation) -> bool:
    return (observation.error or "").startswith("unknown host")


def _facts(
    added: Added,
    observation: Observation,
    policy: Policy,
    finished: bool,
    broke: Callable[..., None],
) -> None:
    """The rules a working resource can still break: what the policy says on first sight
    (renamed, redirected, archived, stale), its licence, gating and withdrawal."""
    resource = added.resource
    subject = Subject(
        resource.key,
        resource.url,
        resource.kind,
        expected_name(resource.url, resource.kind),
        finished=finished,
    )
    _, events = assess(subject, None, observation, policy)
    for event in events:
        if event.event is EventType.RENAMED:
            where = f"; link {event.new_url}" if event.new_url else ""
            broke(Rule.RENAMED, f"renamed: {event.old} is now {event.new}{where}", event.new_url)
        elif event.event is EventType.REDIRECTED:
            broke(
                Rule.REDIRECTED,
                f"redirects permanently to {event.new_url}; link that instead",
                event.new_url,
            )
        elif event.event is EventType.ARCHIVED:
            broke(Rule.ARCHIVED, "the repository is archived (read-only)")
        elif event.event is EventType.STALE:
            days = policy.stale_after_days
            broke(Rule.STALE, f"no commit since {event.old} (more than {days} days)")
    facts = observation.facts
    if facts is None:
        return
    project = resource.kind in _PROJECT_KINDS or (facts.resolved_kind or "") in _PROJECT_KINDS
    if project and facts.license in _NO_LICENCE:
        words = {
            "NONE": "no licence",
            "NOASSERTION": "no licence GitHub can identify (NOASSERTION)",
        }.get(facts.license, f"no licence (the Hub says {facts.license!r})")
        broke(Rule.NO_LICENSE, words)
    if facts.gated not in (None, "false"):
        broke(Rule.GATED, f"gated on the Hub ({facts.gated}): readers must request access")
    if facts.withdrawn:
        broke(Rule.WITHDRAWN, "the paper was withdrawn by its authors")
