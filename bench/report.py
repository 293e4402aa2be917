"""BENCHMARKS.md from the results of bench/scale.py and bench/peers.py.

    python bench/report.py [--scale bench/results/scale.json]
                           [--peers bench/results/peers.json] [--out BENCHMARKS.md]

Writes what the JSON files say: every table and target in BENCHMARKS.md comes
from a run of `bench/run`, and the page names the machine, the commit and the
commands that produced it. A target is PASS or FAIL as the benchmark judged it.
`bench/analysis.md`, a hand-written reading of the misses, is appended as is.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

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
    ("rss_mb_full", "peak RSS, full poll (MB)"),
    ("rss_mb_peak", "peak RSS, any poll (MB)"),
    ("store_bytes_after_first_poll", "store after the first poll (bytes)"),
    ("store_growth_bytes_per_source", "store growth per unchanged poll (bytes per source)"),
    ("report_bytes_first_poll", "day reports after the first poll (bytes)"),
)


def number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def cell(figure: dict[str, float]) -> str:
    median, low, high = figure["median"], figure["min"], figure["max"]
    if low == high:
        return number(median)
    return f"{number(median)} ({number(low)}–{number(high)})"


def verdict(passed: bool | None) -> str:
    return {True: "**PASS**", False: "**FAIL**", None: "not run"}[passed]


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
        "apart, a check with nothing due, then a full poll and a re-poll of the GitHub "
        "entries without a token (REST + ETags). Requests and rate-limit points are "
        "counted by the emulator; peak RSS comes from `wait4` of the monitor process. "
        "Cells are medians with (min–max) over the repeats: "
        + ", ".join(f"{int(n):,}: {r}" for n, r in settings["repeats"].items())
        + ".",
        "",
        "| figure | " + " | ".join(f"{int(n):,} sources" for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for key, label in SCALE_ROWS:
        lines.append(
            f"| {label} | " + " | ".join(cell(sizes[n]["figures"][key]) for n in names) + " |"
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


def render(scale: dict[str, Any] | None, peers: dict[str, Any] | None, analysis: str = "") -> str:
    lines = [
        "# Benchmarks",
        "",
        "Every figure on this page was measured by `bench/run` (the emulator and the peer "
        "tools are set up by the scripts themselves; nothing leaves the machine) and written "
        "here by `bench/report.py` from `bench/results/*.json`, which hold every run's raw "
        "figures. Request counts, points and bytes are exact; times are from a shared, noisy "
        "machine, so compare ratios measured in the same run rather than single absolute "
        "times.",
        "",
        "```sh",
        "bench/run            # everything: about an hour on 2 cores",
        "bench/run --quick    # 1,000 and 10,000 sources once, peers once: a few minutes",
        "```",
        "",
    ]
    machine = (scale or peers or {}).get("machine", {})
    if machine:
        cpu = machine.get("cpu")
        ram = machine.get("ram_gb")
        lines += [
            "Machine: "
            + ", ".join(
                part
                for part in (
                    f"{machine.get('cores')} cores ({cpu})",
                    f"{ram} GB RAM" if ram else "",
                    f"Python {machine.get('python')}",
                    f"Node {peers['machine']['node']}" if peers else "",
                    machine.get("platform", ""),
                )
                if part
            )
            + (f"; commit {peers['commit']}" if peers else "")
            + ".",
            "",
        ]
    lines += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    if scale:
        for found in scale["targets"]:
            lines.append(f"| {found['target']} | {found['measured']} | {verdict(found['pass'])} |")
    if peers:
        target = peers["target"]
        measured = target["line"].split(": ", 1)[1]
        lines.append(
            "| 2,000 web URLs: faster than LinkChecker, markdown-link-check and linkinator at "
            "their defaults, at most 4 requests at once per host, no false or missed dead "
            f"| {measured} | {verdict(target['passed'])} |"
        )
    lines.append("")
    if scale:
        token = scale["token_poll_of_10000_repos"]
        lines += [
            f"The first target is measured on a catalog of exactly {token['repos']:,} GitHub "
            f"repositories: {token['github_requests']} requests, {token['github_points']} "
            f"points, {token['wall_s']:.1f} s.",
            "",
        ]
        lines += scale_section(scale)
    if peers:
        lines += peers_section(peers)
    if analysis.strip():
        lines += [analysis.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=Path, default=ROOT / "bench/results/scale.json")
    parser.add_argument("--peers", type=Path, default=ROOT / "bench/results/peers.json")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--analysis",
        type=Path,
        default=ROOT / "bench/analysis.md",
        help="hand-written reading of the results, appended as it is",
    )
    args = parser.parse_args()
    scale = json.loads(args.scale.read_text()) if args.scale.exists() else None
    peers = json.loads(args.peers.read_text()) if args.peers.exists() else None
    if scale is None and peers is None:
        parser.error(f"neither {args.scale} nor {args.peers} exists: run bench/run first")
    analysis = args.analysis.read_text() if args.analysis.exists() else ""
    args.out.write_text(render(scale, peers, analysis), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
