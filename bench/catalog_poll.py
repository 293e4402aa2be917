"""What a poll of the committed catalog costs, against the emulator seeded from it.

    python bench/catalog_poll.py [--catalog sources.toml] [--latency-ms 50]

Runs `monitor check` (in-process, real clients, real HTTP) with tokens, then an
unchanged re-poll; then without tokens, hour after simulated hour (the emulator's
anonymous budget refilled each hour, as GitHub's would be) until every repository
was checked once, then an unchanged re-poll. Prints requests per service, GitHub
rate-limit points, deferred sources and wall time for each.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from monitor.catalog.file import load_catalog
from monitor.cli import main
from monitor.emulator import Emulator, World
from monitor.emulator.scenario import seed_world

START = datetime(2026, 11, 21, 6, tzinfo=UTC)


def run(world: World, at: datetime, tokens: bool) -> dict[str, float]:
    for name, value in (("GITHUB_TOKEN", "ghp_bench"), ("HF_TOKEN", "hf_bench")):
        if tokens:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    world.reset_log()
    used_before = world.budget("core", "ghp_bench" if tokens else "").used
    graphql_before = world.budget("graphql", "ghp_bench").used
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["check", "--now", at.isoformat()])
    wall = time.perf_counter() - started
    assert result.exit_code in (0, 1), result.output
    github = world.requests("github")
    return {
        "github requests": len(github),
        "github 304": sum(1 for r in github if r.status == 304),
        "github points": (world.budget("graphql", "ghp_bench").used - graphql_before)
        if tokens
        else world.budget("core", "").used - used_before,
        "hf requests": world.counts["hf"],
        "deferred": float(result.output.split("; ")[1].split()[0]),
        "wall s": round(wall, 2),
    }


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, default=Path("sources.toml"))
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    catalog = load_catalog(args.catalog)
    kinds: dict[str, int] = {}
    for entry in catalog.entries:
        kinds[entry.kind.value] = kinds.get(entry.kind.value, 0) + 1
    print(f"catalog: {len(catalog.entries)} entries {kinds}; latency {args.latency_ms} ms")
    for tokens in (True, False):
        seeded = seed_world(catalog.entries, START - timedelta(days=1))
        world = seeded.world
        world.set_latency(args.latency_ms / 1000)
        with tempfile.TemporaryDirectory() as tmp, Emulator(world) as emulator:
            os.environ.update(emulator.environment())
            os.environ.update(
                {
                    "MONITOR_CATALOG": str(args.catalog.resolve()),
                    "MONITOR_DATABASE_URL": f"sqlite:///{tmp}/monitor.db",
                    "MONITOR_REPORTS_DIR": f"{tmp}/reports",
                }
            )
            label = "with tokens" if tokens else "without tokens"
            at, runs, total = START, 0, None
            while True:
                world.set_budget("core", remaining=60) if not tokens else None
                figures = run(world, at, tokens)
                runs += 1
                total = figures if total is None else {k: total[k] + v for k, v in figures.items()}
                at += timedelta(hours=1)
                if figures["deferred"] == 0 or runs > 20:
                    break
            total["deferred"] = figures["deferred"]
            print(f"full poll {label}: {runs} run(s): {total}")
            world.set_budget("core", remaining=60) if not tokens else None
            print(f"unchanged re-poll {label}: {run(world, at + timedelta(hours=1), tokens)}")


if __name__ == "__main__":
    main_()
