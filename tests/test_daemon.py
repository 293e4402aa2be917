"""`monitor daemon` as a real process against the emulator: runs, outages, locks and SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.emulator import Emulator, World

CATALOG = """
[[source]]
url = "https://github.com/tatsu-lab/stanford_alpaca"

[[source]]
url = "https://github.com/tloen/alpaca-lora"

[[source]]
url = "https://huggingface.co/bigscience/bloom"

[[source]]
url = "https://example.org/post"
"""


class Daemon:
    """A `monitor daemon` subprocess whose stdout lines are read as they come."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "daemon"],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, count: int = 1, timeout: float = 30.0) -> list[str]:
        """Lines read until `count` of them contain `text`; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while sum(text in line for line in self.lines) < count:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {count}x {text!r} within {timeout}s:\n" + "\n".join(self.lines))
            if line is None:
                pytest.fail(f"the daemon exited before {text!r}:\n" + "\n".join(self.lines))
            self.lines.append(line)
        return self.lines

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Emulator, dict[str, str]]]:
    world = World()
    world.add_repo("tatsu-lab/stanford_alpaca", stars=29000)
    world.add_repo("tloen/alpaca-lora", stars=18000)
    world.add_hf_repo("bigscience/bloom", likes=4000)
    world.set_page("https://example.org/post", "ok")
    (tmp_path / "sources.toml").write_text(CATALOG)
    emulator = Emulator(world).start()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        **emulator.environment(),
        "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'monitor.db'}",
        "MONITOR_REPORTS_DIR": str(tmp_path / "reports"),
        "GITHUB_TOKEN": "ghp_daemon_test_token_0123",
        "MONITOR_SCHEDULE_CHECK": "every 2s",
        "MONITOR_SCHEDULE_DIGEST": "every 3s",
        "MONITOR_SCHEDULE_JITTER_SECONDS": "0",
        "MONITOR_SCHEDULE_HEARTBEAT_SECONDS": "1",
        "MONITOR_POLICY_RECHECK_AFTER_MINUTES": "0",
        "MONITOR_PROBES_ARXIV_INTERVAL_SECONDS": "0",
        "MONITOR_PROBES_WEB_TIMEOUT_SECONDS": "2",
    }
    try:
        yield emulator, env
    finally:
        emulator.stop()


@pytest.mark.timeout(120)
def test_the_daemon_checks_digests_survives_an_outage_and_stops_on_sigterm(
    setup: tuple[Emulator, dict[str, str]], tmp_path: Path
) -> None:
    """Runs checks and a digest, keeps going through an outage, refuses a twin, stops cleanly."""
    emulator, env = setup
    daemon = Daemon(env, tmp_path)
    try:
        daemon.wait_for(" check status=completed checked=4", count=2)
        daemon.wait_for(" digest status=written")
        assert list((tmp_path / "reports" / "weekly").glob("*.md"))

        twin = subprocess.run(
            [sys.executable, "-m", "monitor", "daemon"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert twin.returncode == 4  # busy: nothing done, try later
        assert "another monitor is writing this store (monitor daemon, pid" in twin.stderr

        alive = subprocess.run(
            [sys.executable, "-m", "monitor", "status", "--heartbeat"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert alive.returncode == 0, alive.stdout + alive.stderr
        assert "Daemon: last heartbeat" in alive.stdout

        emulator.stop()  # every service goes away: connections are refused
        daemon.wait_for(" check status=degraded", timeout=60)
        emulator.start()
        before = sum(" check status=completed" in line for line in daemon.lines)
        daemon.wait_for(" check status=completed", count=before + 1, timeout=60)

        asked = time.monotonic()
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.process.wait(timeout=15) == 0
        assert time.monotonic() - asked < 10
        daemon.wait_for("daemon status=stopped", timeout=5)
    finally:
        daemon.stop()
    assert not any(token in "\n".join(daemon.lines) for token in ("ghp_daemon_test_token",))

    with sqlite3.connect(tmp_path / "monitor.db") as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        statuses = {row[0] for row in db.execute("select status from runs")}
        stopped = db.execute("select stopped_at from heartbeats").fetchone()
    assert statuses <= {"completed", "interrupted"} and "running" not in statuses
    assert stopped[0] is not None

    dead = subprocess.run(
        [sys.executable, "-m", "monitor", "status", "--heartbeat"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dead.returncode == 1 and "Daemon: stopped at" in dead.stdout


def test_the_daemon_refuses_a_simulated_clock(tmp_path: Path) -> None:
    """MONITOR_NOW makes no sense for a daemon: it says so and exits 2 before touching anything."""
    (tmp_path / "sources.toml").write_text(CATALOG)
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "daemon"],
        env={**os.environ, "MONITOR_NOW": "2026-11-21T00:00:00Z"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "the daemon runs on the real clock" in done.stderr
    assert not (tmp_path / "monitor.db").exists()


@pytest.mark.timeout(120)
def test_sigterm_ends_a_check_stalled_in_a_call_within_seconds(
    setup: tuple[Emulator, dict[str, str]], tmp_path: Path
) -> None:
    """With the Hub never answering, SIGTERM still ends the running check and the daemon fast."""
    emulator, env = setup
    from monitor.emulator.chaos import Fault

    emulator.world.inject_fault("hf", Fault.STALL)
    daemon = Daemon(env, tmp_path)
    try:
        daemon.wait_for("daemon status=started")
        deadline = time.monotonic() + 30
        while not any(r.fault == "stall" for r in emulator.world.requests("hf")):
            assert time.monotonic() < deadline, "the Hub was never asked"
            time.sleep(0.05)
        started = time.monotonic()
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.process.wait(timeout=30) == 0
        assert time.monotonic() - started < 5
        daemon.wait_for("daemon status=stopped")
    finally:
        daemon.stop()


def test_a_check_past_its_deadline_makes_the_heartbeat_unhealthy(tmp_path: Path) -> None:
    """A check still running past the services' deadline plus 300 s fails the healthcheck."""
    from datetime import UTC, datetime, timedelta

    from monitor.scheduler import RUNNING
    from monitor.store import Heartbeat, Store

    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    (tmp_path / "sources.toml").write_text(CATALOG)
    store = Store.connect(url)
    now = datetime.now(UTC)
    env = {
        **os.environ,
        "MONITOR_DATABASE_URL": url,
        "MONITOR_PROBES_SERVICE_DEADLINE_SECONDS": "60",
    }

    def healthcheck(started: datetime) -> subprocess.CompletedProcess[str]:
        store.beat(Heartbeat("daemon", 1, "h", now, now, last_run_at=started, last_status=RUNNING))
        return subprocess.run(
            [sys.executable, "-m", "monitor", "status", "--heartbeat"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )

    assert healthcheck(now - timedelta(seconds=300)).returncode == 0
    stuck = healthcheck(now - timedelta(seconds=400))
    store.close()
    assert stuck.returncode == 1
    assert "past its 360 s limit" in stuck.stdout
