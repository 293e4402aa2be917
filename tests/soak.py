"""A month of a list's life under a hostile internet, on simulated time.

    result = soak(tmp_path, scale=1, days=30, chaos=0.2)
    assert result.false_alarms == [] and result.missed == [] and result.duplicates == []

A catalog of every kind is seeded into the emulator; `monitor check` runs every
6 hours of simulated time (in-process, through the real CLI, clients and
emulator) while the emulator replaces a share of all answers with the faults
the real services send (stalls, drips, resets, 5xx, 429s, secondary limits,
path-less GraphQL errors, captive portals, truncated bodies, redirects away).
Real changes happen on known days (renames, a transfer, deletions, licence
changes, an archive, a takedown, pages that die, one that comes back, a host
that goes dark), GitHub has a 12-hour outage, and the machine is offline for
3 days. Every alert goes to a webhook on loopback.

The verdict compares what monitor said with what really happened: alerts for
nothing that changed (false alarms), real changes never alerted (missed), and
alerts that reached the webhook more than once (duplicates). Used by
`tests/test_soak.py` (small and fast) and `bench/soak.py` (the figures).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from monitor.catalog.file import load_catalog
from monitor.cli import main
from monitor.emulator import AlertReceiver, Emulator, World
from monitor.emulator.chaos import APPLICABLE, Fault
from monitor.emulator.scenario import seed_world
from monitor.store import Store

START = datetime(2026, 9, 1, 0, 30, tzinfo=UTC)
RUN_EVERY = timedelta(hours=6)


@dataclass(frozen=True)
class Change:
    """Something that really happens to the list, and the alerts it must raise."""

    day: float
    what: str
    apply: Callable[[World], None]
    #: (event, catalog URL) of every alert it must raise, in the end
    alerts: tuple[tuple[str, str], ...] = ()


@dataclass
class SoakResult:
    runs: int = 0
    exit_codes: Counter[int] = field(default_factory=Counter)
    faults: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    alerts: list[tuple[str, str]] = field(default_factory=list)
    expected: list[tuple[str, str]] = field(default_factory=list)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)
    missed: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    #: every source's state at the end of the month
    health: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0
    slowest_run_seconds: float = 0.0
    sources: int = 0

    def figures(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "runs": self.runs,
            "exit_codes": dict(self.exit_codes),
            "faults_injected": self.faults,
            "requests": self.requests,
            "real_changes_alerted": len(self.expected),
            "false_alarms": len(self.false_alarms),
            "missed": len(self.missed),
            "duplicate_alerts": len(self.duplicates),
            "wall_seconds": round(self.wall_seconds, 1),
            "slowest_run_seconds": round(self.slowest_run_seconds, 2),
        }


def catalog(scale: int) -> list[str]:
    """The URLs of a list of every kind, `scale` times over (about 48 per unit)."""
    urls: list[str] = []
    for unit in range(scale):
        u = f"u{unit}"
        urls += [f"https://github.com/soak-{u}-org{i % 3}/repo{i}" for i in range(10)]
        urls += [f"https://github.com/soak-{u}-org0/repo0/blob/main/docs/p{i}.md" for i in (0, 1)]
        urls += [f"https://github.com/soak-{u}-org1/repo1/issues/{i + 1}" for i in range(2)]
        urls += [f"https://github.com/soak-{u}-owner{i}" for i in range(2)]
        urls += [f"https://huggingface.co/soak-{u}-lab/model{i}" for i in range(6)]
        urls += [f"https://huggingface.co/datasets/soak-{u}-data/set{i}" for i in range(2)]
        urls += [f"https://huggingface.co/spaces/soak-{u}-demo/space{i}" for i in range(2)]
        urls += [f"https://huggingface.co/soak-{u}-people{i}" for i in range(1)]
        urls += [f"https://arxiv.org/abs/2301.{10000 + unit * 10 + i}" for i in range(5)]
        urls += [f"https://blog{i % 4}.soak-{u}.example/post{i}" for i in range(12)]
    # Pages behind bot walls that never lift: unverifiable, never alerted.
    urls += list(WALLED)
    return urls


def changes(scale: int) -> list[Change]:
    """The real changes of the month (to the first unit of the catalog)."""
    gh = "https://github.com/soak-u0"
    hf = "https://huggingface.co/soak-u0"
    post = "https://blog{0}.soak-u0.example/post{0}".format
    docs = f"{gh}-org0/repo0/blob/main/docs/p1.md"
    return [
        # A repository's paths and issues move with it: each is renamed too.
        Change(2, "repo0 renamed", lambda w: w.rename("soak-u0-org0/repo0", "repo0-renamed"),
               (("renamed", f"{gh}-org0/repo0"), ("renamed", docs.replace("p1", "p0")),
                ("renamed", docs))),
        Change(3, "a paper gets v2", lambda w: w.add_version("2301.10000", w.in_days(0))),
        Change(4, "repo1 transferred", lambda w: w.rename("soak-u0-org1/repo1", "elsewhere/repo1"),
               (("renamed", f"{gh}-org1/repo1"), ("renamed", f"{gh}-org1/repo1/issues/1"),
                ("renamed", f"{gh}-org1/repo1/issues/2"))),
        Change(5, "a model deleted", lambda w: w.hf_delete("soak-u0-lab/model0"),
               (("deleted", f"{hf}-lab/model0"),)),
        Change(6, "repo2 deleted", lambda w: w.delete("soak-u0-org2/repo2"),
               (("deleted", f"{gh}-org2/repo2"),)),
        Change(7, "a post dies", lambda w: w.set_page(post(1), 404), (("dead", post(1)),)),
        Change(8, "repo3 relicensed", lambda w: w.set_license("soak-u0-org0/repo3", "AGPL-3.0"),
               (("license_changed", f"{gh}-org0/repo3"),)),
        Change(9, "a model renamed", lambda w: w.hf_rename("soak-u0-lab/model1", "soak-u0-lab/m1"),
               (("renamed", f"{hf}-lab/model1"),)),
        Change(10, "repo4 archived", lambda w: w.archive("soak-u0-org1/repo4"),
               (("archived", f"{gh}-org1/repo4"),)),
        Change(11, "a docs page removed",
               lambda w: w.remove_path("soak-u0-org0/repo0-renamed", "docs/p1.md"),
               (("dead", docs),)),
        Change(12, "a model relicensed", lambda w: w.hf_set_license("soak-u0-lab/model2", "bsd"),
               (("license_changed", f"{hf}-lab/model2"),)),
        Change(13, "a host goes dark", lambda w: w.set_page(post(3), "slow", slow_seconds=30),
               (("unreachable", post(3)),)),
        Change(14, "a post dies for a while", lambda w: w.set_page(post(2), 410),
               (("dead", post(2)), ("recovered", post(2)))),
        Change(15, "an account deleted", lambda w: w.delete_owner("soak-u0-owner0"),
               (("deleted", f"{gh}-owner0"),)),
        Change(16, "repo5 taken down", lambda w: w.block("soak-u0-org2/repo5", "dmca"),
               (("blocked", f"{gh}-org2/repo5"),)),
        Change(25, "the post is back", lambda w: w.set_page(post(2), "ok")),
    ]  # fmt: skip


#: Pages behind bot walls that never lift.
WALLED = ("https://www.linkedin.com/in/soak-person", "https://walled.soak.example/")

#: The machine is offline for these days (every listener down), GitHub for these hours.
OFFLINE = (18.0, 21.0)
GITHUB_OUTAGE = (24.0, 24.5)


def soak(
    tmp: Path,
    *,
    scale: int = 1,
    days: int = 30,
    chaos: float = 0.2,
    seed: int = 2026,
    timeout: float = 0.4,
    say: Callable[[str], None] = lambda _: None,
) -> SoakResult:
    """Run the month; see the module docstring."""
    started = time.monotonic()
    urls = catalog(scale)
    path = tmp / "sources.toml"
    path.write_text("".join(f'[[source]]\nurl = "{url}"\n\n' for url in urls))
    world = World()
    seed_world(load_catalog(path).entries, START, world)
    world.set_page(WALLED[0], 999)
    world.set_page(WALLED[1], "cf-challenge")
    world.github_limits["graphql"] = (50_000, 0)
    pending = sorted(changes(scale), key=lambda c: c.day)
    result = SoakResult(sources=len(urls))
    result.expected = sorted({alert for change in pending for alert in change.alerts})
    env = {
        "MONITOR_CATALOG": str(path),
        "MONITOR_DATABASE_URL": f"sqlite:///{tmp / 'monitor.db'}",
        "MONITOR_REPORTS_DIR": str(tmp / "reports"),
        "GITHUB_TOKEN": "ghp_soak_token_0123456789",
        "HF_TOKEN": "hf_soak_token_0123456789",
        "MONITOR_PROBES_ARXIV_INTERVAL_SECONDS": "0",
        "MONITOR_PROBES_API_TIMEOUT_SECONDS": str(timeout),
        "MONITOR_PROBES_WEB_TIMEOUT_SECONDS": str(timeout),
        "MONITOR_PROBES_API_RETRY_BACKOFF_MS": "0",
        "MONITOR_PROBES_WEB_RETRY_BACKOFF_MS": "0",
        "MONITOR_PROBES_MAX_WAIT_SECONDS": "0",
        "MONITOR_PROBES_SERVICE_DEADLINE_SECONDS": "30",
        "MONITOR_POLICY_RECHECK_AFTER_MINUTES": "0",
    }
    runner = CliRunner()
    with Emulator(world) as emulator, AlertReceiver() as receiver:
        env |= emulator.environment() | {"MONITOR_ALERT_URLS": receiver.url}
        # A web page's 200 from a captive portal cannot be told from the page itself, so
        # the random faults spare web pages that one: a page that died would come back.
        world.chaos.set_rate(
            chaos,
            seed=seed,
            spare=[("web", Fault.PORTAL)],
            stall_seconds=timeout * 2,
            drip_interval=timeout / 2,
            retry_after=0,
        )
        # Besides the random draws, each fault each service can show is injected once, on
        # the first runs in turn, so that every kind is seen whatever the seed draws.
        once = [
            (row, fault)
            for row, faults in APPLICABLE.items()
            if row not in ("control", "wayback")  # checks never ask the Wayback Machine
            for fault in faults
            if (row, fault) != ("web", Fault.PORTAL)
        ]
        offline = down = False
        moment = START
        while moment < START + timedelta(days=days):
            day = (moment - START) / timedelta(days=1)
            while pending and pending[0].day <= day:
                change = pending.pop(0)
                change.apply(world)
                say(f"day {day:5.2f}: {change.what}")
            should_be_offline = OFFLINE[0] <= day < OFFLINE[1]
            if should_be_offline != offline:
                (emulator.stop_services if should_be_offline else emulator.start_services)()
                offline = should_be_offline
                say(f"day {day:5.2f}: the machine is {'offline' if offline else 'online'}")
            github_down = GITHUB_OUTAGE[0] <= day < GITHUB_OUTAGE[1]
            if github_down != down and not offline:
                (emulator.stop_services if github_down else emulator.start_services)("github")
                down = github_down
                say(f"day {day:5.2f}: GitHub is {'down' if down else 'back'}")
            if once and not offline:
                row, fault = once.pop(0)
                where = {"path": "^/graphql"} if row == "github-graphql" else {}
                world.inject_fault(row.removesuffix("-graphql"), fault, times=1, **where)
            begun = time.monotonic()
            done = runner.invoke(main, ["check", "--now", moment.isoformat()], env=env)
            result.slowest_run_seconds = max(result.slowest_run_seconds, time.monotonic() - begun)
            result.exit_codes[done.exit_code] += 1
            result.runs += 1
            if done.exit_code not in (0, 1):
                raise AssertionError(f"{moment.isoformat()}: exit {done.exit_code}\n{done.output}")
            moment += RUN_EVERY
        result.faults = {f"{s}/{f}": n for (s, f), n in sorted(world.chaos.injected.items())}
        result.requests = dict(world.counts)
        sent = Counter(_alert_lines(receiver.messages))
    store = Store.connect(env["MONITOR_DATABASE_URL"])
    try:
        result.health = {s.url: s.state.health.value for s in store.sources()}
    finally:
        store.close()
    result.alerts = sorted(sent)
    result.duplicates = sorted(a for a, n in sent.items() if n > 1)
    result.false_alarms = sorted(set(sent) - set(result.expected))
    result.missed = sorted(set(result.expected) - set(sent))
    result.wall_seconds = time.monotonic() - started
    return result


def _alert_lines(messages: list[Any]) -> list[tuple[str, str]]:
    """(event, URL) of every alert line of every message the webhook accepted."""
    words = {
        "licence changed": "license_changed",
        "renamed": "renamed",
        "archived": "archived",
        "deleted": "deleted",
        "blocked": "blocked",
        "dead": "dead",
        "unreachable": "unreachable",
        "recovered": "recovered",
    }
    found = []
    for message in messages:
        for line in message.body.splitlines():
            word, _, rest = line.partition(": ")
            if word in words:
                url = next(t for t in rest.split() if t.startswith("http"))
                found.append((words[word], url))
    return found
