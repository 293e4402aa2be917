"""API budget, speed and memory of `monitor check` at 1,000, 10,000 and 100,000 sources.

    python bench/scale.py [--sizes 1000,10000,100000] [--latency-ms 50] [--repeat 3]
                          [--out bench/results/scale.json] [--svg bench/results/scaling.svg]

For each size, a synthetic catalog (bench/catalogs.py: GitHub 60 %, Hugging Face
20 %, arXiv 5 %, web pages 15 % over 50 hosts) seeds `monitor emulator serve` in
a process of its own, every answer delayed by --latency-ms. Then, each repeat
on a fresh store, `monitor check` runs as a child process (its peak RSS read
from `os.wait4`, so children never mix):

1. with tokens: a full poll, two unchanged re-polls (2 h apart, past the
   1-hour recheck interval) and a check with nothing due (the same --now);
   requests and rate-limit points per service come from the emulator's
   control port, the store's size from the SQLite file after a checkpoint;
2. without tokens, on the catalog's GitHub entries alone: a full poll (REST,
   2 requests per new repository) and an unchanged re-poll (ETags, free 304s).

Budgets: the emulator enforces the real ones (5,000 GraphQL points an hour,
60 REST requests an hour anonymously, 1,000 Hugging Face requests per 5 minutes
with a token), but a full poll must check every source for the speed and memory
figures, so each budget is lifted for these runs; the request and point
counts are then read against the real budgets ("what it means" in the output).
The no-token runs measure requests and points, not time: their GitHub latency
is --no-token-latency-ms (0 by default), because a no-token first pass of 60,000
repositories is 120,000 sequential requests that real GitHub would spread over
weeks. arXiv keeps its real 3 s between requests (arXiv's terms) in every run.

`--repeat` is a number for every size (sizes of 50,000 and more run once unless
named: `--repeat 3,100000=2`). Figures are medians with min and max; this
machine is shared, so wall times are noisy, while request counts, points and
bytes are exact. Prints a table and the targets as pass/fail lines; writes
everything to --out and the scaling chart to --svg.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# bench/ is the script's directory, so its sibling module imports as is.
from catalogs import Spec, generate, mix, write_catalog
from common import clean_environment, machine

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 11, 21, 6, tzinfo=UTC)
SEED_AT = START - timedelta(days=1)
GITHUB_TOKEN = "ghp_bench"
HF_TOKEN = "hf_bench"
UNLIMITED = 1_000_000_000
LARGE = 50_000

# The targets of issue 7.
TARGET_TOKEN_REQUESTS = 105  # GitHub requests for a full poll of 10,000 repositories
TARGET_10K_SECONDS = 60.0
TARGET_100K_SECONDS = 600.0
TARGET_RSS_MB = 300.0
TARGET_GROWTH_BYTES = 100.0

# The real budgets, to read the counts against.
GITHUB_ANONYMOUS_PER_HOUR = 60
GITHUB_TOKEN_POINTS_PER_HOUR = 5000
HF_ANONYMOUS_PER_5MIN = 500
HF_TOKEN_PER_5MIN = 1000


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
        with urllib.request.urlopen(f"{self.control}/stats", timeout=30) as answer:
            return dict(json.load(answer))

    def _post(self, path: str, payload: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.control}{path}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
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

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


# --- one `monitor check` ------------------------------------------------------------------------


@dataclass
class Child:
    exit_code: int
    wall: float
    rss_mb: float
    output: str


def run_child(argv: Sequence[str], env: dict[str, str], scratch: Path) -> Child:
    """Run a command to its end; its own peak RSS comes from wait4, not mixed with others."""
    out = scratch / "child.out"
    with out.open("w", encoding="utf-8") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Child(process.returncode, wall, usage.ru_maxrss / 1024, out.read_text("utf-8"))


def store_bytes(database: Path) -> int:
    """The SQLite store's size with its write-ahead log folded in."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return database.stat().st_size


def last_run_figures(database: Path) -> dict[str, Any]:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT figures FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return dict(json.loads(row[0])) if row else {}


class Poller:
    """Runs `monitor check` against one emulator and one store, and reads what it cost."""

    def __init__(
        self, emulator: EmulatorProcess, catalog: Path, work: Path, *, tokens: bool
    ) -> None:
        self.emulator = emulator
        self.work = work
        self.database = work / "monitor.db"
        self.env = clean_environment() | emulator.environment
        self.env |= {
            "MONITOR_CATALOG": str(catalog),
            "MONITOR_DATABASE_URL": f"sqlite:///{self.database}",
            "MONITOR_REPORTS_DIR": str(work / "reports"),
        }
        if tokens:
            self.env |= {"GITHUB_TOKEN": GITHUB_TOKEN, "HF_TOKEN": HF_TOKEN}

    def check(self, at: datetime) -> dict[str, Any]:
        self.emulator.reset()
        child = run_child(
            [sys.executable, "-m", "monitor", "check", "--now", at.isoformat()],
            self.env,
            self.work,
        )
        if child.exit_code not in (0, 1):
            raise RuntimeError(f"monitor check exited {child.exit_code}:\n{child.output[-3000:]}")
        stats = self.emulator.stats()
        figures = last_run_figures(self.database)
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
            "store_bytes": store_bytes(self.database),
            "report_bytes": sum(p.stat().st_size for p in reports),
        }


# --- per size -----------------------------------------------------------------------------------


def measure_size(
    size: int, repeats: int, latency_ms: float, no_token_latency_ms: float, scratch: Path
) -> dict[str, Any]:
    specs = generate(size)
    catalog = scratch / f"sources-{size}.toml"
    write_catalog(specs, catalog)
    github_catalog = scratch / f"sources-{size}-github.toml"
    github_specs = [s for s in specs if s.url.startswith("https://github.com/")]
    write_catalog(github_specs, github_catalog)
    validated = run_child(
        [sys.executable, "-m", "monitor", "catalog", "check", str(catalog)],
        clean_environment(),
        scratch,
    )
    if validated.exit_code != 0:
        raise RuntimeError(f"monitor catalog check refused {catalog}:\n{validated.output}")
    _say(
        f"[{size:,}] catalog written and accepted by `monitor catalog check` "
        f"({validated.wall:.1f} s); starting the emulator"
    )
    emulator = EmulatorProcess(catalog, latency_ms, scratch / f"emulator-{size}.log")
    runs: list[dict[str, Any]] = []
    try:
        emulator.lift_budgets()
        _say(f"[{size:,}] emulator seeded in {emulator.seed_seconds:.1f} s")
        for repeat in range(repeats):
            runs.append(
                one_repeat(
                    emulator,
                    catalog,
                    github_catalog,
                    scratch / f"{size}-{repeat}",
                    size,
                    len(github_specs),
                    latency_ms,
                    no_token_latency_ms,
                )
            )
            _say(f"[{size:,}] repeat {repeat + 1}/{repeats}: " + _brief(runs[-1]))
    finally:
        emulator.stop()
    return {
        "size": size,
        "mix": mix(size),
        "repeats": repeats,
        "catalog_check_s": round(validated.wall, 2),
        "emulator_seed_s": round(emulator.seed_seconds, 2),
        "figures": summarise(runs),
        "runs": runs,
    }


def one_repeat(
    emulator: EmulatorProcess,
    catalog: Path,
    github_catalog: Path,
    work: Path,
    size: int,
    repos: int,
    latency_ms: float,
    no_token_latency_ms: float,
) -> dict[str, Any]:
    work.mkdir(parents=True)
    token_work, anonymous_work = work / "tokens", work / "no-token"
    token_work.mkdir()
    anonymous_work.mkdir()
    with_tokens = Poller(emulator, catalog, token_work, tokens=True)
    first = with_tokens.check(START)
    second = with_tokens.check(START + timedelta(hours=2))
    third = with_tokens.check(START + timedelta(hours=4))
    idle = with_tokens.check(START + timedelta(hours=4))
    emulator.call("set_latency", no_token_latency_ms / 1000, "github")
    try:
        anonymous = Poller(emulator, github_catalog, anonymous_work, tokens=False)
        no_token_first = anonymous.check(START)
        no_token_again = anonymous.check(START + timedelta(hours=2))
    finally:
        emulator.call("set_latency", latency_ms / 1000, "github")
    return {
        "token_full": first,
        "token_unchanged": second,
        "token_unchanged_2": third,
        "nothing_due": idle,
        "no_token_full": no_token_first,
        "no_token_unchanged": no_token_again,
        "growth_bytes_per_source": round((third["store_bytes"] - second["store_bytes"]) / size, 2),
        "github_repos": repos,
    }


def _brief(run: dict[str, Any]) -> str:
    full = run["token_full"]
    return (
        f"full poll {full['wall_s']:.1f} s, {full['rss_mb']:.0f} MB, requests {full['requests']}; "
        f"re-poll {run['token_unchanged']['wall_s']:.1f} s; nothing due "
        f"{run['nothing_due']['wall_s']:.1f} s; growth {run['growth_bytes_per_source']} B/source"
    )


# --- figures ------------------------------------------------------------------------------------

#: (name, how to read it from one repeat, unit)
FIGURES: tuple[tuple[str, Callable[[dict[str, Any]], float], str], ...] = (
    ("github_requests_token_full", lambda r: r["token_full"]["requests"].get("github", 0), ""),
    ("github_points_token_full", lambda r: r["token_full"]["points"].get("github", 0), ""),
    (
        "github_requests_token_unchanged",
        lambda r: r["token_unchanged"]["requests"].get("github", 0),
        "",
    ),
    (
        "github_points_token_unchanged",
        lambda r: r["token_unchanged"]["points"].get("github", 0),
        "",
    ),
    (
        "github_requests_no_token_full",
        lambda r: r["no_token_full"]["requests"].get("github", 0),
        "",
    ),
    ("github_points_no_token_full", lambda r: r["no_token_full"]["points"].get("github", 0), ""),
    (
        "github_requests_no_token_unchanged",
        lambda r: r["no_token_unchanged"]["requests"].get("github", 0),
        "",
    ),
    (
        "github_points_no_token_unchanged",
        lambda r: r["no_token_unchanged"]["points"].get("github", 0),
        "",
    ),
    ("github_304_no_token_unchanged", lambda r: r["no_token_unchanged"]["github_not_modified"], ""),
    ("hf_requests_full", lambda r: r["token_full"]["requests"].get("hf", 0), ""),
    ("hf_requests_unchanged", lambda r: r["token_unchanged"]["requests"].get("hf", 0), ""),
    ("arxiv_requests_full", lambda r: r["token_full"]["requests"].get("arxiv", 0), ""),
    ("web_requests_full", lambda r: r["token_full"]["requests"].get("web", 0), ""),
    ("web_requests_unchanged", lambda r: r["token_unchanged"]["requests"].get("web", 0), ""),
    ("wall_s_full", lambda r: r["token_full"]["wall_s"], "s"),
    ("wall_s_unchanged", lambda r: r["token_unchanged"]["wall_s"], "s"),
    ("wall_s_nothing_due", lambda r: r["nothing_due"]["wall_s"], "s"),
    ("wall_s_no_token_full", lambda r: r["no_token_full"]["wall_s"], "s"),
    ("rss_mb_full", lambda r: r["token_full"]["rss_mb"], "MB"),
    ("rss_mb_peak", lambda r: max(r[k]["rss_mb"] for k in _POLLS), "MB"),
    ("store_bytes_after_first_poll", lambda r: r["token_full"]["store_bytes"], "B"),
    ("store_growth_bytes_per_source", lambda r: r["growth_bytes_per_source"], "B"),
    ("report_bytes_first_poll", lambda r: r["token_full"]["report_bytes"], "B"),
)
_POLLS = (
    "token_full",
    "token_unchanged",
    "token_unchanged_2",
    "nothing_due",
    "no_token_full",
    "no_token_unchanged",
)


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    summary = {}
    for name, read, unit in FIGURES:
        values = [float(read(run)) for run in runs]
        summary[name] = {
            "median": round(statistics.median(values), 3),
            "min": round(min(values), 3),
            "max": round(max(values), 3),
            "unit": unit,
        }
    return summary


def meanings(size: dict[str, Any]) -> dict[str, str]:
    """What the counts mean under the real budgets."""
    f = size["figures"]
    points = f["github_points_no_token_full"]["median"]
    graphql = f["github_points_token_full"]["median"]
    hf = f["hf_requests_full"]["median"]
    hours = -(-points // GITHUB_ANONYMOUS_PER_HOUR)
    return {
        "github_token": f"{graphql:.0f} GraphQL points per full poll = "
        f"{100 * graphql / GITHUB_TOKEN_POINTS_PER_HOUR:.1f} % of 5,000 points an hour",
        "github_no_token": f"a first pass costs {points:.0f} REST requests: at 60 an hour that is "
        f"{hours:.0f} hourly runs (~{hours / 24:.1f} days); an unchanged re-poll costs "
        f"{f['github_points_no_token_unchanged']['median']:.0f} (all 304s)",
        "hf": f"{hf:.0f} Hub requests per full poll: {hf / HF_TOKEN_PER_5MIN:.1f}x the 1,000 per "
        f"5 minutes of a token, {hf / HF_ANONYMOUS_PER_5MIN:.1f}x the anonymous 500; beyond one "
        "window the rest is deferred to later runs",
        "arxiv": f"{f['arxiv_requests_full']['median']:.0f} requests at one per 3 s = "
        f"{3 * max(0, f['arxiv_requests_full']['median'] - 1):.0f} s of every full poll",
    }


# --- targets ------------------------------------------------------------------------------------


def targets(
    sizes: dict[int, dict[str, Any]], token_10k_repos: dict[str, Any]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def target(name: str, passed: bool | None, value: str) -> None:
        found.append({"target": name, "pass": passed, "measured": value})

    requests = token_10k_repos["github_requests"]
    target(
        f"full poll of 10,000 GitHub repos with a token in <= {TARGET_TOKEN_REQUESTS} requests",
        requests <= TARGET_TOKEN_REQUESTS,
        f"{requests} requests, {token_10k_repos['github_points']} points",
    )
    zero = [
        (
            n,
            s["figures"]["github_points_no_token_unchanged"]["max"],
            s["figures"]["github_304_no_token_unchanged"]["min"],
            s["figures"]["github_requests_no_token_unchanged"]["max"],
        )
        for n, s in sizes.items()
    ]
    target(
        "unchanged re-poll without a token spends no primary rate limit on 304s",
        all(points == 0 and not_modified == asked for _, points, not_modified, asked in zero),
        "; ".join(
            f"{n:,}: {int(p)} points, {int(m)} of {int(a)} answered 304" for n, p, m, a in zero
        ),
    )
    for size, limit in ((10_000, TARGET_10K_SECONDS), (100_000, TARGET_100K_SECONDS)):
        name = f"{size:,} mixed sources in <= {limit:.0f} s at 50 ms latency"
        if size in sizes:
            wall = sizes[size]["figures"]["wall_s_full"]
            target(
                name,
                wall["median"] <= limit,
                f"median {wall['median']:.1f} s (min {wall['min']:.1f}, max {wall['max']:.1f})",
            )
        else:
            target(name, None, "not measured (size not run)")
    measured = [n for n in (10_000, 100_000) if n in sizes]
    if measured:
        worst = {n: sizes[n]["figures"]["rss_mb_peak"]["max"] for n in measured}
        target(
            f"peak RSS <= {TARGET_RSS_MB:.0f} MB (10,000 and 100,000 sources)",
            max(worst.values()) <= TARGET_RSS_MB,
            ", ".join(f"{n:,}: {mb:.0f} MB" for n, mb in worst.items()),
        )
    growth = {n: s["figures"]["store_growth_bytes_per_source"]["max"] for n, s in sizes.items()}
    target(
        f"store grows <= {TARGET_GROWTH_BYTES:.0f} bytes per source per unchanged poll",
        max(growth.values()) <= TARGET_GROWTH_BYTES,
        ", ".join(f"{n:,}: {b:.1f} B" for n, b in growth.items()),
    )
    return found


def token_poll_of_10k_repos(latency_ms: float, scratch: Path) -> dict[str, Any]:
    """The first target counts a catalog of exactly 10,000 GitHub repositories."""
    specs: list[Spec] = []
    size = 10_000
    while len(specs) < 10_000:
        size = size * 2
        specs = [s for s in generate(size) if s.url.startswith("https://github.com/")]
    specs = specs[:10_000]
    catalog = scratch / "sources-10000-repos.toml"
    write_catalog(specs, catalog)
    emulator = EmulatorProcess(catalog, latency_ms, scratch / "emulator-10000-repos.log")
    try:
        emulator.lift_budgets()
        work = scratch / "10000-repos"
        work.mkdir()
        figures = Poller(emulator, catalog, work, tokens=True).check(START)
    finally:
        emulator.stop()
    return {
        "repos": len(specs),
        "github_requests": figures["requests"].get("github", 0),
        "github_points": figures["points"].get("github", 0),
        "wall_s": figures["wall_s"],
    }


# --- output -------------------------------------------------------------------------------------


def table(sizes: dict[int, dict[str, Any]]) -> str:
    columns = list(sizes)
    rows = [
        ("repeats", lambda s: str(s["repeats"])),
        *[(name, lambda s, name=name: _cell(s["figures"][name])) for name, _, _ in FIGURES],
        ("emulator seeding (s)", lambda s: f"{s['emulator_seed_s']:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = ["figure".ljust(width) + "".join(f" | {n:>26,}" for n in columns)]
    lines.append("-" * len(lines[0]))
    for name, cell in rows:
        lines.append(name.ljust(width) + "".join(f" | {cell(sizes[n]):>26}" for n in columns))
    return "\n".join(lines)


def _cell(figure: dict[str, float]) -> str:
    median, low, high = figure["median"], figure["min"], figure["max"]
    if low == high:
        return _number(median)
    return f"{_number(median)} ({_number(low)}-{_number(high)})"


def _number(value: float) -> str:
    if value >= 100_000:
        return f"{value:,.0f}"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def chart_svg(sizes: dict[int, dict[str, Any]]) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    ns = sorted(sizes)

    def series(name: str) -> list[float]:
        return [sizes[n]["figures"][name]["median"] for n in ns]

    panels = (
        (
            "requests per full poll",
            (
                ("GitHub (token, GraphQL)", series("github_requests_token_full")),
                ("GitHub (no token, REST)", series("github_requests_no_token_full")),
                ("Hugging Face", series("hf_requests_full")),
                ("arXiv", series("arxiv_requests_full")),
                ("web", series("web_requests_full")),
            ),
            "requests",
        ),
        (
            "wall time",
            (
                ("full poll", series("wall_s_full")),
                ("unchanged re-poll", series("wall_s_unchanged")),
                ("nothing due", series("wall_s_nothing_due")),
            ),
            "seconds",
        ),
        (
            "peak RSS of monitor check",
            (
                ("full poll", series("rss_mb_full")),
                ("any poll", series("rss_mb_peak")),
            ),
            "MB",
        ),
    )
    with matplotlib.rc_context(
        {
            "svg.hashsalt": "monitor-scale",
            "svg.fonttype": "none",
            "font.family": "sans-serif",
            "font.size": 9.0,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        figure = Figure(figsize=(13.0, 4.2), layout="constrained")
        for axes, (title, lines, unit) in zip(figure.subplots(1, 3), panels, strict=True):
            for label, values in lines:
                axes.plot(ns, [max(v, 0.1) for v in values], marker="o", label=label)
            axes.set_xscale("log")
            axes.set_yscale("log")
            axes.set_xticks(ns, [f"{n:,}" for n in ns])
            axes.set_xlabel("sources in the catalog")
            axes.set_ylabel(unit)
            axes.set_title(title)
            axes.grid(True, color="#dddddd", linewidth=0.6)
            axes.legend(frameon=False, fontsize=8)
        figure.suptitle("monitor check against the emulator (50 ms per request), medians")
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def _say(text: str) -> None:
    print(text, flush=True)


def _repeats(text: str, sizes: Sequence[int]) -> dict[int, int]:
    default, named = 3, {}
    for part in filter(None, text.split(",")):
        if "=" in part:
            size, count = part.split("=")
            named[int(size)] = int(count)
        else:
            default = int(part)
    return {n: named.get(n, default if n < LARGE else 1) for n in sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--no-token-latency-ms", type=float, default=0.0)
    parser.add_argument("--repeat", default="3", help="3, or 3,100000=2 (50,000+ run once)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/scale.json")
    parser.add_argument("--svg", type=Path, default=ROOT / "bench/results/scaling.svg")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    repeats = _repeats(args.repeat, sizes)
    started = time.perf_counter()
    info = machine()
    _say(
        f"machine: {info['cores']} cores, {info['cpu']}, {info['ram_gb']} GB, "
        f"Python {info['python']}; latency {args.latency_ms:g} ms; repeats "
        + ", ".join(f"{n:,}: {r}" for n, r in repeats.items())
    )
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="monitor-scale-") as tmp:
        scratch = Path(tmp)
        token_10k = token_poll_of_10k_repos(args.latency_ms, scratch)
        _say(
            f"10,000 GitHub repos with a token: {token_10k['github_requests']} requests, "
            f"{token_10k['github_points']} points, {token_10k['wall_s']:.1f} s"
        )
        for size in sizes:
            results[size] = measure_size(
                size, repeats[size], args.latency_ms, args.no_token_latency_ms, scratch
            )
            results[size]["what_it_means"] = meanings(results[size])
    checked = targets(results, token_10k)
    print()
    print(table(results))
    print()
    for size, result in results.items():
        for line in result["what_it_means"].values():
            print(f"{size:>7,}: {line}")
    print()
    for found in checked:
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[found["pass"]]
        print(f"{verdict}  {found['target']}: {found['measured']}")
    document = {
        "machine": info,
        "settings": {
            "latency_ms": args.latency_ms,
            "no_token_github_latency_ms": args.no_token_latency_ms,
            "arxiv_interval_s": 3.0,
            "budgets": "lifted in the emulator for every run; counts read against the real ones",
            "repeats": {str(n): r for n, r in repeats.items()},
        },
        "token_poll_of_10000_repos": token_10k,
        "sizes": {str(n): r for n, r in results.items()},
        "targets": checked,
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    args.svg.parent.mkdir(parents=True, exist_ok=True)
    args.svg.write_text(chart_svg(results), encoding="utf-8")
    print(f"\nwrote {args.out} and {args.svg}")


if __name__ == "__main__":
    main()
