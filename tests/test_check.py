"""`monitor check` end to end: the emulator, the real PyGithub and huggingface_hub, over days."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.emulator import Emulator, World
from tests.conftest import ROOT
from tests.harness import GITHUB_TOKEN, HF_TOKEN, Monitor, events, find

CATALOG = """
[[source]]
url = "https://github.com/tatsu-lab/stanford_alpaca"
name = "Stanford Alpaca"
section = "Models"

[[source]]
url = "https://github.com/Significant-Gravitas/Auto-GPT"
name = "Auto-GPT"

[[source]]
url = "https://github.com/lvwerra/trl"
name = "TRL"

[[source]]
url = "https://github.com/a/gone"

[[source]]
url = "https://github.com/x/takedown"

[[source]]
url = "https://github.com/a/archive-me"

[[source]]
url = "https://github.com/a/busy"

[[source]]
url = "https://github.com/a/pushonly"

[[source]]
url = "https://huggingface.co/banana-dev/GPTrillion"
name = "GPTrillion"

[[source]]
url = "https://huggingface.co/bert-base-uncased"
kind = "hf_model"

[[source]]
url = "https://huggingface.co/tiiuae/falcon-40b"

[[source]]
url = "https://huggingface.co/meta-llama/Llama-2-7b"

[[source]]
url = "https://huggingface.co/datasets/bigscience/P3"

[[source]]
url = "https://huggingface.co/decapoda-research"
"""


def build_world(world: World) -> None:
    for name in (
        "tatsu-lab/stanford_alpaca",
        "Significant-Gravitas/Auto-GPT",
        "lvwerra/trl",
        "a/gone",
        "x/takedown",
        "a/archive-me",
        "a/busy",
        "a/pushonly",
    ):
        world.add_repo(name, stars=100, license="MIT", last_commit="2026-10-01T00:00:00Z")
    world.add_hf_repo("banana-dev/GPTrillion", likes=3, last_modified="2026-10-01T00:00:00Z")
    world.add_hf_repo("bert-base-uncased", likes=2000, last_modified="2026-10-01T00:00:00Z")
    world.add_hf_repo("tiiuae/falcon-40b", license="other", last_modified="2026-10-01T00:00:00Z")
    world.add_hf_repo("meta-llama/Llama-2-7b", last_modified="2026-10-01T00:00:00Z")
    world.add_hf_repo("bigscience/P3", "dataset", last_modified="2026-10-01T00:00:00Z")
    world.add_hf_owner("decapoda-research", "org")


@pytest.fixture
def monitor(
    tmp_path: Path, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Monitor:
    build_world(world)
    return Monitor(tmp_path, emulator, monkeypatch, CATALOG)


def test_days_of_changes_with_tokens(monitor: Monitor, world: World) -> None:
    """Over three days: added, every kind of change once, deletions only on the 2nd failing day."""
    code, day1 = monitor.check("2026-11-01T06:00:00Z")
    assert code == 0
    assert events(day1) == {"added": 14}
    first_run = day1["runs"][0]
    assert first_run["requests"]["github"] == 1  # eight repositories, one GraphQL request

    world.star("tatsu-lab/stanford_alpaca", 150)
    world.add_commit("a/busy", "2026-11-01T12:00:00Z")
    world.push_elsewhere("a/pushonly", "2026-11-01T13:00:00Z")
    world.set_license("tatsu-lab/stanford_alpaca", "Apache-2.0")
    world.rename("Significant-Gravitas/Auto-GPT", "AutoGPT")
    world.transfer("lvwerra/trl", "huggingface/trl")
    world.archive("a/archive-me")
    world.delete("a/gone")
    world.block("x/takedown", "dmca")
    world.hf_delete("banana-dev/GPTrillion")
    world.hf_rename("bert-base-uncased", "google-bert/bert-base-uncased")
    world.hf_set_license("tiiuae/falcon-40b", "apache-2.0")
    world.hf_gate("meta-llama/Llama-2-7b", "manual")
    world.hf_like("bigscience/P3", 7, "dataset")

    code, day2 = monitor.check("2026-11-02T06:00:00Z")
    assert code == 1
    assert events(day2) == {
        "stars_changed": 2,
        "new_commits": 1,
        "license_changed": 2,
        "renamed": 3,
        "archived": 1,
        "blocked": 1,
        "gated_changed": 1,
    }
    renamed = find(day2, "renamed", "Auto-GPT")
    assert (renamed["old"], renamed["new"]) == (
        "Significant-Gravitas/Auto-GPT",
        "Significant-Gravitas/AutoGPT",
    )
    assert renamed["new_url"] == "https://github.com/Significant-Gravitas/AutoGPT"
    assert find(day2, "renamed", "trl")["new"] == "huggingface/trl"
    assert find(day2, "renamed", "bert")["new_url"] == (
        "https://huggingface.co/google-bert/bert-base-uncased"
    )
    assert (
        find(day2, "license_changed", "falcon")["old"],
        find(day2, "license_changed", "falcon")["new"],
    ) == ("other", "apache-2.0")
    assert find(day2, "stars_changed", "stanford")["new"] == "150"
    health = {s["url"]: s["health"] for s in day2["sources"]}
    assert health["https://github.com/a/gone"] == "suspect"
    assert health["https://huggingface.co/banana-dev/GPTrillion"] == "suspect"

    code, day3 = monitor.check("2026-11-03T07:00:00Z")
    assert code == 1
    assert events(day3) == {"deleted": 2}
    assert {e["url"] for e in day3["events"]} == {
        "https://github.com/a/gone",
        "https://huggingface.co/banana-dev/GPTrillion",
    }

    again_code, again = monitor.check("2026-11-03T07:00:00Z")
    assert again_code == 0
    # Nothing was due and nothing happened: the day's report is left exactly as it was.
    assert again == day3
    assert len(day3["runs"]) == 1


def test_no_token_uses_rest_etags_and_the_anonymous_hub(monitor: Monitor, world: World) -> None:
    """Without tokens: REST with ETags (unchanged re-polls are free), 301 renames, 401 not-found."""
    code, day1 = monitor.check("2026-11-01T06:00:00Z", token=False)
    assert code == 0 and events(day1)["added"] == 14
    github = list(world.requests("github"))
    assert all(r.header("Authorization") is None for r in github)
    assert world.budget("core", "").used == 16  # a repo and its last commit, for each of 8

    world.reset_log()
    code, day2 = monitor.check("2026-11-02T06:00:00Z", token=False)
    assert code == 0 and events(day2, "2026-11-02") == {}
    assert [r.status for r in world.requests("github")] == [304] * 8
    assert world.budget("core", "").used == 16  # 304s are free

    world.rename("Significant-Gravitas/Auto-GPT", "AutoGPT")
    world.hf_delete("banana-dev/GPTrillion")
    world.reset_log()
    code, day3 = monitor.check("2026-11-03T06:00:00Z", token=False)
    assert code == 1
    assert find(day3, "renamed", "Auto-GPT")["new"] == "Significant-Gravitas/AutoGPT"
    assert 301 in [r.status for r in world.requests("github")]
    gptrillion = [r for r in world.requests("hf") if "GPTrillion" in r.path]
    assert [r.status for r in gptrillion] == [401]
    code, day4 = monitor.check("2026-11-04T06:00:00Z", token=False)
    assert events(day4, "2026-11-04") == {"deleted": 1}


def test_graphql_batches_follow_each_other_without_a_pause(
    monitor: Monitor, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GraphQL batches are read-only POSTs: PyGithub's 1 s spacing of writes must not apply."""
    monkeypatch.setenv("MONITOR_PROBES_GITHUB_BATCH_SIZE", "1")
    monitor.check("2026-11-01T06:00:00Z")
    batches = [r for r in world.requests("github") if r.path.endswith("/graphql")]
    assert len(batches) >= 8
    gaps = [b.started - a.finished for a, b in itertools.pairwise(batches)]
    assert max(gaps) < 0.5


def test_rate_limit_mid_run_defers_without_false_events(monitor: Monitor, world: World) -> None:
    """A budget spent mid-run defers the rest to the next run without one event for them."""
    world.set_budget("core", remaining=5)
    code, day1 = monitor.check("2026-11-01T06:00:00Z", token=False)
    assert code == 0
    run = day1["runs"][0]
    assert run["deferred"] > 0
    checked_github = [s for s in day1["sources"] if "github.com" in s["url"]]
    assert len(checked_github) < 8
    assert set(events(day1)) == {"added"}
    assert all(s["health"] == "ok" for s in day1["sources"])
    world.set_budget("core", remaining=60)
    code, day2 = monitor.check("2026-11-02T06:00:00Z", token=False)
    assert set(events(day2, "2026-11-02")) == {"added"}
    assert len(day1["sources"]) + events(day2, "2026-11-02")["added"] == 14


def test_tokens_only_reach_their_own_hosts(monitor: Monitor, world: World) -> None:
    """Each token reaches only its own service, and is neither stored nor reported."""
    world.hf_delete("banana-dev/GPTrillion")
    monitor.check("2026-11-01T06:00:00Z")
    for request in world.requests():
        sent = " ".join(v for _, v in request.headers)
        assert (GITHUB_TOKEN in sent) == (request.service == "github"), request
        assert (HF_TOKEN in sent) == (request.service == "hf"), request
    stored = monitor.database.read_bytes() + b"".join(
        p.read_bytes() for p in monitor.tmp.glob("monitor.db*")
    )
    written = b"".join(p.read_bytes() for p in monitor.reports.iterdir())
    for token in (GITHUB_TOKEN, HF_TOKEN):
        assert token.encode() not in stored and token.encode() not in written


def test_malformed_catalog_exits_2_and_leaves_the_store_alone(monitor: Monitor) -> None:
    """A broken catalog: exit 2, an error with its line, the store file byte-for-byte unchanged."""
    monitor.check("2026-11-01T06:00:00Z")
    before = monitor.database.read_bytes()
    reports_before = sorted(p.name for p in monitor.reports.iterdir())
    broken = CATALOG + '\n[[source]]\nurl = "nope"\n'
    monitor.catalog.write_text(broken)
    result = CliRunner().invoke(main, ["check", "--now", "2026-11-02T06:00:00Z"])
    assert result.exit_code == 2
    line = broken.splitlines().index('url = "nope"') + 1
    assert "unparseable url" in result.output and f"sources.toml:{line}:" in result.output
    assert monitor.database.read_bytes() == before
    assert sorted(p.name for p in monitor.reports.iterdir()) == reports_before


def test_markdown_report_reads_in_order(monitor: Monitor, world: World) -> None:
    """The report reads: needs action (renames with new URLs), activity, not ok, runs."""
    monitor.check("2026-11-01T06:00:00Z")
    world.rename("Significant-Gravitas/Auto-GPT", "AutoGPT")
    world.star("a/busy", 90)
    world.star("tatsu-lab/stanford_alpaca", 180)
    world.delete("a/gone")
    monitor.check("2026-11-02T06:00:00Z")
    text = (monitor.reports / "2026-11-02.md").read_text()
    order = [
        text.index(h)
        for h in (
            "## Needs action",
            "### Renamed (renamed, 1)",
            "## Activity",
            "### Star movers (stars_changed, 2)",
            "## Not ok (1)",
            "### Suspects (suspect, 1)",
            "## Runs",
        )
    ]
    assert order == sorted(order)
    assert "<https://github.com/Significant-Gravitas/AutoGPT>" in text
    movers = text[text.index("### Star movers") : text.index("## Not ok")]
    assert movers.index("stanford_alpaca") < movers.index("a/busy")  # +80 before -10
    assert "| +80 |" in movers and "| -10 |" in movers
    assert "https://github.com/a/gone" in text[text.index("### Suspects (suspect, 1)") :]


def test_check_on_postgresql(
    tmp_path: Path,
    world: World,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: Any,
) -> None:
    """The same run works with MONITOR_DATABASE_URL pointing at PostgreSQL."""
    import sqlalchemy as sa

    build_world(world)
    admin = sa.create_engine(postgres_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(sa.text('CREATE DATABASE "monitor_e2e"'))
    try:
        monitor = Monitor(
            tmp_path,
            emulator,
            monkeypatch,
            CATALOG,
            database_url=postgres_server.database_url("monitor_e2e"),
        )
        assert monitor.check("2026-11-01T06:00:00Z")[0] == 0
        world.delete("a/gone")
        monitor.check("2026-11-02T06:00:00Z")
        code, day3 = monitor.check("2026-11-03T07:00:00Z")
        assert code == 1 and events(day3) == {"deleted": 1}
    finally:
        with admin.connect() as db:
            db.execute(sa.text('DROP DATABASE IF EXISTS "monitor_e2e" WITH (FORCE)'))
        admin.dispose()


def test_kill_9_mid_run_then_rerun(tmp_path: Path, world: World, emulator: Emulator) -> None:
    """A run killed mid-way leaves a consistent store; the rerun loses and repeats nothing."""
    names = [f"org{i}/repo{i}" for i in range(120)]
    for name in names:
        world.add_repo(name, stars=1, last_commit="2026-10-01T00:00:00Z")
    catalog = tmp_path / "sources.toml"
    catalog.write_text("".join(f'[[source]]\nurl = "https://github.com/{n}"\n\n' for n in names))
    database = tmp_path / "monitor.db"
    env = {
        **os.environ,
        **emulator.environment(),
        "MONITOR_CATALOG": str(catalog),
        "MONITOR_DATABASE_URL": f"sqlite:///{database}",
        "MONITOR_REPORTS_DIR": str(tmp_path / "reports"),
    }
    # A long run: every repository costs two REST requests of 30 ms, and the budget allows all.
    world.github_limits["core"] = (5000, 5000)
    world.set_latency(0.03, "github")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "check", "--now", "2026-11-01T06:00:00Z"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and stored == 0:
        time.sleep(0.2)
        if database.exists():
            try:
                with sqlite3.connect(database) as db:
                    stored = db.execute("select count(*) from observations").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert 0 < stored < 120, f"the kill came too late or too early ({stored} stored)"
    world.set_latency(0.0, "github")
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "check", "--now", "2026-11-01T07:30:00Z"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(database) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        statuses = [r[0] for r in db.execute("select status from runs order by id")]
        assert statuses == ["interrupted", "completed"]
        checked = {r[0] for r in db.execute("select distinct source_id from observations")}
        assert len(checked) == 120
        added = db.execute(
            "select source_id, count(*) from events where event = 'added' group by source_id"
        ).fetchall()
        assert len(added) == 120 and all(count == 1 for _, count in added)


def test_status_lists_every_source(monitor: Monitor, world: World) -> None:
    """`monitor status` shows each source's health and the last run; --json for scripts."""
    world.delete("a/gone")
    monitor.check("2026-11-01T06:00:00Z")
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["last_run"]["status"] == "completed"
    health = {s["url"]: s["health"] for s in data["sources"]}
    assert len(health) == 14 and health["https://github.com/a/gone"] == "suspect"
    plain = CliRunner().invoke(main, ["status"])
    assert "Last run: #1" in plain.output and "suspect\tgithub_repo" in plain.output


def test_unreachable_store_exits_3_without_a_trace(
    monitor: Monitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unopenable store: exit 3, the reason, the password hidden, no traceback."""
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql+psycopg://u:hunter2@127.0.0.1:1/x")
    result = CliRunner().invoke(main, ["check", "--now", "2026-11-01T06:00:00Z"])
    assert result.exit_code == 3
    assert "cannot open the store" in result.output and "hunter2" not in result.output
    assert "Traceback" not in result.output


def test_whole_catalog_against_the_seeded_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The committed sources.toml polls cleanly against a world seeded from it; twice."""
    from datetime import UTC, datetime

    from monitor.catalog.file import load_catalog
    from monitor.emulator.scenario import seed_world

    catalog = load_catalog(ROOT / "sources.toml")
    seeded = seed_world(catalog.entries, datetime(2026, 11, 21, tzinfo=UTC))
    with Emulator(seeded.world) as emulator:
        monitor = Monitor(tmp_path, emulator, monkeypatch, (ROOT / "sources.toml").read_text())
        code, first = monitor.check("2026-11-21T06:00:00Z")
        github = sum(1 for e in catalog.entries if e.kind.value.startswith("github_"))
        assert first["runs"][0]["requests"]["github"] == -(-github // 100)
        assert first["runs"][0]["requests"]["arxiv"] == 1
        assert first["runs"][0]["sources_checked"] == len(catalog.entries)
        assert first["runs"][0]["errors"] == []
        health = Counter(s["health"] for s in first["sources"])
        # Every entry is healthy in the seeded world, except the one that cannot exist.
        assert health == {"ok": len(first["sources"]) - 1, "suspect": 1}
        assert (first["states"]["ok"], first["states"]["suspect"]) == (health["ok"], 1)
        assert code == 0
        text = (monitor.reports / "2026-11-21.md").read_text()
        assert text.startswith("# monitor report: 2026-11-21")
        _, second = monitor.check("2026-11-21T12:00:00Z")
        assert events(second, "2026-11-21T12") == {}
