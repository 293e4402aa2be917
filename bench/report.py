"""BENCHMARKS.md from the results of bench/scale.py, peers.py, startup.py and million.py.

    python bench/report.py [--results bench/results] [--out BENCHMARKS.md]
                           [--scale …/scale.json] [--peers …/peers.json]
                           [--startup …/startup.json] [--million …/million.json]

Writes what the JSON files say: every table and target in BENCHMARKS.md comes
from a run of `bench/run`, and the page names the machine, the commit and the
commands that produced each file. The targets are judged here, from the raw
figures (bench/targets.py): PASS, FAIL, or "not measured" where a figure is
missing, each with the commit of the run that measured it; they are printed
to stdout too, one line each. A missing results file leaves its section out.
`bench/analysis.md`, a hand-written reading of the misses, is appended as is.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

try:
    from targets import judge
except ModuleNotFoundError:  # loaded by its path (as tests/test_bench.py does), not run
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from targets import judge

ROOT = Path(__file__).resolve().parent.parent

#: scale.py figure -> how BENCHMARKS.md names it
SCALE_ROWS = (
    ("github_requests_token_full", "GitHub requests, full poll, token (GraphQL)"),
    ("github_points_token_full", "GitHub points, full poll, token"),
    ("github_requests_token_unchanged", "GitHub requests, unchanged re-poll, token"),
    ("github_requests_no_token_full", "GitHub requests, full poll, no token (REST)"),
    ("github_points_no_token_full", "GitHub rate limit spent, full poll, no token"),
    ("github_requests_no_token_unchanged", "GitHub requests, unchanged re-poll, no token"),
    ("github_304_no_token_unchanged", "... of which answered 304 (free)"),
    ("github_points_no_token_unchanged", "GitHub rate limit spent, unchanged re-poll, no token"),
    ("hf_requests_full", "Hugging Face requests, full poll"),
    ("hf_requests_unchanged", "Hugging Face requests, unchanged re-poll"),
    ("arxiv_requests_full", "arXiv requests, full poll"),
    ("web_requests_full", "web requests, full poll"),
    ("web_requests_unchanged", "web requests, unchanged re-poll"),
    ("wall_s_full", "wall time, full poll (s)"),
    ("wall_s_unchanged", "wall time, unchanged re-poll (s)"),
    ("wall_s_nothing_due", "wall time, `monitor check` with nothing due (s)"),
    ("wall_s_catalog_check", "wall time, `monitor catalog check` (s)"),
    ("wall_s_status", "wall time, `monitor status` (s)"),
    ("wall_s_digest", "wall time, `monitor digest` (s)"),
    ("rss_mb_full", "peak RSS, full poll (MB)"),
    ("rss_mb_peak", "peak RSS, any `monitor check` (MB)"),
    ("rss_mb_catalog_check", "peak RSS, `monitor catalog check` (MB)"),
    ("rss_mb_status", "peak RSS, `monitor status` (MB)"),
    ("rss_mb_digest", "peak RSS, `monitor digest` (MB)"),
    ("rss_mb_any_command", "peak RSS, any command (MB)"),
    ("store_bytes_after_first_poll", "store after the first poll (bytes)"),
    ("store_growth_bytes_per_source", "store growth per unchanged poll (bytes per source)"),
    ("report_bytes_first_poll", "day reports after the first poll (bytes)"),
)


def number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def cell(figure: dict[str, float] | None) -> str:
    if figure is None:
        return "not measured"
    median, low, high = figure["median"], figure["min"], figure["max"]
    if low == high:
        return number(median)
    return f"{number(median)} ({number(low)}–{number(high)})"


def verdict(passed: bool | None) -> str:
    return {True: "**PASS**", False: "**FAIL**", None: "not measured"}[passed]


def scale_section(scale: dict[str, Any]) -> list[str]:
    sizes = scale["sizes"]
    names = list(sizes)
    settings = scale["settings"]
    lines = [
        "## At 1,000, 10,000 and 100,000 sources",
        "",
        "`python bench/scale.py` — a synthetic catalog per size (GitHub repos 60 %, Hugging "
        "Face models and datasets 20 %, arXiv 5 %, web pages 15 % over 50 hosts; "
        "`bench/catalogs.py`) seeds `monitor emulator serve` in a process of its own, every "
        f"answer {settings['latency_ms']:g} ms late. `monitor check` runs as a child process "
        "on a fresh SQLite store: a full poll with tokens, two unchanged re-polls two hours "
        "apart, a check with nothing due, then, on that full store, `monitor catalog check`, "
        "`monitor status` and `monitor digest` (of the week polled), then a full poll and a "
        "re-poll of the GitHub entries without a token (REST + ETags). Requests and "
        "rate-limit points are counted by the emulator; peak RSS comes from `wait4` of each "
        "monitor process (the whole process, never mixed with another). "
        "Cells are medians with (min–max) over the repeats: "
        + ", ".join(f"{int(n):,}: {r}" for n, r in settings["repeats"].items())
        + ".",
        "",
        "| figure | " + " | ".join(f"{int(n):,} sources" for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for key, label in SCALE_ROWS:
        lines.append(
            f"| {label} | " + " | ".join(cell(sizes[n]["figures"].get(key)) for n in names) + " |"
        )
    lines.append(
        "| emulator seeding (s) | "
        + " | ".join(f"{sizes[n]['emulator_seed_s']:.1f}" for n in names)
        + " |"
    )
    mix = sizes[names[-1]]["mix"]
    lines += [
        "",
        f"The mix at {int(names[-1]):,}: " + ", ".join(f"{k} {v:,}" for k, v in mix.items()) + ".",
        "",
        "What the counts mean under the services' real budgets:",
        "",
    ]
    for n in names:
        for text in sizes[n]["what_it_means"].values():
            lines.append(f"- {int(n):,} sources: {text}.")
    lines += [
        "",
        "Budgets: the emulator enforces the real ones, but these runs lift them so that "
        "every poll checks every source (for the time and memory figures); the counts are "
        "read against the real budgets above. Without a token the GitHub latency is "
        f"{settings['no_token_github_latency_ms']:g} ms (the no-token rows measure requests, "
        "not time: real GitHub would spread a first pass of 60,000 repositories over weeks). "
        f"arXiv keeps its {settings['arxiv_interval_s']:g} s between requests in every run.",
        "",
        "![requests, wall time and memory against catalog size](bench/results/scaling.svg)",
        "",
    ]
    return lines


def peers_section(peers: dict[str, Any]) -> list[str]:
    corpus = peers["corpus"]
    lines = [
        "## Side by side on web links",
        "",
        f"`python bench/peers.py` — {corpus['links']:,} web URLs on {corpus['hosts']} hosts "
        f"(127.0.0.2 … 127.0.0.{corpus['hosts'] + 1}, the emulator in a process of its own, "
        f"{corpus['latency_ms']:g} ms per answer; behaviours "
        + ", ".join(f"{k} {v}" for k, v in corpus["behaviours"].items())
        + f"): {corpus['known_dead']} known dead (404, 410), {corpus['known_alive']:,} known "
        "alive (200, redirects to a live page, slow pages answering after 2–3 s). Each tool "
        "checks all of them in one run, at its defaults and with its concurrency raised "
        f"four times; {peers['repeat']} runs per configuration, interleaved. Wall time is "
        "the whole process (start-up, reading, checking, writing).",
        "",
        "| tool | settings | wall s, median (min–max) | × monitor | false dead | missed dead "
        "| most at once on one host | requests | CPU s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in peers["results"]:
        s = result["summary"]
        changed = "" if result["changed"].startswith("nothing") else f": {result['changed']}"
        lines.append(
            f"| {result['tool']} | {result['config']}{changed} "
            f"| {s['wall_median']:.2f} ({s['wall_min']:.2f}–{s['wall_max']:.2f}) "
            f"| {s['ratio_to_monitor']:.2f} | {s['false_dead']} | {s['missed_dead']} "
            f"| {s['max_per_host']} | {s['requests_median']:,.0f} | {s['cpu_seconds_median']:.1f} "
            f"| {s['peak_rss_mb_max']:.0f} |"
        )
    monitor_runs = next(r for r in peers["results"] if r["tool"] == "monitor")["runs"]
    inside = [r["monitor_run_seconds"] for r in monitor_runs if r.get("monitor_run_seconds")]
    lines += [
        "",
        "False dead: a known-alive URL reported broken; missed dead: a known-dead URL not "
        "reported (the worst run). " + peers["counting"] + ".",
        "",
    ]
    if inside:
        lines.append(
            "monitor's own run (its report's `duration_seconds`, without interpreter start-up, "
            "store and reports): " + ", ".join(f"{x:.2f} s" for x in inside) + "."
        )
        lines.append("")
    lines += ["Commands, exactly as run ($WORK is the throwaway directory):", ""]
    for result in peers["results"]:
        env = " ".join(f"{k}={v}" for k, v in result["environment"].items())
        # The peers' throwaway install, wherever it was: bench/.peers/ by default.
        command = re.sub(r"\S*/bench/\.peers/", "bench/.peers/", result["command"])
        lines.append(
            f"- {result['tool']} ({result['config']}): `{env + ' ' if env else ''}{command}`"
        )
    versions = ", ".join(f"{k} {v}" for k, v in peers["versions"].items())
    lines += ["", f"Versions: {versions}.", ""]
    return lines


def startup_section(startup: dict[str, Any]) -> list[str]:
    lines = [
        "## Start-up",
        "",
        "`python bench/startup.py` — two everyday commands, timed around the whole process "
        "(interpreter start-up, imports, the work, exit) with no monitor settings in the "
        "environment: `monitor --help` (the console script the install puts next to the "
        "interpreter; `python -m monitor --help` for comparison) and `monitor catalog import "
        "one.md` of a one-link markdown document, run in a new empty directory each time, so "
        "that it writes a fresh sources.toml as a first import does. Each runs once untimed "
        f"(byte-code and page caches warm), then {startup['repeat']} times.",
        "",
        "| command | median s | every run, s | peak RSS MB |",
        "|---|---:|---|---:|",
    ]
    for figure in startup["commands"].values():
        lines.append(
            f"| `{figure['command']}` | {figure['median_s']:.3f} | "
            + ", ".join(f"{w:.3f}" for w in figure["walls_s"])
            + f" | {figure['rss_mb_max']:.0f} |"
        )
    lines.append("")
    return lines


def million_section(million: dict[str, Any]) -> list[str]:
    size, poll, settings = million["size"], million["poll"], million["settings"]
    lines = [
        f"## {size:,} sources on PostgreSQL",
        "",
        "`python bench/million.py` (`bench/run --million`) — bench/catalogs.py's mix at "
        f"{size:,} sources ("
        + ", ".join(f"{k} {v:,}" for k, v in million["mix"].items())
        + ") seeds the emulator in a process of its own, every answer "
        f"{settings['latency_ms']:g} ms late, budgets lifted so that the poll checks every "
        "source; the store is a database on a throwaway PostgreSQL "
        f"{million['postgresql']['server_version'].split()[0]} cluster (initdb in a temporary "
        "directory, default settings: shared_buffers "
        f"{million['postgresql']['shared_buffers']}, fsync {million['postgresql']['fsync']}). "
        "One full poll with tokens, then the other commands on the full store; each a whole "
        "process, its peak RSS from `wait4`. Run once."
        + (
            f" The poll runs with `[probes] service_deadline_seconds = "
            f"{settings['service_deadline_s']}` (the default 600 s would defer what a service "
            "has not answered by then to the next run)."
            if settings.get("service_deadline_s")
            else ""
        ),
        "",
    ]
    if size != 1_000_000:
        lines += [
            f"This run was at {size:,} sources, a trial of the harness: the 1,000,000 targets "
            "above are not measured by it.",
            "",
        ]
    requests = ", ".join(f"{k} {v:,}" for k, v in poll["requests"].items())
    points = ", ".join(f"{k} {v:,}" for k, v in poll["points"].items()) or "none"
    lines += [
        "| figure | value |",
        "|---|---:|",
        f"| full poll, wall time | {poll['wall_s'] / 60:,.1f} min ({poll['wall_s']:,.0f} s) |",
        f"| ... of which monitor's own run (`duration_seconds`) | {poll['run_s'] or 0:,.0f} s |",
        f"| sources checked / deferred | {poll['checked']:,} / {poll['deferred']:,} |",
        f"| requests per service | {requests} |",
        f"| rate-limit points per service | {points} |",
        f"| peak RSS, full poll | {poll['rss_mb']:,.0f} MB |",
        f"| store after the poll (`pg_database_size`) | {poll['store_bytes']:,} bytes "
        f"({poll['store_bytes'] / size:,.0f} per source) |",
        f"| day reports after the poll | {poll['report_bytes']:,} bytes |",
    ]
    for name, figure in million["commands"].items():
        if name != "check (full poll)":
            command = figure["command"]
            what = name.removeprefix(command).strip()
            lines.append(
                f"| `monitor {command}`{' ' + what if what else ''} "
                f"| {figure['wall_s']:,.1f} s, {figure['rss_mb']:,.0f} MB |"
            )
    lines += [
        f"| catalog (sources.toml) | {million['catalog_bytes']:,} bytes |",
        f"| emulator seeding | {million['emulator_seed_s']:,.0f} s, peak RSS "
        f"{million['emulator_peak_rss_mb'] or 0:,.0f} MB |",
        f"| whole benchmark | {million['bench_seconds'] / 60:,.0f} min |",
        "",
        f"arXiv keeps its {settings['arxiv_interval_s']:g} s between requests: at "
        f"{million['mix']['arxiv']:,} papers that pace alone is a floor under the poll's time.",
        "",
    ]
    return lines


#: results file -> what produced it
SOURCES = (
    ("scale", "bench/scale.py"),
    ("peers", "bench/peers.py"),
    ("startup", "bench/startup.py"),
    ("million", "bench/million.py"),
)


def provenance(documents: dict[str, dict[str, Any] | None]) -> list[str]:
    """Which machine and commit each results file comes from."""
    lines = []
    for key, script in SOURCES:
        document = documents[key]
        if document is None:
            continue
        machine = document.get("machine", {})
        parts = [
            f"{machine.get('cores')} cores"
            + (f" ({machine['cpu']})" if machine.get("cpu") else ""),
            f"{machine['ram_gb']} GB RAM" if machine.get("ram_gb") else "",
            f"Python {machine.get('python')}",
            f"Node {machine['node']}" if key == "peers" and machine.get("node") else "",
            machine.get("platform", ""),
        ]
        when = f", {document['started_at'][:10]}" if document.get("started_at") else ""
        lines.append(
            f"- `{script}`: commit {document.get('commit') or 'not recorded'}{when}; "
            + ", ".join(part for part in parts if part)
            + "."
        )
    return lines


def render(
    scale: dict[str, Any] | None,
    peers: dict[str, Any] | None,
    analysis: str = "",
    startup: dict[str, Any] | None = None,
    million: dict[str, Any] | None = None,
) -> str:
    """The whole page: the targets, judged from these results, then a section per file."""
    documents = {"scale": scale, "peers": peers, "startup": startup, "million": million}
    found = judge(**documents)
    lines = [
        "# Benchmarks",
        "",
        "Every figure on this page was measured by `bench/run` (the emulator, PostgreSQL and "
        "the peer tools are set up by the scripts themselves; nothing leaves the machine) and "
        "written here by `bench/report.py` from `bench/results/*.json`, which hold every run's "
        "raw figures. Request counts, points and bytes are exact; times are from a shared, "
        "noisy machine, so compare ratios measured in the same run rather than single "
        "absolute times.",
        "",
        "```sh",
        "bench/run            # everything but the million: about an hour on 2 cores",
        "bench/run --quick    # 1,000 and 10,000 sources once, peers once: a few minutes",
        "bench/run --million  # one full poll of 1,000,000 sources on PostgreSQL: about an hour",
        "```",
        "",
        "Where each results file comes from:",
        "",
        *provenance(documents),
        "",
        "## Targets",
        "",
        "Judged by `bench/targets.py` from the figures below; a figure that was not measured "
        "is never a PASS.",
        "",
        "| target | measured | commit | |",
        "|---|---|---|---|",
    ]
    for target in found:
        lines.append(
            f"| {target.name} | {target.measured} | {target.commit or '—'} "
            f"| {verdict(target.passed)} |"
        )
    lines.append("")
    if scale:
        token = scale["token_poll_of_10000_repos"]
        lines += [
            f"The 10,000 GitHub repos are a catalog of exactly {token['repos']:,} GitHub "
            f"repositories: {token['github_requests']} requests, {token['github_points']} "
            f"points, {token['wall_s']:.1f} s.",
            "",
        ]
        lines += scale_section(scale)
    if startup:
        lines += startup_section(startup)
    if peers:
        lines += peers_section(peers)
    if million:
        lines += million_section(million)
    if analysis.strip():
        lines += [analysis.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--results",
        type=Path,
        default=ROOT / "bench/results",
        help="where the results files are (each can also be named on its own)",
    )
    for key, _ in SOURCES:
        parser.add_argument(f"--{key}", type=Path, default=None, help=f"default: {key}.json")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--analysis",
        type=Path,
        default=ROOT / "bench/analysis.md",
        help="hand-written reading of the results, appended as it is",
    )
    args = parser.parse_args()
    documents: dict[str, dict[str, Any] | None] = {}
    for key, _ in SOURCES:
        path = getattr(args, key) or args.results / f"{key}.json"
        documents[key] = json.loads(path.read_text()) if path.exists() else None
    if not any(documents.values()):
        parser.error(f"no results in {args.results}: run bench/run first")
    analysis = args.analysis.read_text() if args.analysis.exists() else ""
    args.out.write_text(
        render(
            documents["scale"],
            documents["peers"],
            analysis,
            startup=documents["startup"],
            million=documents["million"],
        ),
        encoding="utf-8",
    )
    for target in judge(**documents):
        print(target.line())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
