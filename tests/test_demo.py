"""`monitor demo`: the offline tour runs, tells the mission's story, and writes what it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from tests.conftest import ROOT

NOW = "2026-11-21T10:00:00Z"  # the demo's week is the one before: 2026-W46


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One run of the demo (it takes ~15 s), shared by the tests: from an empty directory,
    outside the repository, on the catalog that ships with the package."""
    work = tmp_path_factory.mktemp("demo")
    out = work / "out"
    here = Path.cwd()
    os.chdir(work)
    try:
        result = CliRunner().invoke(main, ["demo", "--dir", str(out), "--now", NOW])
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.output
    return result.output, out


def test_the_packaged_catalog_is_the_repositorys(tour: tuple[str, Path]) -> None:
    """The catalog the demo ships with holds exactly the committed catalog's entries."""
    import tomllib

    packaged = tomllib.loads((ROOT / "monitor" / "demo_catalog.toml").read_text())
    committed = tomllib.loads((ROOT / "sources.toml").read_text())
    assert [e["url"] for e in packaged["source"]] == [e["url"] for e in committed["source"]]


def test_the_look_around_hint_runs_as_printed(tour: tuple[str, Path], tmp_path: Path) -> None:
    """The printed `MONITOR_DATABASE_URL=… monitor status` works from anywhere, as printed."""
    output, _ = tour
    (hint,) = [line for line in output.splitlines() if line.startswith("Look around:")]
    command = hint.removeprefix("Look around:").strip()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Last run:" in done.stdout and " sources: " in done.stdout


def test_a_refused_directory_writes_nothing_and_says_so(tmp_path: Path) -> None:
    """--dir naming a folder with someone else's files: exit 2, and no "written to"."""
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path), "--now", NOW])
    assert result.exit_code == 2
    assert "written to" not in result.output and "is not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_demo_tells_the_story_day_by_day(tour: tuple[str, Path]) -> None:
    """Each simulated morning is one line; the overnight changes and the alerts are told."""
    output, out = tour
    assert output.startswith(f"monitor demo: a simulated week from 2026-11-09, written to {out}")
    days = [line for line in output.splitlines() if line.endswith("UTC") or " UTC  " in line]
    assert [d[:14] for d in days] == [
        f"{day} 2026-11-{n:02d}"
        for day, n in zip(
            ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), range(9, 16), strict=True
        )
    ]
    assert "banana-dev/GPTrillion deleted from the Hub" in output
    assert "Significant-Gravitas/Auto-GPT renamed to AutoGPT" in output
    assert "alert sent: monitor: 2 alerts — 1 deleted, 1 renamed" in output


def test_the_demo_raises_every_kind_of_change(tour: tuple[str, Path]) -> None:
    """The daily reports hold a deletion, a rename, a licence change, a dead link and more."""
    _, out = tour
    seen: dict[str, set[str]] = {}
    for path in sorted((out / "reports").glob("2026-11-*.json")):
        for event in json.loads(path.read_text())["events"]:
            seen.setdefault(event["event"], set()).add(event["url"])
    assert "https://huggingface.co/banana-dev/GPTrillion" in seen["deleted"]
    assert "https://github.com/Significant-Gravitas/Auto-GPT" in seen["renamed"]
    assert "https://github.com/lvwerra/trl" in seen["renamed"]
    assert "https://huggingface.co/tiiuae/falcon-180B" in seen["license_changed"]
    for kind in ("dead", "archived", "blocked", "recovered", "new_version", "stars_changed"):
        assert seen.get(kind), kind
    assert len(list((out / "reports").glob("2026-11-*.md"))) == 7


def test_the_demo_writes_the_weeks_digest_with_its_chart(tour: tuple[str, Path]) -> None:
    """The digest of the simulated week is written, linking its star chart."""
    output, out = tour
    weekly = out / "reports" / "weekly"
    digest = (weekly / "2026-W46.md").read_text()
    assert f"Weekly digest:  {weekly / '2026-W46.md'}" in output
    assert "GPTrillion" in digest and "](2026-W46.svg)" in digest
    assert (weekly / "2026-W46.svg").read_text().lstrip().startswith("<?xml")
    assert json.loads((weekly / "2026-W46.json").read_text())["week"] == "2026-W46"


def test_the_demo_leaves_the_page_feed_badge_and_metrics(tour: tuple[str, Path]) -> None:
    """The week ends with the four files every run leaves, and the page's path is printed."""
    output, out = tour
    reports = out / "reports"
    assert f"Status page:    {reports / 'index.html'}" in output
    page = (reports / "index.html").read_text()
    assert page.count("<tr data-state=") == 223 and 'data-state="deleted"' in page
    assert "<entry>" in (reports / "feed.atom").read_text()
    assert json.loads((reports / "badge.json").read_text())["message"].endswith(" ok")
    assert "monitor_sources{state=" in (reports / "monitor.prom").read_text()


def test_the_demo_refuses_a_directory_that_is_not_its_own(tmp_path: Path) -> None:
    """A non-empty directory that no demo wrote is left alone: exit 2, nothing touched."""
    (tmp_path / "thesis.tex").write_text("precious")
    result = CliRunner().invoke(
        main, ["demo", "--dir", str(tmp_path), "--catalog", str(ROOT / "sources.toml")]
    )
    assert result.exit_code == 2 and "is not a previous demo's directory" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


def test_the_week_ends_in_the_lists_own_repository(tour: tuple[str, Path]) -> None:
    """The demo ends with the tracking issue's body and the repair pull request's diff."""
    output, out = tour
    assert "--- the tracking issue, opened (" in output
    assert "### Renamed (renamed, 2)" in output and "| README.md:" in output
    assert "--- the repair pull request, opened (" in output
    assert "+- [TRL](https://github.com/huggingface/trl)" in output
    assert '+previous_urls = ["https://github.com/lvwerra/trl"]' in output
    issue = (out / "github" / "tracking-issue.md").read_text()
    assert issue.startswith("<!-- monitor:tracking-issue -->")
    description = (out / "github" / "pull-request.md").read_text()
    assert "https://github.com/Significant-Gravitas/AutoGPT" in description
