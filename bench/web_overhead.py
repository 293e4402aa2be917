"""monitor's own overhead on bench/peers.py's web corpus: versions of the code side by side.

    python bench/web_overhead.py [--code NAME=DIR ...] [--repeat 3] [--mode check|probe]
                                 [--profile DIR] [--out FILE]

The same world as `bench/peers.py` (`bench/web_world.py` in a process of its
own: 2,000 URLs on 20 hosts, 50 ms per answer, slow pages of 2 to 3 s,
redirects, 404 and 410; same seed), checked by one or more versions of
monitor's code. Each `--code NAME=DIR` is a directory holding a `monitor`
package (put first on PYTHONPATH; default: this checkout, as `now`), so a copy
of an older commit (`git archive HEAD monitor | tar -x -C /tmp/before`) can run
interleaved with the working tree: one round of every version, then the next,
so that a noisy minute of the shared machine hits them alike.

Modes:

- `check` (default): `python -m monitor check` exactly as bench/peers.py runs it
  (fresh store and reports per run). Figures: wall time of the process, its CPU
  seconds, the report's `duration_seconds` (the run without interpreter
  start-up) and the web service's `seconds` from the store's run figures (the
  web probe's thread, from the drive's start to its last answer).
- `probe`: the web probe alone (`WebProbe(...).observe`, the settings'
  defaults, every URL new), in a child process; figures: its wall time and CPU
  seconds, without start-up, store or reports.

Both read the emulator's summary for each run: requests served, the most
requests one host had in flight at once (the limit is 4), and the truth:
false dead (known alive, reported broken) and missed dead (known dead, not
reported). In `probe` mode "reported broken" is a definitive failure
(`not_found`). CPU per request is the process's CPU seconds over the requests
the emulator served (start-up included in `check` mode).

Also printed: the corpus's floor at 4 requests per host and 10 ms between
requests to a host, scheduled in the order the catalog lists the pages (what
a scheduler that cannot know which pages are slow gets) and longest first
(what one that could would get).

`--profile DIR` runs each version once more under py-spy (`py-spy record
--format raw -r 250`: all threads, idle samples left out, as py-spy does by
default) and writes `DIR/NAME.txt` (folded stacks); the top frames by own
time are printed. The world and the truth are bench/peers.py's (imported
from it).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import clean_environment
from peers import BROKEN_HEALTH, WorldProcess, judge

ROOT = Path(__file__).resolve().parent.parent
PER_HOST = 4
MIN_INTERVAL = 0.01


def floor(links: list[dict[str, Any]], latency: float) -> dict[str, float]:
    """The corpus's best time at `PER_HOST` at once per host, `MIN_INTERVAL` apart."""

    def makespan(jobs: list[float]) -> float:
        free = [0.0] * PER_HOST
        spaced = end = 0.0
        for length in jobs:
            start = max(heapq.heappop(free), spaced)
            spaced = start + MIN_INTERVAL
            heapq.heappush(free, start + length)
            end = max(end, start + length)
        return end

    hosts: dict[str, list[float]] = defaultdict(list)
    for link in links:
        kind, *rest = link["behaviour"].split()
        length = latency
        if kind == "slow":
            length += float(rest[0])
        elif kind == "redirect":
            length += latency  # the second hop, on the same host
        hosts[link["url"].split("/")[2]].append(length)
    return {
        "catalog_order": round(max(makespan(jobs) for jobs in hosts.values()), 2),
        "longest_first": round(
            max(makespan(sorted(jobs, reverse=True)) for jobs in hosts.values()), 2
        ),
    }


def run_check(
    name: str, code: Path, world: WorldProcess, work: Path, run: Path, profile: Path | None
) -> dict[str, Any]:
    run.mkdir(parents=True)
    env = clean_environment() | {
        "MONITOR_CATALOG": str(work / "catalog.toml"),
        "MONITOR_DATABASE_URL": f"sqlite:///{run / 'monitor.db'}",
        "MONITOR_REPORTS_DIR": str(run / "reports"),
        "PYTHONPATH": str(code),
    }
    argv = [sys.executable, "-m", "monitor", "check"]
    result = measure(argv, env, work, run, world, profile and profile / f"{name}.txt")
    health: dict[str, str] = {}
    for report in day_reports(run):
        figures = (report.get("runs") or [{}])[-1]
        result["duration_seconds"] = figures.get("duration_seconds")
        health |= {source["url"]: source["health"] for source in report["sources"]}
    with contextlib.closing(sqlite3.connect(run / "monitor.db")) as db:
        for (stored,) in db.execute("SELECT figures FROM runs ORDER BY id DESC LIMIT 1"):
            web = json.loads(stored).get("services", {}).get("web") or {}
            result["web_seconds"] = web.get("seconds")
    broken = sorted(url for url, verdict in health.items() if verdict in BROKEN_HEALTH)
    return result | {"broken": broken, "verdicts": dict(Counter(health.values()))}


def day_reports(run: Path) -> list[dict[str, Any]]:
    """The run's day reports (`reports/<date>.json`; the directory holds other files too)."""
    found = []
    for path in sorted((run / "reports").glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "sources" in data:
            found.append(data)
    return found


def run_probe(
    name: str, code: Path, world: WorldProcess, work: Path, run: Path, profile: Path | None
) -> dict[str, Any]:
    run.mkdir(parents=True)
    env = clean_environment() | {"PYTHONPATH": os.pathsep.join([str(code), str(ROOT / "bench")])}
    argv = [sys.executable, __file__, "--child", str(world.path), "--child-out", str(run)]
    result = measure(argv, env, work, run, world, profile and profile / f"{name}.txt")
    child: dict[str, Any] = json.loads((run / "child.json").read_text())
    return result | child


def measure(
    argv: list[str],
    env: dict[str, str],
    work: Path,
    run: Path,
    world: WorldProcess,
    profile: Path | None,
) -> dict[str, Any]:
    time.sleep(3.5)  # slow answers of the previous run drain before the log is reset
    world.reset()
    before = world.summary()
    if profile is not None:
        argv = ["py-spy", "record", "--format", "raw", "-r", "250", "-o", str(profile), "--", *argv]
    with open(run / "stdout", "wb") as out, open(run / "stderr", "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=work, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    after = world.summary()
    return {
        "wall_seconds": round(wall, 3),
        "exit_status": os.waitstatus_to_exitcode(status),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "requests": after["requests"],
        "max_per_host": after["max_in_flight_per_host"],
        "emulator_cpu_seconds": round(
            after["emulator_cpu_seconds"] - before["emulator_cpu_seconds"], 3
        ),
    }


def child(world_json: Path, out: Path) -> None:
    """The web probe alone over the world's URLs: its wall and CPU seconds, its verdicts."""
    from monitor.model import Kind, Outcome, Source
    from monitor.probes.web import WebProbe

    links = json.loads(world_json.read_text())["links"]
    sources = [Source(link["url"], link["url"], Kind.WEB) for link in links]
    probe = WebProbe()
    cpu, started = time.process_time(), time.perf_counter()
    found = list(probe.observe(sources, datetime.now(UTC)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    broken = [o.key for o in found if o.outcome is Outcome.NOT_FOUND]
    (out / "child.json").write_text(
        json.dumps(
            {
                "probe_seconds": round(seconds, 3),
                "probe_cpu_seconds": round(cpu, 3),
                "broken": broken,
                "verdicts": dict(Counter(o.outcome.value for o in found)),
            }
        )
    )


def top_frames(folded: Path, count: int = 15) -> list[tuple[str, float]]:
    """The frames with the most own time (the innermost frame of each sample), in %."""
    own: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        innermost = stack.rsplit(";", 1)[-1]
        own[innermost] += int(samples)
        total += int(samples)
    return [(frame, round(100 * n / max(total, 1), 1)) for frame, n in own.most_common(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", action="append", default=[], metavar="NAME=DIR")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("check", "probe"), default="check")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.child_out)
        return
    codes = dict(item.split("=", 1) for item in args.code) or {"now": str(ROOT)}
    work = Path(tempfile.mkdtemp(prefix="monitor-overhead-"))
    try:
        compare(args, codes, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(args: argparse.Namespace, codes: dict[str, str], work: Path) -> None:
    runner = run_check if args.mode == "check" else run_probe
    with WorldProcess(work, 2000, 20, 50.0, 7) as world:
        links = world.description["links"]
        truth = {link["url"]: link for link in links}
        (work / "catalog.toml").write_text(
            "".join(f'[[source]]\nurl = "{link["url"]}"\nkind = "web"\n\n' for link in links)
        )
        print(f"floor at {PER_HOST} per host: {floor(links, 0.05)}", flush=True)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in codes}
        for round_ in range(1, args.repeat + 1):
            for name, code in codes.items():
                result = runner(name, Path(code), world, work, work / f"{name}-{round_}", None)
                judge(result, truth)
                result["cpu_ms_per_request"] = round(
                    1000 * result["cpu_seconds"] / max(result["requests"], 1), 2
                )
                runs[name].append(result)
                shown = {
                    k: result.get(k)
                    for k in (
                        "wall_seconds",
                        "duration_seconds",
                        "web_seconds",
                        "probe_seconds",
                        "cpu_seconds",
                        "probe_cpu_seconds",
                        "cpu_ms_per_request",
                        "requests",
                        "max_per_host",
                        "false_dead",
                        "missed_dead",
                        "exit_status",
                    )
                    if result.get(k) is not None
                }
                print(f"[{round_}] {name}: {shown}", flush=True)
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            for name, code in codes.items():
                runner(name, Path(code), world, work, work / f"{name}-profile", args.profile)
                print(f"\n{name}: top frames by own time (% of samples)")
                for frame, share in top_frames(args.profile / f"{name}.txt"):
                    print(f"  {share:5.1f}  {frame}")
    print()
    summary = {}
    for name, results in runs.items():
        keys = [k for k, v in results[0].items() if isinstance(v, int | float)]
        medians = {
            k: round(statistics.median(r[k] for r in results if r.get(k) is not None), 3)
            for k in keys
        }
        medians["false_dead"] = max(r["false_dead"] for r in results)
        medians["missed_dead"] = max(r["missed_dead"] for r in results)
        medians["max_per_host"] = max(r["max_per_host"] for r in results)
        summary[name] = medians
        print(f"{name} (median of {len(results)}; worst for correctness): {medians}")
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
