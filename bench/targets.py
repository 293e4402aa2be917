"""The targets of issue 16 (with those of issue 7 that still hold), judged from raw figures.

    judge(scale=…, peers=…, startup=…, million=…) -> list[Target]

Each argument is the JSON a benchmark wrote (`bench/scale.py`, `bench/peers.py`,
`bench/startup.py`, `bench/million.py`), or None where it was not run. Every
target is judged here, from the figures themselves, not from a verdict a script
stored; a target whose figure is missing is "not measured" (`passed` None),
never PASS. Each target carries the commit of the run that measured it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RSS_100K_MB = 200.0
RSS_1M_MB = 1024.0  # 1 GB
NOTHING_DUE_S = {100_000: 3.0, 10_000: 1.5}
HELP_S = 0.2
IMPORT_S = 0.3
PER_HOST = 4
MILLION = 1_000_000
MILLION_S = 45 * 60.0
LATENCY_MS = 50.0
TOKEN_REQUESTS = 105  # GitHub requests for a full poll of 10,000 repositories
WALL_S = {10_000: 60.0, 100_000: 600.0}
GROWTH_BYTES = 100.0
#: the commands whose peak RSS counts as "any command": every one a user runs on a full store
COMMANDS = ("check", "catalog check", "status", "digest")


@dataclass(frozen=True)
class Target:
    """One target: its wording, PASS (True), FAIL (False) or not measured (None), and why."""

    name: str
    passed: bool | None
    measured: str
    commit: str = ""

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "not measured"}[self.passed]

    def line(self) -> str:
        at = f" [commit {self.commit}]" if self.commit else ""
        return f"{self.verdict.upper():<12}  {self.name}: {self.measured}{at}"


def _commit(document: dict[str, Any]) -> str:
    return str(document.get("commit") or "not recorded")


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def _peak_rss(name: str, limit: float, peaks: dict[str, float], commit: str) -> Target:
    """PASS only when every command was measured; a measured excess FAILs whatever is missing."""
    if not peaks:
        return Target(name, None, "not measured")
    worst = max(peaks, key=lambda command: peaks[command])
    missing = [c for c in COMMANDS if c not in peaks]
    text = f"{_mb(peaks[worst])} (`monitor {worst}`)"
    others = ", ".join(f"{c} {_mb(v)}" for c, v in peaks.items() if c != worst)
    if others:
        text += f"; {others}"
    if missing:
        text += "; not measured: " + ", ".join(f"`monitor {c}`" for c in missing)
    if peaks[worst] > limit:
        return Target(name, False, text, commit)
    return Target(name, None if missing else True, text, commit)


def _scale_peaks(size: dict[str, Any]) -> dict[str, float]:
    """The highest peak RSS of each command over a size's repeats."""
    figures = size["figures"]
    peaks = {"check": figures["rss_mb_peak"]["max"]}
    for command, key in (
        ("catalog check", "rss_mb_catalog_check"),
        ("status", "rss_mb_status"),
        ("digest", "rss_mb_digest"),
    ):
        if key in figures:
            peaks[command] = figures[key]["max"]
    return peaks


def judge(
    scale: dict[str, Any] | None = None,
    peers: dict[str, Any] | None = None,
    startup: dict[str, Any] | None = None,
    million: dict[str, Any] | None = None,
) -> list[Target]:
    """Every target, in the issue's order."""
    sizes: dict[int, dict[str, Any]] = (
        {int(n): s for n, s in scale["sizes"].items()} if scale else {}
    )
    scale_commit = _commit(scale) if scale else ""
    found: list[Target] = []

    name = f"peak RSS of any command at 100,000 sources <= {RSS_100K_MB:.0f} MB"
    if 100_000 in sizes:
        found.append(_peak_rss(name, RSS_100K_MB, _scale_peaks(sizes[100_000]), scale_commit))
    else:
        found.append(Target(name, None, "not measured (100,000 not run)"))
    found.append(_million_rss(million))

    for size, limit in NOTHING_DUE_S.items():
        name = f"`monitor check` with nothing due <= {limit:g} s at {size:,} sources"
        if size in sizes:
            wall = sizes[size]["figures"]["wall_s_nothing_due"]
            found.append(_within(name, wall, limit, scale_commit, digits=2))
        else:
            found.append(Target(name, None, f"not measured ({size:,} not run)"))

    found += _startup(startup)
    found.append(peers_target(peers))
    found.append(_million_poll(million))
    found += _kept(sizes, scale, scale_commit)
    return found


def _startup(startup: dict[str, Any] | None) -> list[Target]:
    found = []
    for key, name, limit in (
        ("help", "`monitor --help`", HELP_S),
        ("import", "`monitor catalog import` of a one-link document", IMPORT_S),
    ):
        name = f"{name} <= {limit:g} s (whole process, median of 5)"
        figure = (startup or {}).get("commands", {}).get(key)
        if not figure:
            found.append(Target(name, None, "not measured"))
            continue
        assert startup is not None
        found.append(
            Target(
                name,
                figure["median_s"] <= limit,
                f"median {figure['median_s']:.3f} s of {len(figure['walls_s'])} "
                f"(min {min(figure['walls_s']):.3f}, max {max(figure['walls_s']):.3f})",
                _commit(startup),
            )
        )
    return found


def peers_target(peers: dict[str, Any] | None) -> Target:
    name = (
        "2,000 web URLs: faster than linkinator at its defaults in the same run, at most "
        f"{PER_HOST} requests at once per host, zero false dead, zero missed dead"
    )
    by = {(r["tool"], r["config"]): r["summary"] for r in (peers or {}).get("results", [])}
    ours, theirs = by.get(("monitor", "default")), by.get(("linkinator", "default"))
    if peers is None or ours is None or theirs is None:
        return Target(name, None, "not measured (monitor and linkinator not both run)")
    faster = ours["wall_median"] < theirs["wall_median"]
    passed = (
        faster
        and ours["max_per_host"] <= PER_HOST
        and ours["false_dead"] == 0
        and ours["missed_dead"] == 0
    )
    return Target(
        name,
        passed,
        f"monitor {ours['wall_median']:.2f} s vs linkinator {theirs['wall_median']:.2f} s "
        f"(medians of {peers['repeat']}; {'faster' if faster else 'NOT faster'}); at most "
        f"{ours['max_per_host']} at once per host; false dead {ours['false_dead']}, missed dead "
        f"{ours['missed_dead']} (worst run)",
        _commit(peers),
    )


def _million_measured(million: dict[str, Any] | None) -> str | None:
    """Why the million run does not count (None when it does)."""
    if million is None:
        return "not measured (`bench/run --million` not run)"
    if million["size"] != MILLION:
        return f"not measured (the run was at {million['size']:,} sources)"
    if million["settings"]["latency_ms"] != LATENCY_MS:
        return f"not measured (the run was at {million['settings']['latency_ms']:g} ms)"
    return None


def _million_rss(million: dict[str, Any] | None) -> Target:
    name = f"peak RSS of any command at 1,000,000 sources <= 1 GB ({RSS_1M_MB:,.0f} MB)"
    why = _million_measured(million)
    if why is not None or million is None:
        return Target(name, None, why or "not measured")
    peaks: dict[str, float] = {}
    for figure in million["commands"].values():
        command = figure["command"]
        peaks[command] = max(peaks.get(command, 0.0), figure["rss_mb"])
    return _peak_rss(name, RSS_1M_MB, peaks, _commit(million))


def _million_poll(million: dict[str, Any] | None) -> Target:
    name = (
        "full poll of 1,000,000 mixed sources on PostgreSQL in <= 45 min at "
        f"{LATENCY_MS:g} ms latency"
    )
    why = _million_measured(million)
    if why is not None or million is None:
        return Target(name, None, why or "not measured")
    poll = million["poll"]
    every = poll["checked"] == million["size"] and poll["deferred"] == 0
    text = (
        f"{poll['wall_s'] / 60:.1f} min ({poll['wall_s']:,.0f} s), "
        f"{poll['checked']:,} checked, {poll['deferred']:,} deferred"
    )
    return Target(name, every and poll["wall_s"] <= MILLION_S, text, _commit(million))


def _kept(
    sizes: dict[int, dict[str, Any]], scale: dict[str, Any] | None, commit: str
) -> list[Target]:
    """The targets of issue 7 that passed, and must keep passing."""
    found = []
    name = f"full poll of 10,000 GitHub repos with a token in <= {TOKEN_REQUESTS} requests"
    token = (scale or {}).get("token_poll_of_10000_repos")
    if token:
        requests = token["github_requests"]
        found.append(
            Target(
                name,
                requests <= TOKEN_REQUESTS,
                f"{requests} requests, {token['github_points']} points",
                commit,
            )
        )
    else:
        found.append(Target(name, None, "not measured"))

    name = "unchanged re-poll without a token spends no primary rate limit on 304s"
    if sizes:
        zero = [
            (
                n,
                s["figures"]["github_points_no_token_unchanged"]["max"],
                s["figures"]["github_304_no_token_unchanged"]["min"],
                s["figures"]["github_requests_no_token_unchanged"]["max"],
            )
            for n, s in sizes.items()
        ]
        found.append(
            Target(
                name,
                all(points == 0 and free == asked for _, points, free, asked in zero),
                "; ".join(
                    f"{n:,}: {int(p)} points, {int(m):,} of {int(a):,} answered 304"
                    for n, p, m, a in zero
                ),
                commit,
            )
        )
        growth = {n: s["figures"]["store_growth_bytes_per_source"]["max"] for n, s in sizes.items()}
        found.append(
            Target(
                f"store grows <= {GROWTH_BYTES:.0f} bytes per source per unchanged poll",
                max(growth.values()) <= GROWTH_BYTES,
                ", ".join(f"{n:,}: {b:.1f} B" for n, b in growth.items()),
                commit,
            )
        )
    else:
        found.append(Target(name, None, "not measured"))
        found.append(
            Target(
                f"store grows <= {GROWTH_BYTES:.0f} bytes per source per unchanged poll",
                None,
                "not measured",
            )
        )
    for size, limit in WALL_S.items():
        name = f"{size:,} mixed sources in <= {limit:.0f} s at {LATENCY_MS:g} ms latency"
        if size in sizes and scale and scale["settings"]["latency_ms"] == LATENCY_MS:
            wall = sizes[size]["figures"]["wall_s_full"]
            found.append(_within(name, wall, limit, commit, digits=1))
        else:
            found.append(Target(name, None, f"not measured ({size:,} at {LATENCY_MS:g} ms)"))
    return found


def _within(name: str, wall: dict[str, Any], limit: float, commit: str, *, digits: int) -> Target:
    """A time target judged on the median of the repeats, their spread shown."""
    spread = f"median {wall['median']:.{digits}f} s (min {wall['min']:.{digits}f}, "
    return Target(name, wall["median"] <= limit, spread + f"max {wall['max']:.{digits}f})", commit)
