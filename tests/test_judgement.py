"""The maintainer's judgement as data, and the catalog kept from the list's own documents."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.emulator import AlertReceiver, Emulator, World
from tests.harness import Monitor


def day(n: int) -> str:
    return f"2026-11-{n:02d}T06:00:00Z"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def sent(receiver: AlertReceiver) -> list[str]:
    """Every alert line the webhook got, in order."""
    return [line for m in receiver.messages for line in m.body.splitlines()]


def test_judgement_fields_are_validated_with_their_lines(tmp_path: Path) -> None:
    """Wrong judgement values: each reported on its line, with how to write it."""
    catalog = tmp_path / "sources.toml"
    catalog.write_text(
        '[catalog]\ndocuments = "README.md"\nexclude = ["("]\n\n'
        '[policy.hosts."linkedin.com"]\naccept = ["999"]\n\n'
        '[[source]]\nurl = "https://github.com/a/b"\nsnooze_until = "2027-01-31"\n'
        'maintenance = "done"\naccept = [999, 1000]\nignore = "yes"\n'
    )
    code, output = invoke("catalog", "check", str(catalog))
    assert code == 2
    for expected in (
        ":2: [catalog] documents must be a list of strings",
        ":3: [catalog] exclude '(' is not a regular expression",
        ":6: [policy.hosts.\"linkedin.com\"] accept = ['999'] must be a list of HTTP statuses",
        ":10: snooze_until = '2027-01-31' is not a date (write a TOML date without quotes",
        ":11: maintenance = 'done' is not known",
        ":12: accept = [999, 1000] must be a list of HTTP statuses",
        ":13: ignore must be true or false",
    ):
        assert expected in output, expected


@pytest.fixture
def receiver() -> AlertReceiver:
    with AlertReceiver() as running:
        yield running  # type: ignore[misc]


def judged(
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    catalog: str,
    receiver: AlertReceiver,
) -> Monitor:
    monitor = Monitor(tmp_path, emulator, monkeypatch, catalog)
    monkeypatch.setenv("MONITOR_ALERT_URLS", receiver.url)
    monkeypatch.setenv("MONITOR_PROBES_WEB_RETRY_BACKOFF_MS", "0")
    return monitor


def test_an_ignored_dead_page_is_never_requested_nor_reported(
    tmp_path: Path,
    world: World,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    receiver: AlertReceiver,
) -> None:
    """ignore = true: never requested, never in a report or an alert; status says ignored."""
    world.set_page("https://example.org/kept", "ok")
    world.set_page("https://example.org/ignored", 404)
    monitor = judged(
        tmp_path,
        emulator,
        monkeypatch,
        '[[source]]\nurl = "https://example.org/kept"\n\n'
        '[[source]]\nurl = "https://example.org/ignored"\nignore = true\n',
        receiver,
    )
    for n in range(1, 6):
        monitor.check(day(n))
    assert not [r for r in world.requests("web") if r.path == "/ignored"]
    for n in range(1, 6):
        text = (monitor.reports / f"2026-11-{n:02d}.md").read_text()
        assert "ignored" not in text and "example.org/ignored" not in text
    assert sent(receiver) == []
    code, output = invoke("status")
    assert code == 0
    assert "2 sources: 1 ignored, 1 ok" in output
    code, output = invoke("status", "--json")
    rows = {r["url"]: r for r in json.loads(output)["sources"]}
    assert rows["https://example.org/ignored"]["judgement"] == "ignored"


def test_a_snoozed_death_is_alerted_only_after_its_date(
    tmp_path: Path,
    world: World,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    receiver: AlertReceiver,
) -> None:
    """snooze_until: the death is recorded and reported as snoozed, alerted once after it."""
    world.set_page("https://example.org/dying", "ok")
    monitor = judged(
        tmp_path,
        emulator,
        monkeypatch,
        '[[source]]\nurl = "https://example.org/dying"\nsnooze_until = 2026-11-08\n',
        receiver,
    )
    monitor.check(day(1))
    world.set_page("https://example.org/dying", 404)
    codes = [monitor.check(day(n))[0] for n in range(2, 8)]
    assert codes == [0] * 6 and sent(receiver) == []
    report = monitor.report("2026-11-04")
    (dead,) = [e for e in report["events"] if e["event"] == "dead"]
    assert dead["alert"] is False and dead["snoozed"] is True
    text = (monitor.reports / "2026-11-04.md").read_text()
    assert "## Snoozed (dead, 1)" in text
    assert "Nothing needs action." in text
    code, report = monitor.check(day(8))
    assert code == 1
    (alert,) = [e for e in report["events"] if e["alert"]]
    assert alert["event"] == "dead" and "held while snoozed until 2026-11-08" in alert["detail"]
    assert [line.split(":")[0] for line in sent(receiver)] == ["dead"]
    assert monitor.check(day(9))[0] == 0 and len(sent(receiver)) == 1


def test_a_finished_repo_never_goes_stale_but_its_deletion_is_alerted(
    tmp_path: Path,
    world: World,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    receiver: AlertReceiver,
) -> None:
    """maintenance = "finished": no stale, ever; a deletion is still alerted."""
    world.add_repo("done/tool", stars=5, last_commit="2023-01-01T00:00:00Z")
    world.add_repo("old/tool", stars=5, last_commit="2023-01-01T00:00:00Z")
    monitor = judged(
        tmp_path,
        emulator,
        monkeypatch,
        '[[source]]\nurl = "https://github.com/done/tool"\nmaintenance = "finished"\n\n'
        '[[source]]\nurl = "https://github.com/old/tool"\n',
        receiver,
    )
    _, first = monitor.check(day(1))
    stale = [e["url"] for e in first["events"] if e["event"] == "stale"]
    assert stale == ["https://github.com/old/tool"]
    world.delete("done/tool")
    monitor.check(day(2))
    code, third = monitor.check(day(3))
    assert code == 1
    assert [e["event"] for e in third["events"] if e["alert"]] == ["deleted"]
    code, output = invoke("status")
    assert "finished" in output


def test_accepted_answers_count_as_alive(
    tmp_path: Path,
    world: World,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    receiver: AlertReceiver,
) -> None:
    """A 999 on an accepted host, a 403 a source accepts: alive, never unverifiable."""
    world.set_page("https://www.linkedin.com/in/someone", 999)
    world.set_page("https://walled.example.org/", 403)
    world.set_page("https://other.example.org/", 999)
    monitor = judged(
        tmp_path,
        emulator,
        monkeypatch,
        '[policy.hosts."linkedin.com"]\naccept = [999]\n\n'
        '[[source]]\nurl = "https://www.linkedin.com/in/someone"\n\n'
        '[[source]]\nurl = "https://walled.example.org/"\naccept = [403]\n\n'
        '[[source]]\nurl = "https://other.example.org/"\n',
        receiver,
    )
    for n in range(1, 6):
        monitor.check(day(n))
    health = monitor.health("2026-11-05")
    assert health["https://www.linkedin.com/in/someone"] == "ok"
    assert health["https://walled.example.org/"] == "ok"
    assert health["https://other.example.org/"] == "unverifiable"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def test_the_catalog_follows_its_readme(
    tmp_path: Path, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """catalog import README.md, then checks: links that join, retire and come back."""
    for name in ("one", "two", "three"):
        world.add_repo(f"list/{name}", stars=1, last_commit="2026-10-01T00:00:00Z")
    readme = tmp_path / "README.md"
    readme.write_text(
        "# My list\n\n- [One](https://github.com/list/one)\n- [Two](https://github.com/list/two)\n"
    )
    monitor = Monitor(tmp_path, emulator, monkeypatch, "")
    monitor.catalog.unlink()
    monkeypatch.chdir(tmp_path)
    code, output = invoke("catalog", "import", "README.md")
    assert code == 0 and "[catalog] documents now lists README.md" in output
    assert 'documents = ["README.md"]' in monitor.catalog.read_text()
    _, first = monitor.check(day(1))
    assert sorted(e["url"] for e in first["events"]) == [
        "https://github.com/list/one",
        "https://github.com/list/two",
    ]
    # The maintainer edits the README: two goes, three comes.
    readme.write_text(
        "# My list\n\n- [One](https://github.com/list/one)\n"
        "- [Three](https://github.com/list/three)\n"
    )
    _, second = monitor.check(day(2))
    assert [e["url"] for e in second["events"] if e["event"] == "added"] == [
        "https://github.com/list/three"
    ]
    code, output = invoke("status", "--json")
    urls = {r["url"] for r in json.loads(output)["sources"]}
    assert urls == {"https://github.com/list/one", "https://github.com/list/three"}
    assert "https://github.com/list/two" in monitor.catalog.read_text()  # kept, retired
    # Two comes back: the same source, its history kept, not added twice.
    readme.write_text(readme.read_text() + "- [Two again](https://github.com/list/two)\n")
    _, third = monitor.check(day(3))
    assert [e for e in third["events"] if e["event"] == "added"] == []
    code, output = invoke("status", "--json")
    assert len(json.loads(output)["sources"]) == 3
    # A document that cannot be read: exit 2, nothing changed.
    readme.unlink()
    before = (digest(monitor.catalog), digest(monitor.database))
    code, output = invoke("check", "--now", day(4))
    assert code == 2 and "README.md" in output
    assert (digest(monitor.catalog), digest(monitor.database)) == before


def test_excluded_links_are_not_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """[catalog] exclude: matching links never join the catalog."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sources.toml").write_text('[catalog]\nexclude = ["^https://example\\\\.org/"]\n')
    (tmp_path / "README.md").write_text(
        "- [a](https://example.org/x)\n- [b](https://github.com/o/r)\n"
    )
    code, output = invoke("catalog", "import", "README.md")
    assert code == 0 and "1 links matched [catalog] exclude" in output
    text = (tmp_path / "sources.toml").read_text()
    assert "github.com/o/r" in text and "example.org/x" not in text
