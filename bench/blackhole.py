"""How long `monitor check` takes when one service accepts connections and never answers.

    python bench/blackhole.py [--catalog sources.toml] [--deadline 600]

For each service in turn (GitHub, the Hub, arXiv, the web), the emulator is
seeded from the catalog and that service is black-holed (every request is
accepted, read and never answered); `monitor check` then runs in its own
process with every production default (20 s per API request, 15 s per page,
the service deadline given) and a token, and its wall time, exit status and
what it said about the silent service are printed, with a healthy run first
for comparison. The promise: each run ends within the deadline + 30 s, exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import clean_environment

from monitor.catalog.file import load_catalog
from monitor.emulator import Emulator, World
from monitor.emulator.chaos import Fault
from monitor.emulator.scenario import seed_world

ROOT = Path(__file__).resolve().parent.parent


def one_run(catalog: Path, service: str | None, deadline: int) -> dict[str, object]:
    world = World()
    seed_world(load_catalog(catalog).entries, datetime.now(UTC), world)
    if service is not None:
        world.inject_fault(service, Fault.STALL)
    with tempfile.TemporaryDirectory() as tmp, Emulator(world) as emulator:
        env = {
            **clean_environment(),
            **emulator.environment(),
            "MONITOR_CATALOG": str(catalog),
            "MONITOR_DATABASE_URL": f"sqlite:///{tmp}/monitor.db",
            "MONITOR_REPORTS_DIR": f"{tmp}/reports",
            "GITHUB_TOKEN": "ghp_blackhole_bench_token_0123",
            "MONITOR_PROBES_SERVICE_DEADLINE_SECONDS": str(deadline),
        }
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        said = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
        return {
            "black_holed": service or "none",
            "seconds": round(seconds, 1),
            "exit": done.returncode,
            "within_promise": seconds <= deadline + 30 and done.returncode in (0, 1),
            "summary": done.stdout.splitlines()[0] if done.stdout else "",
            "said": said[:2],
            "requests_to_it": sum(1 for r in world.requests() if r.service == service),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=ROOT / "sources.toml")
    parser.add_argument("--deadline", type=int, default=600, help="service_deadline_seconds")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument(
        "--services",
        default="none,github,hf,arxiv,web",
        help="which to black-hole in turn (none: a healthy run)",
    )
    args = parser.parse_args()
    chosen = [None if s == "none" else s for s in args.services.split(",")]
    rows = [one_run(args.catalog.resolve(), s, args.deadline) for s in chosen]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, os.fspath(ROOT))
    main()
