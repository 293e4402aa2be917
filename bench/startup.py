"""Start-up: `monitor --help` and a one-link `monitor catalog import`, whole process.

    python bench/startup.py [--repeat 5] [--out bench/results/startup.json]

What a user types, timed around the whole process (interpreter start-up,
imports, the work, exit), with the clean environment of the other benchmarks
(no MONITOR_* settings, no tokens):

- `monitor --help`: the console script `pip install` put next to this
  interpreter (bin/monitor). `python -m monitor --help` is timed too, for
  comparison; the target is judged on `monitor --help`.
- `monitor catalog import one.md`: a markdown document with one link, in an
  empty temporary directory of its own each time (a new one per run, so no
  existing sources.toml is merged): it writes sources.toml there, as a user's
  first import does (not --dry-run). Each run must exit 0 and leave a
  sources.toml with the one entry.

Each command runs once untimed first (so the byte-code caches are written and
the files are in the page cache, as on any machine that ran monitor before),
then --repeat times; the figure is the median, with every wall time and the
peak RSS (wait4) in --out. Prints the targets as PASS/FAIL lines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import sysconfig
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import clean_environment, commit, machine
from harness import ROOT, run_child
from targets import judge

DOCUMENT = "# A list\n\n- [llama.cpp](https://github.com/ggerganov/llama.cpp): inference in C/C++\n"


def console_script() -> list[str]:
    """`monitor` as installed next to this interpreter, or `python -m monitor` failing that."""
    script = Path(sysconfig.get_path("scripts")) / "monitor"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "monitor"]


def measure(name: str, argv: list[str], repeat: int, prepare: bool, check: bool) -> dict[str, Any]:
    """Median of REPEAT whole-process runs after one untimed run, each in a new empty dir."""
    walls: list[float] = []
    peaks: list[float] = []
    env = clean_environment()
    for run in range(repeat + 1):
        with tempfile.TemporaryDirectory(prefix="monitor-startup-") as tmp:
            here = Path(tmp)
            scratch = here / ".scratch"
            scratch.mkdir()
            if prepare:
                (here / "one.md").write_text(DOCUMENT, encoding="utf-8")
            child = run_child(argv, env, scratch, cwd=here)
            if child.exit_code != 0:
                raise RuntimeError(f"{name} exited {child.exit_code}:\n{child.output[-2000:]}")
            if check:
                written = (here / "sources.toml").read_text(encoding="utf-8")
                if written.count("[[source]]") != 1:
                    raise RuntimeError(f"{name} did not write one entry:\n{written}")
        if run:  # the first run only warms the caches
            walls.append(round(child.wall, 4))
            peaks.append(round(child.rss_mb, 1))
    return {
        "command": " ".join(Path(a).name if a == argv[0] else a for a in argv),
        "median_s": round(statistics.median(walls), 4),
        "walls_s": walls,
        "rss_mb_max": max(peaks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/startup.json")
    args = parser.parse_args()
    started_at = datetime.now(UTC)
    monitor = console_script()
    commands = {
        "help": measure("monitor --help", [*monitor, "--help"], args.repeat, False, False),
        "python_m_help": measure(
            "python -m monitor --help",
            [sys.executable, "-m", "monitor", "--help"],
            args.repeat,
            False,
            False,
        ),
        "import": measure(
            "monitor catalog import one.md",
            [*monitor, "catalog", "import", "one.md"],
            args.repeat,
            True,
            True,
        ),
    }
    for figure in commands.values():
        print(
            f"{figure['command']:<32} median {figure['median_s']:.3f} s  "
            + " ".join(f"{w:.3f}" for w in figure["walls_s"])
            + f"  peak RSS {figure['rss_mb_max']:.0f} MB"
        )
    document = {
        "benchmark": "bench/startup.py: whole-process start-up of two everyday commands",
        "started_at": started_at.isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "repeat": args.repeat,
        "document": DOCUMENT,
        "commands": commands,
    }
    print()
    for found in judge(startup=document):
        if found.name.startswith("`monitor --help`") or "catalog import" in found.name:
            print(found.line())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
