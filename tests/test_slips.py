"""Operator slips cost nothing: wrong folders, missing stores, a busy store, clock slips."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.catalog.kinds import identify
from monitor.cli import main
from monitor.emulator import AlertReceiver, Emulator, World
from monitor.model import Entry
from monitor.store import Store
from monitor.store.lock import writer_lock
from tests.conftest import ROOT
from tests.harness import Monitor

CATALOG = """
[[source]]
url = "https://github.com/slip/one"

[[source]]
url = "https://github.com/slip/two"

[[source]]
url = "https://example.org/page"
"""
DAY1 = "2026-11-01T06:00:00Z"
DAY2 = "2026-11-02T06:00:00Z"


@pytest.fixture
def monitor(
    tmp_path: Path, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Monitor:
    world.add_repo("slip/one", stars=1, last_commit="2026-10-01T00:00:00Z")
    world.add_repo("slip/two", stars=2, last_commit="2026-10-01T00:00:00Z")
    world.set_page("https://example.org/page", "ok")
    return Monitor(tmp_path, emulator, monkeypatch, CATALOG)


def digest_of(*paths: Path) -> str:
    """One fingerprint of the bytes of files (and of every file under folders)."""
    found = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                found.update(str(file).encode() + file.read_bytes())
    return found.hexdigest()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_commands_that_read_the_store_need_no_catalog(
    monitor: Monitor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """status, digest, alerts test and catalog fix DOCUMENT work where no catalog exists."""
    assert monitor.check(DAY1)[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("MONITOR_CATALOG")
    code, output = invoke("status")
    assert code == 0 and "3 sources: 3 ok" in output, output
    code, output = invoke("digest", "--week", "2026-W44")
    assert code == 0 and "2026-W44" in output, output
    document = elsewhere / "README.md"
    document.write_text("- [one](https://github.com/slip/one)\n")
    code, output = invoke("catalog", "fix", str(document), "--dry-run")
    assert code == 0 and "0 moved source(s) known" in output, output
    with AlertReceiver() as receiver:
        monkeypatch.setenv("MONITOR_ALERT_URLS", receiver.url)
        code, output = invoke("alerts", "test")
        assert code == 0 and len(receiver.messages) == 1, output
    assert not (elsewhere / "sources.toml").exists()


def test_reading_commands_never_create_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mistyped MONITOR_DATABASE_URL: status, digest and fix say there is no store, exit 2."""
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "typo" / "monitr.db"
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{missing}")
    document = tmp_path / "README.md"
    document.write_text("- [one](https://github.com/slip/one)\n")
    for args in (["status"], ["status", "--json"], ["digest"], ["catalog", "fix", str(document)]):
        code, output = invoke(*args)
        assert code == 2, (args, output)
        assert f"there is no store at sqlite:///{missing}" in output
        assert "Traceback" not in output
    assert not missing.exists() and not missing.parent.exists()


def test_check_says_it_created_a_store_and_warns_of_strangers(
    monitor: Monitor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A run that creates the store says so, and warns when the reports come from another one."""
    assert monitor.check(DAY1)[0] == 0
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{tmp_path / 'typo.db'}")
    code, output = invoke("check", "--now", DAY2)
    assert code == 0, output
    assert f"Created a new store at sqlite:///{tmp_path / 'typo.db'}." in output
    assert "already holds 1 day report(s) that this new store knows nothing about" in output
    code, output = invoke("check", "--now", "2026-11-02T08:00:00Z")
    assert "Created a new store" not in output and "knows nothing" not in output


def test_a_busy_store_is_exit_4_at_once_and_names_the_holder(
    monitor: Monitor, tmp_path: Path
) -> None:
    """A second writer exits 4 within seconds, naming the holder, and changes nothing."""
    assert monitor.check(DAY1)[0] == 0
    store = Store.connect(monitor.env["MONITOR_DATABASE_URL"])
    before = digest_of(monitor.database, monitor.reports)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with writer_lock(store, role="monitor daemon"):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "check", "--now", DAY2],
            cwd=ROOT,
            env={**os.environ, **monitor.env},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert time.monotonic() - started < 15
    finally:
        release.set()
        holder.join()
        store.close()
    assert done.returncode == 4, done.stdout + done.stderr
    assert "another monitor is writing this store (monitor daemon, pid" in done.stderr
    assert digest_of(monitor.database, monitor.reports) == before


def test_a_far_future_now_cannot_silence_later_runs(monitor: Monitor) -> None:
    """After one run with --now 9999-12-31, a run on the real clock still checks everything."""
    code, output = invoke("check", "--now", "9999-12-31T23:59:59Z")
    assert code == 0 and "Checked 3 source(s)" in output, output
    code, output = invoke("check", "--now", DAY1)
    assert code == 0 and "Checked 3 source(s)" in output, output


def test_an_empty_catalog_is_refused_and_retires_nothing(monitor: Monitor) -> None:
    """An empty catalog: exit 2, a clear message, the store and reports byte-identical."""
    assert monitor.check(DAY1)[0] == 0
    monitor.catalog.write_text("# everything was deleted by mistake\n")
    before = digest_of(monitor.database, monitor.reports)
    code, output = invoke("check", "--now", DAY2)
    assert code == 2
    assert "the catalog has no entries: checking it would retire every stored source" in output
    assert "--allow-empty" in output
    assert digest_of(monitor.database, monitor.reports) == before
    code, output = invoke("check", "--now", DAY2, "--allow-empty")
    assert code == 0 and "Checked 0 source(s)" in output
    store = Store.connect(monitor.env["MONITOR_DATABASE_URL"])
    assert store.sources() == [] and len(store.sources(active_only=False)) == 3
    store.close()


def test_reports_that_cannot_be_written_stop_the_run_before_it_starts(
    monitor: Monitor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A reports folder that is a file: exit 2 before anything is stored, not a trace after."""
    assert monitor.check(DAY1)[0] == 0
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("MONITOR_REPORTS_DIR", str(blocker / "reports"))
    before = digest_of(monitor.database)
    code, output = invoke("check", "--now", DAY2)
    assert code == 2, output
    assert f"reports cannot be written to {blocker / 'reports'}" in output
    assert "Traceback" not in output
    assert digest_of(monitor.database) == before
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{blocker}/monitor.db")
    monkeypatch.setenv("MONITOR_REPORTS_DIR", str(tmp_path / "reports"))
    code, output = invoke("check", "--now", DAY2)
    assert code == 2 and f"the store {blocker}/monitor.db cannot be written" in output


def test_catalog_check_validates_what_check_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alert URLs, IPv6 hosts and raw spaces: catalog check and check agree, line by line."""
    catalog = tmp_path / "sources.toml"
    catalog.write_text(
        '[[source]]\nurl = "http://[::1]:8080/status"\n\n'
        '[[source]]\nurl = "https://github.com/OpenLM Lab/MOSS"\n\n'
        '[alerts]\nurls = ["foo://bar"]\n'
    )
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{tmp_path / 'monitor.db'}")
    code, checked = invoke("catalog", "check", str(catalog))
    assert code == 2
    assert f"{catalog}:5: url 'https://github.com/OpenLM Lab/MOSS' contains a space" in checked
    assert "write it as %20" in checked
    assert "alert URL #1 is not understood by Apprise" in checked
    assert "[::1]" not in checked
    code, ran = invoke("check", "--catalog", str(catalog), "--now", DAY1)
    assert code == 2 and ran == checked
    assert not (tmp_path / "monitor.db").exists()


def test_a_run_made_with_now_never_finishes_before_it_began(monitor: Monitor) -> None:
    """status --json: a run made with --now has finished_at on the same clock, after at."""
    assert monitor.check(DAY1)[0] == 0
    code, output = invoke("status", "--json")
    run = json.loads(output)["last_run"]
    assert code == 0 and run["at"] <= run["finished_at"] < "2026-11-01T06:10"


def test_output_piped_into_head_ends_quietly(monitor: Monitor) -> None:
    """`monitor status | head -1` on a long listing: exit 0, no trace, no error."""
    store = Store.connect(monitor.env["MONITOR_DATABASE_URL"])
    entries = []
    for i in range(3000):
        resource = identify(f"https://example.org/a-rather-long-path/to/page/number/{i}")
        entries.append(Entry(resource.url, resource.kind, resource.key, name=f"page {i}"))
    store.sync_catalog(entries, datetime.now(UTC))
    store.close()
    done = subprocess.run(
        f"{sys.executable} -m monitor status | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        cwd=monitor.tmp,
        env={**os.environ, **monitor.env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout.startswith("No run yet")
