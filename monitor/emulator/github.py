"""GitHub's REST API and its `/graphql` endpoint, answering as api.github.com does.

Owns what is common to both: credentials (`token X` or `Bearer X`; 401 for a
token the world does not know), the hourly budgets (`core` per request,
`graphql` per query cost, `search` per minute), secondary limits on demand, and
the `x-ratelimit-*` headers. The repository, account and commit-list routes are
here; issues and search are github_issues', git data and file writes github_git's,
pull requests github_pulls', GraphQL github_graphql's.

REST semantics reproduced (see ../shared/api-facts.md §1-4):
- renamed or transferred repositories answer 301 (307 for other verbs) to
  `/repositories/{id}/…`; deleted ones 404; DMCA 451; terms-of-service and
  "unavailable" blocks 403 with a `block` object; empty repositories 409 on
  `/commits`;
- every 200 carries a weak ETag over Accept, Authorization and the body, so
  ETags are per token; `If-None-Match` (or `If-Modified-Since`) that matches
  answers 304 without charging the budget;
- a spent budget answers 403 with `x-ratelimit-remaining: 0` and the reset;
- `/rate_limit` is free; a missing User-Agent is refused;
- `/search/issues` has its own budget (30 a minute with a token, 10 without);
- a write without a token is 401 "Requires authentication"; every write counts
  against the token's content-creation limit (`world.content_creation_limit`,
  80 a minute and 500 an hour), beyond which it is 403 "You have exceeded a
  secondary rate limit and have been temporarily blocked from content creation"
  with `retry-after`; `GET /user` is the token's own account.
"""

from __future__ import annotations

import re
from typing import Any, Final

from monitor.emulator import github_git, github_issues, github_pulls
from monitor.emulator import github_payloads as p
from monitor.emulator.github_graphql import GraphQL
from monitor.emulator.github_http import (
    DOCS,
    Call,
    Refused,
    conditional,
    error,
    int_arg,
    not_found,
)
from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world import Repo, World
from monitor.emulator.world_github import commit_chain, synced

_REPO_PATH = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?$")
_ID_PATH = re.compile(r"^/repositories/(?P<id>\d+)(?P<rest>/.*)?$")
SECONDARY_DOCS = (
    "https://docs.github.com/en/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)


class GitHub:
    """The GitHub API host."""

    name: Final = "github"
    server_header = "github.com"

    def __init__(self, world: World) -> None:
        self.world = world
        self.base_url = "http://127.0.0.1"
        self.graphql = GraphQL(world)
        self._request_ids = 0

    def handle(self, request: HttpRequest) -> HttpResponse:
        if not request.header("User-Agent"):
            return HttpResponse.json(
                403,
                {
                    "message": "Request forbidden by administrative rules. Please make sure your "
                    "request has a User-Agent header (https://docs.github.com/en/rest/overview/"
                    "resources-in-the-rest-api#user-agent-required). Check "
                    "https://developer.github.com for other possible causes."
                },
            )
        token = request.token
        known = self.world.github_tokens
        if token and known is not None and token not in known:
            return HttpResponse.json(
                401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
            )
        with self.world.lock:
            limited = self._secondary_limit()
        if limited is not None:
            return limited
        if request.path.rstrip("/") in ("/graphql", "/api/graphql") and request.method == "POST":
            return self._with_headers(self.graphql.execute(request, token), "graphql", token)
        if request.path == "/rate_limit":
            return self._with_headers(
                HttpResponse.json(200, self._rate_limit(token)), "core", token
            )
        if request.path.rstrip("/") == "/search/issues":
            with self.world.lock:
                budget = self.world.budget("search", token)
                if budget.remaining <= 0:
                    return self._with_headers(self._primary_limit(token), "search", token)
                budget.used += 1
                response = github_issues.search_issues(self.world, self.base_url, request)
                response.cost = 1
                return self._with_headers(response, "search", token)
        with self.world.lock:
            try:
                response = self._route(request)
            except Refused as refused:
                response = refused.response
            if response.status == 304:
                return self._with_headers(response, "core", token)
            budget = self.world.budget("core", token)
            if budget.remaining <= 0:
                return self._with_headers(self._primary_limit(token), "core", token)
            budget.used += 1
            response.cost = 1
            return self._with_headers(response, "core", token)

    # --- limits and headers ------------------------------------------------------------------

    def _secondary_limit(self) -> HttpResponse | None:
        limit = self.world.secondary
        if limit is None or limit.remaining_hits <= 0:
            return None
        limit.remaining_hits -= 1
        return HttpResponse.json(
            limit.status,
            {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again. If you reach out to GitHub Support for help, please include "
                f"the request ID {self._request_id()}.",
                "documentation_url": "https://docs.github.com/en/free-pro-team@latest/rest/overview/"
                "rate-limits-for-the-rest-api#about-secondary-rate-limits",
            },
            {"retry-after": str(limit.retry_after)},
        )

    def _primary_limit(self, token: str) -> HttpResponse:
        if token:
            message = "API rate limit exceeded for user ID 1."
        else:
            message = (
                "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
                "Authenticated requests get a higher rate limit. Check out the "
                "documentation for more details.)"
            )
        return HttpResponse.json(
            403,
            {
                "message": message,
                "documentation_url": "https://docs.github.com/rest/overview/"
                "resources-in-the-rest-api#rate-limiting",
            },
        )

    def _with_headers(self, response: HttpResponse, resource: str, token: str) -> HttpResponse:
        budget = self.world.budget(resource, token) if token or resource != "graphql" else None
        response.headers += [
            (
                "x-github-media-type",
                "github.v4; format=json" if resource == "graphql" else "github.v3; format=json",
            ),
            ("x-github-api-version-selected", "2022-11-28"),
            ("x-github-request-id", self._request_id()),
        ]
        if budget is not None:
            response.headers += [
                ("x-ratelimit-limit", str(budget.limit)),
                ("x-ratelimit-remaining", str(budget.remaining)),
                ("x-ratelimit-reset", str(int(budget.reset_at))),
                ("x-ratelimit-used", str(budget.used)),
                ("x-ratelimit-resource", resource),
            ]
        return response

    def _request_id(self) -> str:
        self._request_ids += 1
        return f"E{self._request_ids:04X}:1F2E:3D4C:5B6A:{self._request_ids:08X}"

    def _rate_limit(self, token: str) -> dict[str, Any]:
        def entry(resource: str) -> dict[str, int]:
            budget = self.world.budget(resource, token)
            return {
                "limit": budget.limit,
                "used": budget.used,
                "remaining": budget.remaining,
                "reset": int(budget.reset_at),
            }

        core = entry("core")
        resources = {"core": core, "search": entry("search")}
        if token:
            resources["graphql"] = entry("graphql")
        return {"resources": resources, "rate": core}

    # --- REST routes -------------------------------------------------------------------------

    def _route(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return self._route_write(request)
        path = request.path
        match = _REPO_PATH.match(path)
        if match:
            repo, moved = self.world.find_repo(f"{match['owner']}/{match['name']}")
            if moved and repo is not None:
                return self._moved(repo, match["rest"] or "", request)
            return self._repo_resource(request, repo, match["rest"] or "")
        match = _ID_PATH.match(path)
        if match:
            return self._repo_resource(
                request, self.world.repos.get(int(match["id"])), match["rest"] or ""
            )
        match = re.fullmatch(r"/user/(\d+)", path)
        if match:
            owner = next((o for o in self.world.owners.values() if o.id == int(match[1])), None)
            if owner is None:
                return not_found(f"{DOCS}/users/users#get-a-user-using-their-id")
            return self._account(request, "users", owner.login)
        match = re.fullmatch(r"/(users|orgs)/([^/]+)", path)
        if match:
            return self._account(request, match[1], match[2])
        if path == "/user":
            if not request.token:
                return error(401, "Requires authentication", f"{DOCS}/users/users")
            user = self.world.token_user(request.token)
            return self._account(request, "users", user.login)
        return not_found(DOCS)

    def _route_write(self, request: HttpRequest) -> HttpResponse:
        """A POST, PUT, PATCH or DELETE: authenticated, on a repository that can take it,
        within the token's content-creation limit; counted against that limit if done."""
        match = _REPO_PATH.match(request.path) or _ID_PATH.match(request.path)
        if match is not None and "id" in match.groupdict():
            repo: Repo | None = self.world.repos.get(int(match["id"]))
        elif match is not None:
            repo, moved = self.world.find_repo(f"{match['owner']}/{match['name']}")
            if moved and repo is not None:  # the redirect comes before the credentials
                return self._moved(repo, match["rest"] or "", request, status=307)
        if not request.token:
            return error(401, "Requires authentication", DOCS)
        if match is None:
            return not_found(DOCS)
        if repo is None or repo.status == "deleted" or repo.private:
            return not_found()
        if repo.status != "ok":
            return self._blocked(repo)
        wait = self.world.creation_wait(request.token)
        if wait is not None:
            return self._content_limit(wait)
        call = Call(self.world, self.base_url, request, repo)
        rest = match["rest"] or ""
        response = (
            github_issues.write(call, rest)
            or github_git.write(call, rest)
            or github_pulls.write(call, rest)
            or not_found(DOCS)
        )
        if response.status < 300:
            self.world.record_creation(request.token)
        return response

    def _content_limit(self, wait: int) -> HttpResponse:
        return HttpResponse.json(
            403,
            {
                "message": "You have exceeded a secondary rate limit and have been temporarily "
                "blocked from content creation. Please retry your request again later.",
                "documentation_url": SECONDARY_DOCS,
            },
            {"retry-after": str(wait)},
        )

    def _moved(
        self, repo: Repo, rest: str, request: HttpRequest, status: int = 301
    ) -> HttpResponse:
        location = f"{self.base_url}/repositories/{repo.id}{rest}"
        if request.raw_query:
            location += f"?{request.raw_query}"
        return HttpResponse.json(
            status,
            {
                "message": "Moved Permanently" if status == 301 else "Temporary Redirect",
                "url": location,
                "documentation_url": "https://docs.github.com/v3/#http-redirects",
            },
            {"Location": location},
        )

    def _repo_resource(self, request: HttpRequest, repo: Repo | None, rest: str) -> HttpResponse:
        if repo is None or repo.status == "deleted" or repo.private:
            return not_found()
        if repo.status != "ok":
            return self._blocked(repo)
        owner = self.world.find_owner(repo.owner)
        assert owner is not None, repo.owner
        if rest in ("", "/"):
            return conditional(request, p.repo_payload(self.base_url, repo, owner), repo.updated_at)
        if rest == "/commits":
            return self._commits(request, repo)
        if rest.startswith("/contents"):
            return self._contents(request, repo, rest.removeprefix("/contents").strip("/"))
        call = Call(self.world, self.base_url, request, repo)
        found = (
            github_pulls.read(call, rest)
            or github_issues.read(call, rest)
            or github_git.read(call, rest)
        )
        if found is not None:
            return found
        match = re.fullmatch(r"/(issues|pulls)/(\d+)", rest)
        if match:
            return self._issue(call, int(match[2]), pulls=match[1] == "pulls")
        return not_found(DOCS)

    def _blocked(self, repo: Repo) -> HttpResponse:
        url = (
            "https://github.com/github/dmca/blob/master/2021/04/takedown.md"
            if repo.status == "dmca"
            else "https://github.com/tos"
        )
        return HttpResponse.json(
            451 if repo.status == "dmca" else 403,
            {
                "message": "Repository access blocked",
                "block": {
                    "reason": repo.status,
                    "created_at": p.iso(repo.blocked_at),
                    "html_url": url,
                },
            },
        )

    def _commits(self, request: HttpRequest, repo: Repo) -> HttpResponse:
        ref = request.arg("sha") or repo.default_branch
        shas = [c.sha for c in repo.commits]
        if ref == repo.default_branch:
            chain = repo.commits
        elif ref in shas:
            chain = repo.commits[shas.index(ref) :]
        else:
            chain = commit_chain(repo, ref, self.world.now()) or []
            if not chain:
                return HttpResponse.json(
                    404,
                    {
                        "message": f"No commit found for SHA: {ref}",
                        "documentation_url": f"{DOCS}/commits/commits#list-commits",
                        "status": "404",
                    },
                )
        if not chain:
            return HttpResponse.json(
                409,
                {
                    "message": "Git Repository is empty.",
                    "documentation_url": f"{DOCS}/reference/repos#list-commits",
                },
            )
        per_page = max(1, min(100, int_arg(request.arg("per_page"), 30)))
        page = max(1, int_arg(request.arg("page"), 1))
        last = max(1, -(-len(chain) // per_page))
        chunk = chain[(page - 1) * per_page : page * per_page]
        owner = self.world.find_owner(repo.owner)
        assert owner is not None
        payload = [p.commit_payload(self.base_url, repo, owner, c) for c in chunk]
        links = []
        params = (
            f"per_page={per_page}"
            if request.arg("sha") is None
            else (f"sha={ref}&per_page={per_page}")
        )
        page_url = f"{self.base_url}/repositories/{repo.id}/commits?{params}&page="
        if page < last:
            links += [f'<{page_url}{page + 1}>; rel="next"', f'<{page_url}{last}>; rel="last"']
        if page > 1:
            links = [f'<{page_url}{page - 1}>; rel="prev"', f'<{page_url}1>; rel="first"', *links]
        headers = {"link": ", ".join(links)} if links else None
        return conditional(request, payload, chain[0].date, headers)

    def _contents(self, request: HttpRequest, repo: Repo, path: str) -> HttpResponse:
        ref = request.arg("ref") or repo.default_branch
        tree = repo.trees.get(ref)
        if tree is None and re.fullmatch(r"[0-9a-f]{40}", ref):
            store = synced(repo, self.world.now())  # a commit, maybe one made through the API
            tree = store.files(ref) if store.kind(ref) == "commit" else None
        if tree is None:
            return HttpResponse.json(
                404,
                {
                    "message": f"No commit found for the ref {ref}",
                    "documentation_url": f"{DOCS}/repos/contents",
                    "status": "404",
                },
            )
        if path in tree:
            return conditional(
                request, p.content_payload(self.base_url, repo, path, ref, tree[path], tree), None
            )
        prefix = f"{path}/" if path else ""
        children = sorted(
            {name[len(prefix) :].split("/")[0] for name in tree if name.startswith(prefix)}
        )
        if not children:
            return not_found(f"{DOCS}/repos/contents#get-repository-content")
        entries = []
        for child in children:
            full = f"{prefix}{child}"
            entries.append(p.content_payload(self.base_url, repo, full, ref, tree.get(full), tree))
        return conditional(request, entries, None)

    def _issue(self, call: Call, number: int, *, pulls: bool) -> HttpResponse:
        repo, request = call.repo, call.request
        issue = repo.issues.get(number)
        if issue is None or (pulls and not issue.is_pull):
            return not_found(f"{DOCS}/issues/issues#get-an-issue")
        if issue.deleted:
            return error(410, "This issue was deleted", f"{DOCS}/issues/issues#get-an-issue")
        if issue.moved_to is not None:
            target_id, new_number = issue.moved_to
            location = f"{self.base_url}/repositories/{target_id}/issues/{new_number}"
            return HttpResponse.json(
                301,
                {
                    "message": "Moved Permanently",
                    "url": location,
                    "documentation_url": "https://docs.github.com/v3/#http-redirects",
                },
                {"Location": location},
            )
        return conditional(
            request,
            github_issues.issue_json(call, issue),
            issue.updated_at or issue.closed_at or issue.created_at,
        )

    def _account(self, request: HttpRequest, kind: str, login: str) -> HttpResponse:
        owner = self.world.find_owner(login)
        if owner is None or (kind == "orgs" and owner.type != "Organization"):
            return not_found(f"{DOCS}/users/users#get-a-user")
        count = sum(
            1
            for r in self.world.repos.values()
            if r.owner.lower() == owner.login.lower() and r.status == "ok"
        )
        payload = (
            p.org_payload(self.base_url, owner, count)
            if kind == "orgs"
            else p.account_payload(self.base_url, owner, count)
        )
        return conditional(request, payload, owner.created_at)
