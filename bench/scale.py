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
2. on that full store, the other commands a user runs, each a whole process
   with its peak RSS from wait4 too: `monitor catalog check`, `monitor status`
   and `monitor digest` (of the week the polls ran in); "peak RSS of any
   command" is the highest of these and of every `monitor check`, with its name;
3. without tokens, on the catalog's GitHub entries alone: a full poll (REST,
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
bytes are exact. Prints a table and the targets it measures as PASS/FAIL lines
(judged by bench/targets.py); writes everything, with the commit measured, to
--out and the scaling chart to --svg.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

# bench/ is the script's directory, so its sibling modules import as they are.
from catalogs import Spec, generate, mix, write_catalog
from common import clean_environment, commit, machine
from harness import ROOT, START, EmulatorProcess, Poller, run_child, say
from targets import judge

LARGE = 50_000

# The real budgets, to read the counts against.
GITHUB_ANONYMOUS_PER_HOUR = 60
GITHUB_TOKEN_POINTS_PER_HOUR = 5000
HF_ANONYMOUS_PER_5MIN = 500
HF_TOKEN_PER_5MIN = 1000


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
    say(
        f"[{size:,}] catalog written and accepted by `monitor catalog check` "
        f"({validated.wall:.1f} s); starting the emulator"
    )
    emulator = EmulatorProcess(catalog, latency_ms, scratch / f"emulator-{size}.log")
    runs: list[dict[str, Any]] = []
    try:
        emulator.lift_budgets()
        say(f"[{size:,}] emulator seeded in {emulator.seed_seconds:.1f} s")
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
            say(f"[{size:,}] repeat {repeat + 1}/{repeats}: " + _brief(runs[-1]))
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
    commands = with_tokens.other_commands(START + timedelta(hours=4))
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
        "commands": commands,
        "rss_peak_command": peak_command(first, second, third, idle, commands),
        "growth_bytes_per_source": round((third["store_bytes"] - second["store_bytes"]) / size, 2),
        "github_repos": repos,
    }


def peak_command(*polls_then_commands: dict[str, Any]) -> str:
    """Which command of a repeat (with tokens, on the full store) peaked highest."""
    *polls, commands = polls_then_commands
    peaks = {"check": max(p["rss_mb"] for p in polls)}
    peaks |= {name: c["rss_mb"] for name, c in commands.items()}
    return max(peaks, key=lambda name: peaks[name])


def _brief(run: dict[str, Any]) -> str:
    full = run["token_full"]
    return (
        f"full poll {full['wall_s']:.1f} s, {full['rss_mb']:.0f} MB, requests {full['requests']}; "
        f"re-poll {run['token_unchanged']['wall_s']:.1f} s; nothing due "
        f"{run['nothing_due']['wall_s']:.1f} s; growth {run['growth_bytes_per_source']} B/source; "
        + "; ".join(
            f"{name} {c['wall_s']:.1f} s {c['rss_mb']:.0f} MB"
            for name, c in run["commands"].items()
        )
    )


# --- figures ------------------------------------------------------------------------------------

_POLLS = (
    "token_full",
    "token_unchanged",
    "token_unchanged_2",
    "nothing_due",
    "no_token_full",
    "no_token_unchanged",
)

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
    ("wall_s_catalog_check", lambda r: r["commands"]["catalog check"]["wall_s"], "s"),
    ("rss_mb_catalog_check", lambda r: r["commands"]["catalog check"]["rss_mb"], "MB"),
    ("wall_s_status", lambda r: r["commands"]["status"]["wall_s"], "s"),
    ("rss_mb_status", lambda r: r["commands"]["status"]["rss_mb"], "MB"),
    ("wall_s_digest", lambda r: r["commands"]["digest"]["wall_s"], "s"),
    ("rss_mb_digest", lambda r: r["commands"]["digest"]["rss_mb"], "MB"),
    (
        "rss_mb_any_command",
        lambda r: max(
            max(r[k]["rss_mb"] for k in _POLLS), *(c["rss_mb"] for c in r["commands"].values())
        ),
        "MB",
    ),
    ("store_bytes_after_first_poll", lambda r: r["token_full"]["store_bytes"], "B"),
    ("store_growth_bytes_per_source", lambda r: r["growth_bytes_per_source"], "B"),
    ("report_bytes_first_poll", lambda r: r["token_full"]["report_bytes"], "B"),
)


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
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


# --- the first target ---------------------------------------------------------------------------


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
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("repeats", lambda s: str(s["repeats"])),
        *[(name, _figure(name)) for name, _, _ in FIGURES],
        ("emulator seeding (s)", lambda s: f"{s['emulator_seed_s']:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = ["figure".ljust(width) + "".join(f" | {n:>26,}" for n in columns)]
    lines.append("-" * len(lines[0]))
    for name, cell in rows:
        lines.append(name.ljust(width) + "".join(f" | {cell(sizes[n]):>26}" for n in columns))
    return "\n".join(lines)


def _figure(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda size: _cell(size["figures"][name])


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
            "peak RSS",
            (
                ("full poll", series("rss_mb_full")),
                ("any monitor check", series("rss_mb_peak")),
                ("any command", series("rss_mb_any_command")),
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
    measured_commit = commit()
    info = machine()
    say(
        f"machine: {info['cores']} cores, {info['cpu']}, {info['ram_gb']} GB, "
        f"Python {info['python']}; latency {args.latency_ms:g} ms; repeats "
        + ", ".join(f"{n:,}: {r}" for n, r in repeats.items())
    )
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="monitor-scale-") as tmp:
        scratch = Path(tmp)
        token_10k = token_poll_of_10k_repos(args.latency_ms, scratch)
        say(
            f"10,000 GitHub repos with a token: {token_10k['github_requests']} requests, "
            f"{token_10k['github_points']} points, {token_10k['wall_s']:.1f} s"
        )
        for size in sizes:
            results[size] = measure_size(
                size, repeats[size], args.latency_ms, args.no_token_latency_ms, scratch
            )
            results[size]["what_it_means"] = meanings(results[size])
    print()
    print(table(results))
    print()
    for size, result in results.items():
        for line in result["what_it_means"].values():
            print(f"{size:>7,}: {line}")
    document = {
        "benchmark": "bench/scale.py: API budget, speed and memory at each size",
        "commit": measured_commit,
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
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    args.svg.parent.mkdir(parents=True, exist_ok=True)
    args.svg.write_text(chart_svg(results), encoding="utf-8")
    print()
    for found in judge(scale=document):
        if found.passed is not None:  # the targets this benchmark measures
            print(found.line())
    print(f"\nwrote {args.out} and {args.svg}")


if __name__ == "__main__":
    main()
