"""The Hub's file endpoints, as huggingface_hub 2.4 calls them and reads their answers.

- `POST /api/{models,datasets,spaces}/{id}/paths-info/{revision}` (`HfApi.get_paths_info`):
  the body is a form (`paths=a&paths=b&expand=false`, what huggingface_hub sends) or JSON
  (`{"paths": [...], "expand": false}`); the answer is a JSON list of the paths that exist,
  each a dict `RepoFile(**d)` or `RepoFolder(**d)` reads (`type` "file" or "directory",
  `oid`, `size`, `path`; `lfs` for large files; `lastCommit` with `expand=true`). A path
  that does not exist is left out, without an error. More than `MAX_PATHS` paths: 413.
- `GET /api/{type}s/{id}/tree/{revision}[/{path}]` (`HfApi.list_repo_tree`; the path is
  sent percent-encoded as one segment): the entries of a folder (`recursive=true`: all
  below it), 1,000 a page with a `Link: <…>; rel="next"` header; 404 with
  `X-Error-Code: EntryNotFound` when the path is not a folder at that revision (missing, or
  a file: huggingface_hub's `HfFileSystem.ls` relies on that).
- Both answer a revision that does not resolve with 404 `X-Error-Code: RevisionNotFound`;
  the repository itself (missing, private, deleted, renamed, disabled) is judged first,
  as for `/api/{type}s/{id}` (huggingface.py's `_repo`).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from monitor.emulator.basics import fake_sha
from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world_hub import HfRepo

_REPO = r"^/api/(?P<kind>models|datasets|spaces)/(?P<id>[^/]+(?:/[^/]+)?)"
PATHS_INFO = re.compile(_REPO + r"/(?P<what>paths-info)/(?P<rev>[^/]+)$")
TREE = re.compile(_REPO + r"/(?P<what>tree)/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")
#: the Hub refuses more paths in one paths-info request ("413 … too many parameters",
#: huggingface_hub's `_commit_api.FETCH_LFS_BATCH_SIZE` comment)
MAX_PATHS = 1000
PAGE_SIZE = 1000
#: files at least this large are LFS files (their entry carries `lfs`)
LFS_SIZE = 10 * 1024 * 1024


def hub_error(status: int, message: str, *, code: str | None = None) -> HttpResponse:
    """An error as the Hub sends it: `X-Error-Message` (and `X-Error-Code`) and JSON."""
    headers = {"X-Error-Message": message}
    if code:
        headers["X-Error-Code"] = code
    return HttpResponse.json(status, {"error": message}, headers)


def no_revision(revision: str) -> HttpResponse:
    return hub_error(404, f"Invalid rev id: {revision}", code="RevisionNotFound")


def paths_info(request: HttpRequest, repo: HfRepo, revision: str) -> HttpResponse:
    """The answer to paths-info for `repo` (found and readable) at `revision` (decoded)."""
    if not repo.resolves(revision):
        return no_revision(revision)
    try:
        paths, expand = _paths_asked(request)
    except ValueError as exc:
        return hub_error(400, str(exc))
    if len(paths) > MAX_PATHS:
        return HttpResponse.text(413, "too many parameters")
    found: list[dict[str, Any]] = []
    for path in dict.fromkeys(p.strip("/") for p in paths):
        kind = repo.path_type(path) if path else None
        if kind is not None:
            found.append(entry(repo, path, kind, expand=expand))
    return HttpResponse.json(200, found)


def tree(
    request: HttpRequest, repo: HfRepo, revision: str, path: str, base_url: str
) -> HttpResponse:
    """The answer to a tree listing of folder `path` (decoded; "" the root) at `revision`."""
    if not repo.resolves(revision):
        return no_revision(revision)
    path = path.strip("/")
    if repo.path_type(path) != "directory":
        return hub_error(404, f"{path} does not exist on {revision!r}", code="EntryNotFound")
    recursive = (request.arg("recursive") or "").lower() == "true"
    expand = (request.arg("expand") or "").lower() == "true"
    prefix = f"{path}/" if path else ""
    below: dict[str, str] = {}
    for file in sorted(repo.files):
        if not file.startswith(prefix):
            continue
        rest = file[len(prefix) :].split("/")
        for depth in range(1, len(rest) if recursive else 1):
            below.setdefault(prefix + "/".join(rest[:depth]), "directory")
        if recursive or len(rest) == 1:
            below[file] = "file"
        else:
            below.setdefault(prefix + rest[0], "directory")
    listed = sorted(below.items(), key=lambda item: (item[1] == "file", item[0]))
    start = int(request.arg("cursor") or 0)
    chunk = listed[start : start + PAGE_SIZE]
    response = HttpResponse.json(200, [entry(repo, p, kind, expand=expand) for p, kind in chunk])
    if start + PAGE_SIZE < len(listed):
        params = [(k, v) for k, vs in request.query.items() if k != "cursor" for v in vs]
        params.append(("cursor", str(start + PAGE_SIZE)))
        next_url = f"{base_url}{request.path}?{urlencode(params)}"
        response.headers.append(("Link", f'<{next_url}>; rel="next"'))
    return response


def entry(repo: HfRepo, path: str, kind: str, *, expand: bool = False) -> dict[str, Any]:
    """A `RepoFile` or `RepoFolder` dict, in the Hub's key order."""
    oid = fake_sha("hf-entry", repo.id, repo.sha, path)
    if kind == "directory":
        item: dict[str, Any] = {"type": "directory", "oid": oid, "size": 0, "path": path}
    else:
        size = 100 + int(oid[:6], 16)
        item = {"type": "file", "oid": oid, "size": size, "path": path}
        if size >= LFS_SIZE or path.endswith((".safetensors", ".bin", ".parquet")):
            item["lfs"] = {"oid": fake_sha("lfs", oid) + oid[:24], "size": size, "pointerSize": 134}
    if expand:
        when = repo.last_modified.isoformat().replace("+00:00", ".000Z")
        item["lastCommit"] = {"id": repo.sha, "title": "Upload folder", "date": when}
    return item


def _paths_asked(request: HttpRequest) -> tuple[list[str], bool]:
    """The `paths` (and `expand`) of a paths-info body, form-encoded or JSON."""
    kind = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise ValueError("the body is not JSON") from None
        paths = body.get("paths") if isinstance(body, dict) else None
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValueError('"paths" must be a list of strings')
        return paths, body.get("expand") is True
    form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    if "paths" not in form:
        raise ValueError('"paths" is required')
    return form["paths"], form.get("expand", ["false"])[0].lower() == "true"


def decoded(text: str | None) -> str:
    """A path segment (or segments) as sent, percent-decoded."""
    return unquote(text or "")
