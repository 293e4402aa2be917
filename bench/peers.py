"""Side by side on web links: monitor, LinkChecker, markdown-link-check and linkinator.

    python bench/peers.py [--links 2000 --hosts 20 --latency-ms 50 --repeat 3
                           --out bench/results/peers.json]

The same web URLs, served by the emulator in a process of its own
(`bench/web_world.py`: `--hosts` distinct hosts, http://127.0.0.2:PORT …
http://127.0.0.21:PORT, every answer `--latency-ms` late), are checked by each
tool, each with its default settings and once with its concurrency raised four
times. Every tool sees the very same URLs directly; monitor needs no
MONITOR_CONNECT_TO here.

The corpus (seeded, see `bench/web_world.py`): 3% answer 404 and 1% 410 (known
dead); 5% redirect (301, 302, 307, 308) to a live page on the same host, 3% are
slow (a 200 after 2 to 3 s), the rest answer 200 at once (known alive). The
order the documents list them in is shuffled, not host by host.

What each tool is given, and how its verdicts are read:

- **monitor** (this repository, the Python running this script):
  `python -m monitor check` over a catalog of the URLs, each `kind = "web"`,
  with a fresh SQLite store and reports directory per run
  (MONITOR_CATALOG, MONITOR_DATABASE_URL, MONITOR_REPORTS_DIR). A single run
  never says `dead`: the policy wants definitive failures on 3 checks over
  48 hours. A page whose one check this run was a definitive failure (404,
  410, soft 404) is `suspect` in `reports/<date>.json` (`sources[].health`);
  *reported broken* here means `suspect`, `dead` or `deleted`. Raised:
  MONITOR_PROBES_WEB_CONCURRENCY=256 (default 64) and
  MONITOR_PROBES_WEB_MIN_INTERVAL_MS=1 (default 10); the limit of 4 requests at
  once per host stays.
- **LinkChecker** (PyPI, in a venv of its own): `linkchecker --check-extern -o
  csv links.html`, an HTML page linking every URL. `--check-extern` is needed
  for it to check links leaving a local file at all; `-o csv` only changes how
  it prints. Reported broken: rows with `valid` False. Raised: `-t 40` (default
  10 threads). LinkChecker also waits between requests to one host
  (`maxrequestspersecond`, 10 at most unless the server answers with a
  `LinkChecker` header), which no thread count lifts. Run as root, it drops its
  privileges to `nobody`, so the files it reads are made world-readable.
- **markdown-link-check** (npm): `markdown-link-check links.md`. It checks 2
  links at once, fixed in its code (`async.mapLimit(links, 2, …)`), with no
  option to change it, and checks several files one after the other. Raised:
  the document split into 4 parts checked by 4 processes at once,
  `xargs -P 4 -n 1 markdown-link-check < parts.txt` (8 links at once). Reported
  broken: lines marked ✖ (dead) or ⚠ (error).
- **linkinator** (npm): `linkinator links.md --markdown --format json`
  (`--markdown` makes it read links out of a markdown file; `--format json`
  only changes how it prints). Reported broken: `state` BROKEN. Raised:
  `--concurrency 400` (default 100).

Peers are installed, when missing, into a throwaway place (`--peers-dir`,
default `bench/.peers/`, git-ignored), never into the project's environment:
LinkChecker with `python -m venv` + pip (the machine's pip configuration),
the npm packages with `npm install --prefix`. Versions are pinned below.

Each configuration runs `--repeat` times, interleaved (one round of every
configuration, then the next round), so a noisy minute of the shared machine
hits all tools alike; the table shows the median wall time (min–max), its ratio
to monitor's default, false dead (known alive, reported broken) and missed dead
(known dead, not reported), the most requests one host had in flight at once
as the emulator saw them (its log is reset before each run, and the script
waits for slow answers of the previous run to drain first), the requests the
emulator served, the tool's CPU seconds and peak RSS (of its largest process,
from wait4), and the exit statuses. Wall time is measured around the whole
process: start-up, reading the input, writing reports. The emulator is Python
too and shares the machine's cores with the tool measured; its CPU seconds per
run are in the JSON.

The target of issue 16 (printed as PASS or FAIL, judged by bench/targets.py;
a goal for the code, not a test): on the 2,000 web URLs, monitor at its
defaults is faster (median wall) than linkinator at its defaults in the same
run, never exceeding 4 concurrent requests per host, with zero false dead and
zero missed dead in every run.

The JSON (`--out`) has the machine (cores, CPU model, load averages, Python,
Node and tool versions), the corpus, and for each tool and configuration the
exact command line and environment changes, every run's figures, and their
summary.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import clean_environment, commit, machine
from targets import peers_target

ROOT = Path(__file__).resolve().parent.parent
LINKCHECKER = "LinkChecker==10.6.0"
NPM_PACKAGES = ("linkinator@7.6.1", "markdown-link-check@3.15.0")
RAISE = 4  # "concurrency raised": four times each tool's default
BROKEN_HEALTH = frozenset({"suspect", "dead", "deleted"})
RUN_TIMEOUT = 1800.0


# --- the peers, installed into a throwaway place -------------------------------------------------


@dataclass
class Peers:
    root: Path

    @property
    def linkchecker(self) -> Path:
        return self.root / "linkchecker" / "bin" / "linkchecker"

    @property
    def npm_bin(self) -> Path:
        return self.root / "npm" / "node_modules" / ".bin"

    @property
    def linkinator(self) -> Path:
        return self.npm_bin / "linkinator"

    @property
    def markdown_link_check(self) -> Path:
        return self.npm_bin / "markdown-link-check"

    def install(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)  # LinkChecker, run as root, reads its venv as `nobody`
        if not self.linkchecker.exists():
            venv = self.root / "linkchecker"
            say(f"installing {LINKCHECKER} into {venv}")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", LINKCHECKER],
                check=True,
            )
        if not (self.linkinator.exists() and self.markdown_link_check.exists()):
            say(f"installing {' '.join(NPM_PACKAGES)} into {self.root / 'npm'}")
            subprocess.run(
                [
                    "npm",
                    "install",
                    "--prefix",
                    str(self.root / "npm"),
                    "--no-audit",
                    "--no-fund",
                    *NPM_PACKAGES,
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )

    def versions(self) -> dict[str, str]:
        def first_line(argv: list[str]) -> str:
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            lines = (done.stdout or done.stderr).strip().splitlines()
            return lines[0] if lines else "?"

        def npm_version(name: str) -> str:
            manifest = self.root / "npm" / "node_modules" / name / "package.json"
            return str(json.loads(manifest.read_text())["version"])

        return {
            "monitor": monitor_version(),
            "LinkChecker": first_line([str(self.linkchecker), "--version"]),
            "markdown-link-check": npm_version("markdown-link-check"),
            "link-check (its checker)": npm_version("link-check"),
            "linkinator": npm_version("linkinator"),
        }


def monitor_version() -> str:
    try:
        from importlib.metadata import version

        return version("monitor")
    except Exception:  # not installed as a distribution: the checkout is what runs
        return "checkout"


# --- the world, in a process of its own ----------------------------------------------------------


class WorldProcess:
    """`bench/web_world.py`, started and stopped; its description read from JSON."""

    def __init__(self, work: Path, links: int, hosts: int, latency_ms: float, seed: int) -> None:
        self.path = work / "world.json"
        self.argv = [
            sys.executable,
            str(ROOT / "bench" / "web_world.py"),
            "--out",
            str(self.path),
            "--links",
            str(links),
            "--hosts",
            str(hosts),
            "--latency-ms",
            str(latency_ms),
            "--seed",
            str(seed),
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self.description: dict[str, Any] = {}

    def __enter__(self) -> WorldProcess:
        env = clean_environment()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(self.argv, env=env)
        deadline = time.monotonic() + 120
        while not self.path.exists():
            if self.process.poll() is not None:
                raise SystemExit(f"the web world exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise SystemExit("the web world did not start within 120 s")
            time.sleep(0.1)
        self.description = json.loads(self.path.read_text())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def reset(self) -> None:
        request = urllib.request.Request(
            self.description["control_url"] + "/reset", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def summary(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.description["summary_url"], timeout=10) as answer:
            result: dict[str, Any] = json.loads(answer.read())
        return result


# --- what each tool is run with ------------------------------------------------------------------


@dataclass
class Config:
    tool: str
    config: str  # "default" or "raised"
    changed: str  # what differs from the tool's defaults, exactly
    argv: Callable[[Path], list[str]]
    broken: Callable[[Path], tuple[set[str], dict[str, int]]]  # run dir -> urls, verdicts
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None  # a file of the work directory given as standard input
    #: a per-run environment (monitor's store and reports live in the run's directory)
    run_env: Callable[[Path], dict[str, str]] | None = None

    @property
    def label(self) -> str:
        return f"{self.tool} ({self.config})"


def configurations(peers: Peers, work: Path) -> list[Config]:
    def monitor_env(run: Path) -> dict[str, str]:
        return {
            "MONITOR_CATALOG": str(work / "catalog.toml"),
            "MONITOR_DATABASE_URL": f"sqlite:///{run / 'monitor.db'}",
            "MONITOR_REPORTS_DIR": str(run / "reports"),
            "PYTHONPATH": str(ROOT),
        }

    monitor = [sys.executable, "-m", "monitor", "check"]
    linkchecker = [str(peers.linkchecker), "--check-extern", "-o", "csv"]
    linkinator = [str(peers.linkinator), str(work / "links.md"), "--markdown", "--format", "json"]
    mlc = str(peers.markdown_link_check)
    return [
        Config(
            "monitor",
            "default",
            "",
            lambda run: monitor,
            monitor_broken,
            run_env=monitor_env,
        ),
        Config(
            "monitor",
            "raised",
            "MONITOR_PROBES_WEB_CONCURRENCY=256 MONITOR_PROBES_WEB_MIN_INTERVAL_MS=1",
            lambda run: monitor,
            monitor_broken,
            env={
                "MONITOR_PROBES_WEB_CONCURRENCY": str(64 * RAISE),
                "MONITOR_PROBES_WEB_MIN_INTERVAL_MS": "1",
            },
            run_env=monitor_env,
        ),
        Config(
            "LinkChecker",
            "default",
            "",
            lambda run: [*linkchecker, str(work / "links.html")],
            linkchecker_broken,
        ),
        Config(
            "LinkChecker",
            "raised",
            f"-t {10 * RAISE}",
            lambda run: [*linkchecker, "-t", str(10 * RAISE), str(work / "links.html")],
            linkchecker_broken,
        ),
        Config(
            "markdown-link-check",
            "default",
            "",
            lambda run: [mlc, str(work / "links.md")],
            mlc_broken,
        ),
        Config(
            "markdown-link-check",
            "raised",
            f"{RAISE} parts, {RAISE} processes at once: xargs -P {RAISE} -n 1 … < parts.txt",
            lambda run: ["xargs", "-P", str(RAISE), "-n", "1", mlc],
            mlc_broken,
            stdin="parts.txt",
        ),
        Config(
            "linkinator",
            "default",
            "",
            lambda run: linkinator,
            linkinator_broken,
        ),
        Config(
            "linkinator",
            "raised",
            f"--concurrency {100 * RAISE}",
            lambda run: [*linkinator, "--concurrency", str(100 * RAISE)],
            linkinator_broken,
        ),
    ]


def monitor_broken(run: Path) -> tuple[set[str], dict[str, int]]:
    health: dict[str, str] = {}
    for report in sorted((run / "reports").glob("[0-9][0-9][0-9][0-9]-*.json")):
        for source in json.loads(report.read_text())["sources"]:
            health[source["url"]] = source["health"]
    broken = {url for url, verdict in health.items() if verdict in BROKEN_HEALTH}
    return broken, dict(Counter(health.values()))


def linkchecker_broken(run: Path) -> tuple[set[str], dict[str, int]]:
    lines = [
        line
        for line in (run / "stdout").read_text(errors="replace").splitlines()
        if not line.startswith("#")
    ]
    rows = list(csv.DictReader(lines, delimiter=";"))
    broken = {row["urlname"] for row in rows if row.get("valid") == "False"}
    verdicts = Counter(
        "invalid" if row.get("valid") == "False" else "valid with a warning" for row in rows
    )
    return broken, dict(verdicts)


MLC_LINE = re.compile(r"\[(✖|⚠)\] (\S+)")


def mlc_broken(run: Path) -> tuple[set[str], dict[str, int]]:
    text = (run / "stdout").read_text(errors="replace")
    found = {(mark, url) for mark, url in MLC_LINE.findall(text)}
    verdicts = Counter("dead" if mark == "✖" else "error" for mark, _ in found)
    verdicts["alive"] = len(re.findall(r"\[✓\] ", text))
    return {url for _, url in found}, dict(verdicts)


def linkinator_broken(run: Path) -> tuple[set[str], dict[str, int]]:
    text = (run / "stdout").read_text(errors="replace")
    try:
        links = json.loads(text[text.index("{") :])["links"]
    except ValueError:
        return set(), {"unreadable output": 1}
    broken = {link["url"] for link in links if link.get("state") == "BROKEN"}
    return broken, dict(Counter(link.get("state", "?") for link in links))


# --- one run -------------------------------------------------------------------------------------


def run_one(
    config: Config, world: WorldProcess, work: Path, run: Path, settle: float
) -> dict[str, Any]:
    run.mkdir(parents=True)
    os.chmod(run, 0o755)
    env = clean_environment() | config.env
    if config.run_env:
        env |= config.run_env(run)
    argv = config.argv(run)
    time.sleep(settle)  # slow answers of the previous run drain before the log is reset
    world.reset()
    before = world.summary()
    stdin = open(work / config.stdin, "rb") if config.stdin else subprocess.DEVNULL  # noqa: SIM115
    with open(run / "stdout", "wb") as out, open(run / "stderr", "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=work, env=env, stdin=stdin, stdout=out, stderr=err, start_new_session=True
        )
        timer = threading.Timer(RUN_TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted: the tool goes too
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if not isinstance(stdin, int):
        stdin.close()
    after = world.summary()
    broken, verdicts = config.broken(run)
    extra = {}
    if config.tool == "monitor":  # the run itself, as monitor timed it: without start-up
        for report in sorted((run / "reports").glob("[0-9][0-9][0-9][0-9]-*.json")):
            runs = json.loads(report.read_text()).get("runs") or [{}]
            extra["monitor_run_seconds"] = runs[-1].get("duration_seconds")
    return extra | {
        "wall_seconds": round(wall, 3),
        "exit_status": process.returncode,
        "timed_out": wall >= RUN_TIMEOUT,
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "requests": after["requests"],
        "methods": after["methods"],
        "statuses": after["statuses"],
        "max_per_host": after["max_in_flight_per_host"],
        "emulator_cpu_seconds": round(
            after["emulator_cpu_seconds"] - before["emulator_cpu_seconds"], 3
        ),
        "verdicts": verdicts,
        "broken": sorted(broken),
    }


def judge(result: dict[str, Any], truth: dict[str, dict[str, str]]) -> None:
    """false dead, missed dead, and which behaviours they were, from the broken URLs."""
    broken = set(result.pop("broken"))
    false_dead = [u for u in broken if u in truth and truth[u]["expect"] == "alive"]
    missed_dead = [u for u in truth if truth[u]["expect"] == "dead" and u not in broken]
    dead = sum(1 for t in truth.values() if t["expect"] == "dead")
    result |= {
        "reported_broken": len(broken),
        "false_dead": len(false_dead),
        "missed_dead": len(missed_dead),
        "dead_right": dead - len(missed_dead),
        "alive_right": len(truth) - dead - len(false_dead),
        "false_dead_behaviours": dict(Counter(truth[u]["behaviour"] for u in false_dead)),
        "missed_dead_behaviours": dict(Counter(truth[u]["behaviour"] for u in missed_dead)),
        "false_dead_examples": sorted(false_dead)[:5],
        "missed_dead_examples": sorted(missed_dead)[:5],
        "broken_not_in_corpus": sorted(broken - truth.keys())[:5],
    }


# --- the inputs ----------------------------------------------------------------------------------


def write_inputs(work: Path, links: list[dict[str, str]]) -> None:
    urls = [link["url"] for link in links]
    items = "".join(f"- [page {i}]({url})\n" for i, url in enumerate(urls))
    (work / "links.md").write_text(f"# Links\n\n{items}")
    anchors = "".join(f'<li><a href="{url}">page {i}</a></li>\n' for i, url in enumerate(urls))
    (work / "links.html").write_text(
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Links</title></head>\n"
        f"<body><h1>Links</h1>\n<ul>\n{anchors}</ul></body></html>\n"
    )
    (work / "catalog.toml").write_text(
        "".join(f'[[source]]\nurl = "{url}"\nkind = "web"\n\n' for url in urls)
    )
    parts = []
    size = -(-len(urls) // RAISE)
    for index in range(RAISE):
        part = work / f"links-part-{index + 1}.md"
        chunk = urls[index * size : (index + 1) * size]
        part.write_text(
            f"# Links, part {index + 1}\n\n" + "".join(f"- [page]({url})\n" for url in chunk)
        )
        parts.append(str(part))
    (work / "parts.txt").write_text("\n".join(parts) + "\n")
    for path in work.iterdir():
        if path.is_file():
            os.chmod(path, 0o644)


# --- reporting -----------------------------------------------------------------------------------


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    walls = [r["wall_seconds"] for r in runs]
    return {
        "wall_median": round(statistics.median(walls), 3),
        "wall_min": min(walls),
        "wall_max": max(walls),
        "false_dead": max(r["false_dead"] for r in runs),
        "missed_dead": max(r["missed_dead"] for r in runs),
        "false_dead_each_run": [r["false_dead"] for r in runs],
        "missed_dead_each_run": [r["missed_dead"] for r in runs],
        "max_per_host": max(r["max_per_host"] for r in runs),
        "requests_median": statistics.median(r["requests"] for r in runs),
        "cpu_seconds_median": round(statistics.median(r["cpu_seconds"] for r in runs), 2),
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
        "exit_statuses": sorted({r["exit_status"] for r in runs}),
    }


def table(results: list[dict[str, Any]], dead: int, alive: int) -> str:
    header = (
        f"{'tool':<20}{'config':<8}{'wall s: median (min-max)':>26}{'ratio':>7}"
        f"{'alive right':>13}{'dead right':>11}{'false dead':>11}{'missed dead':>12}"
        f"{'max/host':>9}{'requests':>9}{'CPU s':>7}{'RSS MB':>7}  exit"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        s = result["summary"]
        wall = f"{s['wall_median']:.2f} ({s['wall_min']:.2f}-{s['wall_max']:.2f})"
        lines.append(
            f"{result['tool']:<20}{result['config']:<8}{wall:>26}{s['ratio_to_monitor']:>7.2f}"
            f"{alive - s['false_dead']:>8}/{alive:<4}{dead - s['missed_dead']:>7}/{dead:<3}"
            f"{s['false_dead']:>11}{s['missed_dead']:>12}{s['max_per_host']:>9}"
            f"{s['requests_median']:>9.0f}{s['cpu_seconds_median']:>7.1f}"
            f"{s['peak_rss_mb_max']:>7.0f}  {','.join(map(str, s['exit_statuses']))}"
        )
    lines.append(
        "right, false dead, missed dead: the worst of the runs; CPU s: the tool's own (median); "
        "RSS: its largest process"
    )
    return "\n".join(lines)


def target(results: list[dict[str, Any]], repeat: int) -> tuple[bool | None, str]:
    judged = peers_target({"results": results, "repeat": repeat, "commit": commit()})
    return judged.passed, judged.line()


def readable(text: str, work: Path) -> str:
    """A command with the throwaway directory as $WORK and paths relative to the repository."""
    text = text.replace(str(work), "$WORK").replace(sys.executable, "python")
    return text.replace(f"{ROOT}/", "").replace(str(ROOT), ".")


def interrupted(number: int, frame: object) -> None:
    raise SystemExit(128 + number)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "peers.json")
    parser.add_argument("--peers-dir", type=Path, default=ROOT / "bench" / ".peers")
    parser.add_argument(
        "--only", action="append", default=[], help="run only this tool (repeatable)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.only and "monitor" not in args.only:
        parser.error("--only must include monitor: ratios are to monitor's default")
    # Stopped (SIGTERM, or SIGINT even when started in the background): the tool being
    # measured and the emulator are stopped too.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, interrupted)

    peers = Peers(args.peers_dir.resolve())
    peers.install()
    work = Path(tempfile.mkdtemp(prefix="monitor-peers-"))
    os.chmod(work, 0o755)  # LinkChecker, run as root, reads its input as `nobody`
    say(f"work directory {work}")
    try:
        measure(args, peers, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace, peers: Peers, work: Path) -> None:
    load_before = os.getloadavg()
    started_at = datetime.now(UTC)
    with WorldProcess(work, args.links, args.hosts, args.latency_ms, args.seed) as world:
        links = world.description["links"]
        truth = {link["url"]: link for link in links}
        write_inputs(work, links)
        dead = sum(1 for link in links if link["expect"] == "dead")
        slowest = max(
            (
                float(link["behaviour"].split()[1])
                for link in links
                if link["behaviour"][:4] == "slow"
            ),
            default=0.0,
        )
        settle = slowest + args.latency_ms / 1000 + 0.3
        chosen = [c for c in configurations(peers, work) if not args.only or c.tool in args.only]
        runs: dict[str, list[dict[str, Any]]] = {c.label: [] for c in chosen}
        for round_ in range(1, args.repeat + 1):
            for config in chosen:
                run = work / "runs" / f"{config.tool}-{config.config}-{round_}"
                result = run_one(config, world, work, run, settle)
                judge(result, truth)
                runs[config.label].append(result)
                say(
                    f"[{round_}/{args.repeat}] {config.label:<30} {result['wall_seconds']:8.2f} s"
                    f"  exit {result['exit_status']}  false dead {result['false_dead']}"
                    f"  missed dead {result['missed_dead']}  max/host {result['max_per_host']}"
                    f"  requests {result['requests']}"
                )
        hosts = world.description["hosts"]
    load_after = os.getloadavg()

    results: list[dict[str, Any]] = []
    for config in chosen:
        results.append(
            {
                "tool": config.tool,
                "config": config.config,
                "changed": config.changed or "nothing: the tool's defaults",
                "command": readable(
                    " ".join(config.argv(work / "runs" / "RUN"))
                    + (f" < {config.stdin}" if config.stdin else ""),
                    work,
                ),
                "environment": {
                    k: readable(v, work)
                    for k, v in (
                        config.env
                        | (config.run_env(work / "runs" / "RUN") if config.run_env else {})
                    ).items()
                },
                "summary": summarize(runs[config.label]),
                "runs": runs[config.label],
            }
        )
    base = results[0]["summary"]["wall_median"]
    for result in results:
        result["summary"]["ratio_to_monitor"] = round(result["summary"]["wall_median"] / base, 2)
    passed, line = target(results, args.repeat)

    print(
        f"\n{len(links)} web URLs on {len(hosts)} hosts, {args.latency_ms:g} ms latency; "
        f"{dead} known dead, {len(links) - dead} known alive; "
        f"{args.repeat} run(s) per configuration"
    )
    print(table(results, dead, len(links) - dead))
    print(line)
    document = {
        "benchmark": "bench/peers.py: side by side on web links",
        "started_at": started_at.isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine() | {"load_before": load_before, "load_after": load_after},
        "versions": peers.versions(),
        "corpus": {
            "links": len(links),
            "hosts": len(hosts),
            "latency_ms": args.latency_ms,
            "seed": args.seed,
            "known_dead": dead,
            "known_alive": len(links) - dead,
            "behaviours": dict(Counter(link["behaviour"].split()[0] for link in links)),
        },
        "repeat": args.repeat,
        "counting": (
            "reported broken: monitor health suspect/dead/deleted after one run (a single run "
            "never says dead: the policy wants 3 definitive failures over 48 h); LinkChecker "
            "valid=False; markdown-link-check ✖ or ⚠; linkinator state BROKEN. false dead: known "
            "alive, reported broken; missed dead: known dead, not reported broken"
        ),
        "target": {"passed": passed, "line": line},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
