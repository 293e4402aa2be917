"""GitHub GraphQL batches: the query text for a batch, and what its answer says of each alias.

Owns the shape of a batch (one alias per source, names as variables, so the
text depends only on how many sources of each kind it holds) and the reading
of an answer, alias by alias, into a `Read`: a node to trust, or an outcome.

Only GitHub's own verdict is a not-found: a `NOT_FOUND` error whose `path`
names the alias, or, for `repositoryOwner(login:)`, a null owner in an answer
with no error at all (the schema makes it nullable, and GitHub answers a login
nobody has with null and no error; the emulator does the same). Everything
else that leaves an alias unanswered is transient: an error without a `path`
(GitHub's "Something went wrong while executing your query", HTTP 200 and
`data: null`, under load), an alias missing from `data`, an error inside a
node (its other fields may be nulled, and a null `licenseInfo` read as "no
licence" would be a false alarm), JSON of the wrong shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from monitor.model import Kind, Outcome, Source
from monitor.probes.github_facts import WrongShape, mapping, parts

KINDS = (Kind.GITHUB_REPO, Kind.GITHUB_PATH, Kind.GITHUB_ISSUE, Kind.GITHUB_OWNER)
PREFIXES = {
    Kind.GITHUB_REPO: "r",
    Kind.GITHUB_PATH: "p",
    Kind.GITHUB_ISSUE: "i",
    Kind.GITHUB_OWNER: "u",
}
REPO_FRAGMENT = """fragment Repo on Repository {
  databaseId nameWithOwner url stargazerCount pushedAt isArchived isDisabled isPrivate
  licenseInfo { key spdxId }
  defaultBranchRef { target { ... on Commit { committedDate } } }
}"""
OWNER_FRAGMENT = """fragment Owner on RepositoryOwner {
  __typename login url
  ... on User { databaseId }
  ... on Organization { databaseId }
}"""
RATE_LIMITED = ("RATE_LIMITED", "RATE_LIMIT")


@cache
def batch_query(repos: int, paths: int = 0, issues: int = 0, owners: int = 0) -> str:
    """The GraphQL text for a batch; the same text every time for the same counts."""
    variables: list[str] = []
    fields: list[str] = []
    for i in range(repos):
        variables.append(f"$o{i}: String!, $n{i}: String!")
        fields.append(f"r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...Repo }}")
    for i in range(paths):
        variables.append(f"$po{i}: String!, $pn{i}: String!, $pe{i}: String!")
        fields.append(
            f"p{i}: repository(owner: $po{i}, name: $pn{i}) "
            f"{{ nameWithOwner object(expression: $pe{i}) {{ __typename }} }}"
        )
    for i in range(issues):
        variables.append(f"$io{i}: String!, $in{i}: String!, $ik{i}: Int!")
        fields.append(
            f"i{i}: repository(owner: $io{i}, name: $in{i}) {{ nameWithOwner "
            f"issueOrPullRequest(number: $ik{i}) {{ __typename "
            "... on Issue { issueState: state url } "
            "... on PullRequest { prState: state url } } }"
        )
    for i in range(owners):
        variables.append(f"$ul{i}: String!")
        fields.append(f"u{i}: repositoryOwner(login: $ul{i}) {{ ...Owner }}")
    text = f"query Batch({', '.join(variables)}) {{\n  " + "\n  ".join(fields)
    text += "\n  rateLimit { cost limit remaining used resetAt }\n}"
    if repos:
        text += "\n" + REPO_FRAGMENT
    if owners:
        text += "\n" + OWNER_FRAGMENT
    return text


def aliases(batch: Sequence[Source]) -> tuple[list[str], dict[str, Any], tuple[int, ...]]:
    """Aliases, variables and per-kind counts for a batch sorted by kind (`KINDS` order)."""
    names: list[str] = []
    variables: dict[str, Any] = {}
    counts = dict.fromkeys(KINDS, 0)
    for source in batch:
        i = counts[source.kind]
        counts[source.kind] += 1
        names.append(f"{PREFIXES[source.kind]}{i}")
        segments = parts(source.url)
        if source.kind is Kind.GITHUB_OWNER:
            variables[f"ul{i}"] = segments[0]
            continue
        owner, name = segments[0], segments[1]
        if source.kind is Kind.GITHUB_REPO:
            variables[f"o{i}"], variables[f"n{i}"] = owner, name
        elif source.kind is Kind.GITHUB_PATH:
            variables[f"po{i}"], variables[f"pn{i}"] = owner, name
            variables[f"pe{i}"] = f"{segments[3]}:{'/'.join(segments[4:])}"
        else:
            variables[f"io{i}"], variables[f"in{i}"] = owner, name
            variables[f"ik{i}"] = int(segments[3])
    return names, variables, tuple(counts[k] for k in KINDS)


@dataclass(frozen=True, slots=True)
class Read:
    """What a batch's answer says about one alias: a node to trust, or else an outcome."""

    node: Mapping[str, Any] | None = None
    outcome: Outcome | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A GraphQL answer taken apart: its data, and its errors by the alias they name."""

    data: Mapping[str, Any]
    #: errors naming an alias, by alias (path[0])
    by_alias: Mapping[str, list[Mapping[str, Any]]]
    #: errors without a path: the whole query failed, or part of it, nobody says which
    pathless: list[Mapping[str, Any]]
    rate_limited: bool
    #: points the query cost, when GitHub said (`rateLimit.cost`)
    cost: int | None


def take_apart(body: Any) -> Answer:
    """`body` (decoded JSON) as an `Answer`; `WrongShape` if it is not a GraphQL answer."""
    body = mapping(body, "the answer")
    raw_errors = body.get("errors") or []
    if not isinstance(raw_errors, list):
        raise WrongShape("'errors' is not a list")
    errors = [mapping(e, "an error") for e in raw_errors]
    data = body.get("data")
    data = {} if data is None else mapping(data, "'data'")
    by_alias: dict[str, list[Mapping[str, Any]]] = {}
    pathless: list[Mapping[str, Any]] = []
    for error in errors:
        path = error.get("path")
        if isinstance(path, list) and path and isinstance(path[0], str):
            by_alias.setdefault(path[0], []).append(error)
        else:
            pathless.append(error)
    limit = data.get("rateLimit")
    cost = limit.get("cost") if isinstance(limit, Mapping) else None
    return Answer(
        data,
        by_alias,
        pathless,
        rate_limited=any(e.get("type") in RATE_LIMITED for e in errors),
        cost=cost if isinstance(cost, int) and not isinstance(cost, bool) else None,
    )


def pathless_error(answer: Answer) -> str | None:
    """The clear error for a batch with path-less errors (None when it has none)."""
    if not answer.pathless:
        return None
    messages = "; ".join(dict.fromkeys(_message(e) for e in answer.pathless))
    return f"GitHub could not answer this batch: {messages[:300]}"


def read(answer: Answer, alias: str, kind: Kind) -> Read:
    """What `answer` says about `alias` (a source of `kind`). Call only when the answer has
    no path-less error (`pathless_error`): those leave every alias unsure."""
    if alias not in answer.data:
        return _unsure(f"GitHub's answer left out {alias} without saying why")
    node = answer.data[alias]
    errors = answer.by_alias.get(alias, [])
    own = [e for e in errors if len(e["path"]) == 1]
    inner = [e for e in errors if len(e["path"]) > 1]
    if node is None:
        return _null(kind, own or inner)
    if not isinstance(node, Mapping):
        return _unsure(f"unreadable answer from GitHub: {alias} is {type(node).__name__}")
    # A missing issue is GitHub's NOT_FOUND at [alias, "issueOrPullRequest"]: the probe then
    # asks REST whether it was transferred or deleted. Any other inner error may have nulled
    # fields that would read as facts.
    expected = [
        e
        for e in inner
        if kind is Kind.GITHUB_ISSUE
        and e.get("type") == "NOT_FOUND"
        and e["path"][1:] == ["issueOrPullRequest"]
    ]
    trouble = [e for e in inner if e not in expected] + own
    if trouble:
        return _unsure(f"GitHub could not answer all of it: {_message(trouble[0])}")
    return Read(node)


def _null(kind: Kind, errors: list[Mapping[str, Any]]) -> Read:
    if not errors:
        if kind is Kind.GITHUB_OWNER:
            # repositoryOwner(login:) is nullable: null with no error is "nobody has that login".
            return Read(outcome=Outcome.NOT_FOUND, error="no such user or organisation")
        return _unsure("GitHub answered null without an error")
    first = errors[0]
    message = _message(first)
    if first.get("type") == "NOT_FOUND" and len(first["path"]) == 1:
        return Read(outcome=Outcome.NOT_FOUND, error=message)
    if first.get("type") == "FORBIDDEN" or "blocked" in message.lower():
        return Read(outcome=Outcome.BLOCKED, error=message)
    return _unsure(message)


def _unsure(error: str) -> Read:
    return Read(outcome=Outcome.TRANSIENT, error=error)


def _message(error: Mapping[str, Any]) -> str:
    message = error.get("message")
    if isinstance(message, str) and message:
        return message
    kind = error.get("type")
    return f"an error of type {kind} with no message" if isinstance(kind, str) else "an error"
