"""GitHub repositories, paths, issues and owners, checked as cheaply as GitHub allows.

This module owns the probe: which request each source needs, and what each
answer means for it. The requests themselves (deadlines, retries, limits, a
host that is down) are `github_http`'s; the GraphQL query text and the reading
of a batch's answer are `github_graphql`'s; reading payloads into `Facts` is
`github_facts`'s.

With a token: GraphQL, up to 100 aliases per request whatever their kinds
(`repository(...)` for repositories, with `object(expression: "ref:path")` for
paths and `issueOrPullRequest(number:)` for issues; `repositoryOwner(login:)`
for owners), one request and one point per 100 sources, posted to
`requester.graphql_url` directly because PyGithub's `graphql_query` throws
partial data away when one alias is NOT_FOUND.

Without a token (60 requests an hour): REST through PyGithub's requester,
revalidating with the ETags stored from the last check (`If-None-Match`; a 304
is free and means unchanged). A repository's last commit is fetched only when
it was pushed to. Sources arrive most overdue first; once the budget is spent,
those without an ETag are deferred to the next run.

Renames are a 301 (REST) or a `nameWithOwner` that differs from the catalog's
(GraphQL), compared case-insensitively; a name that now resolves to another
repository or account (a different id) is looked up by id to find where the
original went. A path or issue whose repository moved keeps working but reports
its new URL, so the catalog can be fixed.

Only GitHub's own verdict makes a NOT_FOUND or BLOCKED: a 404/410/451 carrying
GitHub's JSON, or a GraphQL error naming the alias. Anything unreadable is
transient, and nothing remote raises out of `observe`. Closed early (the run's
deadline or a stop), the generator makes no further request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from github import Github

from monitor.model import Facts, Kind, Observation, Outcome, Source
from monitor.probes import Figures
from monitor.probes.github_facts import (
    WrongShape,
    field,
    fingerprint,
    graphql_owner,
    graphql_repo,
    mapping,
    moved_url,
    parts,
    present,
    repo_of,
    rest_account,
    rest_last_commit,
    rest_repo,
    slug,
)
from monitor.probes.github_graphql import (
    KINDS,
    Answer,
    Read,
    aliases,
    batch_query,
    pathless_error,
    read,
    take_apart,
)
from monitor.probes.github_http import Failure, Reply, Spent, Transport

__all__ = ["KINDS", "GitHubProbe", "batch_query", "fingerprint", "moved_url", "slug"]

Check = Callable[[Source, datetime, dict[str, str]], Observation]


class GitHubProbe:
    """Checks `github_repo`, `github_path`, `github_issue` and `github_owner` sources.

    `timeout` bounds each request, its whole answer included (None: the client's
    `Github(timeout=…)`); `backoff` is the first retry's wait, doubling after;
    a secondary limit asking for more than `max_wait` seconds defers the rest.
    A probe serves one run: once the budget is spent or GitHub is down, it stays so.
    """

    service = "github"

    def __init__(
        self,
        github: Github,
        *,
        token: str | None,
        batch_size: int = 100,
        max_wait: float = 60.0,
        backoff: float = 1.0,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.github = github
        self.requester = github.requester
        self.use_graphql = bool(token)
        self.identity = fingerprint(token)
        self.batch_size = batch_size
        self._figures = Figures()
        self.http = Transport(
            github, self._figures, timeout=timeout, backoff=backoff, max_wait=max_wait, sleep=sleep
        )
        self.host = self.http.host
        self._spent = False

    def figures(self) -> Figures:
        return self._figures

    def observe(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        mine = [s for s in sources if s.kind in KINDS]
        try:
            if self.use_graphql:
                yield from self._graphql(mine, now)
            else:
                yield from self._rest(mine, now)
        finally:
            # Closing the connection is no request: a generator closed mid-run ends here.
            self.http.close()

    # --- with a token: GraphQL batches -------------------------------------------------------

    def _graphql(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        for start in range(0, len(sources), self.batch_size):
            batch = sorted(
                sources[start : start + self.batch_size], key=lambda s: KINDS.index(s.kind)
            )
            if self._spent:
                yield from self._defer(batch, now)
                continue
            names, variables, counts = aliases(batch)
            try:
                answer = self._batch(
                    self.http.request(
                        "POST",
                        self.requester.graphql_url,
                        payload={"query": batch_query(*counts), "variables": variables},
                    )
                )
            except Spent:
                self._spent = True
                yield from self._defer(batch, now)
                continue
            except Failure as failure:
                yield from (self._failed(s, now, failure) for s in batch)
                continue
            for alias, source in zip(names, batch, strict=True):
                yield self._guarded(
                    self._from_graphql, source, now, read(answer, alias, source.kind)
                )

    def _batch(self, reply: Reply) -> Answer:
        """A batch's answer taken apart; `Spent` or `Failure` when it says nothing per alias."""
        if reply.status == 401:
            self.http.note(
                "token", "GitHub refused the token (401 Bad credentials): check GITHUB_TOKEN"
            )
            raise Spent()
        body = reply.body
        if reply.status != 200:
            message = body.get("message") if isinstance(body, dict) else None
            raise self._unusable(
                f"GitHub's GraphQL API answered HTTP {reply.status}"
                + (f": {message}" if isinstance(message, str) else ""),
                reply.status,
            )
        try:
            answer = take_apart(body)
        except WrongShape as exc:
            raise self._unusable(f"unreadable answer from GitHub: {exc}", 200) from None
        if answer.rate_limited:
            self._figures.remaining = 0
            raise Spent()
        if answer.cost is not None:
            self._figures.points += answer.cost
        error = pathless_error(answer)
        if error is not None:
            raise self._unusable(error, 200)
        return answer

    def _unusable(self, error: str, status: int) -> Failure:
        return self.http.unusable(error, status)

    def _from_graphql(self, source: Source, now: datetime, found: Read) -> Observation:
        node = found.node
        if node is None:
            outcome = found.outcome or Outcome.TRANSIENT
            if (
                source.kind is Kind.GITHUB_OWNER
                and outcome is Outcome.NOT_FOUND
                and source.remote_id
                and not self._spent
            ):
                return self._owner_by_id(source, now)  # renamed, or the login was reused
            return self._observation(source, now, outcome, found.error, 200)
        if source.kind is Kind.GITHUB_REPO:
            facts = graphql_repo(node)
            if source.remote_id and facts.remote_id != source.remote_id:
                return self._repo_by_id(source, now)
            return self._ok(source, now, facts)
        if source.kind is Kind.GITHUB_OWNER:
            facts = graphql_owner(node)
            if source.remote_id and facts.remote_id and facts.remote_id != source.remote_id:
                return self._owner_by_id(source, now)
            return self._ok(source, now, facts)
        new_slug = field(node, "nameWithOwner", str, required=True) or slug(source.url)
        url = self._moved(source, new_slug)
        if source.kind is Kind.GITHUB_PATH:
            present(node, "object")
            if node["object"] is None:
                error = f"no such path in {new_slug}"
                return self._observation(source, now, Outcome.NOT_FOUND, error, 200)
            mapping(node["object"], "the path's object")
            return self._ok(source, now, Facts(name=new_slug, url=url))
        item = node.get("issueOrPullRequest")
        if item is None:
            # Gone from this repository: transferred elsewhere, or deleted. REST can tell.
            if self._spent:
                return self._defer_one(source, now)
            return self._issue_rest(source, now, {})
        item = mapping(item, "the issue")
        state = field(item, "issueState", str) or field(item, "prState", str)
        return self._ok(
            source, now, Facts(name=new_slug, url=url, state=(state or "").lower() or None)
        )

    # --- without a token: REST with ETags ----------------------------------------------------

    def _rest(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        checks: dict[Kind, Check] = {
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
                yield self._defer_one(source, now)
                continue
            yield self._guarded(checks[source.kind], source, now, validators)

    def _guarded(
        self,
        check: Callable[[Source, datetime, Any], Observation],
        source: Source,
        now: datetime,
        arg: Any,
    ) -> Observation:
        """`check(source, now, arg)`, with every remote failure turned into an observation."""
        try:
            return check(source, now, arg)
        except Spent:
            self._spent = True
            return self._defer_one(source, now)
        except Failure as failure:
            return self._failed(source, now, failure)
        except WrongShape as exc:
            unusable = self._unusable(f"unreadable answer from GitHub: {exc}", 200)
            return self._failed(source, now, unusable)

    def _get(self, url: str, validators: dict[str, str], name: str) -> Reply:
        headers = {"If-None-Match": validators[name]} if name in validators else {}
        return self.http.request("GET", url, headers=headers)

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

    def _kept(self, headers: Any, name: str, **others: str) -> tuple[tuple[str, str], ...]:
        kept = {"identity": self.identity, name: headers.get("etag", ""), **others}
        return tuple(sorted((k, v) for k, v in kept.items() if v))

    def _repo_rest(self, source: Source, now: datetime, validators: dict[str, str]) -> Observation:
        reply = self._get(f"/repos/{slug(source.url)}", validators, "repo")
        if reply.status == 304 and source.last is not None:
            return self._not_modified(source, now, validators)
        if reply.status != 200:
            return self._status(source, now, reply)
        facts = rest_repo(reply.body)
        if source.remote_id and facts.remote_id != source.remote_id:
            return self._repo_by_id(source, now)
        last = source.last
        commits: dict[str, str] = {}
        if last is not None and last.pushed_at == facts.pushed_at and "commits" in validators:
            facts = replace(facts, last_commit=last.last_commit)
            commits["commits"] = validators["commits"]
        else:
            listing = self._get(
                f"/repositories/{facts.remote_id}/commits?per_page=1", validators, "commits"
            )
            if listing.status == 200:
                facts = replace(facts, last_commit=rest_last_commit(listing.body))
                commits["commits"] = listing.headers.get("etag", "")
            elif listing.status == 304 and last is not None:
                facts = replace(facts, last_commit=last.last_commit)
                commits["commits"] = validators["commits"]
            elif listing.status != 409:  # 409: an empty repository has no commits
                return self._status(source, now, listing)
        return self._ok(source, now, facts, self._kept(reply.headers, "repo", **commits))

    def _path_rest(self, source: Source, now: datetime, validators: dict[str, str]) -> Observation:
        segments = parts(source.url)
        ref, path = segments[3], "/".join(quote(s, safe="") for s in segments[4:])
        reply = self._get(
            f"/repos/{slug(source.url)}/contents/{path}?ref={quote(ref, safe='')}",
            validators,
            "rest",
        )
        if reply.status == 304 and source.last is not None:
            return self._not_modified(source, now, validators)
        if reply.status != 200:
            return self._status(source, now, reply)
        body = reply.body
        if isinstance(body, list):  # a directory: its entries
            first = mapping(body[0], "a directory entry") if body else {}
        else:
            first = mapping(body, "the file")
        html = field(first, "html_url", str)
        new_slug = repo_of(html) if html else slug(source.url)
        url = self._moved(source, new_slug)
        return self._ok(
            source, now, Facts(name=new_slug, url=url), self._kept(reply.headers, "rest")
        )

    def _issue_rest(self, source: Source, now: datetime, validators: dict[str, str]) -> Observation:
        number = parts(source.url)[3]
        reply = self._get(f"/repos/{slug(source.url)}/issues/{number}", validators, "rest")
        if reply.status == 304 and source.last is not None:
            return self._not_modified(source, now, validators)
        if reply.status != 200:
            return self._status(source, now, reply)
        body = mapping(reply.body, "the issue")
        html = field(body, "html_url", str) or source.url
        url = html if html.rstrip("/") != source.url.rstrip("/") else None
        facts = Facts(name=repo_of(html), url=url, state=field(body, "state", str))
        return self._ok(source, now, facts, self._kept(reply.headers, "rest"))

    def _owner_rest(self, source: Source, now: datetime, validators: dict[str, str]) -> Observation:
        login = parts(source.url)[0]
        reply = self._get(f"/users/{quote(login, safe='')}", validators, "rest")
        if reply.status == 304 and source.last is not None:
            return self._not_modified(source, now, validators)
        if reply.status == 404 and source.remote_id and _githubs(reply):
            return self._owner_by_id(source, now)
        if reply.status != 200:
            return self._status(source, now, reply)
        facts = rest_account(reply.body)
        return self._ok(source, now, facts, self._kept(reply.headers, "rest"))

    # --- by id, when a name no longer leads where it did -------------------------------------

    def _repo_by_id(self, source: Source, now: datetime) -> Observation:
        """The catalog's name now leads to another repository: find the original by its id."""
        return self._by_id(source, now, f"/repositories/{source.remote_id}", rest_repo)

    def _owner_by_id(self, source: Source, now: datetime) -> Observation:
        """The login is gone or taken by someone else: find the account by its id."""
        return self._by_id(source, now, f"/user/{source.remote_id}", rest_account)

    def _by_id(
        self, source: Source, now: datetime, path: str, facts_of: Callable[[Any], Facts]
    ) -> Observation:
        def check(source: Source, now: datetime, _: object) -> Observation:
            reply = self.http.request("GET", path)
            if reply.status == 200:
                return self._ok(source, now, facts_of(reply.body))
            return self._status(source, now, reply)

        return self._guarded(check, source, now, None)

    # --- outcomes ----------------------------------------------------------------------------

    def _moved(self, source: Source, new_slug: str) -> str | None:
        """The source's URL in its repository's new home, if the repository moved."""
        if new_slug.lower() == slug(source.url).lower():
            return None
        return moved_url(source.url, new_slug)

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

    def _status(self, source: Source, now: datetime, reply: Reply) -> Observation:
        """An answer other than 200 (or a 304 with nothing to compare it to)."""
        status, body = reply.status, reply.body
        message = body.get("message") if isinstance(body, dict) else None
        message = message if isinstance(message, str) else None
        if status in (404, 410) and _githubs(reply):
            error = "the issue was deleted" if status == 410 else message
            return self._observation(source, now, Outcome.NOT_FOUND, error, status)
        if status == 451 or (status == 403 and isinstance(body, dict) and "block" in body):
            block = body.get("block") if isinstance(body, dict) else None
            reason = block.get("reason") if isinstance(block, dict) else None
            error = f"access blocked ({reason or 'dmca'})"
            return self._observation(source, now, Outcome.BLOCKED, error, status)
        error = f"GitHub answered HTTP {status}" + (f": {message}" if message else "")
        if status in (404, 410):
            error += " (not GitHub's usual answer, so not taken as a verdict)"
        return self._observation(source, now, Outcome.TRANSIENT, error, status)

    def _observation(
        self, source: Source, now: datetime, outcome: Outcome, error: str | None, status: int | None
    ) -> Observation:
        return Observation(
            source.key, now, outcome, http_status=status, error=error, host=self.host
        )

    def _failed(self, source: Source, now: datetime, failure: Failure) -> Observation:
        return self._observation(source, now, failure.outcome, failure.error, failure.status)

    def _defer_one(self, source: Source, now: datetime) -> Observation:
        self._figures.deferred += 1
        return Observation(source.key, now, Outcome.DEFERRED, host=self.host)

    def _defer(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        for source in sources:
            yield self._defer_one(source, now)


def _githubs(reply: Reply) -> bool:
    """Whether a 404 or 410 is GitHub's own verdict: its JSON with a `message`. A proxy's or
    a portal's 404 says nothing about the resource."""
    return isinstance(reply.body, dict) and isinstance(reply.body.get("message"), str)
