"""Each hostile behaviour of each service, alone, through the real clients and `monitor check`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.catalog.file import load_catalog
from monitor.emulator import Emulator, World
from monitor.emulator.chaos import APPLICABLE, Fault
from monitor.emulator.scenario import seed_world
from tests.conftest import ROOT
from tests.harness import Monitor

HOSTS = {"github.com": "github", "huggingface.co": "hf", "arxiv.org": "arxiv"}
CATALOG_URLS = (
    "https://github.com/trust-org/alpha",
    "https://github.com/trust-org/beta",
    "https://github.com/trust-org/alpha/blob/main/README.md",
    "https://github.com/trust-owner",
    "https://huggingface.co/trust-lab/model-a",
    "https://huggingface.co/trust-lab/model-b",
    "https://huggingface.co/datasets/trust-lab/data",
    "https://huggingface.co/trust-people",
    "https://arxiv.org/abs/2301.00001",
    "https://arxiv.org/abs/2301.00002",
    "https://blog.trust.example/post",
    "https://docs.trust.example/guide",
)
CATALOG = "".join(f'[[source]]\nurl = "{url}"\n\n' for url in CATALOG_URLS)
FAST = {
    "MONITOR_PROBES_API_TIMEOUT_SECONDS": "0.3",
    "MONITOR_PROBES_WEB_TIMEOUT_SECONDS": "0.3",
    "MONITOR_PROBES_API_RETRY_BACKOFF_MS": "0",
    "MONITOR_PROBES_WEB_RETRY_BACKOFF_MS": "0",
    "MONITOR_PROBES_MAX_WAIT_SECONDS": "0",
    "MONITOR_PROBES_SERVICE_DEADLINE_SECONDS": "10",
}
CASES = [
    (row, fault)
    for row, faults in APPLICABLE.items()
    if row not in ("control", "wayback")  # `monitor check` never asks the Wayback Machine
    for fault in faults
    # A web page's 200 from a captive portal is the one answer monitor cannot tell from
    # the page itself (see README, "When the internet misbehaves").
    if (row, fault) != ("web", Fault.PORTAL)
]


def served_by(service: str) -> list[str]:
    """The catalog's URLs that `service` answers for."""
    return [u for u in CATALOG_URLS if HOSTS.get(u.split("/")[2], "web") == service]


def seeded(world: World, tmp_path: Path) -> None:
    path = tmp_path / "seed.toml"
    path.write_text(CATALOG)
    seed_world(load_catalog(path).entries, World().now(), world)


@pytest.mark.parametrize(("row", "fault"), CASES, ids=[f"{r}-{f.value}" for r, f in CASES])
def test_each_hostile_answer_costs_nothing(
    row: str,
    fault: Fault,
    tmp_path: Path,
    world: World,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two days of one fault on every answer of one service: no verdict, no alert, others kept."""
    seeded(world, tmp_path)
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    monitor = Monitor(tmp_path, emulator, monkeypatch, CATALOG)
    service = row.removesuffix("-graphql")
    world.inject_fault(service, fault, **({"retry_after": 3600} if fault.value == "429" else {}))
    token = row != "github"  # REST without a token, GraphQL with one
    for day in ("2026-11-01T06:00:00Z", "2026-11-02T07:00:00Z"):
        started = time.monotonic()
        code, report = monitor.check(day, token=token)
        assert time.monotonic() - started < 10
        assert code == 0, report["events"]
        assert [e for e in report["events"] if e["event"] not in ("added",)] == []
    service_urls = served_by(service)
    others = set(CATALOG_URLS) - set(service_urls)
    health = monitor.health("2026-11-02")
    assert all(health.get(url, "unknown") in ("ok", "unknown") for url in service_urls), health
    assert {url for url in others if health.get(url) == "ok"} == others
    assert world.chaos.injected[(service, fault.value)] > 0


@pytest.mark.parametrize("service", ["github", "hf", "arxiv", "web"])
def test_a_black_holed_service_ends_at_its_deadline(
    service: str, tmp_path: Path, world: World, emulator: Emulator
) -> None:
    """One service accepting connections and never answering: the run ends at its deadline, 0."""
    seeded(world, tmp_path)
    catalog = tmp_path / "sources.toml"
    catalog.write_text(CATALOG)
    env = {
        **os.environ,
        **emulator.environment(),
        "MONITOR_CATALOG": str(catalog),
        "MONITOR_DATABASE_URL": f"sqlite:///{tmp_path / 'monitor.db'}",
        "MONITOR_REPORTS_DIR": str(tmp_path / "reports"),
        "GITHUB_TOKEN": "ghp_trust_token_0123456789",
        "MONITOR_PROBES_ARXIV_INTERVAL_SECONDS": "0",
        # Every other setting at its production default: 20 s per API call, 15 s per page.
        "MONITOR_PROBES_SERVICE_DEADLINE_SECONDS": "4",
    }
    world.inject_fault(service, Fault.STALL)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "check", "--now", "2026-11-01T06:00:00Z"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert elapsed < 4 + 30, elapsed
    assert f"{service}: " in done.stderr and "service deadline" in done.stderr
    others = set(CATALOG_URLS) - set(served_by(service))
    report = (tmp_path / "reports" / "2026-11-01.json").read_text()
    assert all(f'"url": "{url}"' in report for url in others)
