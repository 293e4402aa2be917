"""GitHub's `/graphql` endpoint: queries parsed, validated and executed for real with graphql-core.

The schema is our subset (`schema.graphql`), checked field by field against
GitHub's public one, so an invalid query fails here as it does on GitHub.
Behaviours reproduced (../shared/api-facts.md §3):

- 401 without a token;
- a missing, deleted or private repository is `null` under its alias with a
  `NOT_FOUND` error at HTTP 200, and the other aliases keep their data;
- `repository(followRenames: true)` (the default) resolves an old name to the
  renamed repository, whose `nameWithOwner` is the new one;
- each query costs `max(1, round(connection requests / 100))` points from the
  hourly `graphql` budget; when the budget cannot pay, the answer is HTTP 200
  with a `RATE_LIMITED` error (or `RATE_LIMIT` + `code`, as GitHub now also
  spells it) and no data.

Not documented by GitHub, so chosen here: a blocked (DMCA/ToS) repository is
`null` with a `FORBIDDEN` error "Repository access blocked".
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    build_schema,
    parse,
    validate,
)
from graphql.execution import execute_sync

from monitor.emulator.basics import fake_sha
from monitor.emulator.github_payloads import LICENSES, iso
from monitor.emulator.gitstore import blob_sha
from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world import Issue, Owner, Repo, World
from monitor.emulator.world_github import Commit


@cache
def schema() -> GraphQLSchema:
    """The emulator's GraphQL schema (parsed once)."""
    text = resources.files("monitor.emulator").joinpath("schema.graphql").read_text()
    return build_schema(text)


@lru_cache(maxsize=256)
def _prepare(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """Parse and validate once per distinct query text (a monitor repeats its queries)."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    return document, tuple(validate(schema(), document))


class GitHubGraphQLError(Exception):
    """A resolver failure carrying GitHub's error `type` (NOT_FOUND, FORBIDDEN, …)."""

    def __init__(self, message: str, type: str) -> None:
        super().__init__(message)
        self.type = type


class GraphQL:
    def __init__(self, world: World) -> None:
        self.world = world

    def execute(self, request: HttpRequest, token: str) -> HttpResponse:
        if not token:
            return HttpResponse.json(
                401,
                {
                    "message": "This endpoint requires you to be authenticated.",
                    "documentation_url": "https://docs.github.com/graphql/guides/"
                    "forming-calls-with-graphql#authenticating-with-graphql",
                },
            )
        try:
            body = request.json()
            query = body["query"]
            variables = body.get("variables") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            return HttpResponse.json(
                400,
                {
                    "message": "Problems parsing JSON",
                    "documentation_url": "https://docs.github.com/graphql",
                },
            )
        document, errors = _prepare(query)
        if document is None or errors:
            return HttpResponse.json(200, {"errors": [_format(e) for e in errors]})
        with self.world.lock:
            cost = query_cost(document, variables)
            budget = self.world.budget("graphql", token)
            if budget.remaining < cost:
                error: dict[str, Any] = {
                    "type": self.world.graphql_rate_limit_type,
                    "message": "API rate limit exceeded for user ID 1.",
                }
                if error["type"] == "RATE_LIMIT":
                    error["code"] = "graphql_rate_limit"
                return HttpResponse.json(200, {"errors": [error]})
            dry_run = "dryRun: true" in query
            if not dry_run:
                budget.used += cost
            limit = {
                "cost": cost,
                "limit": budget.limit,
                "nodeCount": 0,
                "remaining": budget.remaining,
                "used": budget.used,
                "resetAt": iso(
                    self.world.now()
                    + timedelta(seconds=max(0.0, budget.reset_at - self.world.clock()))
                ),
            }
            result = execute_sync(
                schema(),
                document,
                root_value=_Root(self.world, limit),
                variable_values=variables,
                type_resolver=lambda value, info, abstract: value.typename,
            )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [_format(e) for e in result.errors]
        response = HttpResponse(
            200,
            json.dumps(payload, separators=(",", ":")).encode(),
            [("Content-Type", "application/json; charset=utf-8")],
        )
        response.cost = 0 if dry_run else cost
        return response


def _format(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = {}
    original = error.original_error
    if isinstance(original, GitHubGraphQLError):
        formatted["type"] = original.type
    if error.path:
        formatted["path"] = list(error.path)
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    formatted["message"] = error.message
    return formatted


def query_cost(document: DocumentNode, variables: dict[str, Any]) -> int:
    """GitHub's formula: connection requests (first/last assumed reached) / 100, at least 1."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    requests = 0

    def size(field: FieldNode) -> int | None:
        for argument in field.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, IntValueNode):
                    return int(value.value)
                if isinstance(value, VariableNode):
                    return int(variables.get(value.name.value) or 0)
        return None

    def walk(selections: SelectionSetNode | None, multiplier: int) -> None:
        nonlocal requests
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                count = size(selection)
                if count is None:
                    walk(selection.selection_set, multiplier)
                else:
                    requests += multiplier
                    walk(selection.selection_set, multiplier * max(count, 1))
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    walk(fragment.selection_set, multiplier)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk(definition.selection_set, 1)
    return max(1, round(requests / 100))


# --- resolvers: small views of the world, one per GraphQL type ----------------------------------


class _Root:
    typename = "Query"

    def __init__(self, world: World, limit: dict[str, Any]) -> None:
        self.world = world
        self.limit = limit

    def repository(
        self, info: Any, owner: str, name: str, followRenames: bool = True
    ) -> _Repository:
        full = f"{owner}/{name}"
        repo, _ = self.world.find_repo(full, follow_moves=followRenames)
        if repo is None or repo.status == "deleted" or repo.private:
            raise GitHubGraphQLError(
                f"Could not resolve to a Repository with the name '{full}'.", "NOT_FOUND"
            )
        if repo.status != "ok":
            raise GitHubGraphQLError("Repository access blocked", "FORBIDDEN")
        return _Repository(self.world, repo)

    def repositoryOwner(self, info: Any, login: str) -> _Owner | None:
        owner = self.world.find_owner(login)
        return _Owner(owner) if owner else None

    def user(self, info: Any, login: str) -> _Owner:
        owner = self.world.find_owner(login)
        if owner is None or owner.type != "User":
            raise GitHubGraphQLError(
                f"Could not resolve to a User with the login of '{login}'.", "NOT_FOUND"
            )
        return _Owner(owner)

    def organization(self, info: Any, login: str) -> _Owner:
        owner = self.world.find_owner(login)
        if owner is None or owner.type != "Organization":
            raise GitHubGraphQLError(
                f"Could not resolve to an Organization with the login of '{login}'.", "NOT_FOUND"
            )
        return _Owner(owner)

    def rateLimit(self, info: Any, dryRun: bool = False) -> dict[str, Any]:
        return self.limit


class _Owner:
    def __init__(self, owner: Owner) -> None:
        self.typename = owner.type
        self.id = (
            "MDEyOk9yZ2FuaXphdGlvbj" if owner.type == "Organization" else "MDQ6VXNlcj"
        ) + str(owner.id)
        self.databaseId = owner.id
        self.login = owner.login
        self.name = owner.name
        self.url = f"https://github.com/{owner.login}"
        self.createdAt = iso(owner.created_at)


class _Repository:
    typename = "Repository"

    def __init__(self, world: World, repo: Repo) -> None:
        self.world = world
        self.repo = repo
        self.id = repo.node_id
        self.databaseId = repo.id
        self.name = repo.name
        self.nameWithOwner = repo.full_name
        self.url = f"https://github.com/{repo.full_name}"
        self.description = repo.description
        self.homepageUrl = repo.homepage
        self.stargazerCount = repo.stars
        self.forkCount = repo.forks
        self.pushedAt = iso(repo.pushed_at)
        self.updatedAt = iso(repo.updated_at)
        self.createdAt = iso(repo.created_at)
        self.isArchived = repo.archived
        self.isDisabled = repo.disabled
        self.isFork = repo.fork
        self.isPrivate = repo.private
        self.isEmpty = not repo.commits
        self.isLocked = False
        self.archivedAt = iso(repo.updated_at) if repo.archived else None

    @property
    def owner(self) -> _Owner:
        owner = self.world.find_owner(self.repo.owner)
        assert owner is not None
        return _Owner(owner)

    @property
    def licenseInfo(self) -> dict[str, Any] | None:
        spdx = self.repo.license
        if spdx is None:
            return None
        if spdx == "NOASSERTION" or spdx not in LICENSES:
            return {
                "id": "MDc6TGljZW5zZTA=",
                "key": "other",
                "spdxId": "NOASSERTION",
                "name": "Other",
                "url": None,
            }
        key, name = LICENSES[spdx]
        return {
            "id": "MDc6TGljZW5z" + key,
            "key": key,
            "spdxId": spdx,
            "name": name,
            "url": f"http://choosealicense.com/licenses/{key}/",
        }

    @property
    def defaultBranchRef(self) -> _Ref | None:
        if not self.repo.commits:
            return None
        return _Ref(self.repo, self.repo.default_branch)

    def object(
        self, info: Any, expression: str | None = None, oid: str | None = None
    ) -> _GitObject | None:
        if expression is None:
            return None
        ref, _, path = expression.partition(":")
        if ref in ("HEAD", ""):
            ref = self.repo.default_branch
        tree = self.repo.trees.get(ref)
        if tree is None:
            return None
        if not path and not _:
            return _CommitNode(self.repo, self.repo.commits[0]) if self.repo.commits else None
        path = path.strip("/")
        if path in tree:
            return _Blob(self.repo, ref, path, tree[path])
        prefix = f"{path}/" if path else ""
        children = sorted({n[len(prefix) :].split("/")[0] for n in tree if n.startswith(prefix)})
        if not children:
            return None
        return _Tree(self.repo, ref, path, [(c, f"{prefix}{c}" in tree) for c in children])

    def _issue(self, number: int, kinds: tuple[bool, ...], label: str) -> _IssueNode:
        issue = self.repo.issues.get(number)
        if issue is None or issue.deleted or issue.moved_to or issue.is_pull not in kinds:
            raise GitHubGraphQLError(
                f"Could not resolve to {label} with the number of {number}.", "NOT_FOUND"
            )
        return _IssueNode(self.repo, issue)

    def issue(self, info: Any, number: int) -> _IssueNode:
        return self._issue(number, (False,), "an Issue")

    def pullRequest(self, info: Any, number: int) -> _IssueNode:
        return self._issue(number, (True,), "a PullRequest")

    def issueOrPullRequest(self, info: Any, number: int) -> _IssueNode:
        return self._issue(number, (False, True), "an issue or pull request")


class _Ref:
    typename = "Ref"

    def __init__(self, repo: Repo, name: str) -> None:
        self.id = "REF_" + fake_sha("ref", repo.id, name)[:16]
        self.name = name
        self.prefix = "refs/heads/"
        self.target = _CommitNode(repo, repo.commits[0]) if repo.commits else None


class _GitObject:
    typename = "GitObject"

    def __init__(self, repo: Repo, oid: str) -> None:
        self.id = "GO_" + oid[:16]
        self.oid = oid
        self.abbreviatedOid = oid[:7]
        self.commitUrl = f"https://github.com/{repo.full_name}/commit/{oid}"


class _CommitNode(_GitObject):
    typename = "Commit"

    def __init__(self, repo: Repo, commit: Commit) -> None:
        super().__init__(repo, commit.sha)
        self.repo = repo
        self.url = self.commitUrl
        self.message = commit.message
        self.committedDate = iso(commit.date)
        self.authoredDate = iso(commit.date)
        self.pushedDate = None

    def history(
        self, info: Any, first: int | None = None, last: int | None = None, **_: Any
    ) -> dict[str, Any]:
        index = next((i for i, c in enumerate(self.repo.commits) if c.sha == self.oid), 0)
        commits = self.repo.commits[index:]
        chosen = commits[: first or len(commits)]
        if last:
            chosen = chosen[-last:]
        return {"totalCount": len(commits), "nodes": [_CommitNode(self.repo, c) for c in chosen]}


class _Blob(_GitObject):
    typename = "Blob"

    def __init__(self, repo: Repo, ref: str, path: str, content: str) -> None:
        super().__init__(repo, blob_sha(content))
        self.byteSize = len(content.encode())
        self.isBinary = False
        self.text = content


class _Tree(_GitObject):
    typename = "Tree"

    def __init__(self, repo: Repo, ref: str, path: str, children: list[tuple[str, bool]]) -> None:
        super().__init__(repo, fake_sha("tree", repo.id, ref, path))
        prefix = f"{path}/" if path else ""
        self.entries = [
            {
                "name": name,
                "path": f"{prefix}{name}",
                "type": "blob" if is_file else "tree",
                "mode": 33188 if is_file else 16384,
            }
            for name, is_file in children
        ]


class _IssueNode:
    def __init__(self, repo: Repo, issue: Issue) -> None:
        self.typename = "PullRequest" if issue.is_pull else "Issue"
        self.id = "I_" + fake_sha("issue", repo.id, issue.number)[:16]
        self.databaseId = repo.id * 1000 + issue.number
        self.number = issue.number
        self.title = issue.title
        self.state = issue.state.upper()
        kind = "pull" if issue.is_pull else "issues"
        self.url = f"https://github.com/{repo.full_name}/{kind}/{issue.number}"
        self.closed = issue.state == "closed"
        self.closedAt = iso(issue.closed_at) if issue.closed_at else None
        self.createdAt = iso(issue.created_at)
        self.updatedAt = iso(issue.closed_at or issue.created_at)
        self.merged = False
