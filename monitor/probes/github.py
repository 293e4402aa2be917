"""GitHub repositories, checked as cheaply as GitHub allows.

With a token: GraphQL, up to 100 aliased `repository(...)` fields per request
(one request and one point per 100 repositories), posted to
`requester.graphql_url` directly because PyGithub's `graphql_query` throws
partial data away when one alias is NOT_FOUND. The query text depends only on
the batch size; names travel as variables.

Without a token (60 requests an hour): REST through PyGithub, revalidating with
the ETags stored from the last check (`If-None-Match`; a 304 is free and means
unchanged). The default branch's last commit is fetched only when the
repository says it was pushed to. Sources arrive most overdue first; once the
budget is spent, those without an ETag are deferred to the next run.

PyGithub is built with `retry=None`: this module decides when to retry (twice,
with backoff, on 5xx and dropped connections), when to wait (a secondary limit
whose `retry-after` is short) and when to stop (a spent budget), so a run
never sleeps for an hour. Renames are a 301 (REST) or a `nameWithOwner` that
differs from the catalog's (GraphQL), compared case-insensitively; a name that
now resolves to another repository (a different `databaseId`) is looked up by
id to find where the original went.
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
from urllib.parse import unquote, urlsplit

import requests
from github import Github

from monitor.model import Facts, Kind, Observation, Outcome, Source
from monitor.probes import Figures

FIELDS = """fragment Repo on Repository {
  databaseId nameWithOwner url stargazerCount pushedAt isArchived isDisabled isPrivate
  licenseInfo { key spdxId }
  defaultBranchRef { target { ... on Commit { committedDate } } }
}"""
RETRIES = 2


@cache
def batch_query(size: int) -> str:
    """The GraphQL text for `size` repositories; the same text every time for one size."""
    variables = ", ".join(f"$o{i}: String!, $n{i}: String!" for i in range(size))
    fields = "\n".join(
        f"  r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...Repo }}" for i in range(size)
    )
    return (
        f"query Repos({variables}) {{\n{fields}\n"
        "  rateLimit { cost limit remaining used resetAt }\n}\n" + FIELDS
    )


def slug(url: str) -> str:
    """ "owner/name" of a GitHub repository URL."""
    parts = [unquote(p) for p in urlsplit(url).path.split("/") if p]
    return f"{parts[0]}/{parts[1]}"


def fingerprint(token: str | None) -> str:
    """Which credential an ETag belongs to (ETags are per token), without keeping the token."""
    if not token:
        return "anonymous"
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class _Spent(Exception):
    """The primary budget is spent; everything not yet checked is deferred."""


class GitHubProbe:
    """Checks `github_repo` sources."""

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

    def figures(self) -> Figures:
        return self._figures

    def observe(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        repos = [s for s in sources if s.kind is Kind.GITHUB_REPO]
        if self.use_graphql:
            yield from self._graphql(repos, now)
        else:
            yield from self._rest(repos, now)

    # --- transport ---------------------------------------------------------------------------

    def _request(
        self, verb: str, url: str, *, headers: dict[str, str] | None = None, payload: Any = None
    ) -> tuple[int, dict[str, str], Any]:
        """One request with the retry policy; returns (status, headers, decoded body).

        Raises `_Spent` when the primary budget is gone, `requests.RequestException`
        when the connection keeps failing.
        """
        attempt = 0
        while True:
            try:
                self._figures.requests += 1
                status, response_headers, body = self.requester.requestJson(
                    verb, url, headers=headers, input=payload
                )
            except (requests.ConnectionError, requests.Timeout):
                if attempt >= RETRIES:
                    raise
                attempt += 1
                self.sleep(2.0**attempt)
                continue
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

    def _graphql(self, repos: Sequence[Source], now: datetime) -> Iterator[Observation]:
        for start in range(0, len(repos), self.batch_size):
            batch = repos[start : start + self.batch_size]
            if self._spent:
                yield from self._defer(batch, now)
                continue
            variables: dict[str, str] = {}
            for i, source in enumerate(batch):
                owner, name = slug(source.url).split("/", 1)
                variables[f"o{i}"], variables[f"n{i}"] = owner, name
            try:
                status, _, body = self._request(
                    "POST",
                    self.requester.graphql_url,
                    payload={"query": batch_query(len(batch)), "variables": variables},
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
            limit = data.get("rateLimit") or {}
            self._figures.points += int(limit.get("cost") or 1)
            by_alias = {str(e["path"][0]): e for e in errors if e.get("path")}
            for i, source in enumerate(batch):
                alias = f"r{i}"
                yield self._from_graphql(source, now, data.get(alias), by_alias.get(alias))

    def _from_graphql(
        self,
        source: Source,
        now: datetime,
        node: dict[str, Any] | None,
        error: dict[str, Any] | None,
    ) -> Observation:
        if node is None:
            kind = (error or {}).get("type")
            message = (error or {}).get("message") or "no data"
            if kind == "NOT_FOUND":
                return Observation(
                    source.key, now, Outcome.NOT_FOUND, error=message, host=self.host
                )
            if kind == "FORBIDDEN" or "blocked" in message.lower():
                return Observation(source.key, now, Outcome.BLOCKED, error=message, host=self.host)
            return Observation(source.key, now, Outcome.TRANSIENT, error=message, host=self.host)
        facts = _graphql_facts(node)
        if source.remote_id and facts.remote_id != source.remote_id:
            return self._by_id(source, now)
        outcome = Outcome.BLOCKED if facts.disabled else Outcome.OK
        return Observation(
            source.key,
            now,
            outcome,
            facts,
            http_status=200,
            error="disabled by GitHub" if facts.disabled else None,
            host=self.host,
        )

    # --- without a token: REST with ETags ----------------------------------------------------

    def _rest(self, repos: Sequence[Source], now: datetime) -> Iterator[Observation]:
        for source in repos:
            validators = dict(source.validators)
            if validators.get("identity") != self.identity:
                validators = {}
            if self._spent and "repo" not in validators:
                yield from self._defer([source], now)
                continue
            try:
                yield self._rest_one(source, now, validators)
            except _Spent:
                self._spent = True
                yield from self._defer([source], now)
            except requests.RequestException as exc:
                yield self._failed(source, now, exc)

    def _rest_one(self, source: Source, now: datetime, validators: dict[str, str]) -> Observation:
        headers = {"If-None-Match": validators["repo"]} if "repo" in validators else {}
        status, response_headers, body = self._request(
            "GET", f"/repos/{slug(source.url)}", headers=headers
        )
        if status == 304 and source.last is not None:
            self._figures.not_modified += 1
            return Observation(
                source.key,
                now,
                Outcome.NOT_MODIFIED,
                http_status=304,
                validators=tuple(sorted(validators.items())),
                host=self.host,
            )
        if status != 200:
            return self._status(source, now, status, body)
        self._figures.points += 1
        facts = _rest_facts(body)
        if source.remote_id and facts.remote_id != source.remote_id:
            return self._by_id(source, now)
        kept = {"identity": self.identity, "repo": response_headers.get("etag", "")}
        last = source.last
        if last is not None and last.pushed_at == facts.pushed_at and "commits" in validators:
            facts = replace(facts, last_commit=last.last_commit)
            kept["commits"] = validators["commits"]
        else:
            commit_headers = (
                {"If-None-Match": validators["commits"]} if "commits" in validators else {}
            )
            status, commit_response, commits = self._request(
                "GET", f"/repositories/{facts.remote_id}/commits?per_page=1", headers=commit_headers
            )
            if status == 200 and isinstance(commits, list) and commits:
                self._figures.points += 1
                date = commits[0]["commit"]["committer"]["date"]
                facts = replace(facts, last_commit=_time(date))
                kept["commits"] = commit_response.get("etag", "")
            elif status == 304 and last is not None:
                self._figures.not_modified += 1
                facts = replace(facts, last_commit=last.last_commit)
                kept["commits"] = validators["commits"]
            elif status != 409:  # 409: an empty repository has no commits
                return self._status(source, now, status, commits)
        outcome = Outcome.BLOCKED if facts.disabled else Outcome.OK
        return Observation(
            source.key,
            now,
            outcome,
            facts,
            http_status=200,
            validators=tuple(sorted((k, v) for k, v in kept.items() if v)),
            host=self.host,
        )

    def _by_id(self, source: Source, now: datetime) -> Observation:
        """The catalog's name now leads to another repository: find the original by its id."""
        try:
            status, _, body = self._request("GET", f"/repositories/{source.remote_id}")
        except _Spent:
            self._spent = True
            return Observation(source.key, now, Outcome.DEFERRED, host=self.host)
        except requests.RequestException as exc:
            return self._failed(source, now, exc)
        if status == 200 and isinstance(body, dict):
            self._figures.points += 1
            facts = _rest_facts(body)
            return Observation(source.key, now, Outcome.OK, facts, http_status=200, host=self.host)
        return self._status(source, now, status, body)

    # --- outcomes ----------------------------------------------------------------------------

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
        remote_id=str(node["databaseId"]) if node.get("databaseId") is not None else None,
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
        remote_id=str(body["id"]),
        name=body.get("full_name"),
        url=body.get("html_url"),
        stars=body.get("stargazers_count"),
        pushed_at=_time(body.get("pushed_at")),
        license=_licence(body.get("license"), "spdx_id"),
        archived=body.get("archived"),
        disabled=body.get("disabled"),
        private=body.get("private"),
    )
