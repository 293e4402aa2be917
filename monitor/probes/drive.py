"""Probes in their threads, each service with a deadline for the whole run.

    drive = Drive([(probe, sources), ...], now, deadline=600.0)
    for probe, observation in drive.answers(stop):
        ...                        # in the caller's thread, as answers arrive
    drive.deferred, drive.errors, drive.seconds

Owns the threads and the deadlines, for `monitor check` (which judges and
stores what comes back) and `monitor gate` (which judges and forgets). Each
service's probe runs in a thread of its own; answers come back through one
queue to the caller. A service that has not answered everything `deadline`
seconds in is let go: its thread is told to stop, and what it did not answer is
counted as deferred, with a line in `errors`. A probe that raises (a bug:
remote failures are observations) loses only its own unanswered sources, the
same way; the other services go on.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from monitor.model import Observation, Source
from monitor.probes import Probe

#: What a probe's thread sends: (its index, an observation, an exception, or None when done).
_Message = tuple[int, "Observation | BaseException | None"]


@dataclass
class _Service:
    """One probe's thread, as the drive sees it."""

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


class Drive:
    """Probes checking their sources in their own threads, each within `deadline` seconds."""

    def __init__(
        self, groups: Sequence[tuple[Probe, Sequence[Source]]], now: datetime, *, deadline: float
    ) -> None:
        self.deadline = deadline
        #: sources not answered: their service was let go, or its probe failed
        self.deferred = 0
        #: one line per service let go
        self.errors: list[str] = []
        #: how long each service took to answer everything it was asked (or was let go)
        self.seconds: dict[str, float] = {}
        self._answers: queue.Queue[_Message] = queue.Queue()
        start = time.monotonic()
        self._services = [
            _Service(probe, len(sources), start + deadline, deadline) for probe, sources in groups
        ]
        for index, (service, (_, sources)) in enumerate(zip(self._services, groups, strict=True)):
            service.thread = threading.Thread(
                target=_drive,
                args=(index, service.probe, list(sources), now, self._answers, service.cancel),
                name=f"probe-{service.probe.service}",
                daemon=True,
            )

    def answers(self, stop: threading.Event | None = None) -> Iterator[tuple[Probe, Observation]]:
        """Each answer as it arrives, until every service is done or let go (or `stop` is
        set: then the services still running are simply abandoned)."""
        for service in self._services:
            assert service.thread is not None
            service.thread.start()
        try:
            while any(service.running for service in self._services):
                if stop is not None and stop.is_set():
                    return
                for service in self._services:
                    if service.running and time.monotonic() > service.deadline:
                        self._let_go(
                            service,
                            f"{service.probe.service}: {service.pending} source(s) not answered "
                            f"within the {self.deadline:g} s service deadline; deferred to the "
                            "next run",
                        )
                try:
                    index, item = self._answers.get(timeout=0.2)
                except queue.Empty:
                    continue
                service = self._services[index]
                if not service.running:
                    continue  # a service let go: whatever it still says is not this run's
                if item is None:
                    self._done(service)
                elif isinstance(item, BaseException):
                    self._let_go(
                        service,
                        f"{service.probe.service}: the probe failed ({where(item)}); "
                        f"{service.pending} source(s) deferred to the next run. This is a bug "
                        "in monitor: please report it",
                    )
                else:
                    service.pending -= 1
                    yield service.probe, item
        finally:
            for service in self._services:
                service.cancel.set()  # let stragglers go quietly

    def _done(self, service: _Service) -> None:
        service.running = False
        started = service.deadline - service.allowed
        self.seconds[service.probe.service] = round(time.monotonic() - started, 3)

    def _let_go(self, service: _Service, why: str) -> None:
        self._done(service)
        service.cancel.set()
        self.deferred += service.pending
        self.errors.append(why)


def where(error: BaseException) -> str:
    """An exception in one line, with the innermost frame of monitor's own code."""
    frames = traceback.extract_tb(error.__traceback__)
    package = str(Path(__file__).parent.parent)
    ours = [f for f in frames if f.filename.startswith(package) and f.filename != __file__]
    text = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    if ours or frames:
        frame = (ours or frames)[-1]
        text += f" at {Path(frame.filename).name}:{frame.lineno}"
    return text


def _drive(
    index: int,
    probe: Probe,
    sources: list[Source],
    now: datetime,
    answers: queue.Queue[_Message],
    cancel: threading.Event,
) -> None:
    """A probe's thread: its observations go to the caller, until it is done or let go.

    Let go, it closes the probe's generator at the next answer, so the probe makes no
    further request (a call already stalled in a client library ends at its timeout)."""
    observations = probe.observe(sources, now)
    try:
        for observation in observations:
            if cancel.is_set():
                break
            answers.put((index, observation))
    except BaseException as exc:  # handed to the caller, which defers what this probe had left
        answers.put((index, exc))
    finally:
        close = getattr(observations, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()
        answers.put((index, None))
