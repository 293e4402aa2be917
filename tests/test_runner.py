"""The runner's promises when probes misbehave: deadlines, crashes, alerts across a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.catalog.kinds import identify
from monitor.emulator import AlertReceiver, Emulator, World
from monitor.model import Entry, Facts, Kind, Observation, Outcome, Source
from monitor.probes import Figures, Probe
from monitor.runner import run_check
from monitor.settings import Policy
from monitor.store import Store
from tests.conftest import ROOT

NOW = datetime(2026, 12, 1, 6, tzinfo=UTC)


def entry(url: str) -> Entry:
    resource = identify(url)
    return Entry(url=url, kind=resource.kind, key=resource.key, name=url)


class Scripted:
    """A probe that answers some sources, then does what it is told: hang, raise or finish."""

    def __init__(
        self,
        service: str,
        *,
        answer: int | None = None,
        then: str = "finish",
        outcome: Outcome = Outcome.OK,
    ) -> None:
        self.service = service
        self.answer = answer
        self.then = then
        self.outcome = outcome
        self.released = threading.Event()
        self.closed = threading.Event()
        self.asked = 0

    def figures(self) -> Figures:
        return Figures(requests=self.asked)

    def observe(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        try:
            for number, source in enumerate(sources):
                if self.answer is not None and number >= self.answer:
                    if self.then == "hang":
                        self.released.wait()  # a call that never returns on its own
                    elif self.then == "raise":
                        raise KeyError("a bug in the probe")
                    else:
                        return
                self.asked += 1
                facts = Facts(name=source.url.split("/", 3)[-1], stars=1)
                yield Observation(source.key, now, self.outcome, facts, host=self.service)
        finally:
            self.closed.set()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.connect(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield opened
    opened.close()


REPOS = [entry(f"https://github.com/o/r{i}") for i in range(5)]
PAGES = [entry(f"https://example.org/p{i}") for i in range(5)]


def probes(github: Probe, web: Probe) -> dict[Kind, Probe]:
    return {Kind.GITHUB_REPO: github, Kind.WEB: web}


def test_a_service_that_hangs_is_let_go_at_its_deadline(store: Store, tmp_path: Path) -> None:
    """A stalled service is let go at the deadline: its rest deferred, the others stored."""
    github = Scripted("github", answer=2, then="hang")
    web = Scripted("web")
    started = time.monotonic()
    result = run_check(
        [*REPOS, *PAGES],
        store,
        probes(github, web),
        now=NOW,
        policy=Policy(),
        reports_dir=tmp_path / "reports",
        deadline=0.5,
    )
    elapsed = time.monotonic() - started
    github.released.set()
    assert elapsed < 5
    assert result.checked == 7 and result.deferred == 3
    assert any("github: 3 source(s) not answered within the 0.5 s" in e for e in result.errors)
    checked = {s.url for s in store.sources() if s.state.last_checked_at is not None}
    assert checked == {e.url for e in PAGES} | {e.url for e in REPOS[:2]}
    assert github.closed.wait(2), "the probe's generator was closed once it answered again"


def test_a_probe_that_raises_loses_only_its_own_sources(store: Store, tmp_path: Path) -> None:
    """A probe bug defers that probe's unanswered sources; the run completes with the rest."""
    github = Scripted("github", answer=1, then="raise")
    web = Scripted("web")
    result = run_check(
        [*REPOS, *PAGES],
        store,
        probes(github, web),
        now=NOW,
        policy=Policy(),
        reports_dir=tmp_path / "reports",
    )
    assert result.status == "completed"
    assert result.checked == 6 and result.deferred == 4
    (error,) = result.errors
    assert "github: the probe failed (KeyError: 'a bug in the probe' at test_runner.py:" in error
    assert "This is a bug in monitor" in error
    assert [r.status for r in store.runs()] == ["completed"]


def test_a_stop_request_ends_a_run_stalled_in_a_call(store: Store, tmp_path: Path) -> None:
    """A stop request (SIGTERM in the daemon) ends a run within a second, even mid-call."""
    github = Scripted("github", answer=1, then="hang")
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    result = run_check(
        REPOS,
        store,
        {Kind.GITHUB_REPO: github},
        now=NOW,
        policy=Policy(),
        reports_dir=tmp_path / "reports",
        stop=stop,
    )
    github.released.set()
    assert time.monotonic() - started < 2
    assert result.interrupted and result.checked == 1


def test_alerts_stored_by_a_killed_run_are_the_next_runs(
    tmp_path: Path, world: World, emulator: Emulator
) -> None:
    """A run killed while posting its alerts leaves them to the next run: exit 1, and it says so."""
    world.add_repo("a/gone", stars=1, last_commit="2026-10-01T00:00:00Z")
    world.add_repo("a/kept", stars=1, last_commit="2026-10-01T00:00:00Z")
    catalog = tmp_path / "sources.toml"
    catalog.write_text(
        '[[source]]\nurl = "https://github.com/a/gone"\n\n'
        '[[source]]\nurl = "https://github.com/a/kept"\n'
    )
    with AlertReceiver(failure="hang", hang_seconds=60) as receiver:
        env = {
            **os.environ,
            **emulator.environment(),
            "MONITOR_CATALOG": str(catalog),
            "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'monitor.db'}",
            "MONITOR_REPORTS_DIR": str(tmp_path / "reports"),
            "MONITOR_ALERT_URLS": receiver.url,
        }

        def check(at: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "monitor", "check", "--now", at],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )

        assert check("2026-11-01T06:00:00Z").returncode == 0
        world.delete("a/gone")
        assert check("2026-11-02T06:00:00Z").returncode == 0  # suspect, not yet deleted
        receiver.down = True  # the next post hangs: the process is killed in the middle of it
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "check", "--now", "2026-11-03T06:00:00Z"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while receiver.attempts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert receiver.attempts == 1 and receiver.messages == []
        receiver.down = False
        rerun = check("2026-11-03T07:00:00Z")
        assert rerun.returncode == 1, rerun.stdout + rerun.stderr
        assert "1 new alert(s) (1 stored by an earlier run" in rerun.stdout
        [message] = receiver.messages
        assert "deleted" in message.title and "a/gone" in message.body
        again = check("2026-11-03T08:30:00Z")
        assert again.returncode == 0 and "no new alerts" in again.stdout
        assert len(receiver.messages) == 1
