"""One run: due sources -> probes -> policy -> store, then the day's reports and alerts.

    result = run_check(entries, store, probes, now=now, policy=settings.policy,
                       reports_dir=settings.reports_dir, channels=channels)

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

import contextlib
import queue
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.alerts import Channel, Delivery, deliver, register
from monitor.catalog.kinds import identify
from monitor.model import Entry, Event, Kind, Observation, Outcome, Source
from monitor.policy import Subject, assess, hold
from monitor.probes import Probe
from monitor.reports import write_day_reports
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
    entries: Sequence[Entry],
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
) -> RunResult:
    """Check every due source once, store what was learnt, write the day's reports and
    send the alerts owed to each channel.

    `deadline` is each service's: what it has not answered that many seconds into the
    run is deferred to the next run. Alerts stored by an earlier run that never got to
    report them (killed, interrupted) are this run's to report (`adopted_alerts`)."""
    started = time.monotonic()
    stop = stop or threading.Event()
    store.sync_catalog(entries, now)
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
    result.reports = write_day_reports(store, now.date(), reports_dir)
    if result.interrupted:
        return result  # its alerts are the next run's to report
    if channels:
        report = result.reports[0] if result.reports else None
        result.delivery = deliver(store, channels, now, report=report)
    store.mark_alerts_reported([*adopted_runs, run_id], by=run_id)
    return result


#: Outcomes judged at the end of the run, when whether it was degraded is known.
HELD = frozenset({Outcome.NOT_FOUND, Outcome.TRANSIENT, Outcome.NETWORK, Outcome.REFUSED})

#: What a probe's thread sends: (its index, an observation, an exception, or None when done).
_Message = tuple[int, "Observation | BaseException | None"]


@dataclass
class _Service:
    """One probe's thread during a run, as the run sees it."""

    probe: Probe
    #: sources given to the probe and not answered yet
    pending: int
    #: `time.monotonic()` after which the service is let go
    deadline: float
    #: seconds it was given
    allowed: float
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    running: bool = True

    def done(self, result: RunResult) -> None:
        """The service has said all it will say this run."""
        self.running = False
        started = self.deadline - self.allowed
        result.service_seconds[self.probe.service] = round(time.monotonic() - started, 3)

    def let_go(self, why: str, result: RunResult) -> None:
        """Stop waiting for this service: what it did not answer is deferred."""
        self.done(result)
        self.cancel.set()
        result.deferred += self.pending
        result.errors.append(why)


def _clock(now: datetime, started: float) -> datetime:
    """The run's own clock (`now`, simulated or real) advanced by the time it took, so a
    run made with --now never finishes before it started."""
    return now + timedelta(seconds=time.monotonic() - started)


def _where(error: BaseException) -> str:
    """An exception in one line, with the innermost frame of monitor's own code."""
    frames = traceback.extract_tb(error.__traceback__)
    package = str(Path(__file__).parent)
    ours = [f for f in frames if f.filename.startswith(package) and f.filename != __file__]
    text = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    if ours or frames:
        frame = (ours or frames)[-1]
        text += f" at {Path(frame.filename).name}:{frame.lineno}"
    return text


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
    """The run proper: probes in their threads, judged and stored here as answers arrive.

    `used` receives the probes that had sources to check (the run's figures are theirs).

    A service that has not answered everything `deadline` seconds into the run is let go:
    its thread is told to stop, what it did not answer is deferred to the next run, and
    anything it still says is ignored. A probe that raises (a bug: remote failures are
    observations) loses only its own unanswered sources, deferred the same way; the other
    services' answers are kept and the run completes.

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

    answers: queue.Queue[_Message] = queue.Queue()
    services = [
        _Service(probe, len(sources), time.monotonic() + deadline, deadline)
        for probe, sources in groups.values()
    ]
    for index, (service, (_, sources)) in enumerate(zip(services, groups.values(), strict=True)):
        service.thread = threading.Thread(
            target=_drive,
            args=(index, service.probe, sources, now, answers, service.cancel),
            name=f"probe-{service.probe.service}",
            daemon=True,
        )
    groups.clear()
    for service in services:
        assert service.thread is not None
        service.thread.start()

    # Answers wait here until a batch is judged: each needs its source's stored state,
    # read back for the whole batch at once.
    answered: list[tuple[int, Observation]] = []
    held: list[tuple[int, Observation]] = []
    hosts = Hosts()
    done = 0
    last_flush = time.monotonic()
    while any(service.running for service in services):
        if stop.is_set():
            result.interrupted = True
            break
        for service in services:
            if service.running and time.monotonic() > service.deadline:
                service.let_go(
                    f"{service.probe.service}: {service.pending} source(s) not answered within "
                    f"the {deadline:g} s service deadline; deferred to the next run",
                    result,
                )
        try:
            index, item = answers.get(timeout=0.2)
        except queue.Empty:
            continue
        service = services[index]
        if not service.running:
            continue  # a service let go: whatever it still says is not this run's
        if item is None:
            service.done(result)
            continue
        if isinstance(item, BaseException):
            service.let_go(
                f"{service.probe.service}: the probe failed ({_where(item)}); "
                f"{service.pending} source(s) deferred to the next run. This is a bug in "
                "monitor: please report it",
                result,
            )
            continue
        service.pending -= 1
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
    for service in services:
        service.cancel.set()  # let stragglers go quietly
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


class Hosts:
    """Per host, whether every answer this run was a network-level failure."""

    def __init__(self) -> None:
        self.silent: dict[str, bool] = {}

    def add(self, observation: Observation) -> None:
        assert observation.host
        was = self.silent.get(observation.host, True)
        self.silent[observation.host] = was and _network_level(observation)

    def degraded(self, policy: Policy) -> bool:
        """True when more than the policy's share of hosts never answered at all this run."""
        if not self.silent:
            return False
        return sum(self.silent.values()) / len(self.silent) > policy.degraded_host_share


def _network_level(observation: Observation) -> bool:
    if observation.outcome is Outcome.NETWORK:
        return True
    return observation.outcome is Outcome.NOT_FOUND and (observation.error or "").startswith(
        "unknown host"
    )


def _drive(
    index: int,
    probe: Probe,
    sources: list[Source],
    now: datetime,
    answers: queue.Queue[_Message],
    cancel: threading.Event,
) -> None:
    """A probe's thread: its observations go to the run, until it is done or let go.

    Let go, it closes the probe's generator at the next answer, so the probe makes no
    further request (a call already stalled in a client library ends at its timeout)."""
    observations = probe.observe(sources, now)
    try:
        for observation in observations:
            if cancel.is_set():
                break
            answers.put((index, observation))
    except BaseException as exc:  # handed to the run, which defers what this probe had left
        answers.put((index, exc))
    finally:
        close = getattr(observations, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()
        answers.put((index, None))


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
