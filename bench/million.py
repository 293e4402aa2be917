"""One full poll of 1,000,000 mixed sources on PostgreSQL at 50 ms latency (`bench/run --million`).

    python bench/million.py [--size 1000000] [--latency-ms 50] [--poll-only]
                            [--out bench/results/million.json]

The catalog is bench/catalogs.py's mix at --size (GitHub repos 60 %, Hugging
Face models and datasets 20 %, arXiv 5 %, web pages 15 % over 50 hosts). It
seeds `monitor emulator serve` in a process of its own, every answer
--latency-ms late, with every budget lifted (as in bench/scale.py, so that the
poll checks every source). A throwaway PostgreSQL cluster (bench/pgserver.py:
initdb in a temporary directory, a free loopback port, default settings) holds
the store, a database of its own.

Then, each command a whole process with its peak RSS from wait4:

1. `monitor check` with tokens: the full poll. Its wall time, the sources it
   checked and deferred, requests and rate-limit points per service (counted
   by the emulator), the store's size (`pg_database_size`) and the day
   reports' size.
2. Unless --poll-only: `monitor check` again at the same --now (nothing due),
   `monitor catalog check`, `monitor status` and `monitor digest` (of the week
   the poll ran in), for "peak RSS of any command".

The emulator's own seeding time and peak RSS are recorded too. Prints the
targets it measures as PASS/FAIL lines (bench/targets.py; they count only at
1,000,000 sources and 50 ms) and writes everything, with the commit measured,
to --out. Try it small first: `--size 20000` takes a few minutes; 1,000,000
takes most of an hour (arXiv's 3 s between requests alone is 25 minutes of it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from catalogs import generate, mix, write_catalog
from common import commit, machine
from harness import ROOT, START, EmulatorProcess, Poller, PostgresStore, say
from pgserver import throwaway_cluster
from targets import judge

#: arXiv papers per request and seconds between requests (monitor's batching, arXiv's terms)
ARXIV_BATCH = 100
ARXIV_INTERVAL_S = 3.0
#: [probes] service_deadline_seconds for the full poll: the target's 45 minutes
SERVICE_DEADLINE_S = 2700


def measure(size: int, latency_ms: float, poll_only: bool, work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    specs = generate(size)
    catalog = work / f"sources-{size}.toml"
    write_catalog(specs, catalog)
    del specs
    generated = time.perf_counter() - started
    say(f"[{size:,}] catalog written in {generated:.0f} s ({catalog.stat().st_size:,} bytes)")
    with throwaway_cluster() as cluster:
        store = PostgresStore(cluster.create_database("monitor"))
        server = cluster.facts()
        say(f"[{size:,}] PostgreSQL {server['server_version']} on port {cluster.port}")
        emulator = EmulatorProcess(catalog, latency_ms, work / "emulator.log")
        try:
            emulator.lift_budgets()
            say(
                f"[{size:,}] emulator seeded in {emulator.seed_seconds:.0f} s, "
                f"{emulator.peak_rss_mb()} MB; the full poll starts at "
                f"{datetime.now(UTC):%H:%M:%S} UTC (arXiv's pace alone needs "
                f"{arxiv_floor(size):,.0f} s of it)"
            )
            (work / "run").mkdir()
            poller = Poller(emulator, catalog, work / "run", tokens=True, store=store)
            # A full poll is the target: each service may take the target's 45 minutes, where
            # the default (600 s) would let it go and defer the rest to the next run.
            poller.env["MONITOR_PROBES_SERVICE_DEADLINE_SECONDS"] = str(SERVICE_DEADLINE_S)
            poll = poller.check(START)
            say(
                f"[{size:,}] full poll: {poll['wall_s']:.0f} s, {poll['rss_mb']:.0f} MB, "
                f"{poll['checked']:,} checked, {poll['deferred']:,} deferred, "
                f"requests {poll['requests']}, store {poll['store_bytes']:,} bytes"
            )
            commands = {"check (full poll)": _command("check", poll)}
            if not poll_only:
                idle = poller.check(START)
                commands["check (nothing due)"] = _command("check", idle)
                later = START + timedelta(hours=1)
                for name, figure in poller.other_commands(later).items():
                    commands[name] = {"command": name} | figure
                for name, figure in list(commands.items())[1:]:
                    say(f"[{size:,}] {name}: {figure['wall_s']:.1f} s, {figure['rss_mb']:.0f} MB")
            emulator_rss = emulator.peak_rss_mb()
        finally:
            emulator.stop()
    return {
        "size": size,
        "mix": mix(size),
        "catalog_bytes": catalog.stat().st_size,
        "catalog_generation_s": round(generated, 1),
        "postgresql": server,
        "emulator_seed_s": round(emulator.seed_seconds, 1),
        "emulator_peak_rss_mb": emulator_rss,
        "poll": poll,
        "commands": commands,
    }


def _command(name: str, figure: dict[str, Any]) -> dict[str, Any]:
    return {"command": name, "wall_s": figure["wall_s"], "rss_mb": figure["rss_mb"]}


def arxiv_floor(size: int) -> float:
    """The seconds arXiv's pace alone takes: one batch every 3 s."""
    batches = -(-mix(size)["arxiv"] // ARXIV_BATCH)
    return max(0, batches - 1) * ARXIV_INTERVAL_S


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--poll-only",
        action="store_true",
        help="only the full poll (not the nothing-due check, catalog check, status, digest)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/million.json")
    parser.add_argument(
        "--work", type=Path, default=None, help="keep the catalog, reports and logs here"
    )
    args = parser.parse_args()
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    info = machine()
    say(
        f"machine: {info['cores']} cores, {info['cpu']}, {info['ram_gb']} GB, Python "
        f"{info['python']}; {args.size:,} sources, latency {args.latency_ms:g} ms"
    )
    work = args.work or Path(tempfile.mkdtemp(prefix="monitor-million-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = measure(args.size, args.latency_ms, args.poll_only, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    document = {
        "benchmark": "bench/million.py: one full poll of a large catalog on PostgreSQL",
        "started_at": started_at.isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": info,
        "settings": {
            "latency_ms": args.latency_ms,
            "arxiv_interval_s": ARXIV_INTERVAL_S,
            "budgets": "lifted in the emulator, so that the poll checks every source",
            "poll_only": args.poll_only,
            "service_deadline_s": SERVICE_DEADLINE_S,
        },
        **result,
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    print()
    for found in judge(million=document):
        if "1,000,000" in found.name:
            print(found.line())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
