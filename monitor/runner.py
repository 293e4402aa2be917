"""One run: due sources -> probes -> policy -> store, then the day's reports and alerts.

    result = run_check(catalog.entries(), store, probes, now=now, policy=settings.policy,
                       reports_dir=settings.reports_dir, channels=channels,
                       digest=catalog.digest)

Each service's probe runs in its own thread; observations come back through a
queue to this thread, the only one that writes the store. Answers that tell
something about a source (ok, 304, blocked) are judged and committed in
batches as they arrive. Failures wait for the end of the run, because whether
they count depends on the run as a whole: when most hosts failed at the network
level (the machine is offline), the run is degraded and no failure counter
moves. A run killed at any point keeps every committed batch; what was in
flight is simply due again next run. A run asked to stop (`stop` set, the
daemon's SIGTERM) ends the same way, between batches, within a fraction of a
second.

Alerts go out last, once the run's events are stored: each channel is sent
what it is owed, this run's alerts and any an earlier run failed to deliver.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.alerts import Channel, Delivery, deliver, register
from monitor.model import Entry, Event, Kind, Observation, Outcome, Source
from monitor.outputs import write_run_files
from monitor.policy import Hosts, Subject, assess, expected_name, hold
from monitor.probes import Probe
from monitor.probes.drive import Drive
from monitor.reports import day_report_paths, write_day_reports
from monitor.settings import Policy
from monitor.store import Checked, Store, StoredSource

BATCH = 100
FLUSH_SECONDS = 2.0
Progress = Callable[[int, int], None]


@dataclass
class RunResult:
    """What a run did, for the CLI to print and turn into an exit status."""

    run_id: int
    checked: int = 0
    deferred: int = 0
    unsupported: int = 0
    degraded: bool = False
    #: stopped on request before every due source was checked
    interrupted: bool = False
    new_alerts: list[Event] = field(default_factory=list)
    #: alerts an earlier run stored but never reported (it was killed first): this run's now
    adopted_alerts: list[Event] = field(default_factory=list)
    events: int = 0
    figures: dict[str, Any] = field(default_factory=dict)
    reports: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    delivery: Delivery | None = None
    #: how long each service took to answer everything it was asked (or was let go)
    service_seconds: dict[str, float] = field(default_factory=dict)
    #: the files every run leaves: index.html, feed.atom, badge.json, monitor.prom
    files: list[Path] = field(default_factory=list)

    @property
    def alerts(self) -> list[Event]:
        """Every alert this run reports: its own and the ones it adopted."""
        return [*self.adopted_alerts, *self.new_alerts]

    @property
    def status(self) -> str:
        """One word for logs and the heartbeat."""
        if self.interrupted:
            return "interrupted"
        return "degraded" if self.degraded else "completed"


def run_check(
    entries: Iterable[Entry],
    store: Store,
    probes: Mapping[Kind, Probe],
    *,
    now: datetime,
    policy: Policy,
    reports_dir: Path,
    progress: Progress | None = None,
    interval: timedelta = timedelta(hours=1),
    channels: Sequence[Channel] = (),
    stop: threading.Event | None = None,
    deadline: float = 600.0,
    digest: str | None = None,
) -> RunResult:
    """Check every due source once, store what was learnt, write the day's reports and
    send the alerts owed to each channel.

    `deadline` is each service's: what it has not answered that many seconds into the
    run is deferred to the next run. Alerts stored by an earlier run that never got to
    report them (killed, interrupted) are this run's to report (`adopted_alerts`).

    `entries` are taken into the store first, unless the catalog's `digest` says the
    store holds them already: then they are never read (they may be a generator that
    parses the file). A run that checked nothing and found nothing leaves the day's
    reports as they are, once they exist."""
    started = time.monotonic()
    stop = stop or threading.Event()
    store.sync_catalog(entries, now, digest=digest)
    # Before any event is stored, so a channel configured just now is owed this run's alerts.
    register(store, channels, now)
    run_id = store.start_run(now, started_at=now)
    result = RunResult(run_id)
    adopted_runs, adopted = store.unreported_alerts(run_id)
    result.adopted_alerts = [stored.event for stored in adopted]
    outcomes: Counter[str] = Counter()
    used: list[Probe] = []
    try:
        _poll(
            store, probes, now, interval, policy, result, outcomes, progress, stop, used, deadline
        )
    except BaseException:
        store.finish_run(
            run_id,
            status="failed",
            degraded=result.degraded,
            figures=_figures(result, used, outcomes, started),
            finished_at=_clock(now, started),
        )
        raise
    result.figures = _figures(result, used, outcomes, started)
    store.finish_run(
        run_id,
        status="interrupted" if result.interrupted else "completed",
        degraded=result.degraded,
        figures=result.figures,
        finished_at=_clock(now, started),
    )
    result.reports = _reports(store, now, reports_dir, result)
    if result.interrupted:
        return result  # its alerts are the next run's to report
    if channels:
        report = result.reports[0] if result.reports else None
        result.delivery = deliver(store, channels, now, report=report)
    store.mark_alerts_reported([*adopted_runs, run_id], by=run_id)
    return result


def _reports(store: Store, now: datetime, reports_dir: Path, result: RunResult) -> list[Path]:
    """The day's reports, rewritten only when the run has something to add to them: a run
    with nothing due would only add its own empty line, at the cost of reading back every
    listed source. Then the files every run leaves (`outputs`: the status page, the feed,
    the badge, the metrics), in `result.files`."""
    day = list(day_report_paths(now.date(), reports_dir))
    idle = not (
        result.checked
        or result.deferred
        or result.events
        or result.adopted_alerts
        or result.errors
        or result.degraded
        or result.interrupted
    )
    idle = idle and all(path.exists() for path in day)
    written = day if idle else write_day_reports(store, now.date(), reports_dir)
    result.files = write_run_files(store, now, reports_dir, idle=idle)
    return written


#: Outcomes judged at the end of the run, when whether it was degraded is known.
HELD = frozenset({Outcome.NOT_FOUND, Outcome.TRANSIENT, Outcome.NETWORK, Outcome.REFUSED})


def _clock(now: datetime, started: float) -> datetime:
    """The run's own clock (`now`, simulated or real) advanced by the time it took, so a
    run made with --now never finishes before it started."""
    return now + timedelta(seconds=time.monotonic() - started)


def _poll(
    store: Store,
    probes: Mapping[Kind, Probe],
    now: datetime,
    interval: timedelta,
    policy: Policy,
    result: RunResult,
    outcomes: Counter[str],
    progress: Progress | None,
    stop: threading.Event,
    used: list[Probe],
    deadline: float,
) -> None:
    """The run proper: probes in their threads (`Drive`), judged and stored here as answers
    arrive.

    `used` receives the probes that had sources to check (the run's figures are theirs).
    A service that has not answered everything `deadline` seconds into the run, or whose
    probe failed, is let go: what it did not answer is deferred to the next run, and the
    other services' answers are kept.

    Memory stays close to one small `Source` per due source: the probes get those, each
    batch of answers reads its sources' full stored state back only when it is judged,
    and hosts are remembered by one flag each, not by their answers.
    """
    run_id = result.run_id
    due = store.due(now, interval)
    supported = [(i, s) for i, s in due if s.kind in probes]
    result.unsupported = len(due) - len(supported)
    total = len(supported)
    ids = {source.key: i for i, source in supported}
    groups: dict[int, tuple[Probe, list[Source]]] = {}
    for _, source in supported:
        probe = probes[source.kind]
        groups.setdefault(id(probe), (probe, []))[1].append(source)
    del due, supported
    used.extend(probe for probe, _ in groups.values())

    drive = Drive(list(groups.values()), now, deadline=deadline)
    groups.clear()

    # Answers wait here until a batch is judged: each needs its source's stored state,
    # read back for the whole batch at once.
    answered: list[tuple[int, Observation]] = []
    held: list[tuple[int, Observation]] = []
    hosts = Hosts()
    done = 0
    last_flush = time.monotonic()
    for _, item in drive.answers(stop):
        done += 1
        if progress is not None:
            progress(done, total)
        outcomes[item.outcome.value] += 1
        source_id = ids.pop(item.key, None)
        if source_id is None:
            continue
        if item.outcome is Outcome.DEFERRED:
            result.deferred += 1
            continue
        if item.host:
            hosts.add(item)
        if item.outcome in HELD:
            held.append((source_id, item))
            continue
        answered.append((source_id, item))
        if len(answered) >= BATCH or time.monotonic() - last_flush > FLUSH_SECONDS:
            _store(store, run_id, answered, policy, result, degraded=False)
            answered, last_flush = [], time.monotonic()
    result.deferred += drive.deferred
    result.errors.extend(drive.errors)
    result.service_seconds.update(drive.seconds)
    if stop.is_set():
        # Failures are judged against the whole run, which did not happen: they are
        # dropped, and those sources are simply due again next run.
        result.interrupted = True
        held = []
    result.degraded = hosts.degraded(policy)
    _store(store, run_id, answered, policy, result, degraded=False)
    for start in range(0, len(held), BATCH):
        _store(store, run_id, held[start : start + BATCH], policy, result, degraded=result.degraded)


def _store(
    store: Store,
    run_id: int,
    answered: Sequence[tuple[int, Observation]],
    policy: Policy,
    result: RunResult,
    *,
    degraded: bool,
) -> None:
    """Judge a batch of answers against their sources' stored states and record it."""
    if not answered:
        return
    states = store.stored([source_id for source_id, _ in answered])
    batch = [_judge(states[i], o, policy, degraded=degraded) for i, o in answered]
    store.record(run_id, batch)
    _collect(result, batch)


def _judge(
    stored: StoredSource, observation: Observation, policy: Policy, *, degraded: bool
) -> Checked:
    subject = Subject(
        stored.key,
        stored.url,
        stored.kind,
        expected_name(stored.url, stored.kind),
        finished=stored.judgement.finished,
    )
    state, events = assess(subject, stored.state, observation, policy, degraded=degraded)
    state, events = hold(stored.judgement, state, events, observation.at, subject)
    facts = observation.facts
    return Checked(
        stored.id,
        observation,
        state,
        tuple(events),
        remote_id=facts.remote_id if facts else None,
        validators=observation.validators or None,
    )


def _collect(result: RunResult, batch: Sequence[Checked]) -> None:
    for checked in batch:
        result.checked += 1
        result.events += len(checked.events)
        result.new_alerts.extend(e for e in checked.events if e.alert)


def _figures(
    result: RunResult, used: Sequence[Probe], outcomes: Counter[str], started: float
) -> dict[str, Any]:
    services = {}
    for probe in used:
        figures = probe.figures()
        services[probe.service] = figures.to_json() | {
            "seconds": result.service_seconds.get(probe.service)
        }
        result.errors.extend(figures.errors)
    return {
        "sources_checked": result.checked,
        "deferred": result.deferred,
        "unsupported": result.unsupported,
        "outcomes": dict(sorted(outcomes.items())),
        "services": services,
        "events": result.events,
        "alerts": len(result.new_alerts),
        "errors": result.errors,
        "degraded": result.degraded,
        "duration_seconds": round(time.monotonic() - started, 3),
    }
