"""`monitor catalog fix`: renamed and redirected URLs replaced in the catalog or in a document."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.catalog.fix import Move, fix_catalog, fix_document, relocations
from monitor.catalog.kinds import identify
from monitor.cli import main
from monitor.emulator import Emulator, World
from monitor.model import Facts, Health, Kind, SourceState
from monitor.store import StoredSource
from tests.harness import Monitor, events

OLD = "https://github.com/Significant-Gravitas/Auto-GPT"
NEW = "https://github.com/Significant-Gravitas/AutoGPT"


def stored(url: str, state: SourceState) -> StoredSource:
    resource = identify(url)
    return StoredSource(1, resource.key, url, resource.kind, "name", "", state)


def test_relocations_come_from_what_the_store_learnt() -> None:
    """Renamed repos and permanent redirects move; unhealthy or same-resource answers do not."""
    moves = relocations(
        [
            stored(OLD, SourceState(Health.OK, Facts(url=NEW))),
            stored(
                "https://old.example/a",
                SourceState(Health.OK, redirected_to="https://new.example/a"),
            ),
            stored(
                "https://github.com/thudm/chatglm-6b",
                SourceState(Health.OK, Facts(url="https://github.com/THUDM/ChatGLM-6B")),
            ),
            stored("https://github.com/a/gone", SourceState(Health.DELETED, Facts(url=NEW))),
            stored(
                "https://arxiv.org/abs/2106.09685v1",
                SourceState(Health.OK, Facts(url="https://arxiv.org/abs/2106.09685")),
            ),
        ]
    )
    assert {m.old_url: m.new_url for m in moves.values()} == {
        OLD: NEW,
        "https://old.example/a": "https://new.example/a",
    }


def test_fix_catalog_keeps_history_and_comments() -> None:
    """The new URL replaces the old, which is kept in previous_urls; comments and others stay."""
    text = (
        f'# my list\n[[source]]\nurl = "{OLD}"  # the agent\nname = "Auto-GPT"\n\n'
        '[[source]]\nurl = "https://github.com/a/b"\n'
    )
    move = Move(identify(OLD).key, OLD, NEW, "Auto-GPT")
    fixed, applied = fix_catalog(text, {move.key: move})
    assert applied == [move]
    assert fixed.startswith("# my list\n")
    assert f'url = "{NEW}"' in fixed and f'previous_urls = ["{OLD}"]' in fixed
    assert 'url = "https://github.com/a/b"' in fixed
    again, _ = fix_catalog(fixed, {move.key: move})
    assert again == fixed


def test_fix_document_rewrites_links_in_place() -> None:
    """Markdown links, bare URLs and reference definitions are rewritten; longer URLs are not."""
    text = (
        f"# List\n\n- [Auto-GPT]({OLD}) and {OLD}/ again\n"
        f"- [similar](https://github.com/Significant-Gravitas/Auto-GPT-Plugins)\n\n[ref]: {OLD}\n"
    )
    move = Move(identify(OLD).key, OLD, NEW, "Auto-GPT")
    fixed, applied = fix_document(text, "list.md", {move.key: move})
    assert len(applied) == 3
    assert fixed.count(NEW) == 3
    assert "https://github.com/Significant-Gravitas/Auto-GPT-Plugins" in fixed


@pytest.fixture
def monitored(
    tmp_path: Path, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Monitor:
    world.add_repo("Significant-Gravitas/Auto-GPT")
    world.rename("Significant-Gravitas/Auto-GPT", "AutoGPT")
    world.set_page(
        "https://old.example/post",
        "redirect",
        redirect_status=301,
        location="https://new.example/post",
    )
    world.set_page("https://new.example/post", "ok")
    catalog = f'[[source]]\nurl = "{OLD}"\n\n[[source]]\nurl = "https://old.example/post"\n'
    return Monitor(tmp_path, emulator, monkeypatch, catalog)


def test_catalog_fix_end_to_end(monitored: Monitor) -> None:
    """After a check, fix rewrites the catalog (dry run first); the next check keeps the history."""
    monitored.check("2026-11-01T06:00:00Z")
    before = monitored.catalog.read_text()
    dry = CliRunner().invoke(main, ["catalog", "fix", "--dry-run"])
    assert dry.exit_code == 0
    assert f'-url = "{OLD}"' in dry.output and f'+url = "{NEW}"' in dry.output
    assert monitored.catalog.read_text() == before
    done = CliRunner().invoke(main, ["catalog", "fix"])
    assert done.exit_code == 0 and "1 file(s) changed" in done.output
    text = monitored.catalog.read_text()
    assert f'url = "{NEW}"' in text and 'url = "https://new.example/post"' in text
    _, report = monitored.check("2026-11-02T06:00:00Z")
    assert events(report, "2026-11-02") == {}  # same sources, same history, nothing new


def test_fix_a_document(monitored: Monitor, tmp_path: Path) -> None:
    """Given a markdown document, fix rewrites its links instead of the catalog."""
    monitored.check("2026-11-01T06:00:00Z")
    document = tmp_path / "README.md"
    document.write_text(f"- [Auto-GPT]({OLD})\n- <https://old.example/post>\n")
    result = CliRunner().invoke(main, ["catalog", "fix", str(document)])
    assert result.exit_code == 0
    assert document.read_text() == f"- [Auto-GPT]({NEW})\n- <https://new.example/post>\n"
    assert OLD in monitored.catalog.read_text()


def test_kind_of_moves() -> None:
    """A moved path keeps its kind: the new URL of a path is a path."""
    path = "https://github.com/lm-sys/FastChat/tree/main/fastchat/eval"
    moved = "https://github.com/lmsys/FastChat/tree/main/fastchat/eval"
    (move,) = relocations([stored(path, SourceState(Health.OK, Facts(url=moved)))]).values()
    assert identify(move.new_url).kind is Kind.GITHUB_PATH and move.new_url == moved
