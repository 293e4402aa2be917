"""GitHub repositories, paths, issues and owners, checked as cheaply as GitHub allows.

With a token: GraphQL, up to 100 aliases per request whatever their kinds
(`repository(...)` for repositories, with `object(expression: "ref:path")` for
paths and `issueOrPullRequest(number:)` for issues; `repositoryOwner(login:)`
for owners), one request and one point per 100 sources, posted to
`requester.graphql_url` directly because PyGithub's `graphql_query` throws
partial data away when one alias is NOT_FOUND. The query text depends only on
how many sources of each kind a batch holds; names travel as variables.

Without a token (60 requests an hour): REST through PyGithub, revalidating with
the ETags stored from the last check (`If-None-Match`; a 304 is free and means
unchanged). A repository's last commit is fetched only when it was pushed to.
Sources arrive most overdue first; once the budget is spent, those without an
ETag are deferred to the next run.

PyGithub is built with `retry=None`: this module decides when to retry (twice,
with backoff, on 5xx and dropped connections), when to wait (a secondary limit
whose `retry-after` is short) and when to stop (a spent budget), so a run never
sleeps for an hour. Renames are a 301 (REST) or a `nameWithOwner` that differs
from the catalog's (GraphQL), compared case-insensitively; a name that now
resolves to another repository or account (a different id) is looked up by id
to find where the original went. A path or issue whose repository moved keeps
working but reports its new URL, so the catalog can be fixed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests
from github import Github

from monitor.model import Facts, Kind, Observation, Outcome, Source
from monitor.probes import Figures

KINDS = (Kind.GITHUB_REPO, Kind.GITHUB_PATH, Kind.GITHUB_ISSUE, Kind.GITHUB_OWNER)
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
RETRIES = 2
#: After this many requests in a row fail to reach GitHub at all, the run stops trying:
#: the rest are recorded as network failures at once instead of each waiting for retries.
DOWN_AFTER = 3


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


def parts(url: str) -> list[str]:
    return [unquote(p) for p in urlsplit(url).path.split("/") if p]


def slug(url: str) -> str:
    """ "owner/name" of a GitHub repository, path or issue URL."""
    segments = parts(url)
    return f"{segments[0]}/{segments[1]}"


def fingerprint(token: str | None) -> str:
    """Which credential an ETag belongs to (ETags are per token), without keeping the token."""
    if not token:
        return "anonymous"
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def moved_url(url: str, new_slug: str) -> str:
    """`url` (a path or issue of a repository) with the repository's new owner/name."""
    segments = parts(url)
    rest = "/".join(quote(s, safe="") for s in segments[2:])
    return f"https://github.com/{new_slug}/{rest}" if rest else f"https://github.com/{new_slug}"


class _Spent(Exception):
    """The primary budget is spent; everything not yet checked is deferred."""


class GitHubProbe:
    """Checks `github_repo`, `github_path`, `github_issue` and `github_owner` sources."""

    service = "github"

    def __init__(
        self,
        github: Github,
        *,
        token: str | None,
        batch_size: int = 100,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.github = github
        self.requester = github.requester
        self.use_graphql = bool(token)
        self.identity = fingerprint(token)
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.sleep = sleep
        self.host = urlsplit(self.requester.base_url).netloc or "api.github.com"
        self._figures = Figures()
        self._spent = False
        #: consecutive requests that never reached GitHub; at DOWN_AFTER the host is down
        self._unreachable = 0

    def figures(self) -> Figures:
        return self._figures

    def observe(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        mine = [s for s in sources if s.kind in KINDS]
        if self.use_graphql:
            yield from self._graphql(mine, now)
        else:
            yield from self._rest(mine, now)

    # --- transport ---------------------------------------------------------------------------

    def _request(
        self, verb: str, url: str, *, headers: dict[str, str] | None = None, payload: Any = None
    ) -> tuple[int, dict[str, str], Any]:
        """One request with the retry policy; returns (status, headers, decoded body).

        Raises `_Spent` when the primary budget is gone, `requests.RequestException`
        when the connection keeps failing.
        """
        if self._unreachable >= DOWN_AFTER:
            raise requests.ConnectionError(f"{self.host} is unreachable in this run")
        attempt = 0
        while True:
            try:
                self._figures.requests += 1
                status, response_headers, body = self.requester.requestJson(
                    verb, url, headers=headers, input=payload
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                # A name that does not resolve will not resolve a second later either; a
                # refused connection gets one quick second chance; a timeout two slower ones.
                unresolved = "NameResolutionError" in str(exc) or "Name or service" in str(exc)
                refused = isinstance(exc, requests.ConnectionError) and not unresolved
                if unresolved or attempt >= (1 if refused else RETRIES):
                    self._unreachable += 1
                    raise
                attempt += 1
                self.sleep(1.0 if refused else 2.0**attempt)
                continue
            self._unreachable = 0
            lowered = {k.lower(): v for k, v in response_headers.items()}
            self._note_limits(lowered)
            decoded = _decode(body)
            if status in (403, 429) and _is_rate_limit(status, lowered, decoded):
                wait = _retry_after(lowered)
                if lowered.get("x-ratelimit-remaining") == "0" and wait is None:
                    raise _Spent()
                if wait is not None and wait <= self.max_wait and attempt < RETRIES:
                    attempt += 1
                    self.sleep(wait)
                    continue
                raise _Spent()
            if status >= 500 and attempt < RETRIES:
                attempt += 1
                self.sleep(2.0**attempt)
                continue
            return status, lowered, decoded

    def _note_limits(self, headers: dict[str, str]) -> None:
        figures = self._figures
        if "x-ratelimit-remaining" in headers:
            figures.remaining = int(float(headers["x-ratelimit-remaining"]))
        if "x-ratelimit-limit" in headers:
            figures.limit = int(float(headers["x-ratelimit-limit"]))
        if "x-ratelimit-reset" in headers:
            figures.reset_at = datetime.fromtimestamp(int(float(headers["x-ratelimit-reset"])), UTC)

    # --- with a token: GraphQL batches -------------------------------------------------------

    def _graphql(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        for start in range(0, len(sources), self.batch_size):
            batch = sorted(
                sources[start : start + self.batch_size], key=lambda s: KINDS.index(s.kind)
            )
            if self._spent:
                yield from self._defer(batch, now)
                continue
            aliases, variables, counts = _aliases(batch)
            try:
                status, _, body = self._request(
                    "POST",
                    self.requester.graphql_url,
                    payload={"query": batch_query(*counts), "variables": variables},
                )
            except _Spent:
                self._spent = True
                yield from self._defer(batch, now)
                continue
            except requests.RequestException as exc:
                yield from (self._failed(s, now, exc) for s in batch)
                continue
            if status == 401:
                self._figures.errors.append(
                    "GitHub refused the token (401 Bad credentials): check GITHUB_TOKEN"
                )
                self._spent = True
                yield from self._defer(batch, now)
                continue
            if status != 200 or not isinstance(body, dict):
                yield from (self._status(s, now, status) for s in batch)
                continue
            errors = body.get("errors") or []
            if any(e.get("type") in ("RATE_LIMITED", "RATE_LIMIT") for e in errors):
                self._spent = True
                self._figures.remaining = 0
                yield from self._defer(batch, now)
                continue
            data = body.get("data") or {}
            self._figures.points += int((data.get("rateLimit") or {}).get("cost") or 1)
            by_path: dict[tuple[str, ...], dict[str, Any]] = {
                tuple(str(p) for p in e["path"]): e for e in errors if e.get("path")
            }
            for alias, source in zip(aliases, batch, strict=True):
                error = by_path.get((alias,))
                nested = next(
                    (e for path, e in by_path.items() if len(path) > 1 and path[0] == alias), None
                )
                yield self._from_graphql(source, now, data.get(alias), error, nested)

    def _from_graphql(
        self,
        source: Source,
        now: datetime,
        node: dict[str, Any] | None,
        error: dict[str, Any] | None,
        nested: dict[str, Any] | None,
    ) -> Observation:
        if node is None:
            return self._graphql_missing(source, now, error)
        if source.kind is Kind.GITHUB_REPO:
            facts = _graphql_facts(node)
            if source.remote_id and facts.remote_id != source.remote_id:
                return self._repo_by_id(source, now)
            return self._ok(source, now, facts)
        if source.kind is Kind.GITHUB_OWNER:
            facts = Facts(
                remote_id=_str(node.get("databaseId")),
                name=node.get("login"),
                url=node.get("url"),
                owner_type=_owner_type(node.get("__typename")),
            )
            if source.remote_id and facts.remote_id and facts.remote_id != source.remote_id:
                return self._owner_by_id(source, now)
            return self._ok(source, now, facts)
        new_slug = node.get("nameWithOwner") or slug(source.url)
        url = (
            moved_url(source.url, new_slug)
            if new_slug.lower() != slug(source.url).lower()
            else None
        )
        if source.kind is Kind.GITHUB_PATH:
            if node.get("object") is None:
                return Observation(
                    source.key,
                    now,
                    Outcome.NOT_FOUND,
                    http_status=200,
                    error=f"no such path in {new_slug}",
                    host=self.host,
                )
            return self._ok(source, now, Facts(name=new_slug, url=url))
        item = node.get("issueOrPullRequest")
        if item is None:
            # Gone from this repository: transferred elsewhere, or deleted. REST can tell.
            if self._spent:
                return Observation(source.key, now, Outcome.DEFERRED, host=self.host)
            return self._rest_guarded(self._issue_rest, source, now, {})
        state = (item.get("issueState") or item.get("prState") or "").lower() or None
        return self._ok(source, now, Facts(name=new_slug, url=url, state=state))

    def _graphql_missing(
        self, source: Source, now: datetime, error: dict[str, Any] | None
    ) -> Observation:
        kind = (error or {}).get("type")
        message = (error or {}).get("message") or "not found"
        if source.kind is Kind.GITHUB_OWNER:
            if source.remote_id and not self._spent:
                return self._owner_by_id(source, now)
            return Observation(
                source.key,
                now,
                Outcome.NOT_FOUND,
                http_status=200,
                error="no such user or organisation",
                host=self.host,
            )
        if kind == "NOT_FOUND":
            return Observation(
                source.key, now, Outcome.NOT_FOUND, http_status=200, error=message, host=self.host
            )
        if kind == "FORBIDDEN" or "blocked" in message.lower():
            return Observation(
                source.key, now, Outcome.BLOCKED, http_status=200, error=message, host=self.host
            )
        return Observation(source.key, now, Outcome.TRANSIENT, error=message, host=self.host)

    # --- without a token: REST with ETags ----------------------------------------------------

    def _rest(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        checks: dict[Kind, Callable[[Source, datetime, dict[str, str]], Observation]] = {
            Kind.GITHUB_REPO: self._repo_rest,
            Kind.GITHUB_PATH: self._path_rest,
            Kind.GITHUB_ISSUE: self._issue_rest,
            Kind.GITHUB_OWNER: self._owner_rest,
        }
        for source in sources:
            validators = dict(source.validators)
            if validators.get("identity") != self.identity:
                validators = {}
            if self._spent and not validators:
                yield from self._defer([source], now)
                continue
            yield self._rest_guarded(checks[source.kind], source, now, validators)

    def _rest_guarded(
        self,
        check: Callable[[Source, datetime, dict[str, str]], Observation],
        source: Source,
        now: datetime,
        validators: dict[str, str],
    ) -> Observation:
        try:
            return check(source, now, validators)
        except _Spent:
            self._spent = True
            self._figures.deferred += 1
            return Observation(source.key, now, Outcome.DEFERRED, host=self.host)
        except requests.RequestException as exc:
            return self._failed(source, now, exc)

    def _get(
        self,
        url: str,
        validators: dict[str, str],
        name: str,
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"If-None-Match": validators[name]} if name in validators else {}
        status, response_headers, body = self._request("GET", url, headers=headers)
        if status == 304:
            self._figures.not_modified += 1
        else:
            self._figures.points += 1
        return status, response_headers, body

    def _not_modified(
        self, source: Source, now: datetime, validators: dict[str, str]
    ) -> Observation:
        return Observation(
            source.key,
            now,
            Outcome.NOT_MODIFIED,
            http_status=304,
            validators=tuple(sorted(validators.items())),
            host=self.host,
        )

    def _kept(
        self, headers: dict[str, str], name: str, **others: str
    ) -> tuple[tuple[str, str], ...]:
        kept = {"identity": self.identity, name: headers.get("etag", ""), **others}
        return tuple(sorted((k, v) for k, v in kept.items() if v))

    def _repo_rest(self, source: Source, now: datetime, validators: dict[str, str]) -> Observation:
        status, headers, body = self._get(f"/repos/{slug(source.url)}", validators, "repo")
        if status == 304 and source.last is not None:
            return self._not_modified(source, now, validators)
        if status != 200 or not isinstance(body, dict):
            return self._status(source, now, status, body)
        facts = _rest_facts(body)
        if source.remote_id and facts.remote_id != source.remote_id:
            return self._repo_by_id(source, now)
        last = source.last
        commits: dict[str, str] = {}
        if last is not None and last.pushed_at == facts.pushed_at and "commits" in validators:
            facts = replace(facts, last_commit=last.last_commit)
            commits["commits"] = validators["commits"]
        else:
            status, commit_headers, listing = self._get(
                f"/repositories/{facts.remote_id}/commits?per_page=1", validators, "commits"
            )
            if status == 200 and isinstance(listing, list) and listing:
                facts = replace(facts, last_commit=_time(listing[0]["commit"]["committer"]["date"]))
                commits["commits"] = commit_headers.get("etag", "")
            elif status == 304 and last is not None:
                facts = replace(facts, last_commit=last.last_commit)
                commits["commits"] = validators["commits"]
            elif status != 409:  # 409: an empty repository has no commits
                return self._status(source, now, status, listing)
        return self._ok(source, now, facts, self._kept(headers, "repo", **commits))

    def _path_rest(self, source: Source, now: datetime, validators: dict[str, str]) -> Observation:
        segments = parts(source.url)
        ref, path = segments[3], "/".join(quote(s, safe="") for s in segments[4:])
        status, headers, body = self._get(
            f"/repos/{slug(source.url)}/contents/{path}?ref={quote(ref, safe='')}",
            validators,
            "rest",
        )
        if status == 304 and source.last is not None:
            return self._not_modified(source, now, validators)
        if status != 200:
            return self._status(source, now, status, body)
        first = body[0] if isinstance(body, list) and body else body
        html = first.get("html_url", "") if isinstance(first, dict) else ""
        new_slug = "/".join(parts(html)[:2]) if html else slug(source.url)
        url = (
            moved_url(source.url, new_slug)
            if new_slug.lower() != slug(source.url).lower()
            else None
        )
        return self._ok(source, now, Facts(name=new_slug, url=url), self._kept(headers, "rest"))

    def _issue_rest(self, source: Source, now: datetime, validators: dict[str, str]) -> Observation:
        number = parts(source.url)[3]
        status, headers, body = self._get(
            f"/repos/{slug(source.url)}/issues/{number}", validators, "rest"
        )
        if status == 304 and source.last is not None:
            return self._not_modified(source, now, validators)
        if status == 410:
            return Observation(
                source.key,
                now,
                Outcome.NOT_FOUND,
                http_status=410,
                error="the issue was deleted",
                host=self.host,
            )
        if status != 200 or not isinstance(body, dict):
            return self._status(source, now, status, body)
        html = body.get("html_url") or source.url
        url = html if html.rstrip("/") != source.url.rstrip("/") else None
        return self._ok(
            source,
            now,
            Facts(name=slug(html), url=url, state=body.get("state")),
            self._kept(headers, "rest"),
        )

    def _owner_rest(self, source: Source, now: datetime, validators: dict[str, str]) -> Observation:
        login = parts(source.url)[0]
        status, headers, body = self._get(f"/users/{quote(login, safe='')}", validators, "rest")
        if status == 304 and source.last is not None:
            return self._not_modified(source, now, validators)
        if status == 404 and source.remote_id:
            return self._owner_by_id(source, now)
        if status != 200 or not isinstance(body, dict):
            return self._status(source, now, status, body)
        return self._ok(source, now, _account_facts(body), self._kept(headers, "rest"))

    # --- by id, when a name no longer leads where it did -------------------------------------

    def _repo_by_id(self, source: Source, now: datetime) -> Observation:
        """The catalog's name now leads to another repository: find the original by its id."""
        return self._by_id(source, now, f"/repositories/{source.remote_id}", _rest_facts)

    def _owner_by_id(self, source: Source, now: datetime) -> Observation:
        """The login is gone or taken by someone else: find the account by its id."""
        return self._by_id(source, now, f"/user/{source.remote_id}", _account_facts)

    def _by_id(
        self, source: Source, now: datetime, path: str, facts_of: Callable[[dict[str, Any]], Facts]
    ) -> Observation:
        try:
            status, _, body = self._request("GET", path)
        except _Spent:
            self._spent = True
            self._figures.deferred += 1
            return Observation(source.key, now, Outcome.DEFERRED, host=self.host)
        except requests.RequestException as exc:
            return self._failed(source, now, exc)
        if status == 200 and isinstance(body, dict):
            self._figures.points += 1
            return self._ok(source, now, facts_of(body))
        return self._status(source, now, status, body)

    # --- outcomes ----------------------------------------------------------------------------

    def _ok(
        self,
        source: Source,
        now: datetime,
        facts: Facts,
        validators: tuple[tuple[str, str], ...] = (),
    ) -> Observation:
        if facts.disabled:
            return Observation(
                source.key,
                now,
                Outcome.BLOCKED,
                facts,
                http_status=200,
                error="disabled by GitHub",
                validators=validators,
                host=self.host,
            )
        return Observation(
            source.key,
            now,
            Outcome.OK,
            facts,
            http_status=200,
            validators=validators,
            host=self.host,
        )

    def _status(self, source: Source, now: datetime, status: int, body: Any = None) -> Observation:
        message = body.get("message") if isinstance(body, dict) else None
        if status == 404:
            outcome = Outcome.NOT_FOUND
        elif status == 451 or (status == 403 and isinstance(body, dict) and "block" in body):
            reason = body.get("block", {}).get("reason") if isinstance(body, dict) else None
            message = f"access blocked ({reason or 'dmca'})"
            outcome = Outcome.BLOCKED
        else:
            outcome = Outcome.TRANSIENT
        return Observation(
            source.key, now, outcome, http_status=status, error=message, host=self.host
        )

    def _failed(self, source: Source, now: datetime, exc: Exception) -> Observation:
        outcome = (
            Outcome.NETWORK if isinstance(exc, requests.ConnectionError) else (Outcome.TRANSIENT)
        )
        return Observation(
            source.key, now, outcome, error=f"{type(exc).__name__}: {exc}"[:300], host=self.host
        )

    def _defer(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        for source in sources:
            self._figures.deferred += 1
            yield Observation(source.key, now, Outcome.DEFERRED, host=self.host)


def _aliases(batch: Sequence[Source]) -> tuple[list[str], dict[str, Any], tuple[int, ...]]:
    """Aliases, variables and per-kind counts for a batch sorted by kind."""
    aliases: list[str] = []
    variables: dict[str, Any] = {}
    counts = dict.fromkeys(KINDS, 0)
    prefixes = {
        Kind.GITHUB_REPO: "r",
        Kind.GITHUB_PATH: "p",
        Kind.GITHUB_ISSUE: "i",
        Kind.GITHUB_OWNER: "u",
    }
    for source in batch:
        i = counts[source.kind]
        counts[source.kind] += 1
        aliases.append(f"{prefixes[source.kind]}{i}")
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
    return aliases, variables, tuple(counts[k] for k in KINDS)


def _decode(body: Any) -> Any:
    if not isinstance(body, str) or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _is_rate_limit(status: int, headers: dict[str, str], body: Any) -> bool:
    message = (body.get("message") or "").lower() if isinstance(body, dict) else ""
    if isinstance(body, dict) and "block" in body:
        return False
    return (
        status == 429
        or headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in headers
        or "rate limit" in message
    )


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _owner_type(typename: str | None) -> str | None:
    return {"User": "user", "Organization": "org"}.get(typename or "")


def _licence(info: dict[str, Any] | None, spdx_key: str) -> str:
    if not info:
        return "NONE"
    spdx = info.get(spdx_key)
    if not spdx or info.get("key") == "other":
        return "NOASSERTION"
    return str(spdx)


def _graphql_facts(node: dict[str, Any]) -> Facts:
    target = (node.get("defaultBranchRef") or {}).get("target") or {}
    return Facts(
        remote_id=_str(node.get("databaseId")),
        name=node.get("nameWithOwner"),
        url=node.get("url"),
        stars=node.get("stargazerCount"),
        last_commit=_time(target.get("committedDate")),
        pushed_at=_time(node.get("pushedAt")),
        license=_licence(node.get("licenseInfo"), "spdxId"),
        archived=node.get("isArchived"),
        disabled=node.get("isDisabled"),
        private=node.get("isPrivate"),
    )


def _rest_facts(body: dict[str, Any]) -> Facts:
    return Facts(
        remote_id=_str(body.get("id")),
        name=body.get("full_name"),
        url=body.get("html_url"),
        stars=body.get("stargazers_count"),
        pushed_at=_time(body.get("pushed_at")),
        license=_licence(body.get("license"), "spdx_id"),
        archived=body.get("archived"),
        disabled=body.get("disabled"),
        private=body.get("private"),
    )


def _account_facts(body: dict[str, Any]) -> Facts:
    return Facts(
        remote_id=_str(body.get("id")),
        name=body.get("login"),
        url=body.get("html_url"),
        owner_type=_owner_type(body.get("type")),
    )
