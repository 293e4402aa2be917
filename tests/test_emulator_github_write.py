"""The emulated GitHub's write side (issues, search, git data, contents, pull requests,
permissions, the content-creation limit), driven by the real PyGithub 2.10 over real HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
from github import Auth, Github, GithubException, InputGitTreeElement, RateLimitExceededException
from github import UnknownObjectException as Unknown

from monitor.emulator import Emulator, World

LIST = "owner/awesome-llm"
MARKER = "<!-- monitor:tracking-issue -->"


def client(emulator: Emulator, token: str = "ghp_maintainer", **options: int) -> Github:
    """PyGithub as monitor uses it: a token, no sleeping between calls, no retry loop."""
    return Github(
        base_url=emulator.github_url,
        auth=Auth.Token(token),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def gh(world: World, emulator: Emulator) -> Iterator[Github]:
    """The list's repository, with a README and a docs folder, and a client for it."""
    world.add_repo(LIST, files=("README.md", "docs/models.md"))
    github = client(emulator)
    yield github
    github.close()


def git_blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_an_issue_lives_created_listed_by_label_edited_closed_with_a_comment_reopened(
    world: World, emulator: Emulator, gh: Github
) -> None:
    """An issue is created (label made), found by label, edited, closed with a comment, reopened."""
    repo = gh.get_repo(LIST)
    issue = repo.create_issue("3 links need action", body=f"{MARKER}\n- dead", labels=["monitor"])
    other = repo.create_issue("Add a model", body="please")
    assert (issue.number, other.number) == (1, 2)
    assert issue.user.login == "octocat" and [label.name for label in issue.labels] == ["monitor"]
    assert issue.url == f"{emulator.github_url}/repos/{LIST}/issues/1"
    assert issue.html_url == f"https://github.com/{LIST}/issues/1"
    assert issue.state == "open" and issue.state_reason is None and issue.node_id
    assert repo.get_label("monitor").color == "ededed"
    assert "bug" in {label.name for label in repo.get_labels()}  # GitHub's defaults

    assert [i.number for i in repo.get_issues(state="open", labels=["monitor"])] == [1]
    issue.edit(body=f"{MARKER}\n- dead\n- renamed")
    assert repo.get_issue(1).body.endswith("- renamed")

    issue.create_comment("Nothing needs action any more.")
    issue.edit(state="closed", state_reason="completed")
    closed = repo.get_issue(1)
    assert closed.state == "closed" and closed.state_reason == "completed"
    assert closed.closed_at is not None and closed.closed_by.login == "octocat"
    assert closed.comments == 1
    assert [c.body for c in closed.get_comments()] == ["Nothing needs action any more."]
    assert [i.number for i in repo.get_issues(state="open", labels=["monitor"])] == []
    assert [i.number for i in repo.get_issues(state="closed", labels=["monitor"])] == [1]

    issue.edit(state="open")
    reopened = repo.get_issue(1)
    assert reopened.state == "open" and reopened.state_reason == "reopened"
    assert reopened.closed_at is None
    assert [i.title for i in world.issues_of(LIST)] == ["3 links need action", "Add a model"]


def test_the_issue_list_pages_with_link_on_the_emulators_own_base(
    world: World, emulator: Emulator, gh: Github
) -> None:
    """Seven issues, two a page: PyGithub follows every Link (on the emulator's base) to the end."""
    for number in range(1, 8):
        world.add_issue(LIST, number, title=f"issue {number}", labels=["monitor"])
    paged = client(emulator, per_page=2)
    try:
        found = paged.get_repo(LIST).get_issues(state="all", labels=["monitor"])
        assert [i.number for i in found] == [7, 6, 5, 4, 3, 2, 1]
    finally:
        paged.close()
    answer = httpx.get(
        f"{emulator.github_url}/repos/{LIST}/issues?per_page=2",
        headers={"User-Agent": "t", "Authorization": "token x"},
    )
    assert f"<{emulator.github_url}/repositories/" in answer.headers["link"]


def test_search_finds_the_tracking_issue_by_its_hidden_marker(
    world: World, emulator: Emulator, gh: Github
) -> None:
    """`in:body "marker"` with repo:, is:issue and label: finds only the open issue carrying it."""
    repo = gh.get_repo(LIST)
    repo.create_issue("Tracking", body=f"{MARKER}\nall good", labels=["monitor"])
    repo.create_issue("Unrelated", body="a tracking issue for monitor", labels=["monitor"])
    repo.create_issue("Old tracking", body=MARKER, labels=["monitor"]).edit(state="closed")
    world.add_repo("someone/else")
    world.add_issue("someone/else", 1, title="copy", body=MARKER, labels=["monitor"])

    found = gh.search_issues(
        f'"{MARKER}" is:open', **{"repo": LIST, "is": "issue", "label": "monitor", "in": "body"}
    )
    assert found.totalCount == 1 and [i.title for i in found] == ["Tracking"]
    assert gh.search_issues(f'"{MARKER}" is:open', repo=LIST).totalCount == 1
    assert gh.search_issues(f'"{MARKER}" is:closed', repo=LIST).totalCount == 1
    assert gh.search_issues('"monitor:tracking-issue"').totalCount == 3  # every repository

    answer = httpx.get(
        f"{emulator.github_url}/search/issues",
        params={"q": f"repo:{LIST} tracking"},
        headers={"User-Agent": "t", "Authorization": "token ghp_maintainer"},
    )
    assert answer.headers["x-ratelimit-resource"] == "search"
    assert answer.headers["x-ratelimit-limit"] == "30"
    assert set(answer.json()) == {"total_count", "incomplete_results", "items"}
    missing = httpx.get(f"{emulator.github_url}/search/issues", headers={"User-Agent": "t"})
    assert missing.status_code == 422
    world.set_search_lag(3600)  # the index lags: issues opened just now are not found yet
    assert gh.search_issues(f'"{MARKER}"', repo=LIST).totalCount == 0
    assert gh.search_issues(f'"{MARKER}"', repo="someone/else").totalCount == 1


def test_a_commit_from_blob_tree_and_commit_on_a_new_branch_is_read_back(
    world: World, emulator: Emulator, gh: Github
) -> None:
    """A blob+tree+commit on a new branch is seen by contents and GraphQL `object(expression:)`."""
    repo = gh.get_repo(LIST)
    main = repo.get_git_ref("heads/main")
    head = repo.get_git_commit(main.object.sha)
    assert head.sha == world.repo(LIST).commits[0].sha

    blob = repo.create_git_blob("# Awesome LLM\n\n- [new](https://example.org)\n", "utf-8")
    assert blob.sha == git_blob_sha("# Awesome LLM\n\n- [new](https://example.org)\n")
    tree = repo.create_git_tree(
        [
            InputGitTreeElement("README.md", "100644", "blob", sha=blob.sha),
            InputGitTreeElement("docs/models.md", "100644", "blob", sha=None),
            InputGitTreeElement("docs/data.md", "100644", "blob", content="data\n"),
        ],
        base_tree=head.tree,
    )
    commit = repo.create_git_commit("Fix dead links", tree, [head])
    assert [p.sha for p in commit.parents] == [head.sha] and commit.tree.sha == tree.sha
    branch = "monitor/fix-links"
    ref = repo.create_git_ref(f"refs/heads/{branch}", commit.sha)
    assert ref.ref == f"refs/heads/{branch}" and ref.object.sha == commit.sha

    readme = repo.get_contents("README.md", ref=branch)
    assert not isinstance(readme, list)
    assert readme.decoded_content.startswith(b"# Awesome LLM") and readme.sha == blob.sha
    with pytest.raises(Unknown):
        repo.get_contents("docs/models.md", ref=branch)
    assert [c.path for c in repo.get_contents("docs", ref=branch)] == ["docs/data.md"]  # type: ignore[union-attr]
    assert repo.get_contents("README.md").decoded_content == b"content of README.md\n"  # type: ignore[union-attr]
    assert repo.get_branch(branch).commit.sha == commit.sha
    paths = {e.path for e in repo.get_git_tree(branch, recursive=True).tree}
    assert paths == {"README.md", "docs", "docs/data.md"}

    query = (
        '{ repository(owner: "owner", name: "awesome-llm") {'
        f' object(expression: "{branch}:README.md") {{ ... on Blob {{ oid text }} }} }} }}'
    )
    answer = httpx.post(
        f"{emulator.github_url}/graphql",
        json={"query": query},
        headers={"User-Agent": "t", "Authorization": "bearer ghp_maintainer"},
    ).json()
    assert answer["data"]["repository"]["object"]["oid"] == blob.sha
    assert "example.org" in answer["data"]["repository"]["object"]["text"]

    # A rewritten branch needs force, as a force-push does.
    again = repo.create_git_commit("Fix dead links, again", tree, [head])
    with pytest.raises(GithubException) as refused:
        ref.edit(again.sha)
    assert refused.value.status == 422 and "fast forward" in str(refused.value.data)
    ref.edit(again.sha, force=True)
    assert world.branch_head(LIST, branch) == again.sha
    assert world.files_of(LIST, branch)["docs/data.md"] == "data\n"


def test_contents_put_creates_and_updates_a_file_by_its_blob_sha(
    world: World, emulator: Emulator, gh: Github
) -> None:
    """PUT /contents: 201 creates, 422 without sha, 409 with a stale one, 200 updates."""
    repo = gh.get_repo(LIST)
    made = repo.create_file("docs/new.md", "Add a page", "first\n", branch="main")
    content = made["content"]
    assert content.sha == git_blob_sha("first\n")
    assert repo.get_commits()[0].sha == made["commit"].sha
    headers = {"User-Agent": "t", "Authorization": "token ghp_maintainer"}
    url = f"{emulator.github_url}/repos/{LIST}/contents/docs/new.md"
    body = {"message": "m", "content": "c2Vjb25kCg=="}
    assert httpx.put(url, json=body, headers=headers).status_code == 422
    stale = httpx.put(url, json=body | {"sha": "0" * 40}, headers=headers)
    assert stale.status_code == 409 and stale.json()["message"].startswith("docs/new.md does not")
    updated = repo.update_file("docs/new.md", "Edit a page", "second\n", content.sha)
    assert world.files_of(LIST)["docs/new.md"] == "second\n"
    assert updated["commit"].sha == world.repo(LIST).commits[0].sha
    gone = httpx.put(url, json=body | {"branch": "nope"}, headers=headers)
    assert gone.status_code == 404


def test_a_pull_request_is_opened_listed_by_head_and_edited(
    world: World, emulator: Emulator, gh: Github
) -> None:
    """A pull request shares issue numbers, is listed by owner:branch, follows its head."""
    world.add_issue(LIST, 1, title="an issue")
    branch = "monitor/fix-links"
    world.commit_files(LIST, {"README.md": "fixed\n"}, branch=branch, message="Fix")
    world.commit_files(LIST, {"docs/models.md": "other\n"}, branch="elsewhere")
    repo = gh.get_repo(LIST)
    pull = repo.create_pull(
        base="main", head=branch, title="Fix links", body="evidence", maintainer_can_modify=True
    )
    repo.create_pull(base="main", head="elsewhere", title="Other")
    assert pull.number == 2 and pull.state == "open" and pull.mergeable
    assert pull.head.ref == branch and pull.base.ref == "main"
    assert pull.head.sha == world.branch_head(LIST, branch)
    assert pull.changed_files == 1 and [f.filename for f in pull.get_files()] == ["README.md"]
    assert pull.url == f"{emulator.github_url}/repos/{LIST}/pulls/2"

    by_head = repo.get_pulls(state="open", head=f"owner:{branch}", base="main")
    assert [p.number for p in by_head] == [2]
    assert [p.number for p in repo.get_pulls(state="open", head=branch)] == [3, 2]
    listed = [i.number for i in repo.get_issues(state="all")]
    assert listed == [3, 2, 1] and repo.get_issue(2).pull_request is not None

    with pytest.raises(GithubException) as again:
        repo.create_pull(base="main", head=branch, title="Fix links")
    assert again.value.status == 422 and "already exists" in str(again.value.data)

    pull.edit(body="evidence, updated")
    moved = world.commit_files(LIST, {"README.md": "fixed twice\n"}, branch=branch)
    fresh = repo.get_pull(2)
    assert fresh.body == "evidence, updated" and fresh.head.sha == moved
    pull.edit(state="closed")
    assert repo.get_pull(2).state == "closed"
    assert [p.number for p in repo.get_pulls(state="open", head=f"owner:{branch}")] == []


def test_a_token_without_issues_write_is_refused_with_the_permission_it_lacks(
    world: World, emulator: Emulator, gh: Github
) -> None:
    """Without issues: write a token gets 403 naming the permission it lacks; no token gets 401."""
    world.set_github_permissions("github_pat_ro", issues="read", pull_requests="write")
    limited = client(emulator, "github_pat_ro")
    try:
        repo = limited.get_repo(LIST)
        assert list(repo.get_issues()) == []  # reading is fine
        with pytest.raises(GithubException) as refused:
            repo.create_issue("Links need action")
        assert refused.value.status == 403
        assert refused.value.data["message"] == "Resource not accessible by personal access token"
        assert refused.value.headers["x-accepted-github-permissions"] == "issues=write"
        with pytest.raises(GithubException) as no_contents:
            repo.create_git_blob("x", "utf-8")
        assert no_contents.value.headers["x-accepted-github-permissions"] == "contents=write"
    finally:
        limited.close()
    assert world.issues_of(LIST) == []
    anonymous = httpx.post(
        f"{emulator.github_url}/repos/{LIST}/issues",
        json={"title": "t"},
        headers={"User-Agent": "t"},
    )
    assert anonymous.status_code == 401 and anonymous.json()["message"] == "Requires authentication"


def test_the_content_creation_limit_answers_403_with_retry_after() -> None:
    """Writes past the per-minute and per-hour budgets are a secondary limit with retry-after."""
    now = [1_800_000_000.0]
    world = World(clock=lambda: now[0])
    world.add_repo(LIST)
    world.set_content_creation_limit(per_minute=2, per_hour=3)
    with Emulator(world) as emulator:
        github = client(emulator)
        try:
            repo = github.get_repo(LIST)
            repo.create_issue("one")
            repo.create_issue("two")
            with pytest.raises(RateLimitExceededException) as limited:
                repo.create_issue("three")
            assert limited.value.status == 403
            assert "content creation" in limited.value.data["message"]
            assert 1 <= int(limited.value.headers["retry-after"]) <= 61
            now[0] += 61
            repo.create_issue("three")
            now[0] += 61
            with pytest.raises(RateLimitExceededException) as hourly:
                repo.create_issue("four")
            assert int(hourly.value.headers["retry-after"]) > 3000
        finally:
            github.close()
    assert [i.title for i in world.issues_of(LIST)] == ["one", "two", "three"]
