"""The emulated GitHub GraphQL API: a real schema subset, executed for real, batched."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import pytest
from github import Auth, Github
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    parse,
    validate,
)

from monitor.emulator import Emulator, World
from monitor.emulator.github_graphql import schema
from tests.conftest import SHARED

REAL_SCHEMA = SHARED / "github-graphql-schema.graphql"
FIELDS = (
    "nameWithOwner databaseId stargazerCount pushedAt isArchived isDisabled "
    "licenseInfo { spdxId } defaultBranchRef { name target { ... on Commit { committedDate } } }"
)


@cache
def real_schema() -> GraphQLSchema:
    # GitHub's published SDL repeats two fields of one type; graphql-core's SDL
    # validation refuses that, so it is loaded as GitHub serves it, unvalidated.
    return build_schema(REAL_SCHEMA.read_text(), assume_valid_sdl=True)


@pytest.fixture
def needs_real_schema() -> None:
    if not REAL_SCHEMA.is_file():
        pytest.skip(f"GitHub's schema is not at {REAL_SCHEMA}")


@pytest.fixture
def gh(emulator: Emulator) -> Iterator[Github]:
    client = Github(
        base_url=emulator.github_url,
        auth=Auth.Token("ghp_test_token"),
        retry=None,
        seconds_between_requests=None,
    )
    yield client
    client.close()


def post(
    gh: Github, query: str, variables: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A GraphQL POST the way the monitor makes it: partial data and errors both kept."""
    headers, body = gh.requester.requestJsonAndCheck(
        "POST", gh.requester.graphql_url, input={"query": query, "variables": variables or {}}
    )
    return headers, body


def batch(names: list[str]) -> str:
    fields = "\n".join(
        f'r{i}: repository(owner: "{n.split("/")[0]}", name: "{n.split("/")[1]}") {{ {FIELDS} }}'
        for i, n in enumerate(names)
    )
    return f"query Batch {{\n{fields}\nrateLimit {{ cost remaining resetAt }}\n}}"


def test_subset_matches_githubs_schema(needs_real_schema: None) -> None:
    """Every type, field, argument, enum value and union member we serve is GitHub's, same types."""
    real, ours = real_schema(), schema()
    for name, ours_type in ours.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Boolean", "ID", "Float"):
            continue
        assert name in real.type_map, name
        real_type = real.type_map[name]
        assert type(real_type) is type(ours_type), name
        if isinstance(ours_type, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(real_type, GraphQLObjectType | GraphQLInterfaceType)
            assert {i.name for i in ours_type.interfaces} <= {i.name for i in real_type.interfaces}
            for field_name, field in ours_type.fields.items():
                assert field_name in real_type.fields, f"{name}.{field_name}"
                real_field = real_type.fields[field_name]
                assert str(field.type) == str(real_field.type), f"{name}.{field_name}"
                for arg_name, arg in field.args.items():
                    assert arg_name in real_field.args, f"{name}.{field_name}({arg_name})"
                    assert str(arg.type) == str(real_field.args[arg_name].type)
                required = {
                    a
                    for a, v in real_field.args.items()
                    if str(v.type).endswith("!") and v.default_value is None
                }
                assert required <= set(field.args), f"{name}.{field_name} misses {required}"
        elif isinstance(ours_type, GraphQLEnumType):
            assert isinstance(real_type, GraphQLEnumType)
            assert set(ours_type.values) <= set(real_type.values), name
        elif isinstance(ours_type, GraphQLUnionType):
            assert isinstance(real_type, GraphQLUnionType)
            assert {t.name for t in ours_type.types} <= {t.name for t in real_type.types}
        assert not isinstance(ours_type, GraphQLInputObjectType), name


def test_monitor_queries_are_valid_on_githubs_schema(needs_real_schema: None) -> None:
    """The batch query shape the monitor sends validates against GitHub's real schema too."""
    document = parse(
        batch(["a/b", "c/d"])
        + "\n"
        + """query Paths {
      repository(owner: "a", name: "b") {
        object(expression: "main:docs") {
          ... on Tree { entries { name type } } ... on Blob { byteSize }
        }
        issueOrPullRequest(number: 5) {
          ... on Issue { issueState: state } ... on PullRequest { prState: state }
        }
      }
      repositoryOwner(login: "a") { login url }
    }"""
    )
    assert validate(real_schema(), document) == []
    assert validate(schema(), document) == []


def test_probe_queries_are_valid_on_githubs_schema(needs_real_schema: None) -> None:
    """The batch the GitHub probe sends, all four kinds mixed, is valid on GitHub's schema."""
    from monitor.probes.github import batch_query

    for counts in ((100, 0, 0, 0), (3, 2, 2, 2), (0, 1, 0, 0), (0, 0, 0, 5)):
        assert validate(real_schema(), parse(batch_query(*counts))) == [], counts


def test_invalid_query_fails_here_as_on_github(
    world: World, gh: Github, needs_real_schema: None
) -> None:
    """A field GitHub does not have fails validation in both schemas; no data, HTTP 200."""
    query = 'query { repository(owner: "a", name: "b") { starCount } }'
    assert validate(real_schema(), parse(query))
    _, body = post(gh, query)
    assert "data" not in body and "starCount" in body["errors"][0]["message"]


def test_batch_of_100_is_one_request_costing_one_point(world: World, gh: Github) -> None:
    """100 aliased repositories come back in one request that costs 1 point."""
    names = [f"owner{i}/repo{i}" for i in range(100)]
    for i, name in enumerate(names):
        world.add_repo(name, stars=i, license="MIT", last_commit="2024-01-01T00:00:00Z")
    headers, body = post(gh, batch(names))
    assert len(world.requests("github")) == 1
    assert [body["data"][f"r{i}"]["stargazerCount"] for i in range(100)] == list(range(100))
    assert body["data"]["rateLimit"]["cost"] == 1
    assert headers["x-ratelimit-resource"] == "graphql"
    assert headers["x-ratelimit-used"] == "1"
    assert world.points["github"] == 1


def test_missing_repo_keeps_partial_data(world: World, gh: Github) -> None:
    """A missing repo is null with a NOT_FOUND error at HTTP 200; the other aliases keep data."""
    world.add_repo("PyGithub/PyGithub", stars=7761, license="LGPL-3.0")
    world.add_repo("gone/repo")
    world.delete("gone/repo")
    _, body = post(gh, batch(["PyGithub/PyGithub", "no-such-owner/no-such-repo", "gone/repo"]))
    assert body["data"]["r0"]["nameWithOwner"] == "PyGithub/PyGithub"
    assert body["data"]["r1"] is None and body["data"]["r2"] is None
    errors = {tuple(e["path"]): e for e in body["errors"]}
    assert errors[("r1",)]["type"] == "NOT_FOUND"
    assert errors[("r1",)]["message"] == (
        "Could not resolve to a Repository with the name 'no-such-owner/no-such-repo'."
    )
    assert set(errors[("r1",)]) == {"type", "path", "locations", "message"}
    assert world.requests("github")[0].status == 200


def test_renamed_repo_resolves_under_its_old_name(world: World, gh: Github) -> None:
    """followRenames (the default) resolves the old name to the new nameWithOwner and same id."""
    repo = world.add_repo("Significant-Gravitas/Auto-GPT")
    world.rename("Significant-Gravitas/Auto-GPT", "AutoGPT")
    _, body = post(gh, batch(["Significant-Gravitas/Auto-GPT"]))
    assert body["data"]["r0"]["nameWithOwner"] == "Significant-Gravitas/AutoGPT"
    assert body["data"]["r0"]["databaseId"] == repo.id
    _, strict = post(
        gh,
        'query { repository(owner: "Significant-Gravitas", name: "Auto-GPT", '
        "followRenames: false) { id } }",
    )
    assert strict["data"]["repository"] is None
    assert strict["errors"][0]["type"] == "NOT_FOUND"


def test_last_commit_and_pushed_at_differ(world: World, gh: Github) -> None:
    """committedDate is the default branch's last commit, pushedAt any push; empty repos: no ref."""
    world.add_repo("a/b", last_commit="2024-01-01T00:00:00Z")
    world.push_elsewhere("a/b", "2024-06-01T00:00:00Z")
    world.add_repo("a/empty", last_commit=None)
    _, body = post(gh, batch(["a/b", "a/empty"]))
    assert body["data"]["r0"]["pushedAt"] == "2024-06-01T00:00:00Z"
    assert (
        body["data"]["r0"]["defaultBranchRef"]["target"]["committedDate"] == "2024-01-01T00:00:00Z"
    )
    assert body["data"]["r1"]["defaultBranchRef"] is None


def test_licence_values(world: World, gh: Github) -> None:
    """licenseInfo is an SPDX id, NOASSERTION for "other", or null without a licence."""
    world.add_repo("a/mit", license="MIT")
    world.add_repo("a/other", license="NOASSERTION")
    world.add_repo("a/none", license=None)
    _, body = post(gh, batch(["a/mit", "a/other", "a/none"]))
    assert [body["data"][f"r{i}"]["licenseInfo"] for i in range(3)] == [
        {"spdxId": "MIT"},
        {"spdxId": "NOASSERTION"},
        None,
    ]


def test_paths_issues_and_owners(world: World, gh: Github) -> None:
    """object(expression:) finds blobs and trees, issues have states, owners resolve by login."""
    world.add_repo("lm-sys/FastChat", files=["fastchat/eval/README.md"])
    world.add_issue("lm-sys/FastChat", 7, state="closed")
    world.add_owner("karpathy", type="User")
    _, body = post(
        gh,
        """query {
      repository(owner: "lm-sys", name: "FastChat") {
        dir: object(expression: "main:fastchat/eval") {
          __typename ... on Tree { entries { name } }
        }
        file: object(expression: "main:fastchat/eval/README.md") {
          __typename ... on Blob { byteSize }
        }
        gone: object(expression: "main:nope") { __typename }
        badref: object(expression: "dev:fastchat") { __typename }
        issueOrPullRequest(number: 7) { ... on Issue { state number } }
      }
      repositoryOwner(login: "karpathy") { __typename login }
      nobody: repositoryOwner(login: "nobody-at-all") { login }
    }""",
    )
    repo = body["data"]["repository"]
    assert repo["dir"] == {"__typename": "Tree", "entries": [{"name": "README.md"}]}
    assert repo["file"]["__typename"] == "Blob" and repo["file"]["byteSize"] > 0
    assert repo["gone"] is None and repo["badref"] is None
    assert repo["issueOrPullRequest"] == {"state": "CLOSED", "number": 7}
    assert body["data"]["repositoryOwner"] == {"__typename": "User", "login": "karpathy"}
    assert body["data"]["nobody"] is None
    assert "errors" not in body


def test_cost_counts_connections(world: World, gh: Github) -> None:
    """A query asking history(first: 1) of 300 repos costs 3 points (300 requests / 100)."""
    names = [f"o/r{i}" for i in range(300)]
    for name in names:
        world.add_repo(name)
    fields = "\n".join(
        f'r{i}: repository(owner: "o", name: "r{i}") {{ defaultBranchRef {{ target '
        f"{{ ... on Commit {{ history(first: 1) {{ totalCount }} }} }} }} }}"
        for i in range(300)
    )
    _, body = post(gh, f"query {{ {fields} rateLimit {{ cost }} }}")
    assert body["data"]["rateLimit"]["cost"] == 3
    assert world.budget("graphql", "ghp_test_token").used == 3


@pytest.mark.parametrize("spelling", ["RATE_LIMITED", "RATE_LIMIT"])
def test_spent_budget_is_rate_limited_at_200(world: World, gh: Github, spelling: str) -> None:
    """With no points left: HTTP 200, no data, a RATE_LIMITED (or RATE_LIMIT) error."""
    world.add_repo("a/b")
    world.graphql_rate_limit_type = spelling
    world.set_budget("graphql", token="ghp_test_token", remaining=0)
    headers, body = post(gh, batch(["a/b"]))
    assert "data" not in body
    assert body["errors"][0]["type"] == spelling
    assert headers["x-ratelimit-remaining"] == "0"
    if spelling == "RATE_LIMIT":
        assert body["errors"][0]["code"] == "graphql_rate_limit"


def test_no_token_is_401(world: World, emulator: Emulator) -> None:
    """GraphQL refuses anonymous callers with 401."""
    answer = httpx.post(
        emulator.github_url + "/graphql",
        json={"query": "{ rateLimit { cost } }"},
        headers={"User-Agent": "t"},
    )
    assert answer.status_code == 401
    assert answer.json()["message"] == "This endpoint requires you to be authenticated."


def test_variables_and_parse_errors(world: World, gh: Github) -> None:
    """Variables are honoured; a syntax error is reported with its location, at HTTP 200."""
    world.add_repo("a/b", stars=3)
    _, body = post(
        gh,
        "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { stargazerCount } }",
        {"o": "a", "n": "b"},
    )
    assert body["data"]["repository"]["stargazerCount"] == 3
    _, broken = post(gh, "query { repository(owner: ")
    assert broken["errors"][0]["locations"]
