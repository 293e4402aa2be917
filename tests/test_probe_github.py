"""The GitHub probe against the emulator through PyGithub: every GitHub kind, both modes, limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from github import Auth, Github

from monitor.catalog.kinds import identify
from monitor.emulator import Emulator, World
from monitor.model import Observation, Outcome, Source
from monitor.probes.github import GitHubProbe

NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)
TOKEN = "ghp_probe_test"


def source(url: str, remote_id: str | None = None, **extra: object) -> Source:
    resource = identify(url)
    return Source(resource.key, resource.url, resource.kind, remote_id=remote_id, **extra)  # type: ignore[arg-type]


@pytest.fixture
def build(emulator: Emulator) -> Iterator[object]:
    clients: list[Github] = []
    sleeps: list[float] = []

    def make(token: str | None = TOKEN) -> GitHubProbe:
        client = Github(
            base_url=emulator.github_url,
            auth=Auth.Token(token) if token else None,
            retry=None,
            seconds_between_requests=None,
        )
        clients.append(client)
        return GitHubProbe(client, token=token, sleep=sleeps.append)

    make.sleeps = sleeps  # type: ignore[attr-defined]
    yield make
    for client in clients:
        client.close()


def world_of_links(world: World) -> None:
    world.add_repo("lm-sys/FastChat", files=["fastchat/eval/README.md", "docs/x.md"])
    world.add_repo("OpenLMLab/MOSS")
    world.add_repo("OpenLMLab/MOSS-plugins")
    world.add_issue("OpenLMLab/MOSS", 51)
    world.add_issue("OpenLMLab/MOSS", 52, state="closed")
    world.add_issue("OpenLMLab/MOSS", 53)
    world.add_issue("OpenLMLab/MOSS", 54, is_pull=True)
    world.transfer_issue("OpenLMLab/MOSS", 53, "OpenLMLab/MOSS-plugins", 1)
    world.add_issue("OpenLMLab/MOSS", 55)
    world.delete_issue("OpenLMLab/MOSS", 55)
    world.add_owner("THUDM", type="Organization")
    world.add_owner("karpathy", type="User")


LINKS = {
    "dir": "https://github.com/lm-sys/FastChat/tree/main/fastchat/eval",
    "file": "https://github.com/lm-sys/FastChat/blob/main/docs/x.md",
    "missing-path": "https://github.com/lm-sys/FastChat/tree/main/nope",
    "bad-ref": "https://github.com/lm-sys/FastChat/tree/v9/docs",
    "open": "https://github.com/OpenLMLab/MOSS/issues/51",
    "closed": "https://github.com/OpenLMLab/MOSS/issues/52",
    "transferred": "https://github.com/OpenLMLab/MOSS/issues/53",
    "pull": "https://github.com/OpenLMLab/MOSS/pull/54",
    "deleted-issue": "https://github.com/OpenLMLab/MOSS/issues/55",
    "org": "https://github.com/THUDM",
    "user": "https://github.com/karpathy",
    "nobody": "https://github.com/nobody-at-all-here",
}


def observe(probe: GitHubProbe, sources: list[Source]) -> dict[str, Observation]:
    by_url = {s.key: name for name, s in zip(LINKS, sources, strict=False)}
    return {by_url.get(o.key, o.key): o for o in probe.observe(sources, NOW)}


@pytest.mark.parametrize("token", [TOKEN, None], ids=["graphql", "rest"])
def test_paths_issues_and_owners(world: World, build: object, token: str | None) -> None:
    """Paths, issues and owners are found, missing, moved or closed, with or without a token."""
    world_of_links(world)
    found = observe(build(token), [source(u) for u in LINKS.values()])  # type: ignore[operator]
    outcomes = {name: o.outcome.value for name, o in found.items()}
    assert outcomes == {
        "dir": "ok",
        "file": "ok",
        "missing-path": "not_found",
        "bad-ref": "not_found",
        "open": "ok",
        "closed": "ok",
        "transferred": "ok",
        "pull": "ok",
        "deleted-issue": "not_found",
        "org": "ok",
        "user": "ok",
        "nobody": "not_found",
    }
    assert found["closed"].facts.state == "closed"  # type: ignore[union-attr]
    assert found["open"].facts.state == "open"  # type: ignore[union-attr]
    assert found["transferred"].facts.url == (  # type: ignore[union-attr]
        "https://github.com/OpenLMLab/MOSS-plugins/issues/1"
    )
    assert found["user"].facts.owner_type == "user"  # type: ignore[union-attr]
    assert found["org"].facts.remote_id == str(world.find_owner("THUDM").id)  # type: ignore[union-attr]


def test_one_graphql_request_for_a_mixed_batch(world: World, build: object) -> None:
    """With a token, every kind shares one GraphQL request; only a vanished issue needs REST."""
    world_of_links(world)
    world.add_repo("tatsu-lab/stanford_alpaca")
    probe = build()  # type: ignore[operator]
    list(
        probe.observe(
            [source(u) for u in [*LINKS.values(), "https://github.com/tatsu-lab/stanford_alpaca"]],
            NOW,
        )
    )
    paths = [r.path for r in world.requests("github")]
    assert paths.count("/graphql") == 1
    assert sorted(p for p in paths if p != "/graphql") == [
        "/repos/OpenLMLab/MOSS/issues/53",
        "/repos/OpenLMLab/MOSS/issues/55",
        "/repositories/{}/issues/1".format(world.repo("OpenLMLab/MOSS-plugins").id),
    ]


def test_path_in_a_renamed_repo_reports_its_new_url(world: World, build: object) -> None:
    """A path whose repository was renamed still works and says where it lives now."""
    world.add_repo("lm-sys/FastChat", files=["fastchat/eval/README.md"])
    world.rename("lm-sys/FastChat", "lmsys/FastChat")
    for token in (TOKEN, None):
        (found,) = build(token).observe(  # type: ignore[operator]
            [source("https://github.com/lm-sys/FastChat/tree/main/fastchat/eval")], NOW
        )
        assert found.outcome is Outcome.OK
        assert found.facts.url == "https://github.com/lmsys/FastChat/tree/main/fastchat/eval"  # type: ignore[union-attr]


@pytest.mark.parametrize("token", [TOKEN, None], ids=["graphql", "rest"])
def test_renamed_owner_is_found_by_id(world: World, build: object, token: str | None) -> None:
    """An owner whose login changed is found again through its stable id."""
    owner = world.add_owner("karpathy", type="User")
    world.rename_owner("karpathy", "karpathy-new")
    (found,) = build(token).observe(  # type: ignore[operator]
        [source("https://github.com/karpathy", remote_id=str(owner.id))], NOW
    )
    assert found.outcome is Outcome.OK
    assert found.facts.name == "karpathy-new"  # type: ignore[union-attr]


@pytest.mark.parametrize("token", [TOKEN, None], ids=["graphql", "rest"])
def test_reused_name_is_not_the_same_repository(
    world: World, build: object, token: str | None
) -> None:
    """A name now taken by another repository leads back, by id, to the original."""
    original = world.add_repo("old/tool")
    world.rename("old/tool", "tool-renamed")
    world.add_repo("old/tool", stars=1)
    (found,) = build(token).observe(  # type: ignore[operator]
        [source("https://github.com/old/tool", remote_id=str(original.id))], NOW
    )
    assert found.facts.name == "old/tool-renamed"  # type: ignore[union-attr]


def test_rest_revalidates_every_kind(world: World, build: object) -> None:
    """Without a token, the second pass sends the stored ETags and each answer is a free 304."""
    world_of_links(world)
    urls = [LINKS[k] for k in ("dir", "open", "org")]
    first = {o.key: o for o in build(None).observe([source(u) for u in urls], NOW)}  # type: ignore[operator]
    world.reset_log()
    second = [
        source(u, validators=first[identify(u).key].validators, last=first[identify(u).key].facts)
        for u in urls
    ]
    again = list(build(None).observe(second, NOW))  # type: ignore[operator]
    assert {o.outcome for o in again} == {Outcome.NOT_MODIFIED}
    assert [r.status for r in world.requests("github")] == [304, 304, 304]
    assert world.budget("core", "").used == 3


def test_secondary_limit_is_waited_out(world: World, build: object) -> None:
    """A secondary limit with a short retry-after is slept through, then asked again."""
    world.add_repo("a/b")
    world.trigger_secondary_limit(1, status=403, retry_after=7)
    (found,) = build().observe([source("https://github.com/a/b")], NOW)  # type: ignore[operator]
    assert found.outcome is Outcome.OK
    assert build.sleeps == [7.0]  # type: ignore[attr-defined]


def test_spent_budget_defers_the_rest(world: World, build: object) -> None:
    """Without a token, once the hour's budget is spent the remaining sources are deferred."""
    for i in range(5):
        world.add_repo(f"o/r{i}")
    world.set_budget("core", remaining=4)
    probe = build(None)  # type: ignore[operator]
    found = list(probe.observe([source(f"https://github.com/o/r{i}") for i in range(5)], NOW))
    assert [o.outcome.value for o in found] == ["ok", "ok", "deferred", "deferred", "deferred"]
    assert probe.figures().deferred == 3


def test_unreachable_github_stops_knocking(build: object, emulator: Emulator) -> None:
    """When GitHub cannot be reached, a few attempts are made and the rest fail at once."""
    client = Github(base_url="http://127.0.0.1:1", retry=None, seconds_between_requests=None)
    probe = GitHubProbe(client, token=None, sleep=lambda s: None)
    found = list(probe.observe([source(f"https://github.com/o/r{i}") for i in range(20)], NOW))
    assert {o.outcome for o in found} == {Outcome.NETWORK}
    assert probe.figures().requests == 3 * 2  # three sources, each tried twice
