"""`monitor catalog fix --pr`: one repair pull request in the list's repository, through
PyGithub against the emulator's git data, contents and pulls endpoints, and the Wayback
Machine's availability API for dead links."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from monitor.catalog.fix import Move
from monitor.catalog.kinds import identify
from monitor.cli import main
from monitor.emulator import Emulator, World
from monitor.github.files import blob_id, catalog_in_repository, document_paths
from monitor.github.repair_text import BRANCH, evidence
from monitor.github.wayback import Wayback
from monitor.model import Health, SourceState
from monitor.store import StoredSource
from tests.harness import GITHUB_TOKEN, Monitor

LIST = "keeper/awesome-llm"
OLD = "https://github.com/Significant-Gravitas/Auto-GPT"
NEW = "https://github.com/Significant-Gravitas/AutoGPT"
CHAT = "https://github.com/lm-sys/FastChat"
CHAT_NEW = "https://github.com/lmsys/FastChat"
POST, POST_NEW = "https://old.example/post", "https://new.example/post"
DEAD = "https://dead.example/page"
# Lines the fixes must leave exactly as they are: CJK, trailing spaces, tabs, CRLF, no final
# newline, and a longer URL that starts with a moved one.
README = (
    "# Awesome LLM · 精选\r\n\r\n"
    "Intro with trailing spaces   \n"
    "\tIndented\twith tabs\n\n"
    "| Project | Link |\n|---|---|\n"
    f"| Auto-GPT | [repo]({OLD}) |\n"
    f"| FastChat | <{CHAT}> |\n\n"
    f"- [plugins]({OLD}-Plugins) is another repository\n"
    f"- [A post]({POST}) — moved\n"
    f"- [Gone]({DEAD})\n"
    "\nno newline at the end"
)
CATALOG = (
    '[catalog]\ndocuments = ["README.md"]\n\n'
    + "".join(f'[[source]]\nurl = "{url}"\n\n' for url in (OLD, CHAT, POST, DEAD))
    + f'[[source]]\nurl = "{OLD}-Plugins"\n'
)


def fix(*args: str) -> Result:
    return CliRunner().invoke(main, ["catalog", "fix", "--pr", *args])


def writes(world: World) -> list[str]:
    return [f"{r.method} {r.path}" for r in world.requests("github") if r.method != "GET"]


def counted(world: World) -> Counter[str]:
    """Requests per service and method, e.g. {"github GET": 9, "github POST": 5}."""
    return Counter(f"{r.service} {r.method}" for r in world.requests())


@pytest.fixture
def listed(
    tmp_path: Path, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Monitor:
    """The list's repository (README.md and sources.toml on main), its links in the world,
    and monitor run from the checkout's root."""
    world.add_repo(LIST)
    world.commit_files(LIST, {"README.md": README, "sources.toml": CATALOG}, message="The list")
    world.add_repo("Significant-Gravitas/Auto-GPT")
    world.add_repo("Significant-Gravitas/Auto-GPT-Plugins")
    world.rename("Significant-Gravitas/Auto-GPT", "AutoGPT")
    world.add_repo("lm-sys/FastChat")
    world.set_page(POST, "redirect", redirect_status=301, location=POST_NEW)
    world.set_page(POST_NEW, "ok")
    world.set_page(DEAD, "ok")
    (tmp_path / "README.md").write_bytes(README.encode())
    monkeypatch.chdir(tmp_path)
    monitor = Monitor(tmp_path, emulator, monkeypatch, CATALOG)
    monkeypatch.setenv("MONITOR_GITHUB_REPO", LIST)
    monkeypatch.setenv("MONITOR_CATALOG", "sources.toml")
    return monitor


def test_pr_opened_then_left_alone_then_updated(listed: Monitor, world: World) -> None:
    """One PR after a rename; a rerun writes nothing; another rename: new commit, same PR."""
    listed.check("2026-11-01T06:00:00Z")
    world.reset_log()
    opened = fix()
    assert opened.exit_code == 0, opened.output
    assert "Opened pull request #" in opened.output
    first = counted(world)
    (pull,) = world.pulls_of(LIST)
    assert pull.state == "open" and pull.pull is not None and pull.pull.head == BRANCH
    assert writes(world) == [
        f"POST /repos/{LIST}/git/blobs",
        f"POST /repos/{LIST}/git/blobs",
        f"POST /repos/{LIST}/git/trees",
        f"POST /repos/{LIST}/git/commits",
        f"POST /repos/{LIST}/git/refs",
        f"POST /repos/{LIST}/pulls",
    ]
    files = world.files_of(LIST, BRANCH)
    assert files["README.md"] == README.replace(f"{OLD})", f"{NEW})").replace(POST, POST_NEW)
    assert f'url = "{NEW}"' in files["sources.toml"]
    assert f'previous_urls = ["{OLD}"]' in files["sources.toml"]
    assert world.files_of(LIST)["README.md"] == README  # main is untouched
    assert "renamed: `Significant-Gravitas/Auto-GPT` → `Significant-Gravitas/AutoGPT`" in (
        pull.body or ""
    )
    assert "README.md:8, sources.toml:5" in (pull.body or "") and "permanent redirect" in (
        pull.body or ""
    )
    head = world.branch_head(LIST, BRANCH)

    world.reset_log()
    again = fix()
    assert again.exit_code == 0, again.output
    assert "is up to date" in again.output
    assert writes(world) == []
    second = counted(world)
    assert world.branch_head(LIST, BRANCH) == head

    world.rename("lm-sys/FastChat", "lmsys/FastChat")
    listed.check("2026-11-02T06:00:00Z")
    world.reset_log()
    updated = fix()
    assert updated.exit_code == 0, updated.output
    assert f"Updated pull request #{pull.number}" in updated.output
    (same,) = world.pulls_of(LIST)
    assert same.number == pull.number and same.state == "open"
    assert world.branch_head(LIST, BRANCH) != head
    assert f"<{CHAT_NEW}>" in world.files_of(LIST, BRANCH)["README.md"]
    assert "transferred: `lm-sys/FastChat` → `lmsys/FastChat`" in (same.body or "")
    assert f"PATCH /repos/{LIST}/pulls/{pull.number}" in writes(world)
    third = counted(world)
    print(json.dumps({"opened": first, "unchanged": second, "updated": third}, indent=1))
    assert first["github GET"] <= 9 and second["github GET"] <= 9


def test_dead_link_proposes_the_capture_from_before_it_died(listed: Monitor, world: World) -> None:
    """A dead link is left as it is; the capture proposed is the last before it was last ok."""
    world.wayback_capture(DEAD, "2026-10-15T00:00:00Z")
    world.wayback_capture(DEAD, "2026-11-01T12:00:00Z")  # after the last good check: closer
    world.wayback_capture(DEAD, "2026-11-03T00:00:00Z", status=404)
    listed.check("2026-11-01T06:00:00Z")
    world.set_page(DEAD, 404)
    for day in ("02", "03", "04"):
        listed.check(f"2026-11-{day}T06:00:00Z")
    assert listed.health("2026-11-04")[DEAD] == "dead"
    world.reset_log()
    done = fix()
    assert done.exit_code == 0, done.output
    (pull,) = world.pulls_of(LIST)
    body = pull.body or ""
    row = next(line for line in body.splitlines() if line.startswith(f"| {DEAD}"))
    assert "web.archive.org/web/20261015000000/" in row
    assert "20261101120000" not in body and "20261103" not in body
    assert "2026-11-01 06:00 UTC" in row and "README.md:13" in row
    assert f"[Gone]({DEAD})" in world.files_of(LIST, BRANCH)["README.md"]
    (asked,) = list(world.requests("wayback"))
    assert "timestamp=20261101060000" in asked.query and "closest=before" in asked.query


def test_an_archive_outage_changes_nothing(
    listed: Monitor, world: World, emulator: Emulator
) -> None:
    """With the Wayback Machine down the run succeeds and leaves the open PR as it was."""
    world.wayback_capture(DEAD, "2026-10-15T00:00:00Z")
    listed.check("2026-11-01T06:00:00Z")
    world.set_page(DEAD, 404)
    for day in ("02", "03", "04"):
        listed.check(f"2026-11-{day}T06:00:00Z")
    assert fix().exit_code == 0
    (pull,) = world.pulls_of(LIST)
    emulator.stop_services("wayback")
    world.reset_log()
    again = fix()
    assert again.exit_code == 0, again.output
    assert "is up to date" in again.output and writes(world) == []
    (same,) = world.pulls_of(LIST)
    assert same.body == pull.body and "web.archive.org/web/20261015000000/" in (same.body or "")
    dry = fix("--dry-run")
    assert dry.exit_code == 0 and "no archived copy found" in dry.output


@pytest.mark.parametrize(
    ("levels", "needed"),
    [
        ({"contents": "read", "pull_requests": "write"}, "contents: write"),
        ({"contents": "write", "pull_requests": "read"}, "pull-requests: write"),
    ],
)
def test_a_token_without_a_write_permission_is_refused(
    listed: Monitor, world: World, levels: dict[str, str], needed: str
) -> None:
    """Exit 3 naming the permission missing; the token never shows; no pull request."""
    listed.check("2026-11-01T06:00:00Z")
    world.set_github_permissions(GITHUB_TOKEN, **levels)
    result = fix()
    assert result.exit_code == 3, result.output
    assert needed in result.output and GITHUB_TOKEN not in result.output
    assert world.pulls_of(LIST) == []
    if needed == "contents: write":
        assert world.branch_head(LIST, BRANCH) is None  # nothing half-made


def test_fixed_by_hand_closes_the_pr(listed: Monitor, world: World) -> None:
    """When the base branch already has every fix, the open PR is closed with a comment."""
    listed.check("2026-11-01T06:00:00Z")
    assert fix().exit_code == 0
    world.commit_files(LIST, world.files_of(LIST, BRANCH), message="Fixed the links by hand")
    closed = fix()
    assert closed.exit_code == 0 and "Nothing left to replace" in closed.output
    (pull,) = world.pulls_of(LIST)
    assert pull.state == "closed" and "Nothing is left to replace" in pull.comments[-1].body
    world.reset_log()
    assert "Nothing to replace" in fix().output and writes(world) == []


def test_dry_run_prints_the_diff_and_the_description(listed: Monitor, world: World) -> None:
    """--dry-run with --pr shows the diff and the description and writes nothing."""
    listed.check("2026-11-01T06:00:00Z")
    world.reset_log()
    result = fix("--dry-run")
    assert result.exit_code == 0, result.output
    assert f"-| Auto-GPT | [repo]({OLD}) |" in result.output
    assert f"+| Auto-GPT | [repo]({NEW}) |" in result.output
    assert "--- pull request: monitor: replace 2 moved links" in result.output
    assert "Would open a pull request" in result.output
    assert writes(world) == [] and world.pulls_of(LIST) == []


def test_after_a_merge_a_new_pr_and_closed_fixes_are_not_offered_again(
    listed: Monitor, world: World
) -> None:
    """Merged: nothing left, then a new PR for a new rename; closed unmerged: not reopened."""
    listed.check("2026-11-01T06:00:00Z")
    assert fix().exit_code == 0
    (first,) = world.pulls_of(LIST)
    world.merge_pull(LIST, first.number)
    nothing = fix()
    assert nothing.exit_code == 0 and "Nothing to replace" in nothing.output
    world.rename("lm-sys/FastChat", "lmsys/FastChat")
    listed.check("2026-11-02T06:00:00Z")
    opened = fix()
    assert opened.exit_code == 0 and "Opened pull request" in opened.output
    second = world.pulls_of(LIST)[-1]
    assert second.number != first.number
    assert f"<{CHAT_NEW}>" in world.files_of(LIST, BRANCH)["README.md"]
    assert f"[repo]({NEW})" in world.files_of(LIST, BRANCH)["README.md"]
    world.close_issue(LIST, second.number)
    world.reset_log()
    declined = fix()
    assert declined.exit_code == 0 and "closed unmerged" in declined.output
    assert writes(world) == [] and len(world.pulls_of(LIST)) == 2


def test_bad_input_exits_2(listed: Monitor, monkeypatch: pytest.MonkeyPatch) -> None:
    """No repository named, --repo without --pr, or DOCUMENTS with --pr: exit 2."""
    listed.check("2026-11-01T06:00:00Z")
    assert CliRunner().invoke(main, ["catalog", "fix", "--repo", LIST]).exit_code == 2
    assert fix("README.md").exit_code == 2
    monkeypatch.delenv("MONITOR_GITHUB_REPO")
    result = fix()
    assert result.exit_code == 2 and "MONITOR_GITHUB_REPO" in result.output


# --- the parts, without a server ---------------------------------------------------------------


def wayback(handler: httpx.MockTransport) -> Wayback:
    return Wayback("https://archive.test/wayback/available", transport=handler)


def answer(timestamp: str, status: str = "200") -> httpx.MockTransport:
    closest = {
        "available": True,
        "status": status,
        "timestamp": timestamp,
        "url": f"http://web.archive.org/web/{timestamp}/https://x.example/",
    }
    body = {"url": "x.example", "archived_snapshots": {"closest": closest}}
    return httpx.MockTransport(lambda request: httpx.Response(200, json=body))


ALIVE = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def test_wayback_never_proposes_a_capture_after_last_ok() -> None:
    """The API may answer a later capture despite closest=before: it is not proposed."""
    assert wayback(answer("20261101060001")).before("https://x.example/", ALIVE).capture is None
    found = wayback(answer("20261020101010")).before("https://x.example/", ALIVE).capture
    assert found is not None
    assert found.url == "https://web.archive.org/web/20261020101010/https://x.example/"
    assert (
        wayback(answer("20261020101010", "404")).before("https://x.example/", ALIVE).capture is None
    )


def test_wayback_failures_are_no_archived_copy() -> None:
    """Timeouts, 5xx and answers that are not JSON are failed lookups, never exceptions."""

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    for transport in (
        httpx.MockTransport(timeout),
        httpx.MockTransport(lambda r: httpx.Response(503, text="busy")),
        httpx.MockTransport(lambda r: httpx.Response(200, text="<html>portal</html>")),
    ):
        lookup = wayback(transport).before("https://x.example/", ALIVE)
        assert lookup.capture is None and lookup.failed
    never = wayback(answer("20261020101010"))
    assert never.before("https://x.example/", None).capture is None and never.requests == 0


def stored(url: str, new: str) -> tuple[StoredSource, Move]:
    resource = identify(url)
    source = StoredSource(1, resource.key, url, resource.kind, "", "", SourceState(Health.OK))
    return source, Move(resource.key, url, new, "")


@pytest.mark.parametrize(
    ("url", "new", "words"),
    [
        (OLD, NEW, "renamed: `Significant-Gravitas/Auto-GPT` → `Significant-Gravitas/AutoGPT`"),
        (CHAT, CHAT_NEW, "transferred: `lm-sys/FastChat` → `lmsys/FastChat`"),
        (f"{CHAT}/tree/main/docs", f"{CHAT_NEW}/tree/main/docs", "its repository was transferred"),
        (f"{CHAT}/issues/3", f"{CHAT_NEW}/issues/9", "`lm-sys/FastChat#3` → `lmsys/FastChat#9`"),
        ("https://huggingface.co/gpt2", "https://huggingface.co/openai-community/gpt2", "`gpt2`"),
        (POST, POST_NEW, "permanent redirect (HTTP 301 or 308)"),
    ],
)
def test_evidence_says_how_a_link_moved(url: str, new: str, words: str) -> None:
    """Renamed, transferred, moved with its repository, or permanently redirected."""
    assert words in evidence(*stored(url, new))


def test_where_the_catalog_and_documents_are_in_the_repository(tmp_path: Path) -> None:
    """The catalog's path is relative to the current directory; documents to its folder."""
    assert catalog_in_repository(Path("lists/sources.toml"), tmp_path) == "lists/sources.toml"
    assert catalog_in_repository(tmp_path / "sources.toml", tmp_path) == "sources.toml"
    assert document_paths("lists/sources.toml", ["../README.md", "a.md"], "x") == [
        "README.md",
        "lists/a.md",
    ]
    with pytest.raises(Exception, match="outside the repository"):
        document_paths("sources.toml", ["../elsewhere.md"], "x")
    with pytest.raises(Exception, match="not inside the current directory"):
        catalog_in_repository(Path("/elsewhere/sources.toml"), tmp_path)
    assert blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
