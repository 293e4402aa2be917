"""The emulated GitHub REST API, driven by the real PyGithub 2.10 over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from github import Auth, Github, GithubException, RateLimitExceededException
from github import UnknownObjectException as Unknown

from monitor.emulator import Emulator, World
from tests.conftest import recorded


@pytest.fixture
def gh(emulator: Emulator) -> Iterator[Github]:
    """PyGithub with a token, never sleeping and never retrying, as the monitor uses it."""
    client = Github(
        base_url=emulator.github_url,
        auth=Auth.Token("ghp_test_token"),
        retry=None,
        seconds_between_requests=None,
    )
    yield client
    client.close()


@pytest.fixture
def anonymous(emulator: Emulator) -> Iterator[Github]:
    """PyGithub without a token (60 requests an hour)."""
    client = Github(base_url=emulator.github_url, retry=None, seconds_between_requests=None)
    yield client
    client.close()


def raw(emulator: Emulator, path: str, **headers: str) -> httpx.Response:
    return httpx.get(emulator.github_url + path, headers={"User-Agent": "test", **headers})


def test_repo_payload_matches_the_recorded_shape(world: World, emulator: Emulator) -> None:
    """Every field of a recorded 2026 repo payload is present here with the same JSON type."""
    real = recorded("github-repo-200-full-fork-with-license.json")["response"]
    world.add_repo("EnricoMi/PyGithub", license="LGPL-3.0")
    ours = raw(emulator, "/repos/EnricoMi/PyGithub")
    # Only forks carry parent/source; permissions and merge settings only admins see.
    admin_or_fork = {
        "parent",
        "source",
        "permissions",
        "allow_squash_merge",
        "allow_merge_commit",
        "allow_rebase_merge",
        "allow_auto_merge",
        "delete_branch_on_merge",
        "allow_update_branch",
        "use_squash_pr_title_as_default",
        "squash_merge_commit_message",
        "squash_merge_commit_title",
        "merge_commit_message",
        "merge_commit_title",
        "has_pull_requests",
        "pull_request_creation_policy",
    }
    body = ours.json()
    for key, value in real["body"].items():
        if key in admin_or_fork:
            continue
        assert key in body, key
        if value is not None and body[key] is not None:
            assert type(body[key]) is type(value), key
    assert set(body["owner"]) == set(real["body"]["owner"])
    assert set(body["license"]) == set(real["body"]["license"])
    for header in (
        "etag",
        "last-modified",
        "cache-control",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-used",
        "x-ratelimit-resource",
        "x-github-api-version-selected",
    ):
        assert header in ours.headers, header
    assert ours.headers["etag"].startswith('W/"') and len(ours.headers["etag"]) == 64 + 4


def test_api_urls_point_at_the_emulator(world: World, emulator: Emulator) -> None:
    """Every API url in a payload is on the emulator's base; html_url stays on github.com."""
    world.add_repo("tatsu-lab/stanford_alpaca")
    body = raw(emulator, "/repos/tatsu-lab/stanford_alpaca").json()
    urls = {k: v for k, v in body.items() if k.endswith("url") and isinstance(v, str)}
    urls.update({f"owner.{k}": v for k, v in body["owner"].items() if k.endswith("url") and v})
    for key, value in urls.items():
        if key.endswith(
            ("html_url", "avatar_url", "svn_url", "clone_url", "git_url", "ssh_url", "mirror_url")
        ):
            continue
        assert value.startswith(emulator.github_url + "/"), (key, value)
    assert body["html_url"] == "https://github.com/tatsu-lab/stanford_alpaca"


def test_get_repo_fields(world: World, gh: Github) -> None:
    """get_repo gives stars, licence, id, dates and flags as PyGithub types."""
    world.add_repo(
        "tatsu-lab/stanford_alpaca",
        stars=29_000,
        license="Apache-2.0",
        last_commit="2024-05-01T00:00:00Z",
        pushed_at="2024-05-02T12:00:00Z",
    )
    repo = gh.get_repo("tatsu-lab/stanford_alpaca")
    assert repo.stargazers_count == 29_000
    assert repo.license.spdx_id == "Apache-2.0" and repo.license.key == "apache-2.0"
    assert repo.pushed_at == datetime(2024, 5, 2, 12, tzinfo=UTC)
    assert repo.archived is False and repo.default_branch == "main"
    assert repo.id == world.repo("tatsu-lab/stanford_alpaca").id


@pytest.mark.parametrize(("spdx", "key"), [("NOASSERTION", "other"), ("Some-Custom", "other")])
def test_unrecognised_licence(world: World, gh: Github, spdx: str, key: str) -> None:
    """An unrecognised licence is key "other", spdx_id "NOASSERTION"; no licence file is None."""
    world.add_repo("a/b", license=spdx)
    world.add_repo("a/c", license=None)
    assert gh.get_repo("a/b").license.spdx_id == "NOASSERTION"
    assert gh.get_repo("a/b").license.key == key
    assert gh.get_repo("a/c").license is None


def test_case_insensitive_lookup(world: World, gh: Github) -> None:
    """A differently cased name answers 200 with the canonical full_name, not a redirect."""
    world.add_repo("THUDM/ChatGLM-6B")
    assert gh.get_repo("thudm/chatglm-6b").full_name == "THUDM/ChatGLM-6B"
    assert [r.status for r in world.requests("github")] == [200]


def test_latest_commit_is_not_pushed_at(world: World, gh: Github) -> None:
    """The default branch's latest commit and pushed_at are separate values."""
    world.add_repo("a/b", last_commit="2024-01-01T00:00:00Z")
    world.push_elsewhere("a/b", "2024-06-01T00:00:00Z")
    repo = gh.get_repo("a/b")
    assert repo.pushed_at == datetime(2024, 6, 1, tzinfo=UTC)
    latest = repo.get_commits().get_page(0)[0]
    assert latest.commit.committer.date == datetime(2024, 1, 1, tzinfo=UTC)
    world.add_commit("a/b", "2024-07-01T00:00:00Z")
    assert gh.get_repo("a/b").get_commits().get_page(0)[0].commit.committer.date == datetime(
        2024, 7, 1, tzinfo=UTC
    )


def test_commit_list_pages_through_repositories_id(world: World, emulator: Emulator) -> None:
    """per_page=1 gives one commit, Last-Modified its date, Link next/last on /repositories/{id}."""
    repo = world.add_repo("a/b", last_commit="2024-01-01T00:00:00Z")
    world.add_commit("a/b", "2024-02-01T10:00:00Z")
    answer = raw(emulator, "/repos/a/b/commits?per_page=1")
    assert len(answer.json()) == 1
    assert answer.json()[0]["commit"]["committer"]["date"] == "2024-02-01T10:00:00Z"
    assert answer.headers["last-modified"] == "Thu, 01 Feb 2024 10:00:00 GMT"
    link = answer.headers["link"]
    assert f"{emulator.github_url}/repositories/{repo.id}/commits?per_page=1&page=2" in link
    assert 'rel="next"' in link and 'rel="last"' in link


def test_commit_payload_matches_the_recorded_shape(world: World, emulator: Emulator) -> None:
    """A commit list entry has the recorded keys, down to commit.committer.date."""
    real = recorded("github-commits-list-200.json")["response"]["body"][0]
    world.add_repo("a/b")
    ours = raw(emulator, "/repos/a/b/commits?per_page=1").json()[0]
    assert set(real) <= set(ours)
    assert set(real["commit"]) <= set(ours["commit"])
    assert set(real["commit"]["committer"]) == set(ours["commit"]["committer"])


def test_empty_repository_commits_are_409(world: World, gh: Github) -> None:
    """Listing commits of an empty repository is 409 "Git Repository is empty."."""
    world.add_repo("a/empty", last_commit=None)
    with pytest.raises(GithubException) as caught:
        gh.get_repo("a/empty").get_commits().get_page(0)
    assert caught.value.status == 409
    assert caught.value.data["message"] == "Git Repository is empty."


@pytest.mark.parametrize("new", ["AutoGPT", "huggingface/trl"], ids=["rename", "transfer"])
def test_moved_repository_is_followed(
    world: World, gh: Github, emulator: Emulator, new: str
) -> None:
    """A renamed or transferred repo answers 301 to /repositories/{id}; PyGithub follows it."""
    repo = world.add_repo("old-owner/Auto-GPT")
    world.rename("old-owner/Auto-GPT", new)
    moved = gh.get_repo("old-owner/Auto-GPT")
    assert moved.full_name == repo.full_name and moved.id == repo.id
    first = world.requests("github")[0]
    assert first.status == 301
    answer = httpx.get(
        emulator.github_url + "/repos/old-owner/Auto-GPT", headers={"User-Agent": "t"}
    )
    location = f"{emulator.github_url}/repositories/{repo.id}"
    assert answer.status_code == 301 and answer.headers["location"] == location
    assert answer.json() == {
        "message": "Moved Permanently",
        "url": location,
        "documentation_url": "https://docs.github.com/v3/#http-redirects",
    }


def test_moved_repository_non_get_is_307(world: World, emulator: Emulator) -> None:
    """A PATCH to the old name answers 307, as the recorded octokit fixture shows."""
    world.add_repo("o/old")
    world.rename("o/old", "new")
    answer = httpx.patch(emulator.github_url + "/repos/o/old", headers={"User-Agent": "t"})
    assert answer.status_code == 307


def test_deleted_repository(world: World, gh: Github) -> None:
    """A deleted repository is UnknownObjectException with the 404 body GitHub sends."""
    world.add_repo("banana-dev/gone")
    world.delete("banana-dev/gone")
    with pytest.raises(Unknown) as caught:
        gh.get_repo("banana-dev/gone")
    assert caught.value.status == 404
    assert caught.value.data["message"] == "Not Found"


@pytest.mark.parametrize(("reason", "status"), [("dmca", 451), ("tos", 403), ("unavailable", 403)])
def test_blocked_repository(world: World, gh: Github, reason: str, status: int) -> None:
    """A DMCA takedown is 451, other blocks 403: "Repository access blocked" with a reason."""
    recorded_bodies = recorded("github-repo-error-bodies.json")
    world.add_repo("a/b")
    world.block("a/b", reason)  # type: ignore[arg-type]
    with pytest.raises(GithubException) as caught:
        gh.get_repo("a/b")
    assert caught.value.status == status
    assert caught.value.data["block"]["reason"] == reason
    real = next(
        v["body"]
        for k, v in recorded_bodies.items()
        if isinstance(v, dict) and v.get("status") == status and "block" in v["body"]
    )
    assert set(caught.value.data) == set(real) and set(caught.value.data["block"]) == set(
        real["block"]
    )


def test_update_is_free_when_unchanged(world: World, gh: Github) -> None:
    """update() sends the ETag: 304 (False, no charge) until the repo changes, then True."""
    world.add_repo("a/b", stars=1)
    repo = gh.get_repo("a/b")
    used = world.budget("core", "ghp_test_token").used
    assert repo.update() is False
    assert world.budget("core", "ghp_test_token").used == used
    world.star("a/b", 2)
    assert repo.update() is True and repo.stargazers_count == 2
    assert world.budget("core", "ghp_test_token").used == used + 1


def test_stored_etag_revalidates_across_clients(world: World, emulator: Emulator) -> None:
    """An ETag kept from an earlier process gets a 304 that leaves x-ratelimit-remaining alone."""
    world.add_repo("a/b")
    first = raw(emulator, "/repos/a/b")
    again = raw(emulator, "/repos/a/b", **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]


def test_etags_are_per_token(world: World, emulator: Emulator) -> None:
    """The same body under another token has another ETag (it hashes Authorization too)."""
    world.add_repo("a/b")
    one = raw(emulator, "/repos/a/b", Authorization="token ghp_one").headers["etag"]
    two = raw(emulator, "/repos/a/b", Authorization="token ghp_two").headers["etag"]
    assert one != two
    stale = raw(emulator, "/repos/a/b", Authorization="token ghp_two", **{"If-None-Match": one})
    assert stale.status_code == 200


def test_anonymous_budget_is_60_and_then_403(world: World, anonymous: Github) -> None:
    """Without a token the hour holds 60 requests; the 61st is 403 with remaining 0 and a reset."""
    world.add_repo("a/b")
    for _ in range(60):
        anonymous.get_repo("a/b")
    with pytest.raises(RateLimitExceededException) as caught:
        anonymous.get_repo("a/b")
    assert caught.value.status == 403
    assert caught.value.headers["x-ratelimit-remaining"] == "0"
    assert int(caught.value.headers["x-ratelimit-reset"]) > datetime.now(UTC).timestamp()
    assert "API rate limit exceeded" in caught.value.data["message"]


def test_rate_limit_endpoint_is_free(world: World, gh: Github) -> None:
    """GET /rate_limit reports core and graphql budgets without spending either."""
    world.set_budget("core", token="ghp_test_token", remaining=17)
    limits = gh.get_rate_limit()
    assert limits.resources.core.remaining == 17
    assert limits.resources.graphql.limit == 5000
    assert gh.get_rate_limit().resources.core.remaining == 17


def test_exhausted_token_budget(world: World, gh: Github) -> None:
    """A token whose budget is spent gets RateLimitExceededException before any data."""
    world.add_repo("a/b")
    world.set_budget("core", token="ghp_test_token", remaining=0)
    with pytest.raises(RateLimitExceededException):
        gh.get_repo("a/b")


@pytest.mark.parametrize(
    ("status", "exception"), [(403, RateLimitExceededException), (429, GithubException)]
)
def test_secondary_limit(world: World, gh: Github, status: int, exception: type) -> None:
    """Secondary limits answer 403/429 with retry-after; PyGithub maps 429 to a plain exception."""
    world.add_repo("a/b")
    world.trigger_secondary_limit(1, status=status, retry_after=42)
    with pytest.raises(exception) as caught:
        gh.get_repo("a/b")
    assert caught.value.status == status
    assert caught.value.headers["retry-after"] == "42"
    assert "secondary rate limit" in caught.value.data["message"]
    assert gh.get_repo("a/b").full_name == "a/b"


def test_contents_files_directories_and_missing_paths(world: World, gh: Github) -> None:
    """The contents API serves files and directories at a ref and 404s a missing path."""
    world.add_repo("lm-sys/FastChat", files=["fastchat/eval/README.md", "fastchat/eval/x.py"])
    repo = gh.get_repo("lm-sys/FastChat")
    listing = repo.get_contents("fastchat/eval", ref="main")
    assert sorted(item.name for item in listing) == ["README.md", "x.py"]  # type: ignore[union-attr]
    assert (
        repo.get_contents("fastchat/eval/x.py").decoded_content
        == b"content of fastchat/eval/x.py\n"
    )  # type: ignore[union-attr]
    world.remove_path("lm-sys/FastChat", "fastchat/eval")
    with pytest.raises(Unknown):
        repo.get_contents("fastchat/eval")


def test_issues_open_closed_transferred_deleted(world: World, gh: Github) -> None:
    """Issues have a state; a transferred one is followed to its new home; a deleted one is 410."""
    world.add_repo("OpenLMLab/MOSS")
    world.add_repo("OpenLMLab/MOSS-plugins")
    world.add_issue("OpenLMLab/MOSS", 51)
    world.add_issue("OpenLMLab/MOSS", 52)
    world.add_issue("OpenLMLab/MOSS", 53)
    repo = gh.get_repo("OpenLMLab/MOSS")
    assert repo.get_issue(51).state == "open"
    world.close_issue("OpenLMLab/MOSS", 51, "2024-01-01T00:00:00Z")
    assert repo.get_issue(51).state == "closed"
    world.transfer_issue("OpenLMLab/MOSS", 52, "OpenLMLab/MOSS-plugins", 7)
    moved = repo.get_issue(52)
    assert moved.number == 7 and "MOSS-plugins" in moved.html_url
    world.delete_issue("OpenLMLab/MOSS", 53)
    with pytest.raises(GithubException) as caught:
        repo.get_issue(53)
    assert caught.value.status == 410


def test_users_and_organisations(world: World, gh: Github) -> None:
    """Users and organisations exist at /users and /orgs; a renamed owner's old login is 404."""
    world.add_owner("THUDM", type="Organization")
    world.add_owner("karpathy", type="User")
    world.add_repo("karpathy/llama2.c")
    assert gh.get_organization("THUDM").login == "THUDM"
    assert gh.get_user("karpathy").type == "User"
    with pytest.raises(Unknown):
        gh.get_organization("karpathy")
    world.rename_owner("karpathy", "karpathy2")
    with pytest.raises(Unknown):
        gh.get_user("karpathy")
    assert gh.get_repo("karpathy/llama2.c").full_name == "karpathy2/llama2.c"


@pytest.mark.parametrize(
    "path",
    [
        "/repos/a/b",
        "/repos/a/b/commits",
        "/repos/a/b/contents/",
        "/repos/a/b/issues/1",
        "/users/a",
        "/orgs/a",
    ],
)
def test_every_200_has_an_etag(world: World, emulator: Emulator, path: str) -> None:
    """Every 200 carries a weak ETag, and sending it back is a free 304."""
    world.add_repo("a/b")
    world.add_issue("a/b", 1)
    first = raw(emulator, path)
    assert first.status_code == 200 and first.headers["etag"].startswith('W/"')
    assert raw(emulator, path, **{"If-None-Match": first.headers["etag"]}).status_code == 304


def test_user_by_id(world: World, emulator: Emulator) -> None:
    """GET /user/{id} finds an account by its stable id, whatever its login is now."""
    owner = world.add_owner("karpathy", type="User")
    world.rename_owner("karpathy", "karpathy2")
    answer = raw(emulator, f"/user/{owner.id}")
    assert answer.status_code == 200 and answer.json()["login"] == "karpathy2"
    assert raw(emulator, "/user/1").status_code == 404


def test_missing_user_agent_is_refused(world: World, emulator: Emulator) -> None:
    """A request without User-Agent is 403, as on api.github.com."""
    world.add_repo("a/b")
    answer = httpx.get(emulator.github_url + "/repos/a/b", headers={"User-Agent": ""})
    assert answer.status_code == 403 and "User-Agent" in answer.json()["message"]


def test_unknown_token_is_401(world: World, emulator: Emulator) -> None:
    """When the world lists valid tokens, any other one is 401 Bad credentials."""
    world.github_tokens = {"ghp_good"}
    world.add_repo("a/b")
    good = Github(
        base_url=emulator.github_url,
        auth=Auth.Token("ghp_good"),
        retry=None,
        seconds_between_requests=None,
    )
    bad = Github(
        base_url=emulator.github_url,
        auth=Auth.Token("ghp_bad"),
        retry=None,
        seconds_between_requests=None,
    )
    assert good.get_repo("a/b").full_name == "a/b"
    with pytest.raises(GithubException) as caught:
        bad.get_repo("a/b")
    assert caught.value.status == 401


def test_request_log_records_what_was_sent(world: World, gh: Github) -> None:
    """The log keeps method, path, headers and status of each request, for assertions."""
    world.add_repo("a/b")
    gh.get_repo("a/b")
    (request,) = world.requests("github")
    assert (request.method, request.path, request.status) == ("GET", "/repos/a/b", 200)
    assert request.header("Authorization") == "token ghp_test_token"
    assert request.cost == 1
    assert world.counts["github"] == 1 and world.points["github"] == 1
