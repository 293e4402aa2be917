"""`monitor github issue`: one tracking issue kept current, through PyGithub, over a month.

The body is checked as text first (escaping, the hidden state, what counts as a
change); then `monitor check` and `monitor github issue` run day after day against the
emulator, whose request log counts every request each run makes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from github import Auth, Github
from github.Issue import Issue
from github.Repository import Repository

from monitor.cli import main
from monitor.emulator import Emulator, World
from monitor.github.issue import (
    MARKER,
    MAX_BODY,
    digest,
    read_state,
    render_body,
    render_closed,
    render_comment,
    updated_by,
)
from monitor.model import EventType, Seen
from monitor.needs import Need
from monitor.store import StoredRun
from tests.harness import GITHUB_TOKEN, Monitor

NOW = datetime(2026, 11, 10, 6, tzinfo=UTC)
LIST = "owner/list"


def need(event: EventType, url: str, name: str = "", **values: Any) -> Need:
    """An item about `url`, checked at NOW."""
    return Need(event, url, url, name or url, "web", last_checked=NOW, **values)


# --- the body, as text -------------------------------------------------------------------------


def test_the_body_groups_like_the_report_and_names_each_event_word() -> None:
    """Headings name the event word and count, in the report's order; each item its places."""
    needs = [
        need(EventType.DEAD, "https://example.org/a", "A", seen=(Seen("README.md", 12),)),
        need(
            EventType.RENAMED,
            "https://github.com/a/old",
            "Old",
            new_url="https://github.com/a/new",
            since=NOW,
        ),
        need(EventType.REDIRECTED, "https://example.org/r", new_url="https://example.org/s"),
    ]
    body, state = render_body(needs, at=NOW, by="monitor run #7")
    assert body.startswith(MARKER)
    headings = [line for line in body.splitlines() if line.startswith("### ")]
    assert headings == [
        "### Dead links (dead, 1)",
        "### Renamed (renamed, 1)",
        "### Redirected (redirected, 1)",
    ]
    assert "README.md:12" in body
    assert "| Old <https://github.com/a/old> | <https://github.com/a/new> | 2026-11-10 |" in body
    assert "last updated 2026-11-10 06:00 UTC, after monitor run #7" in body
    assert "`monitor catalog fix`" in body
    assert read_state(body) == state
    assert state.identities == {(n.event.value, n.url) for n in needs}


def test_remote_text_is_escaped_and_cannot_end_the_hidden_state() -> None:
    """Names from outside are inert in markdown and HTML, and `-->` in one breaks nothing."""
    hostile = "<script>x</script> | [a](javascript:x) --> <!--"
    needs = [need(EventType.DEAD, "https://example.org/a", hostile, answer="<b>404</b>")]
    body, state = render_body(needs, at=NOW, by="monitor run #1")
    assert "<script>" not in body and "<b>" not in body
    assert "\\[a\\]" in body and "\\|" in body
    assert body.count("-->") == 2  # the marker's and the state's own
    assert read_state(body) == state
    assert state.items[0][2] == hostile


def test_what_moves_every_run_is_not_a_change() -> None:
    """The digest ignores the last check, the last answer and the header; not the places."""
    item = need(EventType.DEAD, "https://example.org/a", answer="HTTP 404")
    later = need(EventType.DEAD, "https://example.org/a", answer="HTTP 410")
    assert digest([item]) == digest([later])
    first, _ = render_body([item], at=NOW, by="run #1")
    second, _ = render_body([later], at=NOW.replace(day=11), by="run #2")
    assert read_state(first) == read_state(second)
    moved = need(EventType.DEAD, "https://example.org/a", seen=(Seen("README.md", 3),))
    assert digest([moved]) != digest([item])


def test_a_huge_list_is_shortened_to_fit_githubs_limit() -> None:
    """Thousands of dead links: the body stays under GitHub's limit and says what it left out."""
    needs = [need(EventType.DEAD, f"https://example.org/{i:05d}", f"page {i}") for i in range(3000)]
    body, state = render_body(needs, at=NOW, by="monitor run #1")
    assert len(body) <= MAX_BODY
    assert "### Dead links (dead, 3000)" in body
    assert "more: `monitor status` lists them all" in body
    assert 0 < len(state.items) < 3000


def test_the_closing_comment_says_what_was_resolved_and_why() -> None:
    """Each item listed before, with the reason it needs nothing now; the closed body says so."""
    comment = render_comment(
        [(("dead", "https://example.org/a", "A <b>"), "works again")], NOW, "monitor run #9"
    )
    assert "Nothing needs action any more" in comment
    assert "- `dead` A &lt;b&gt; <https://example.org/a>: works again" in comment
    closed = render_closed(NOW, "monitor run #9")
    assert closed.startswith(MARKER)
    state = read_state(closed)
    assert state is not None and state.items == ()


def test_the_header_names_the_monitor_run_and_the_workflow_run() -> None:
    """The body says which monitor run it comes from, and the Actions run that wrote it."""
    run = StoredRun(12, NOW, "2026-11-10", NOW, NOW, "completed", False)
    assert updated_by({}, run) == "monitor run #12"
    env = {"GITHUB_RUN_ID": "99", "GITHUB_REPOSITORY": "o/r", "GITHUB_SERVER_URL": "https://g.x"}
    assert (
        updated_by(env, run) == "monitor run #12, in workflow run <https://g.x/o/r/actions/runs/99>"
    )
    assert read_state("no state here") is None
    assert read_state(MARKER + "\n<!-- monitor:state {broken -->") is None


# --- the issue, kept over a simulated month ----------------------------------------------------

POST = "https://blog.example/post"
OTHER = "https://blog.example/other"
CATALOG = f"""
[[source]]
url = "https://github.com/a/keep"
name = "Keep"
seen = [{{document = "README.md", line = 3}}]

[[source]]
url = "https://github.com/a/tool"
name = "Tool"
seen = [{{document = "README.md", line = 5}}]

[[source]]
url = "{POST}"
name = "A post"
seen = [{{document = "README.md", line = 7}}, {{document = "docs/more.md", line = 2}}]

[[source]]
url = "{OTHER}"
name = "Another post"
seen = [{{document = "README.md", line = 9}}]
"""


@pytest.fixture
def monitor(
    tmp_path: Path, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Monitor:
    """The catalog above over the emulator, the list's repository `owner/list`, a token."""
    world.add_repo(LIST)
    for name in ("a/keep", "a/tool"):
        world.add_repo(name, last_commit="2026-10-01T00:00:00Z")
    for url in (POST, OTHER):
        world.set_page(url, "ok")
    running = Monitor(tmp_path, emulator, monkeypatch, CATALOG)
    monkeypatch.setenv("MONITOR_GITHUB_REPO", LIST)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    return running


def keep(world: World, at: str, *args: str) -> tuple[Result, int, list[str]]:
    """`monitor github issue` at `at`: its result, the requests it made (the emulator's
    count) and their methods and paths."""
    before = len(world.requests("github"))
    result = CliRunner().invoke(main, ["github", "issue", "--now", at, *args])
    made = world.requests("github")[before:]
    return result, len(made), [f"{r.method} {r.path}" for r in made]


def ours(emulator: Emulator) -> list[Issue]:
    """Every issue of the list's repository carrying the marker, through PyGithub."""
    github = Github(base_url=emulator.github_url, auth=Auth.Token(GITHUB_TOKEN))
    repo: Repository = github.get_repo(LIST)
    return [i for i in repo.get_issues(state="all") if MARKER in (i.body or "")]


def day(n: int) -> str:
    return f"2026-11-{n:02d}T06:00:00Z"


def test_one_issue_over_a_month(monitor: Monitor, world: World, emulator: Emulator) -> None:
    """Opened once a link is dead, edited in place, closed, reopened, found after a lost store."""
    writes: list[str] = []

    def run(n: int, expect: str, requests: int) -> Result:
        monitor.check(day(n))
        result, made, calls = keep(world, day(n))
        assert result.exit_code == 0, result.output
        assert expect in result.output, result.output
        assert f"{made} request(s) to GitHub." in result.output  # counted as the emulator did
        assert made == requests, calls
        writes.extend(c for c in calls if not c.startswith("GET"))
        return result

    run(1, "Nothing needs action, and no tracking issue is open", 2)
    world.set_page(POST, 404)
    run(2, "Nothing needs action", 2)  # a suspect: not yet
    run(3, "Nothing needs action", 2)
    assert ours(emulator) == []
    run(4, "Opened issue #", 4)  # the repository, the listing, the label, the issue
    (issue,) = ours(emulator)
    number = issue.number
    assert issue.state == "open" and [label.name for label in issue.labels] == ["monitor"]
    assert "### Dead links (dead, 1)" in issue.body
    assert "A post <https://blog.example/post>" in issue.body
    assert "README.md:7, docs/more.md:2" in issue.body

    run(5, f"Issue #{number}", 2)  # the same problem: nothing written
    world.rename("a/tool", "tool2")
    run(6, f"Edited issue #{number}", 3)
    world.set_page(POST, "ok")
    run(7, f"Issue #{number}", 2)  # one good answer is not a recovery yet
    run(8, f"Edited issue #{number}", 3)  # recovered: only the rename is left
    (issue,) = ours(emulator)
    assert "### Renamed (renamed, 1)" in issue.body and "Dead links" not in issue.body
    assert "<https://github.com/a/tool2>" in issue.body

    fixed = CliRunner().invoke(main, ["catalog", "fix"])  # the list takes the new URL
    assert fixed.exit_code == 0, fixed.output
    run(9, f"Closed issue #{number}", 4)  # the repository, the listing, a comment, the edit
    (issue,) = ours(emulator)
    assert issue.state == "closed"
    (comment,) = list(issue.get_comments())
    assert "`renamed` Tool <https://github.com/a/tool>" in comment.body
    assert "no longer lists this URL" in comment.body
    run(10, "Nothing needs action, and no tracking issue is open", 2)

    world.set_page(OTHER, 410)
    for n in (15, 16):
        run(n, "Nothing needs action", 2)
    run(17, f"Reopened issue #{number}", 3)
    (issue,) = ours(emulator)
    assert issue.state == "open" and "Another post" in issue.body

    monitor.database.unlink()  # the store is lost: a new one knows nothing yet
    run(20, f"Edited issue #{number}", 3)
    (issue,) = ours(emulator)
    assert "not confirmed again yet" in issue.body  # kept, not taken for fixed
    run(21, f"Issue #{number}", 2)
    run(22, f"Edited issue #{number}", 3)  # confirmed dead again by the new store
    world.set_page(OTHER, "ok")
    run(29, f"Issue #{number}", 2)
    run(30, f"Closed issue #{number}", 4)

    (issue,) = ours(emulator)  # one issue, all month
    assert issue.state == "closed"
    assert [c.body.count("works again") for c in issue.get_comments()] == [0, 1]
    assert len(world.requests("github")) > 0
    assert sorted({w.split()[0] for w in writes}) == ["PATCH", "POST"]
    assert sum(w.startswith("POST") and w.endswith("/issues") for w in writes) == 1


ARCHIVED_CATALOG = """
[[source]]
url = "https://github.com/a/old"
name = "Old"

[[source]]
url = "https://github.com/a/older"
name = "Older"
"""


@pytest.fixture
def archived(
    tmp_path: Path, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Monitor:
    """A catalog whose first repository is archived (needs action at the first check)."""
    world.add_repo(LIST)
    world.add_repo("a/old", archived=True, last_commit="2026-10-01T00:00:00Z")
    world.add_repo("a/older", last_commit="2026-10-01T00:00:00Z")
    running = Monitor(tmp_path, emulator, monkeypatch, ARCHIVED_CATALOG)
    monkeypatch.setenv("MONITOR_GITHUB_REPO", LIST)
    running.check(day(1))
    return running


def test_an_issue_closed_by_hand_stays_closed_until_something_new(
    archived: Monitor, world: World, emulator: Emulator
) -> None:
    """Closed by hand: left closed for the same problems, reopened (not doubled) for a new one."""
    github = Github(base_url=emulator.github_url, auth=Auth.Token(GITHUB_TOKEN))
    theirs = github.get_repo(LIST).create_issue("Add a monitor badge", "", labels=["monitor"])
    result, made, _ = keep(world, day(1))
    assert result.exit_code == 0 and "Opened issue #" in result.output
    (issue,) = ours(emulator)
    assert issue.number != theirs.number and "### Archived (archived, 1)" in issue.body
    issue.edit(state="closed")

    result, made, calls = keep(world, day(2))
    assert "closed by hand" in result.output and made == 2, calls
    world.archive("a/older")
    archived.check(day(3))
    result, made, _ = keep(world, day(3))
    assert f"Reopened issue #{issue.number}" in result.output and made == 3
    (issue,) = ours(emulator)
    assert issue.state == "open" and "### Archived (archived, 2)" in issue.body
    assert github.get_repo(LIST).get_issue(theirs.number).body == ""  # theirs, untouched


def test_a_token_without_issues_write_is_refused(
    archived: Monitor, world: World, emulator: Emulator
) -> None:
    """GitHub's 403: exit 3, the message names the permission and the repository, no token."""
    world.set_github_permissions(GITHUB_TOKEN, issues="read", contents="read")
    result, _, calls = keep(world, day(1))
    assert result.exit_code == 3, result.output
    assert "the token needs issues: write" in result.stderr and f"on {LIST}" in result.stderr
    assert GITHUB_TOKEN not in result.output
    assert "Traceback" not in result.output
    assert ours(emulator) == []
    assert [c for c in calls if not c.startswith("GET")] == [f"POST /repos/{LIST}/labels"]


def test_dry_run_prints_the_body_and_writes_nothing(
    archived: Monitor, world: World, emulator: Emulator
) -> None:
    """--dry-run reads, prints what it would write, and writes nothing."""
    result, made, calls = keep(world, day(1), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would open a new issue" in result.output
    assert MARKER in result.output and "### Archived (archived, 1)" in result.output
    assert all(c.startswith("GET") for c in calls) and made == 2
    assert ours(emulator) == []


def test_bad_input_exits_2_and_writes_nothing(
    archived: Monitor, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No repository, no token, a bad --repo, a missing catalog or store: exit 2, no request."""
    before = len(world.requests("github"))
    monkeypatch.delenv("GITHUB_TOKEN")
    result = CliRunner().invoke(main, ["github", "issue"])
    assert result.exit_code == 2 and "GITHUB_TOKEN" in result.stderr
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.delenv("MONITOR_GITHUB_REPO")
    result = CliRunner().invoke(main, ["github", "issue"])
    assert result.exit_code == 2 and "MONITOR_GITHUB_REPO" in result.stderr
    result = CliRunner().invoke(main, ["github", "issue", "--repo", "not a repository"])
    assert result.exit_code == 2 and "OWNER/NAME" in result.stderr
    missing = tmp_path / "missing.toml"
    result = CliRunner().invoke(
        main, ["github", "issue", "--repo", LIST, "--catalog", str(missing)]
    )
    assert result.exit_code == 2 and "missing.toml" in result.stderr
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    result = CliRunner().invoke(main, ["github", "issue", "--repo", LIST])
    assert result.exit_code == 2 and "no store" in result.stderr
    assert len(world.requests("github")) == before
    assert GITHUB_TOKEN not in result.output
