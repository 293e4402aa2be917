"""The GitHub probe against the emulator through PyGithub: every GitHub kind, both modes, limits."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from github import Auth, Github

from monitor.catalog.kinds import identify
from monitor.emulator import Emulator, World
from monitor.model import Kind, Observation, Outcome, Source
from monitor.probes.github import GitHubProbe
from monitor.probes.github_graphql import read, take_apart
from monitor.probes.github_http import BROKEN_AFTER, DOWN_AFTER

NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)
TOKEN = "ghp_probe_test"


def source(url: str, remote_id: str | None = None, **extra: object) -> Source:
    resource = identify(url)
    return Source(resource.key, resource.url, resource.kind, remote_id=remote_id, **extra)  # type: ignore[arg-type]


@pytest.fixture
def build(emulator: Emulator) -> Iterator[object]:
    clients: list[Github] = []
    sleeps: list[float] = []

    def make(token: str | None = TOKEN, **options: Any) -> GitHubProbe:
        client = Github(
            base_url=emulator.github_url,
            auth=Auth.Token(token) if token else None,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,  # as the CLI: GraphQL batches are read-only POSTs
        )
        clients.append(client)
        return GitHubProbe(client, token=token, sleep=sleeps.append, **options)

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
    assert probe.figures().requests == DOWN_AFTER == 2 * 2  # two sources, each tried twice
    assert found[0].error == "could not connect to 127.0.0.1:1: [Errno 111] Connection refused"
    assert all(o.error.startswith("not asked: 127.0.0.1:1 did not answer") for o in found[2:])  # type: ignore[union-attr]


# --- a hostile internet: one fault at a time, through PyGithub against the emulator ----------

TIMEOUT = 0.5
#: Two GraphQL batches of four (batch_size=4), each holding every kind; REST asks in this order.
MIXED = [
    "https://github.com/o/r0",
    "https://github.com/lm-sys/FastChat/tree/main/fastchat/eval",
    "https://github.com/OpenLMLab/MOSS/issues/51",
    "https://github.com/karpathy",
    "https://github.com/o/r1",
    "https://github.com/lm-sys/FastChat/blob/main/docs/x.md",
    "https://github.com/OpenLMLab/MOSS/issues/52",
    "https://github.com/THUDM",
]
FIRST_BATCH = {identify(u).key for u in MIXED[:4]}
#: (fault, options): answers that a retry gets past
RETRIED = [
    ("stall", {}),
    ("drip", {"drip_interval": 0.1, "drip_chunks": 40}),
    ("reset", {}),
    ("5xx", {"status": 502, "html": True}),
    ("5xx", {"status": 500, "html": False}),
    ("truncated", {}),
]
#: (fault, options, what the error says): answers no retry would mend
UNREADABLE = [
    ("portal", {}, "HTML ('Sign in to continue') where JSON was expected (a captive portal"),
    ("redirect-away", {"status": 301, "away": "scheme"}, "redirected to https://127.0.0.1:"),
    ("redirect-away", {"status": 301, "away": "host"}, "redirected to http://127.0.0.2:"),
]
MODES = pytest.mark.parametrize("token", [TOKEN, None], ids=["graphql", "rest"])


def mixed_world(world: World) -> list[Source]:
    world.add_repo("o/r0")
    world.add_repo("o/r1")
    world.add_repo("lm-sys/FastChat", files=["fastchat/eval/README.md", "docs/x.md"])
    world.add_repo("OpenLMLab/MOSS")
    world.add_issue("OpenLMLab/MOSS", 51)
    world.add_issue("OpenLMLab/MOSS", 52, state="closed")
    world.add_owner("THUDM", type="Organization")
    world.add_owner("karpathy", type="User")
    return [source(u) for u in MIXED]


def first_request(token: str | None) -> dict[str, str]:
    """Where a fault for the first request of a run goes: the first batch, or r0's GET."""
    return {"path": "graphql", "method": "POST"} if token else {"path": "^/repos/o/r0$"}


def hostile(build: object, world: World, token: str | None, **options: Any) -> GitHubProbe:
    settings = {"timeout": TIMEOUT, "backoff": 0, "batch_size": 4, **options}
    return build(token, **settings)  # type: ignore[operator,no-any-return]


def timed(probe: GitHubProbe, sources: list[Source]) -> tuple[dict[str, Observation], float]:
    started = time.monotonic()
    found = {o.key: o for o in probe.observe(sources, NOW)}
    return found, time.monotonic() - started


def no_wolf(found: dict[str, Observation]) -> None:
    """Nothing the probe could not read became a verdict; every failure says what happened."""
    assert not {o.outcome for o in found.values()} & {Outcome.NOT_FOUND, Outcome.BLOCKED}
    assert all(o.error for o in found.values() if o.outcome is not Outcome.OK)


@MODES
@pytest.mark.parametrize(
    ("fault", "options"), RETRIED, ids=[f"{f}-{i}" for i, (f, _) in enumerate(RETRIED)]
)
def test_one_failed_request_is_retried(
    world: World, build: object, token: str | None, fault: str, options: dict[str, Any]
) -> None:
    """A stall, drip, reset, 5xx or cut body on one request is retried: every source is OK."""
    sources = mixed_world(world)
    world.chaos.inject("github", fault, times=1, **first_request(token), **options)
    probe = hostile(build, world, token)
    found, elapsed = timed(probe, sources)
    assert {o.outcome for o in found.values()} == {Outcome.OK}
    assert elapsed < TIMEOUT + 1.5
    assert world.chaos.stats()["total"] == 1
    assert probe.figures().requests == len(world.requests("github"))
    assert probe.figures().errors == []  # mended by the retry: nothing to report


@MODES
@pytest.mark.parametrize(("fault", "options", "said"), UNREADABLE, ids=["portal", "https", "host"])
def test_unreadable_answer_is_transient(
    world: World, build: object, token: str | None, fault: str, options: dict[str, Any], said: str
) -> None:
    """A captive portal's HTML or a redirect away is transient for its sources, the rest OK."""
    sources = mixed_world(world)
    world.chaos.inject("github", fault, times=1, **first_request(token), **options)
    found, elapsed = timed(hostile(build, world, token), sources)
    no_wolf(found)
    hit = FIRST_BATCH if token else {sources[0].key}
    assert {k for k, o in found.items() if o.outcome is not Outcome.OK} == hit
    assert all(said in found[k].error for k in hit)  # type: ignore[operator]
    assert {found[k].outcome for k in hit} == {Outcome.TRANSIENT}
    assert elapsed < 1.5


def test_graphql_pathless_error_is_transient(world: World, build: object) -> None:
    """ "Something went wrong" (HTTP 200, data null, no path) is no not-found, whatever the kind."""
    sources = mixed_world(world)
    world.add_owner("gone-owner", type="User")  # a null owner, but in a batch that failed
    world.chaos.inject("github", "graphql-pathless", times=1, **first_request(TOKEN))
    probe = hostile(build, world, TOKEN)
    found, _ = timed(probe, sources)
    no_wolf(found)
    assert {k for k, o in found.items() if o.outcome is not Outcome.OK} == FIRST_BATCH
    for key in FIRST_BATCH:
        assert found[key].outcome is Outcome.TRANSIENT
        assert found[key].error.startswith(  # type: ignore[union-attr]
            "GitHub could not answer this batch: Something went wrong while executing your query"
        )
    assert any("Something went wrong" in e for e in probe.figures().errors)


@MODES
@pytest.mark.parametrize("limit", ["429", "secondary"])
def test_rate_limit_defers_without_sleeping(
    world: World, build: object, token: str | None, limit: str
) -> None:
    """A primary limit, or a secondary one asking for an hour, defers the rest at once."""
    sources = mixed_world(world)
    world.chaos.inject("github", limit, times=1, retry_after=3600, **first_request(token))
    probe = hostile(build, world, token)
    found, elapsed = timed(probe, sources)
    assert {o.outcome for o in found.values()} == {Outcome.DEFERRED}
    assert probe.figures().deferred == len(sources)
    assert probe.figures().requests == 1 == len(world.requests("github"))
    assert build.sleeps == []  # type: ignore[attr-defined]
    assert elapsed < 1.0


SUSTAINED = [
    ("stall", {}, DOWN_AFTER),
    ("drip", {"drip_interval": 0.1, "drip_chunks": 40}, DOWN_AFTER),
    ("reset", {}, DOWN_AFTER),
    ("5xx", {"status": 502}, BROKEN_AFTER),
    ("truncated", {}, BROKEN_AFTER),
    ("portal", {}, BROKEN_AFTER),
    ("redirect-away", {"status": 301, "away": "scheme"}, BROKEN_AFTER),
]


@MODES
@pytest.mark.parametrize(("fault", "options", "requests"), SUSTAINED, ids=[s[0] for s in SUSTAINED])
def test_failing_github_is_given_up_quickly(
    world: World,
    build: object,
    token: str | None,
    fault: str,
    options: dict[str, Any],
    requests: int,
) -> None:
    """When every request fails, a few are made, the rest come back at once, none a verdict."""
    sources = mixed_world(world) * 2  # REST: more sources than the requests it takes to give up
    world.chaos.inject("github", fault, **options)
    probe = hostile(build, world, token, batch_size=2)
    started = time.monotonic()
    found = list(probe.observe(sources, NOW))
    assert time.monotonic() - started < DOWN_AFTER * TIMEOUT + 1.5  # no hang, drips included
    assert len(found) == len(sources)
    no_wolf({str(i): o for i, o in enumerate(found)})
    assert {o.outcome for o in found} <= {Outcome.TRANSIENT, Outcome.NETWORK}
    assert probe.figures().requests == requests == len(world.requests("github"))
    assert found[-1].error.startswith("not asked: ")  # type: ignore[union-attr]
    assert any("not asked" in e or "in a row" in e for e in probe.figures().errors)


def test_pathless_errors_on_every_batch_are_given_up(world: World, build: object) -> None:
    """GraphQL failing every batch with path-less errors stops being asked after a few."""
    sources = mixed_world(world) * 2
    world.chaos.inject("github", "graphql-pathless")
    probe = hostile(build, world, TOKEN, batch_size=1)
    found = list(probe.observe(sources, NOW))
    assert {o.outcome for o in found} == {Outcome.TRANSIENT}
    assert probe.figures().requests == len(world.requests("github")) == BROKEN_AFTER
    assert found[-1].error.startswith("not asked: GitHub failed 6 requests in a row")  # type: ignore[union-attr]


def test_redirect_loop_is_cut_short(world: World, build: object, emulator: Emulator) -> None:
    """Same-host 301s going round in circles (PyGithub follows them) end after a few answers."""
    sources = mixed_world(world)
    for start, to in (("^/repos/o/r0$", "/x/a"), ("^/x/a$", "/x/b"), ("^/x/b$", "/x/a")):
        world.chaos.inject(
            "github", "redirect-away", path=start, status=301, location=emulator.github_url + to
        )
    found, _ = timed(hostile(build, world, None), sources)
    no_wolf(found)
    assert found[sources[0].key].error.startswith(  # type: ignore[union-attr]
        "GitHub's API answered one request 3 times without an end"
    )
    assert {o.outcome for k, o in found.items() if k != sources[0].key} == {Outcome.OK}


@MODES
def test_closed_generator_asks_nothing_more(world: World, build: object, token: str | None) -> None:
    """Closing the generator after its first observation (a run's deadline) ends the requests."""
    sources = mixed_world(world)
    probe = hostile(build, world, token, batch_size=1)
    observations = cast(Generator[Observation, None, None], probe.observe(sources, NOW))
    first = next(observations)
    assert first.outcome is Outcome.OK
    made = len(world.requests("github"))
    observations.close()
    assert len(world.requests("github")) == made == probe.figures().requests
    assert made == (1 if token else 2)  # one batch; or a repository and its last commit


def answer(data: Any, *errors: dict[str, Any]) -> Any:
    return take_apart({"data": data, "errors": list(errors)})


def test_graphql_reading_of_null_owners_and_missing_aliases() -> None:
    """Only GitHub's verdict is a not-found: a null owner alone, or NOT_FOUND naming the alias."""
    not_found = {"type": "NOT_FOUND", "path": ["r0"], "message": "Could not resolve"}
    assert read(answer({"u0": None}), "u0", Kind.GITHUB_OWNER).outcome is Outcome.NOT_FOUND
    assert read(answer({"r0": None}, not_found), "r0", Kind.GITHUB_REPO).outcome is (
        Outcome.NOT_FOUND
    )
    unsure = [
        read(answer({"r0": None}), "r0", Kind.GITHUB_REPO),  # null with no reason
        read(answer({}), "r0", Kind.GITHUB_REPO),  # left out of data
        read(answer({"u0": None}, {"path": ["u0"], "message": "timeout"}), "u0", Kind.GITHUB_OWNER),
        read(
            answer({"r0": {"nameWithOwner": "a/b"}}, {"path": ["r0", "licenseInfo"]}),
            "r0",
            Kind.GITHUB_REPO,
        ),
        read(answer({"p0": {"object": None}}, {"path": ["p0", "object"]}), "p0", Kind.GITHUB_PATH),
        read(answer({"r0": [1]}), "r0", Kind.GITHUB_REPO),
    ]
    assert {r.outcome for r in unsure} == {Outcome.TRANSIENT}
    assert all(r.error for r in unsure)
    assert answer(None, {"message": "Something went wrong"}).pathless
