"""The Hugging Face Hub API, answering as huggingface.co does for the calls a monitor makes.

Behaviours reproduced (../shared/api-facts.md §5, recorded payloads in
../shared/api-examples/hf-*.json):

- `/api/{models,datasets,spaces}/{id}[/revision/{rev}]` with the recorded
  payload shape; `expand`/`expand[]` returns only `_id`, `id` and the requested
  keys, omitting absent values, and refuses unknown ones with 400;
- a renamed repository answers 307 `text/plain` with a *relative* Location;
- a missing, deleted or private repository answers 401 with
  `X-Error-Code: RepoNotFound` to anonymous callers and 404 to token holders;
- a gated repository's metadata is 200 with `gated: "auto"|"manual"`; a
  disabled one is 403 with `X-Error-Message: Access to this resource is disabled.`;
- the licence appears as a `license:<id>` tag and as `cardData.license`;
- list endpoints (`author=`, `search=`, `limit=`, `expand`) paginate with a
  `Link: <…>; rel="next"` header;
- owner overviews at `/api/users/{name}/overview` and `/api/organizations/{name}/overview`;
- a revision that does not resolve is 404 with `X-Error-Code: RevisionNotFound`;
- a repository's files: paths-info and tree (huggingface_files.py), behind the same
  307 / RepoNotFound / disabled answers as the repository itself;
- a fixed 5-minute budget per token (or anonymous caller) that answers 429 with
  the `RateLimit` / `RateLimit-Policy` headers when spent.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final, get_args
from urllib.parse import urlencode

from monitor.emulator import huggingface_files as files
from monitor.emulator.github_payloads import iso
from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.huggingface_files import hub_error as _error
from monitor.emulator.world import World
from monitor.emulator.world_hub import HfRepo, HfType

_INFO = re.compile(
    r"^/api/(?P<kind>models|datasets|spaces)/(?P<id>[^/]+(?:/[^/]+)?)(?:/revision/(?P<rev>[^/]+))?$"
)
_LIST = re.compile(r"^/api/(?P<kind>models|datasets|spaces)/?$")
_OVERVIEW = re.compile(r"^/api/(?P<kind>users|organizations)/(?P<name>[^/]+)/overview$")
_TYPES: dict[str, HfType] = {"models": "model", "datasets": "dataset", "spaces": "space"}
PAGE_SIZE = 1000


def _expandable() -> dict[HfType, frozenset[str]]:
    """The `expand` values huggingface_hub itself allows, per repository type."""
    from huggingface_hub import hf_api

    return {
        "model": frozenset(get_args(hf_api.ExpandModelProperty_T)),
        "dataset": frozenset(get_args(hf_api.ExpandDatasetProperty_T)),
        "space": frozenset(get_args(hf_api.ExpandSpaceProperty_T)),
    }


def _etag(body: bytes) -> str:
    return f'W/"{len(body):x}-{hashlib.sha1(body).hexdigest()[:27]}"'


class HuggingFace:
    """The Hub's API host."""

    name: Final = "hf"
    server_header = "huggingface-moon"

    def __init__(self, world: World) -> None:
        self.world = world
        self.base_url = "http://127.0.0.1"
        self.expandable = _expandable()
        self._request_ids = 0

    def handle(self, request: HttpRequest) -> HttpResponse:
        response = self._handle(request)
        self._request_ids += 1
        response.headers.append(("x-request-id", f"Root=1-{self._request_ids:08x}-emulator"))
        return response

    def _handle(self, request: HttpRequest) -> HttpResponse:
        token = request.token
        known = self.world.hf_tokens
        if token and known is not None and token not in known:
            return _error(401, "Invalid credentials in Authorization header")
        with self.world.lock:
            budget = self.world.budget("hf", token)
            if budget.remaining <= 0:
                wait = max(1, int(budget.reset_at - self.world.clock()))
                response = HttpResponse.json(429, {"error": "Too Many Requests"})
                response.headers += [
                    ("RateLimit", f'"api";r=0;t={wait}'),
                    ("RateLimit-Policy", f'"fixed window";"api";q={budget.limit};w=300'),
                ]
                return response
            budget.used += 1
            response = self._route(request, token)
            response.cost = 1
            return response

    def _route(self, request: HttpRequest, token: str) -> HttpResponse:
        match = _INFO.match(request.path)
        if match and request.method in ("GET", "HEAD"):
            found = self._repo(request, match, token)
            if isinstance(found, HttpResponse):
                return found
            return self._info(request, found, match["rev"])
        for pattern, method in ((files.PATHS_INFO, "POST"), (files.TREE, "GET")):
            match = pattern.match(request.path)
            if match and request.method == method:
                found = self._repo(request, match, token)
                if isinstance(found, HttpResponse):
                    return found
                revision = files.decoded(match["rev"])
                if match["what"] == "paths-info":
                    return files.paths_info(request, found, revision)
                path = files.decoded(match["path"])
                return files.tree(request, found, revision, path, self.base_url)
        match = _LIST.match(request.path)
        if match and request.method in ("GET", "HEAD"):
            return self._list(request, _TYPES[match["kind"]])
        match = _OVERVIEW.match(request.path)
        if match:
            return self._overview(match["kind"], match["name"])
        return HttpResponse.json(
            404, {"error": "Sorry, we can't find the page you are looking for."}
        )

    def _repo(
        self, request: HttpRequest, match: re.Match[str], token: str
    ) -> HfRepo | HttpResponse:
        """The repository a request names, or the Hub's answer when it cannot be read: 307
        to its new id (the rest of the request kept), RepoNotFound, disabled."""
        kind, repo_id = _TYPES[match["kind"]], match["id"]
        repo, moved_to = self.world.find_hf_repo(repo_id, kind)
        if moved_to is not None:
            location = f"/api/{kind}s/{moved_to}{request.path[match.end('id') :]}"
            if request.raw_query:
                location += f"?{request.raw_query}"
            return HttpResponse.text(
                307,
                f"Temporary Redirect. Redirecting to {location}",
                headers={"Location": location},
            )
        if (
            repo is None
            or repo.status == "deleted"
            or (repo.private and token not in repo.collaborators)
        ):
            if token:
                return _error(404, "Repository not found", code="RepoNotFound")
            return _error(401, "Invalid username or password.", code="RepoNotFound")
        if repo.status == "disabled":
            return _error(403, "Access to this resource is disabled.")
        return repo

    def _info(self, request: HttpRequest, repo: HfRepo, revision: str | None) -> HttpResponse:
        kind = repo.type
        if revision is not None and not repo.resolves(files.decoded(revision)):
            return files.no_revision(files.decoded(revision))
        expand = request.args("expand", "expand[]")
        if expand:
            unknown = [e for e in expand if e not in self.expandable[kind]]
            if unknown:
                return _error(400, f'"expand" must be one of {sorted(self.expandable[kind])}')
            payload = _expanded(repo, expand)
        else:
            payload = full_payload(repo)
        response = HttpResponse.json(200, payload)
        response.headers.append(("ETag", _etag(response.body)))
        return response

    def _list(self, request: HttpRequest, kind: HfType) -> HttpResponse:
        author = (request.arg("author") or "").lower()
        search = (request.arg("search") or "").lower()
        expand = request.args("expand", "expand[]")
        unknown = [e for e in expand if e not in self.expandable[kind]]
        if unknown:
            return _error(400, f'"expand" must be one of {sorted(self.expandable[kind])}')
        found = sorted(
            (
                r
                for (t, _), r in self.world.hf_repos.items()
                if t == kind
                and r.status == "ok"
                and not r.private
                and (not author or r.author.lower() == author)
                and search in r.id.lower()
            ),
            key=lambda r: r.id.lower(),
        )
        limit = int(request.arg("limit") or 0) or None
        start = int(request.arg("cursor") or 0)
        size = min(limit or PAGE_SIZE, PAGE_SIZE)
        chunk = found[start : start + size]
        items = [_expanded(r, expand) if expand else _list_item(r) for r in chunk]
        response = HttpResponse.json(200, items)
        if start + size < len(found) and (limit is None or start + size < limit):
            params = [(k, v) for k, vs in request.query.items() if k != "cursor" for v in vs]
            params.append(("cursor", str(start + size)))
            next_url = f"{self.base_url}{request.path}?{urlencode(params)}"
            response.headers.append(("Link", f'<{next_url}>; rel="next"'))
        return response

    def _overview(self, kind: str, name: str) -> HttpResponse:
        owner = self.world.hf_owners.get(name.lower())
        wanted = "user" if kind == "users" else "org"
        if owner is None or owner.type != wanted:
            return _error(404, "User not found" if wanted == "user" else "Organization not found")
        counts = {
            t: sum(
                1
                for (rt, _), r in self.world.hf_repos.items()
                if rt == t and r.author.lower() == owner.name.lower() and r.status == "ok"
            )
            for t in ("model", "dataset", "space")
        }
        payload: dict[str, Any] = {
            "_id": owner.object_id,
            "avatarUrl": f"https://cdn-avatars.huggingface.co/v1/{owner.object_id}.png",
            "fullname": owner.fullname or owner.name,
            "type": owner.type,
            "numModels": counts["model"],
            "numDatasets": counts["dataset"],
            "numSpaces": counts["space"],
            "numFollowers": 0,
        }
        if owner.type == "user":
            payload.update({"user": owner.name, "isPro": False, "numFollowing": 0})
        else:
            payload.update({"name": owner.name, "isVerified": False, "numUsers": 1})
        return HttpResponse.json(200, payload)


def _tags(repo: HfRepo) -> list[str]:
    tags = list(repo.tags)
    for tag in (repo.library_name, repo.pipeline_tag):
        if tag and tag not in tags:
            tags.append(tag)
    if repo.license:
        tags.append(f"license:{repo.license}")
    tags.append("region:us")
    return tags


def _card(repo: HfRepo) -> dict[str, Any] | None:
    return {"license": repo.license} if repo.license else None


def _values(repo: HfRepo) -> dict[str, Any]:
    """Every property the emulator knows, under its wire name (None: absent)."""
    return {
        "author": repo.author or None,
        "cardData": _card(repo),
        "createdAt": iso(repo.created_at).replace("Z", ".000Z"),
        "disabled": repo.status == "disabled",
        "downloads": repo.downloads if repo.type != "space" else None,
        "downloadsAllTime": repo.downloads * 12 if repo.type != "space" else None,
        "gated": repo.gated,
        "lastModified": iso(repo.last_modified).replace("Z", ".000Z"),
        "library_name": repo.library_name,
        "likes": repo.likes,
        "pipeline_tag": repo.pipeline_tag,
        "private": repo.private,
        "sha": repo.sha,
        "siblings": [{"rfilename": f} for f in repo.files],
        "spaces": [] if repo.type == "model" else None,
        "tags": _tags(repo),
        "trendingScore": 0,
        "usedStorage": 1024 * (1 + len(repo.files)),
        "sdk": "gradio" if repo.type == "space" else None,
        "runtime": {
            "stage": "RUNNING",
            "hardware": {"current": "cpu-basic", "requested": "cpu-basic"},
        }
        if repo.type == "space"
        else None,
    }


def _expanded(repo: HfRepo, expand: list[str]) -> dict[str, Any]:
    values = _values(repo)
    payload: dict[str, Any] = {"_id": repo.object_id, "id": repo.id}
    for key in expand:
        if values.get(key) is not None:
            payload[key] = values[key]
    return payload


def full_payload(repo: HfRepo) -> dict[str, Any]:
    """The answer to `GET /api/{type}s/{id}` without `expand`, in the recorded key order."""
    values = _values(repo)
    payload: dict[str, Any] = {"_id": repo.object_id, "id": repo.id, "private": repo.private}
    if repo.type == "model":
        payload.update({"pipeline_tag": repo.pipeline_tag, "library_name": repo.library_name})
    payload["tags"] = values["tags"]
    if repo.type != "space":
        payload["downloads"] = repo.downloads
    payload["likes"] = repo.likes
    if repo.type == "model":
        payload["modelId"] = repo.id
    payload.update(
        {
            "author": repo.author,
            "sha": repo.sha,
            "lastModified": values["lastModified"],
            "gated": repo.gated,
            "disabled": values["disabled"],
        }
    )
    if repo.type == "model":
        payload.update({"model-index": None, "config": {}})
    if repo.type == "space":
        payload.update({"sdk": values["sdk"], "runtime": values["runtime"]})
    if values["cardData"] is not None:
        payload["cardData"] = values["cardData"]
    payload["siblings"] = values["siblings"]
    if repo.type == "model":
        payload["spaces"] = []
    payload.update({"createdAt": values["createdAt"], "usedStorage": values["usedStorage"]})
    return payload


def _list_item(repo: HfRepo) -> dict[str, Any]:
    """A list entry without `expand`: the Hub's default list fields."""
    values = _values(repo)
    item: dict[str, Any] = {
        "_id": repo.object_id,
        "id": repo.id,
        "likes": repo.likes,
        "trendingScore": 0,
        "private": repo.private,
    }
    if repo.type != "space":
        item["downloads"] = repo.downloads
    item["tags"] = values["tags"]
    if repo.type == "model":
        item.update({"pipeline_tag": repo.pipeline_tag, "library_name": repo.library_name})
    item["createdAt"] = values["createdAt"]
    if repo.type == "model":
        item["modelId"] = repo.id
    return item
