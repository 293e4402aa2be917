"""The weekly digest: ISO weeks in UTC, each part's content, sections, movers, rebuilt bytes."""

from __future__ import annotations

import json
import os
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.catalog.kinds import identify
from monitor.digest import Week, last_complete_week, week_digest, write_week_digest
from monitor.emulator import Emulator, World
from monitor.model import (
    Entry,
    Event,
    EventType,
    Facts,
    Health,
    Kind,
    Observation,
    Outcome,
    SourceState,
)
from monitor.render.chart import StarSeries, star_chart_svg
from monitor.render.digest import (
    DigestEvent,
    Glance,
    Mover,
    WeekDigest,
    WeekRun,
    render_json,
    render_markdown,
)
from monitor.store import Checked, Store
from tests.conftest import _SCRUBBED, _SCRUBBED_PREFIXES, _loopback_only
from tests.harness import Monitor

W46 = Week(2026, 46)
HOSTILE = "<img src=x onerror=alert(1)> *Busy* | [x](javascript:alert(1)) `code`"

# --- weeks -------------------------------------------------------------------------------------

WEEKS = [
    # text, its label, Monday (start), next Monday (end)
    ("2026-W46", "2026-W46", "2026-11-09", "2026-11-16"),
    ("2026w01", "2026-W01", "2025-12-29", "2026-01-05"),  # week 1 starts in the year before
    ("2026-W53", "2026-W53", "2026-12-28", "2027-01-04"),  # 2026 begins on a Thursday
    ("2020-W53", "2020-W53", "2020-12-28", "2021-01-04"),  # leap, begins on a Wednesday
    ("2025-W01", "2025-W01", "2024-12-30", "2025-01-06"),
    (" 2027-W01 ", "2027-W01", "2027-01-04", "2027-01-11"),
]


@pytest.mark.parametrize(("text", "label", "start", "end"), WEEKS)
def test_week_parse_and_boundaries(text: str, label: str, start: str, end: str) -> None:
    """A week label parses to Monday 00:00 UTC up to (not including) the next Monday."""
    week = Week.parse(text)
    assert week.start == datetime.fromisoformat(f"{start}T00:00:00+00:00")
    assert week.end == datetime.fromisoformat(f"{end}T00:00:00+00:00")
    assert week.label == label and Week.parse(label) == week


BAD_WEEKS = [
    ("2026-W99", "2026 has 53 ISO weeks"),
    ("2025-W53", "2025 has 52 ISO weeks"),
    ("2026-W00", "W01 to W53"),
    ("2026-46", "write YYYY-Www, for example 2026-W46"),
    ("2026-W4", "write YYYY-Www"),
    ("W46", "write YYYY-Www"),
    ("2026-11-09", "write YYYY-Www"),
    ("", "write YYYY-Www"),
    ("0000-W01", "not a year"),
]


@pytest.mark.parametrize(("text", "reason"), BAD_WEEKS)
def test_bad_weeks_are_refused_with_a_reason(text: str, reason: str) -> None:
    """A label that is not an ISO week raises ValueError saying what is wrong and what to write."""
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")) as raised:
        Week.parse(text)
    assert repr(text) in str(raised.value)


CONTAINING = [
    ("2026-11-09T00:00:00+00:00", "2026-W46"),  # the first instant
    ("2026-11-15T23:59:59.999999+00:00", "2026-W46"),  # the last
    ("2026-11-16T00:00:00+00:00", "2026-W47"),
    ("2026-11-16T01:00:00+02:00", "2026-W46"),  # Sunday 23:00 UTC
    ("2026-11-15T20:00:00-05:00", "2026-W47"),  # Monday 01:00 UTC
    ("2027-01-01T12:00:00+00:00", "2026-W53"),
    ("2024-12-31T12:00:00+00:00", "2025-W01"),
    ("2021-01-03T12:00:00+00:00", "2020-W53"),
]


@pytest.mark.parametrize(("moment", "label"), CONTAINING)
def test_week_containing_a_moment_is_counted_in_utc(moment: str, label: str) -> None:
    """The week of a moment is its ISO week in UTC, whatever offset the moment carries."""
    assert Week.containing(datetime.fromisoformat(moment)).label == label


LAST_COMPLETE = [
    ("2026-11-16T08:00:00+00:00", "2026-W46"),  # Monday morning: last week is done
    ("2026-11-15T23:00:00+00:00", "2026-W45"),  # Sunday night: this week is not
    ("2027-01-04T08:00:00+00:00", "2026-W53"),
    ("2027-01-11T00:00:00+00:00", "2027-W01"),
    ("2026-01-05T00:00:00+00:00", "2026-W01"),
    ("2026-01-04T23:59:00+00:00", "2025-W52"),
]


@pytest.mark.parametrize(("now", "label"), LAST_COMPLETE)
def test_last_complete_week_is_the_one_before_now(now: str, label: str) -> None:
    """The default week is the last one that has ended, across year boundaries too."""
    assert last_complete_week(datetime.fromisoformat(now)).label == label


def test_previous_week_crosses_years_and_naive_moments_are_refused() -> None:
    """previous() steps back across a 53-week year; a naive datetime is refused."""
    assert Week(2027, 1).previous() == Week(2026, 53)
    assert Week(2026, 1).previous() == Week(2025, 52)
    assert Week(2026, 47).previous() == W46
    with pytest.raises(ValueError, match="naive"):
        Week.containing(datetime(2026, 11, 9))


# --- a simulated week against the emulator -----------------------------------------------------

CATALOG = f"""
[[source]]
url = "https://github.com/tatsu-lab/stanford_alpaca"
name = "Stanford Alpaca"
section = "Models"

[[source]]
url = "https://github.com/Significant-Gravitas/Auto-GPT"
name = "Auto-GPT"
section = "Agents"

[[source]]
url = "https://github.com/a/small"
section = "Models"

[[source]]
url = "https://github.com/a/tiny"
section = "Agents"

[[source]]
url = "https://github.com/a/fading"
section = "Agents"

[[source]]
url = "https://github.com/a/busy"
name = '{HOSTILE}'

[[source]]
url = "https://github.com/a/relicensed"
section = "Models"

[[source]]
url = "https://github.com/a/archive-me"
section = "Tools"

[[source]]
url = "https://github.com/a/gone"
section = "Tools"

[[source]]
url = "https://github.com/x/takedown"
section = "Tools"

[[source]]
url = "https://github.com/a/old"
section = "Models"

[[source]]
url = "https://github.com/a/later"
section = "Models"

[[source]]
url = "https://huggingface.co/tiiuae/falcon-40b"
section = "Models"

[[source]]
url = "https://arxiv.org/abs/2106.09685"
name = "LoRA"
section = "Papers"

[[source]]
url = "https://gone.example/page"
section = "Tools"

[[source]]
url = "https://back.example/page"
section = "Tools"

[[source]]
url = "https://down.example/page"
section = "Tools"

[[source]]
url = "https://moved.example/old"
section = "Tools"
"""

REPOS = {
    "tatsu-lab/stanford_alpaca": 100,
    "Significant-Gravitas/Auto-GPT": 5,
    "a/small": 10,
    "a/tiny": 1,
    "a/fading": 500,
    "a/busy": 50,
    "a/relicensed": 5,
    "a/archive-me": 5,
    "a/gone": 5,
    "x/takedown": 5,
    "a/later": 5,
}


def day(month_day: str) -> str:
    """The daily check's clock on a date of November 2026."""
    return f"2026-11-{month_day}T06:00:00+00:00"


def build_world(world: World) -> None:
    for name, stars in REPOS.items():
        world.add_repo(name, stars=stars, last_commit="2026-10-01T00:00:00Z")
    world.add_repo("a/old", stars=5, last_commit="2025-11-11T00:00:00Z")
    world.add_hf_repo("tiiuae/falcon-40b", likes=40, last_modified="2026-10-01T00:00:00Z")
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    for url in ("gone", "back", "moved"):
        world.set_page(f"https://{url}.example/{'old' if url == 'moved' else 'page'}", "ok")
    world.set_page("https://moved.example/new", "ok")
    # A Retry-After longer than a run leaves the host alone instead of waiting for it.
    world.set_page("https://down.example/page", 503, retry_after=120)


def simulate(monitor: Monitor, world: World) -> None:
    """Daily checks from Sunday of W45 to Sunday of W46, with changes on most days."""
    monitor.check(day("08"))  # W45: everything added; down.example starts failing
    # W46, Monday
    world.star("tatsu-lab/stanford_alpaca", 150)
    world.delete("a/gone")
    world.set_page("https://gone.example/page", 404)
    world.set_page("https://back.example/page", 404)
    monitor.check(day("09"))
    # Tuesday: a/gone is deleted (2 answers, 24 h apart)
    world.star("tatsu-lab/stanford_alpaca", 400)
    world.star("a/small", 25)
    world.star("a/tiny", 6)
    world.star("a/fading", 480)
    world.add_commit("a/busy", "2026-11-09T12:00:00Z")
    world.rename("Significant-Gravitas/Auto-GPT", "AutoGPT")
    world.set_license("a/relicensed", "Apache-2.0")
    world.hf_like("tiiuae/falcon-40b", 45)
    world.page("https://moved.example/old").behaviour = ["redirect"]
    world.page("https://moved.example/old").location = "https://moved.example/new"
    monitor.check(day("10"))
    # Wednesday: both pages dead (3 checks over 48 h); a/old a year without a commit
    world.archive("a/archive-me")
    world.block("x/takedown", "dmca")
    world.add_version("2106.09685", "2026-11-10T12:00:00Z")
    world.hf_update("tiiuae/falcon-40b", "2026-11-10T18:00:00Z")
    monitor.check(day("11"))
    # Thursday: one dead page comes back (recovered once Sunday's check says so too)
    world.set_page("https://back.example/page", "ok")
    world.add_commit("a/busy", "2026-11-11T12:00:00Z")
    monitor.check(day("12"))
    # Sunday: down.example has failed for 7 days
    monitor.check(day("15"))


@dataclass(frozen=True)
class Simulation:
    """The W46 digest as first written, rebuilt after two runs of W47, and W47's own."""

    store: Store
    reports: Path
    first: dict[str, bytes]
    rebuilt: dict[str, bytes]
    next_week: dict[str, bytes]

    def json(self, name: str = "2026-W46.json") -> dict[str, Any]:
        return dict(json.loads(self.first[name]))

    @property
    def markdown(self) -> str:
        return self.first["2026-W46.md"].decode()


def built(paths: Sequence[Path]) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in paths}


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulation]:
    """A week of real checks against the emulator, then two more days; built once per module."""
    tmp = tmp_path_factory.mktemp("digest")
    world = World()
    build_world(world)
    # Module scope runs before the per-test guards of conftest, so it sets them up itself.
    with pytest.MonkeyPatch.context() as patch, Emulator(world) as emulator:
        for name in list(os.environ):
            if name in _SCRUBBED or name.startswith(_SCRUBBED_PREFIXES):
                patch.delenv(name)
        patch.setenv("HF_HOME", str(tmp / "hf-home"))
        patch.setattr(socket.socket, "connect", _loopback_only)
        monitor = Monitor(tmp, emulator, patch, CATALOG)
        patch.setenv("MONITOR_PROBES_WEB_RETRY_BACKOFF_MS", "1")
        simulate(monitor, world)
        store = Store.connect(monitor.env["MONITOR_DATABASE_URL"])
        first = built(write_week_digest(store, W46, monitor.reports))
        world.delete("a/later")
        world.star("tatsu-lab/stanford_alpaca", 900)
        world.set_page("https://down.example/page", "ok")
        monitor.check(day("16"))
        monitor.check(day("17"))
        rebuilt = built(write_week_digest(store, W46, monitor.reports))
        next_week = built(write_week_digest(store, Week(2026, 47), monitor.reports))
        yield Simulation(store, monitor.reports, first, rebuilt, next_week)
        store.close()


def at_end(entry: dict[str, Any]) -> tuple[str, str]:
    """An entry as (event, the last two parts of its URL)."""
    owner, name = entry["url"].rsplit("/", 2)[-2:]
    return entry["event"], f"{owner}/{name}"


def test_the_week_at_a_glance_counts_states_at_the_end_of_the_week(
    simulation: Simulation,
) -> None:
    """Sources checked in the week, each in its health after its last check of the week."""
    data = simulation.json()
    assert (data["week"], data["start"], data["end"]) == (
        "2026-W46",
        "2026-11-09T00:00:00+00:00",
        "2026-11-16T00:00:00+00:00",
    )
    glance = data["glance"]
    assert {k: v for k, v in glance["states"].items() if v} == {
        "ok": 14,
        "deleted": 1,
        "dead": 1,
        "blocked": 1,
        "unreachable": 1,
    }
    assert (glance["checked"], glance["alive"], glance["alive_share"]) == (18, 14, 0.7778)
    assert (data["runs"]["count"], data["runs"]["degraded"], data["alerts"]) == (5, 0, 9)
    assert (
        "**Alive: 14 of 18 (77.8%)**; alive: answered normally at its last check of the week."
    ) in simulation.markdown
    assert "18 sources checked in 5 run(s); 9 alert(s) raised." in simulation.markdown


def test_needs_action_lists_every_alert_with_what_to_do(simulation: Simulation) -> None:
    """Deleted, dead, renamed (new URL), redirected, licence, archived, blocked, unreachable."""
    action = simulation.json()["needs_action"]
    assert [at_end(e) for e in action] == [
        ("deleted", "a/gone"),
        ("dead", "back.example/page"),
        ("dead", "gone.example/page"),
        ("renamed", "Significant-Gravitas/Auto-GPT"),
        ("redirected", "moved.example/old"),
        ("license_changed", "a/relicensed"),
        ("archived", "a/archive-me"),
        ("blocked", "x/takedown"),
        ("unreachable", "down.example/page"),
    ]
    renamed = action[3]
    assert renamed["new_url"] == "https://github.com/Significant-Gravitas/AutoGPT"
    assert (renamed["section"], renamed["at"], renamed["kind"]) == (
        "Agents",
        day("10"),
        "github_repo",
    )
    assert (action[5]["old"], action[5]["new"]) == ("MIT", "Apache-2.0")
    assert [e["health_at_end"] for e in action[:3]] == ["deleted", "ok", "dead"]
    text = simulation.markdown
    assert (
        "| Auto-GPT <https://github.com/Significant-Gravitas/Auto-GPT> | "
        "Significant-Gravitas/Auto-GPT | Significant-Gravitas/AutoGPT | "
        "<https://github.com/Significant-Gravitas/AutoGPT> |"
    ) in text
    assert "<https://back.example/page> (web): " in text
    assert "; answering again at the end of the week" in text


def test_star_movers_of_a_simulated_week(simulation: Simulation) -> None:
    """Stars and likes from first old to last new: gainers, relative gainers, losses, a chart."""
    movers = simulation.json()["star_movers"]
    assert movers["moved"] == 5
    assert [(m["label"], m["old"], m["new"], m["change"]) for m in movers["gainers"]] == [
        ("tatsu-lab/stanford_alpaca", "100", "400", 300),
        ("a/small", "10", "25", 15),
        ("a/tiny", "1", "6", 5),
        ("tiiuae/falcon-40b", "40", "45", 5),
    ]
    assert [(m["label"], m["relative"]) for m in movers["relative"]] == [
        ("tatsu-lab/stanford_alpaca", 3.0),
        ("a/small", 1.5),
        ("tiiuae/falcon-40b", 0.125),
    ]
    assert [(m["label"], m["change"]) for m in movers["losers"]] == [("a/fading", -20)]
    assert simulation.json()["chart"] == "2026-W46.svg"
    svg = simulation.first["2026-W46.svg"].decode()
    assert svg.count('id="mover-') == 5 and "tatsu-lab/stanford_alpaca: 100 to 400 (+300)" in svg
    assert "a/fading: 500 to 480 (-20)" in svg  # losses are charted with the gains
    title = "Change in stars or likes during 2026-W46: all 5 sources that moved"
    assert f"![{title}](2026-W46.svg)" in simulation.markdown and title in svg


def test_what_shipped_went_stale_and_recovered(simulation: Simulation) -> None:
    """New commits (collapsed per repo), Hub updates, arXiv versions, stale, recovered."""
    data = simulation.json()
    shipped = data["shipped"]
    (busy,) = shipped["commits"]
    assert (busy["url"], busy["old"][:10], busy["new"][:10], busy["at"]) == (
        "https://github.com/a/busy",
        "2026-10-01",
        "2026-11-11",
        day("12"),
    )
    assert [(e["url"], e["new"][:10]) for e in shipped["hugging_face"]] == [
        ("https://huggingface.co/tiiuae/falcon-40b", "2026-11-10")
    ]
    assert [(e["url"], e["old"], e["new"]) for e in shipped["arxiv"]] == [
        ("https://arxiv.org/abs/2106.09685", "v1", "v2")
    ]
    assert [(e["url"], e["at"]) for e in data["stale"]] == [("https://github.com/a/old", day("11"))]
    assert [(e["url"], e["old"], e["at"]) for e in data["recovered"]] == [
        ("https://back.example/page", "dead", day("15"))
    ]
    for entry in [*data["needs_action"], *data["stale"], *data["recovered"], busy]:
        assert {"event", "url", "kind", "at", "name", "section"} <= set(entry)


def test_every_list_is_grouped_by_catalog_section(simulation: Simulation) -> None:
    """Entries sit under their section's heading, sections in catalog order, none last."""
    text = simulation.markdown
    shipped = text[text.index("## What shipped") : text.index("## Went stale")]
    assert [line for line in shipped.splitlines() if line.startswith("#")] == [
        "## What shipped (3)",
        "### Repositories with new commits (new_commits, 1)",
        "#### (no section)",
        "### Hugging Face repos updated (new_commits, 1)",
        "#### Models",
        "### New arXiv versions (new_version, 1)",
        "#### Papers",
    ]
    action = text[text.index("## Needs action") : text.index("## Star movers")]
    headings = [line for line in action.splitlines() if line.startswith("#")]
    assert headings[:6] == [
        "## Needs action (9)",
        "### Deleted (deleted, 1)",
        "#### Tools",
        "### Dead links (dead, 2)",
        "#### Tools",
        "### Renamed (renamed, 1)",
    ]
    assert "| Stanford Alpaca <https://github.com/tatsu-lab/stanford_alpaca> | Models |" in text


def test_hostile_names_from_the_catalog_are_escaped(simulation: Simulation) -> None:
    """A name full of markup is rendered inert: no HTML tag, no link, no table break."""
    text = simulation.markdown
    assert "<img" not in text and "[x](" not in text
    assert "&lt;img src=x onerror=alert(1)&gt; \\*Busy\\* \\| \\[x\\](javascript" in text


def test_rebuilding_a_past_week_after_more_runs_gives_the_same_bytes(
    simulation: Simulation,
) -> None:
    """Later runs change current states, not a past week: md, json and svg rebuild identically."""
    assert sorted(simulation.first) == ["2026-W46.json", "2026-W46.md", "2026-W46.svg"]
    assert simulation.rebuilt == simulation.first
    later = json.loads(simulation.next_week["2026-W47.json"])
    assert [at_end(e) for e in later["needs_action"]] == [("deleted", "a/later")]
    assert [at_end(e) for e in later["recovered"]] == [("recovered", "down.example/page")]
    assert later["glance"]["states"]["unreachable"] == 0
    assert [m["change"] for m in later["star_movers"]["gainers"]] == [500]


# --- a store filled directly -------------------------------------------------------------------

CHECKS = (day("09"), day("11"), day("13"))
#: url -> star counts at Monday's, Wednesday's and Friday's checks
MOVERS = {
    "https://github.com/o/big": (1000, 1300, 1500),  # +500, +50%
    "https://github.com/o/mid": (100, 150, 190),  # +90, +90%
    "https://github.com/o/tie-b": (200, 250, 250),  # +50, +25%
    "https://github.com/o/tie-a": (300, 350, 350),  # +50, +16.7%: ties break by URL
    "https://github.com/o/floor": (10, 25, 30),  # +20, +200%: exactly at the floor
    "https://github.com/o/tiny": (1, 3, 3),  # +2, +200%: below the floor
    "https://github.com/o/loss": (800, 700, 650),  # -150
    "https://github.com/o/flat": (50, 60, 50),  # moved, but no net change
    "https://huggingface.co/org/model": (40, 44, 80),  # +40 likes, +100%
}
GAINERS = ["big", "mid", "tie-a", "tie-b", "model", "floor", "tiny"]
RELATIVE = ["floor", "model", "mid", "big", "tie-b", "tie-a"]
CHARTED = ["o/big", "o/loss", "o/mid", "o/tie-a", "o/tie-b"]


def fill(store: Store, history: dict[str, Sequence[int]], checks: Sequence[str]) -> None:
    """One run per check; each source answers its star count, and a change raises an event."""
    entries = []
    for url in history:
        resource = identify(url)
        kind = Kind.HF_MODEL if "huggingface" in url else resource.kind
        entries.append(Entry(url=url, kind=kind, key=resource.key, section="S"))
    store.sync_catalog(entries, datetime.fromisoformat(checks[0]))
    sources = {s.url: s for s in store.sources()}
    for n, clock in enumerate(checks):
        at = datetime.fromisoformat(clock)
        run = store.start_run(at, started_at=at)
        batch = []
        for url, counts in history.items():
            source = sources[url]
            facts = Facts(stars=counts[n])
            events: tuple[Event, ...] = ()
            if n and counts[n] != counts[n - 1]:
                events = (
                    Event(
                        EventType.STARS_CHANGED,
                        source.key,
                        url,
                        source.kind,
                        at,
                        old=str(counts[n - 1]),
                        new=str(counts[n]),
                    ),
                )
            state = SourceState(Health.OK, facts, last_checked_at=at, last_outcome=Outcome.OK)
            batch.append(
                Checked(source.id, Observation(source.key, at, Outcome.OK, facts), state, events)
            )
        store.record(run, batch)
        store.finish_run(
            run,
            status="completed",
            degraded=False,
            figures={"sources_checked": len(batch)},
            finished_at=at,
        )


def test_star_movers_rank_by_absolute_and_relative_gain(database_url: str) -> None:
    """Gainers by change, relative gainers from 10 stars up, losses; ties broken by URL."""
    store = Store.connect(database_url)
    # Changes just outside the week (late on Sunday before, Monday after) count for nothing.
    outside = {url: (c[0] - 1, c[0], *c, c[-1] + 7) for url, c in MOVERS.items()}
    before = ("2026-11-08T22:00:00+00:00", "2026-11-08T23:59:59+00:00")
    fill(store, outside, (*before, *CHECKS, "2026-11-16T00:00:00+00:00"))
    digest = week_digest(store, W46)
    assert [m.url.rsplit("/", 1)[1] for m in digest.gainers] == GAINERS
    assert [m.url.rsplit("/", 1)[1] for m in digest.relative] == RELATIVE
    assert [(m.url.rsplit("/", 1)[1], m.change) for m in digest.losers] == [("loss", -150)]
    assert digest.moved == len(MOVERS)
    assert [s.label for s in digest.chart] == CHARTED
    big = digest.chart[0]
    # Every check of the week is a point with a marker, Monday's unchanged one too; the
    # counts carried to the week's start and end are on the line, without a marker.
    assert big.points == (
        (W46.start, 1000),
        (datetime.fromisoformat(CHECKS[0]), 1000),
        (datetime.fromisoformat(CHECKS[1]), 1300),
        (datetime.fromisoformat(CHECKS[2]), 1500),
        (W46.end, 1500),
    )
    assert big.observed == (False, True, True, True, False) and big.marked == [1, 2, 3]
    assert (
        digest.chart_title
        == "Change in stars or likes during 2026-W46: the 5 biggest movers, up or down"
    )
    data = json.loads(render_json(digest))
    assert data["star_movers"]["relative"][0]["relative"] == 2.0
    assert data["star_movers"]["gainers"][0]["kind"] == "github_repo"


def test_no_chart_when_nobody_moved_and_a_stale_one_is_removed(tmp_path: Path) -> None:
    """A week without star changes has no SVG, no image link, chart null; an old SVG goes."""
    store = Store.connect(f"sqlite:///{tmp_path / 'm.db'}")
    fill(store, {"https://github.com/o/still": (5, 5, 5)}, CHECKS)
    stale_chart = tmp_path / "reports" / "weekly" / "2026-W46.svg"
    stale_chart.parent.mkdir(parents=True)
    stale_chart.write_text("<svg/>")
    paths = write_week_digest(store, W46, tmp_path / "reports")
    assert [p.name for p in paths] == ["2026-W46.md", "2026-W46.json"]
    assert not stale_chart.exists()
    text = paths[0].read_text()
    assert "No star changes this week." in text and ".svg" not in text
    data = json.loads(paths[1].read_text())
    assert data["chart"] is None and data["glance"]["alive_share"] == 1.0


def test_a_week_without_runs_says_so(tmp_path: Path) -> None:
    """A week the monitor did not run in renders, with nothing checked and no share."""
    store = Store.connect(f"sqlite:///{tmp_path / 'm.db'}")
    digest = week_digest(store, W46)
    text = render_markdown(digest, None)
    assert "0 sources checked in 0 run(s); 0 alert(s) raised." in text
    assert "No run this week." in text and "Nothing needs action." in text
    assert json.loads(render_json(digest))["glance"]["alive_share"] is None


# --- rendering ---------------------------------------------------------------------------------


def series(n: int) -> list[StarSeries]:
    start, end = W46.start, W46.end
    return [
        StarSeries(
            f"owner{i}/repo-{i}",
            ((start, 100 * i), (start + timedelta(days=2, hours=6), 100 * i + 7 * i), (end, 0)),
        )
        for i in range(1, n + 1)
    ]


def test_chart_is_valid_svg_with_one_line_per_mover_and_identical_twice() -> None:
    """The SVG parses as XML, holds one line per mover (at most five), text as text, no date."""
    drawn = [*series(6), StarSeries("cjk/模型 $x$", ((W46.start, 3), (W46.end, 9)))]
    svg = star_chart_svg(drawn, title="Top movers")
    assert svg == star_chart_svg(drawn, title="Top movers")
    root = ET.fromstring(svg)
    ids = [g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert [i for i in ids if i and i.startswith("mover-")] == [f"mover-{n}" for n in range(1, 6)]
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "owner1/repo-1" in texts and "Top movers" in texts and "Mon 11-09" in texts
    assert "<dc:date>" not in svg
    few = ET.fromstring(star_chart_svg(series(2)))
    assert sum(1 for g in few.iter() if (g.get("id") or "").startswith("mover-")) == 2


def test_chart_keeps_names_as_text() -> None:
    """Names with dollars or CJK are drawn as written, not as mathtext or missing glyphs."""
    svg = star_chart_svg([StarSeries("cjk/模型 $x$", ((W46.start, 3), (W46.end, 9)))])
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "cjk/模型 $x$: 3 to 9 (+6)" in texts


def test_chart_marks_only_the_checks() -> None:
    """A marker on each observed point; none on the counts carried to the week's ends."""
    checks = (W46.start + timedelta(days=1, hours=6), W46.start + timedelta(days=3, hours=6))
    drawn = StarSeries(
        "a/b",
        ((W46.start, 5), (checks[0], 5), (checks[1], 9), (W46.end, 9)),
        (False, True, True, False),
    )
    svg = ET.fromstring(star_chart_svg([drawn]))
    (line,) = [g for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("id") == "mover-1"]
    assert len(list(line.iter("{http://www.w3.org/2000/svg}use"))) == 2


def hostile_digest() -> WeekDigest:
    at = W46.start + timedelta(days=1)
    evil_section = "<b>Section</b> | # x"

    def event(kind: EventType, **extra: Any) -> DigestEvent:
        return DigestEvent(
            kind, "https://github.com/a/b", "github_repo", at, HOSTILE, evil_section, **extra
        )

    mover = Mover("https://github.com/a/b", "github_repo", HOSTILE, evil_section, "a/b", at, 10, 30)
    return WeekDigest(
        week=W46.label,
        start=W46.start,
        end=W46.end,
        glance=Glance(tuple((h, 1 if h is Health.OK else 0) for h in Health)),
        needs_action=[
            event(EventType.RENAMED, old="a/b", new=HOSTILE, new_url="https://x.org/a> <b>"),
            event(EventType.DEAD, detail="<script>alert(1)</script>"),
        ],
        moved=1,
        gainers=[mover],
        relative=[mover],
        losers=[],
        chart=[],
        commits=[],
        hub_updates=[],
        versions=[event(EventType.NEW_VERSION, old="v1", new="v2", detail=HOSTILE)],
        stale=[],
        recovered=[event(EventType.RECOVERED, old="dead")],
        runs=[WeekRun(1, at, "completed", False, 1)],
        alerts=3,
    )


def test_markdown_escapes_remote_text_everywhere() -> None:
    """Names, sections, details and URLs from outside cannot inject HTML, links or table cells."""
    text = render_markdown(hostile_digest(), None)
    assert "<img" not in text and "<script>" not in text and "<b>" not in text
    assert "[x](" not in text and "\\[x\\](javascript" in text
    assert "#### &lt;b&gt;Section&lt;/b&gt; \\| # x" in text
    assert "<https://x.org/a%3E%20%3Cb%3E>" in text
    for line in text.splitlines():
        if line.startswith("| ") and "a/b" in line:
            assert line.replace("\\|", "").count("|") in (5, 6, 7), line
