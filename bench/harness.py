"""What the scale benchmarks share: the emulator, measured commands and the store they write.

- `EmulatorProcess`: `monitor emulator serve --catalog …` in a process of its
  own, driven over its control port (budgets, latency, request counts);
- `run_child`: one command run to its end, its wall time and its own peak RSS
  (from `os.wait4`, so children never mix);
- `SqliteStore`, `PostgresStore`: the store's size and the figures of its
  last run, read directly from the database;
- `Poller`: `monitor check` and the other commands against one emulator and
  one store, with what each cost.

Imported by its siblings as `harness` (each script's directory is first on sys.path).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from common import clean_environment

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 11, 21, 6, tzinfo=UTC)
SEED_AT = START - timedelta(days=1)
GITHUB_TOKEN = "ghp_bench"
HF_TOKEN = "hf_bench"
UNLIMITED = 1_000_000_000


def say(text: str) -> None:
    print(text, flush=True)


# --- the emulator in its own process ------------------------------------------------------------


class EmulatorProcess:
    """`monitor emulator serve --catalog …` in a child process, driven by its control port."""

    def __init__(self, catalog: Path, latency_ms: float, log: Path) -> None:
        self.log = log
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "monitor",
                "emulator",
                "serve",
                "--catalog",
                str(catalog),
                "--now",
                SEED_AT.isoformat(),
                "--latency-ms",
                str(latency_ms),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=clean_environment(),
        )
        self.environment: dict[str, str] = {}
        self.control = ""
        lines = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            lines.append(line)
            found = re.match(r"\s*export (\w+)=(.*)$", line)
            if found:
                self.environment[found[1]] = found[2].strip()
            elif line.startswith("control"):
                self.control = line.split()[1]
            elif line.startswith("Serving until"):
                break
        log.write_text("".join(lines), encoding="utf-8")
        if not self.control:
            self.stop()
            raise RuntimeError(f"the emulator did not start; see {log}")
        self.seed_seconds = time.perf_counter() - started

    def call(self, mutation: str, *args: Any, **kwargs: Any) -> None:
        self._post(f"/call/{mutation}", {"args": list(args), "kwargs": kwargs})

    def reset(self) -> None:
        self._post("/reset", {})

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.control}/stats", timeout=120) as answer:
            return dict(json.load(answer))

    def _post(self, path: str, payload: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.control}{path}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            assert answer.status == 200, answer.read()

    def lift_budgets(self) -> None:
        """Every budget this benchmark spends becomes effectively unlimited."""
        for resource, token in (
            ("graphql", GITHUB_TOKEN),
            ("core", GITHUB_TOKEN),
            ("core", ""),
            ("hf", HF_TOKEN),
            ("hf", ""),
        ):
            self.call("set_budget", resource, remaining=UNLIMITED, token=token, limit=UNLIMITED)

    def peak_rss_mb(self) -> float | None:
        """The emulator's own peak RSS so far (VmHWM), while it runs."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        found = re.search(r"VmHWM:\s*(\d+) kB", status)
        return round(int(found[1]) / 1024, 1) if found else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


# --- one measured command -----------------------------------------------------------------------


@dataclass
class Child:
    exit_code: int
    wall: float
    rss_mb: float
    output: str


def run_child(argv: Sequence[str], env: dict[str, str], scratch: Path, cwd: Path = ROOT) -> Child:
    """Run a command to its end; its own peak RSS comes from wait4, not mixed with others."""
    out = scratch / "child.out"
    with out.open("w", encoding="utf-8") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Child(process.returncode, wall, usage.ru_maxrss / 1024, out.read_text("utf-8"))


# --- the store ----------------------------------------------------------------------------------


class Store(Protocol):
    """Where `monitor check` keeps its state: its URL, its size, its last run's figures."""

    url: str

    def size(self) -> int: ...

    def last_run_figures(self) -> dict[str, Any]: ...


class SqliteStore:
    """A SQLite file; its size with the write-ahead log folded in."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    def size(self) -> int:
        with sqlite3.connect(self.path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.path.stat().st_size

    def last_run_figures(self) -> dict[str, Any]:
        with sqlite3.connect(self.path) as db:
            row = db.execute("SELECT figures FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return dict(json.loads(row[0])) if row else {}


class PostgresStore:
    """A PostgreSQL database; its size is `pg_database_size`, tables, indexes and TOAST."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)

    def _one(self, query: str) -> Any:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as db:
            row = db.execute(query).fetchone()
        return row[0] if row else None

    def size(self) -> int:
        return int(self._one("SELECT pg_database_size(current_database())"))

    def last_run_figures(self) -> dict[str, Any]:
        found = self._one("SELECT figures FROM runs ORDER BY id DESC LIMIT 1")
        return dict(json.loads(found)) if found else {}


# --- monitor against the emulator ---------------------------------------------------------------


class Poller:
    """Runs `monitor check` (and other commands) against one emulator and one store."""

    def __init__(
        self,
        emulator: EmulatorProcess,
        catalog: Path,
        work: Path,
        *,
        tokens: bool,
        store: Store | None = None,
    ) -> None:
        self.emulator = emulator
        self.work = work
        self.store: Store = store or SqliteStore(work / "monitor.db")
        self.env = clean_environment() | emulator.environment
        self.env |= {
            "MONITOR_CATALOG": str(catalog),
            "MONITOR_DATABASE_URL": self.store.url,
            "MONITOR_REPORTS_DIR": str(work / "reports"),
        }
        if tokens:
            self.env |= {"GITHUB_TOKEN": GITHUB_TOKEN, "HF_TOKEN": HF_TOKEN}

    def check(self, at: datetime) -> dict[str, Any]:
        """One `monitor check --now AT`: time, memory, requests, points, store and reports."""
        self.emulator.reset()
        child = run_child(
            [sys.executable, "-m", "monitor", "check", "--now", at.isoformat()],
            self.env,
            self.work,
        )
        if child.exit_code not in (0, 1):
            raise RuntimeError(f"monitor check exited {child.exit_code}:\n{child.output[-3000:]}")
        stats = self.emulator.stats()
        figures = self.store.last_run_figures()
        github = figures.get("services", {}).get("github", {})
        reports = sorted((self.work / "reports").glob("*.*"))
        return {
            "wall_s": round(child.wall, 3),
            "run_s": figures.get("duration_seconds"),
            "rss_mb": round(child.rss_mb, 1),
            "checked": figures.get("sources_checked", 0),
            "deferred": figures.get("deferred", 0),
            "requests": {k: v for k, v in stats["requests"].items() if k != "control"},
            "points": {k: v for k, v in stats["points"].items() if k != "control"},
            "github_not_modified": github.get("not_modified", 0),
            "store_bytes": self.store.size(),
            "report_bytes": sum(p.stat().st_size for p in reports),
        }

    def command(self, *args: str) -> dict[str, Any]:
        """`monitor ARGS…` as a whole process, with this poller's settings: time and memory."""
        child = run_child([sys.executable, "-m", "monitor", *args], self.env, self.work)
        if child.exit_code != 0:
            raise RuntimeError(
                f"monitor {' '.join(args)} exited {child.exit_code}:\n{child.output[-3000:]}"
            )
        return {"wall_s": round(child.wall, 3), "rss_mb": round(child.rss_mb, 1)}

    def other_commands(self, at: datetime) -> dict[str, dict[str, Any]]:
        """The commands besides `check` a user runs on a full store: catalog check, status, digest.

        The digest is that of the ISO week of AT (the week the polls ran in), so it has
        every source's observations to summarise.
        """
        year, week, _ = at.isocalendar()
        digest = ("digest", "--week", f"{year}-W{week:02d}", "--now", at.isoformat())
        return {
            "catalog check": self.command("catalog", "check"),
            "status": self.command("status"),
            "digest": self.command(*digest),
        }
