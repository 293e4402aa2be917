"""GitHub's git data API, branches, and the contents API's writes, on a repository's git store.

Routes, after `/repos/{owner}/{repo}` (or `/repositories/{id}`):
    GET    /git/ref/heads/{branch}  /git/refs/heads/{branch}  /git/refs  /git/matching-refs/{prefix}
    POST   /git/refs                         {ref: "refs/heads/x", sha}
    PATCH  /git/refs/heads/{branch}          {sha, force}  (422 "Update is not a fast forward")
    DELETE /git/refs/heads/{branch}
    GET|POST /git/commits[/{sha}]            {message, tree, parents, author, committer}
    GET|POST /git/trees[/{sha}?recursive=1]  {base_tree, tree: [{path, mode, type, sha|content}]}
    GET|POST /git/blobs[/{sha}]              {content, encoding: "utf-8"|"base64"}
    GET    /branches  /branches/{branch}
    PUT|DELETE /contents/{path}              {message, content (base64), sha, branch}

Every id is a real git id (gitstore.py). A branch moved here (a ref created or updated, a
file put) is a push: `repo.trees[branch]` and, on the default branch, `repo.commits`
follow, so the contents API, GraphQL's `object(expression:)` and `/commits` see it.
Writes need the token's `contents: write`. The contents API answers GitHub's way: a file
that exists needs its blob `sha` (422 "\\"sha\\" wasn't supplied."), a stale one is 409
"<path> does not match <sha>", a branch that does not exist 404.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import quote, unquote

from monitor.emulator import github_payloads as p
from monitor.emulator.basics import utc
from monitor.emulator.github_http import (
    DOCS,
    Call,
    Refused,
    conditional,
    created,
    error,
    field,
    not_found,
    page,
)
from monitor.emulator.gitstore import FILE_MODE, GitCommit, GitStore, Leaf, ObjectType, Person
from monitor.emulator.http import HttpResponse
from monitor.emulator.world_github import Commit, move_branch, synced

DOC_REFS = f"{DOCS}/git/refs"
DOC_COMMITS = f"{DOCS}/git/commits"
DOC_TREES = f"{DOCS}/git/trees"
DOC_BLOBS = f"{DOCS}/git/blobs"
DOC_BRANCH = f"{DOCS}/branches/branches#get-a-branch"
DOC_PUT = f"{DOCS}/repos/contents#create-or-update-file-contents"
DOC_DELETE = f"{DOCS}/repos/contents#delete-a-file"
_MODES: dict[str, ObjectType] = {
    "100644": "blob",
    "100755": "blob",
    "120000": "blob",
    "040000": "tree",
    "160000": "commit",
}


def _store(call: Call) -> GitStore:
    return synced(call.repo, call.world.now())


def read(call: Call, rest: str) -> HttpResponse | None:
    """A GET this module serves, or None."""
    request = call.request
    if match := re.fullmatch(r"/git/(?:ref|refs|matching-refs)(?:/(.*))?", rest):
        return _get_refs(call, rest.split("/")[2], unquote(match[1] or ""))
    if match := re.fullmatch(r"/git/(commits|trees|blobs)/([^/]+)", rest):
        store, sha = _store(call), unquote(match[2])
        if match[1] == "commits" and store.kind(sha) == "commit":
            return conditional(request, git_commit_json(call, sha), None)
        if match[1] == "blobs" and store.kind(sha) == "blob":
            return conditional(request, _blob_json(call, sha), None)
        if match[1] == "trees":
            tree = _tree_of(store, sha)
            if tree is not None:
                deep = request.arg("recursive") not in (None, "", "0", "false")
                return conditional(request, _tree_json(call, tree, deep), None)
        return not_found(f"{DOCS}/git/{match[1]}")
    if rest == "/branches":
        store = _store(call)
        names = sorted(store.branches)
        chunk, headers = page(request, names, f"{call.listing}/branches?")
        payload = [
            {
                "name": name,
                "commit": {
                    "sha": store.branches[name],
                    "url": _commit_url(call, store.branches[name]),
                },
                "protected": False,
            }
            for name in chunk
        ]
        return conditional(request, payload, None, headers)
    if match := re.fullmatch(r"/branches/(.+)", rest):
        name = unquote(match[1])
        store = _store(call)
        if name not in store.branches:
            return error(404, "Branch not found", DOC_BRANCH)
        return conditional(request, _branch_json(call, name, store.branches[name]), None)
    return None


def write(call: Call, rest: str) -> HttpResponse | None:
    """A write this module serves, or None."""
    method = call.request.method
    if rest.startswith("/contents/") and method in ("PUT", "DELETE"):
        return _put_file(call, unquote(rest.removeprefix("/contents/")).strip("/"))
    if rest == "/git/refs" and method == "POST":
        return _create_ref(call)
    if (match := re.fullmatch(r"/git/refs/(.+)", rest)) and method in ("PATCH", "DELETE"):
        return _update_ref(call, unquote(match[1]))
    if method == "POST" and rest in ("/git/commits", "/git/trees", "/git/blobs"):
        return {"/git/commits": _create_commit, "/git/trees": _create_tree}.get(rest, _create_blob)(
            call
        )
    return None


# --- payloads ------------------------------------------------------------------------------------


def _commit_url(call: Call, sha: str) -> str:
    return f"{call.api}/git/commits/{sha}"


def _person_json(person: Person) -> dict[str, str]:
    return {"name": person.name, "email": person.email, "date": p.iso(person.date)}


def git_commit_json(call: Call, sha: str) -> dict[str, Any]:
    commit = call.repo.git.commit(sha)
    html = f"https://github.com/{call.repo.full_name}/commit"
    return {
        "sha": sha,
        "node_id": "C_" + base64.b64encode(sha.encode()).decode()[:40],
        "url": _commit_url(call, sha),
        "html_url": f"{html}/{sha}",
        "author": _person_json(commit.author),
        "committer": _person_json(commit.committer),
        "tree": {"sha": commit.tree, "url": f"{call.api}/git/trees/{commit.tree}"},
        "message": commit.message,
        "parents": [
            {"sha": s, "url": _commit_url(call, s), "html_url": f"{html}/{s}"}
            for s in commit.parents
        ],
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def _ref_json(call: Call, name: str, sha: str) -> dict[str, Any]:
    return {
        "ref": f"refs/heads/{name}",
        "node_id": "REF_" + base64.b64encode(f"{call.repo.id}:{name}".encode()).decode(),
        "url": f"{call.api}/git/refs/heads/{quote(name)}",
        "object": {"sha": sha, "type": "commit", "url": _commit_url(call, sha)},
    }


def _blob_json(call: Call, sha: str) -> dict[str, Any]:
    data = call.repo.git.blob(sha).data
    return {
        "sha": sha,
        "node_id": "B_" + base64.b64encode(sha.encode()).decode()[:40],
        "size": len(data),
        "url": f"{call.api}/git/blobs/{sha}",
        "content": base64.encodebytes(data).decode(),
        "encoding": "base64",
    }


def _tree_of(store: GitStore, name: str) -> str | None:
    """A tree id from a tree id, a commit id or a branch name."""
    sha = store.branches.get(name, name)
    kind = store.kind(sha)
    if kind == "commit":
        return store.commit(sha).tree
    return sha if kind == "tree" else None


def _tree_json(call: Call, sha: str, recursive: bool) -> dict[str, Any]:
    store = call.repo.git
    entries = store.walk(sha) if recursive else ((e.name, e) for e in store.tree(sha).entries)
    tree = []
    for path, entry in entries:
        item: dict[str, Any] = {
            "path": path,
            "mode": entry.mode,
            "type": entry.type,
            "sha": entry.sha,
        }
        if entry.type == "blob":
            item["size"] = len(store.blob(entry.sha).data)
        if entry.type != "commit":
            item["url"] = f"{call.api}/git/{entry.type}s/{entry.sha}"
        tree.append(item)
    return {"sha": sha, "url": f"{call.api}/git/trees/{sha}", "tree": tree, "truncated": False}


def _branch_json(call: Call, name: str, sha: str) -> dict[str, Any]:
    commit = call.repo.git.commit(sha)
    author = call.world.user(commit.author.name)
    html = f"https://github.com/{call.repo.full_name}"
    listed = p.commit_payload(
        call.base,
        call.repo,
        call.owner(),
        Commit(sha, commit.committer.date, commit.message, author.login),
    )
    listed["commit"]["tree"] = {"sha": commit.tree, "url": f"{call.api}/git/trees/{commit.tree}"}
    listed["parents"] = [
        {"sha": s, "url": f"{call.api}/commits/{s}", "html_url": f"{html}/commit/{s}"}
        for s in commit.parents
    ]
    return {
        "name": name,
        "commit": listed,
        "_links": {"self": f"{call.api}/branches/{quote(name)}", "html": f"{html}/tree/{name}"},
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{call.api}/branches/{quote(name)}/protection",
    }


# --- refs ----------------------------------------------------------------------------------------


def _get_refs(call: Call, kind: str, name: str) -> HttpResponse:
    store = _store(call)
    refs = sorted(f"heads/{b}" for b in store.branches)
    if kind == "ref" or (kind == "refs" and name in refs):
        if name not in refs:
            return not_found(f"{DOC_REFS}#get-a-reference")
        branch = name.removeprefix("heads/")
        return conditional(call.request, _ref_json(call, branch, store.branches[branch]), None)
    chosen = [r for r in refs if r.startswith(name)]
    if kind == "refs" and name and not chosen:
        return not_found(f"{DOC_REFS}#get-a-reference")
    payload = [_ref_json(call, r.removeprefix("heads/"), store.branches[r[6:]]) for r in chosen]
    return conditional(call.request, payload, None)


def _commit_sha(store: GitStore, body: dict[str, Any], doc: str) -> str:
    sha = field(body, "sha", str, doc, required=True) or ""
    if store.kind(sha) != "commit":
        raise Refused(error(422, "Object does not exist", doc))
    return sha


def _create_ref(call: Call) -> HttpResponse:
    doc = f"{DOC_REFS}#create-a-reference"
    call.need(doc, "contents")
    body = call.body(doc)
    ref = field(body, "ref", str, doc, required=True) or ""
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise Refused(
            error(422, "Reference name must start with 'refs/' and have two slashes.", doc)
        )
    if not ref.startswith("refs/heads/"):
        raise Refused(error(422, "Reference update failed", doc))
    store = _store(call)
    sha = _commit_sha(store, body, doc)
    name = ref.removeprefix("refs/heads/")
    if name in store.branches:
        raise Refused(error(422, "Reference already exists", doc))
    move_branch(call.repo, name, sha, call.world.now())
    return created(_ref_json(call, name, sha), f"{call.api}/git/refs/heads/{quote(name)}")


def _update_ref(call: Call, ref: str) -> HttpResponse:
    doc = f"{DOC_REFS}#update-a-reference"
    call.need(doc, "contents")
    store = _store(call)
    name = ref.removeprefix("heads/")
    if not ref.startswith("heads/") or name not in store.branches:
        raise Refused(error(422, "Reference does not exist", doc))
    if call.request.method == "DELETE":
        if name == call.repo.default_branch:
            raise Refused(error(422, "Cannot delete the default branch", doc))
        del store.branches[name]
        call.repo.trees.pop(name, None)
        return HttpResponse(204)
    body = call.body(doc)
    sha = _commit_sha(store, body, doc)
    force = field(body, "force", bool, doc) or False
    if not force and store.branches[name] not in store.ancestors(sha):
        raise Refused(error(422, "Update is not a fast forward", doc))
    move_branch(call.repo, name, sha, call.world.now())
    return HttpResponse.json(200, _ref_json(call, name, sha))


# --- commits, trees, blobs -----------------------------------------------------------------------


def _person(call: Call, body: dict[str, Any], key: str, doc: str) -> Person | None:
    value = field(body, key, dict, doc)
    if value is None:
        return None
    name, email = value.get("name"), value.get("email")
    if not isinstance(name, str) or not isinstance(email, str):
        raise Refused(
            error(422, f"Invalid request.\n\nFor '{key}', name and email are required.", doc)
        )
    date = value.get("date")
    try:
        when = utc(date) if isinstance(date, str) else call.world.now()
    except ValueError:
        raise Refused(
            error(422, f"Invalid request.\n\n{date!r} is not a valid date.", doc)
        ) from None
    return Person(name, email, when)


def _create_commit(call: Call) -> HttpResponse:
    doc = f"{DOC_COMMITS}#create-a-commit"
    call.need(doc, "contents")
    body = call.body(doc)
    store = _store(call)
    message = field(body, "message", str, doc, required=True) or ""
    tree = field(body, "tree", str, doc, required=True) or ""
    if store.kind(tree) != "tree":
        raise Refused(error(422, "Tree SHA does not exist", doc))
    parents = field(body, "parents", list, doc) or []
    if not all(isinstance(s, str) and store.kind(s) == "commit" for s in parents):
        raise Refused(error(422, "Parent SHA does not exist or is not a commit object", doc))
    user = call.user()
    default = Person(user.login, f"{user.login}@users.noreply.github.com", call.world.now())
    author = _person(call, body, "author", doc) or default
    committer = _person(call, body, "committer", doc) or author
    sha = store.put_commit(GitCommit(tree, tuple(parents), message, author, committer))
    return created(git_commit_json(call, sha), _commit_url(call, sha))


def _create_tree(call: Call) -> HttpResponse:
    doc = f"{DOC_TREES}#create-a-tree"
    call.need(doc, "contents")
    body = call.body(doc)
    store = _store(call)
    entries = field(body, "tree", list, doc, required=True) or []
    base = field(body, "base_tree", str, doc)
    leaves: dict[str, Leaf] = {}
    if base is not None:
        base_tree = _tree_of(store, base)
        if base_tree is None:
            raise Refused(error(422, "GitRPC::BadObjectState", doc))
        leaves = store.leaves(base_tree)
    for entry in entries:
        _apply(store, leaves, entry, doc)
    sha = store.put_leaves(leaves)
    return created(_tree_json(call, sha, False), f"{call.api}/git/trees/{sha}")


def _apply(store: GitStore, leaves: dict[str, Leaf], entry: Any, doc: str) -> None:
    """One entry of `POST /git/trees` applied to the flat `leaves`."""
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise Refused(error(422, "Invalid tree info", doc))
    path = entry["path"].strip("/")
    mode = str(entry.get("mode") or FILE_MODE).rjust(6, "0")
    kind = entry.get("type") or _MODES.get(mode)
    if not path or mode not in _MODES or kind != _MODES[mode]:
        raise Refused(error(422, "Invalid tree info", doc))
    if "sha" in entry and "content" in entry:
        raise Refused(error(422, "Must supply either tree.sha or tree.content, not both", doc))
    for existing in [k for k in leaves if k == path or k.startswith(path + "/")]:
        del leaves[existing]
    parts = path.split("/")
    for depth in range(1, len(parts)):
        leaves.pop("/".join(parts[:depth]), None)  # a file in the way of a directory
    if "content" in entry:
        if kind != "blob" or not isinstance(entry["content"], str):
            raise Refused(error(422, "Invalid tree info", doc))
        leaves[path] = (mode, "blob", store.put_blob(entry["content"].encode()))
        return
    sha = entry.get("sha")
    if sha is None:
        return  # a deletion
    if not isinstance(sha, str) or (kind != "commit" and store.kind(sha) != kind):
        raise Refused(error(422, "GitRPC::BadObjectState", doc))
    if kind == "tree":
        leaves.update({f"{path}/{k}": v for k, v in store.leaves(sha).items()})
    else:
        leaves[path] = (mode, _MODES[mode], sha)


def _create_blob(call: Call) -> HttpResponse:
    doc = f"{DOC_BLOBS}#create-a-blob"
    call.need(doc, "contents")
    body = call.body(doc)
    content = field(body, "content", str, doc, required=True) or ""
    encoding = field(body, "encoding", str, doc) or "utf-8"
    if encoding not in ("utf-8", "base64"):
        raise Refused(error(422, f"encoding {encoding} is not supported", doc))
    data = _decode(content, doc) if encoding == "base64" else content.encode()
    sha = _store(call).put_blob(data)
    url = f"{call.api}/git/blobs/{sha}"
    return created({"url": url, "sha": sha}, url)


def _decode(content: str, doc: str) -> bytes:
    try:
        return base64.b64decode(content, validate=False)
    except (binascii.Error, ValueError):
        raise Refused(error(422, "content is not valid Base64", doc)) from None


# --- the contents API's writes -------------------------------------------------------------------


def _put_file(call: Call, path: str) -> HttpResponse:
    deleting = call.request.method == "DELETE"
    doc = DOC_DELETE if deleting else DOC_PUT
    call.need(doc, "contents")
    body = call.body(doc)
    store = _store(call)
    branch = field(body, "branch", str, doc) or call.repo.default_branch
    if branch not in store.branches:
        raise Refused(error(404, f"Branch {branch} not found", doc))
    message = field(body, "message", str, doc, required=True) or ""
    content = None if deleting else field(body, "content", str, doc, required=True)
    given = field(body, "sha", str, doc, required=deleting)
    head = store.branches[branch]
    leaves = store.leaves(store.commit(head).tree)
    if path not in leaves and deleting:
        raise Refused(not_found(doc))
    if path in leaves:
        if given is None:
            raise Refused(error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', doc))
        if given != leaves[path][2]:
            raise Refused(error(409, f"{path} does not match {given}", doc))
    existed = path in leaves
    mode = leaves[path][0] if existed else FILE_MODE
    if content is None:
        del leaves[path]
    else:
        leaves[path] = (mode, "blob", store.put_blob(_decode(content, doc)))
    user = call.user()
    default = Person(user.login, f"{user.login}@users.noreply.github.com", call.world.now())
    author = _person(call, body, "author", doc) or default
    committer = _person(call, body, "committer", doc) or author
    sha = store.put_commit(GitCommit(store.put_leaves(leaves), (head,), message, author, committer))
    move_branch(call.repo, branch, sha, call.world.now())
    files = call.repo.trees[branch]
    entry = None
    if content is not None:
        entry = p.content_payload(call.base, call.repo, path, branch, files.get(path, ""), files)
        entry["sha"] = leaves[path][2]
        entry.pop("content", None)
        entry.pop("encoding", None)
    payload = {"content": entry, "commit": git_commit_json(call, sha)}
    status = 200 if existed else 201
    return HttpResponse.json(status, payload)
