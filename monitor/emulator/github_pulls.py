"""GitHub's pull requests API, for pull requests between two branches of the same repository.

Routes, after `/repos/{owner}/{repo}` (or `/repositories/{id}`):
    GET   /pulls?state=open|closed|all&head=owner:branch&base=&sort=&direction=&per_page=&page=
    POST  /pulls          {title, body, head ("branch" or "owner:branch"), base,
                           maintainer_can_modify, draft}
    GET   /pulls/{n}      (the full payload: `merged`, `mergeable`, `commits`, `additions`, …)
    PATCH /pulls/{n}      {title, body, state, base, maintainer_can_modify}
    GET   /pulls/{n}/files  /pulls/{n}/commits

As on GitHub: a pull request is also an issue (one sequence of numbers per repository;
it is listed by `/issues` with a `pull_request` key); its head follows its branch; the
list's `head` filter needs the `owner:` prefix and is silently ignored without one;
a second open pull request for the same head and base is 422 "A pull request already
exists for owner:branch.", one without commits 422 "No commits between base and head".
Writes need the token's `pull_requests: write`. Pull requests from forks are not emulated.
"""

from __future__ import annotations

import difflib
import re
from typing import Any
from urllib.parse import quote, urlencode

from monitor.emulator import github_payloads as p
from monitor.emulator.github_http import (
    DOCS,
    Call,
    Refused,
    conditional,
    created,
    field,
    invalid,
    not_found,
    page,
)
from monitor.emulator.github_issues import issue_json
from monitor.emulator.http import HttpResponse
from monitor.emulator.world import Issue
from monitor.emulator.world_github import Commit, PullInfo, next_number, synced

DOC_PULLS = f"{DOCS}/pulls/pulls"


def read(call: Call, rest: str) -> HttpResponse | None:
    """A GET this module serves, or None (a deleted or transferred number: github.py's)."""
    request = call.request
    if rest == "/pulls":
        return _list(call)
    match = re.fullmatch(r"/pulls/(\d+)(/files|/commits)?", rest)
    if match is None:
        return None
    issue = call.repo.issues.get(int(match[1]))
    if issue is None or not issue.is_pull or issue.deleted or issue.moved_to is not None:
        return None
    if match[2] == "/files":
        chunk, headers = page(
            request, _files(call, issue), f"{call.listing}/pulls/{issue.number}/files?"
        )
        return conditional(request, chunk, None, headers)
    if match[2] == "/commits":
        owner = call.owner()
        commits = [p.commit_payload(call.base, call.repo, owner, c) for c in _commits(call, issue)]
        chunk, headers = page(request, commits, f"{call.listing}/pulls/{issue.number}/commits?")
        return conditional(request, chunk, None, headers)
    return conditional(request, pull_json(call, issue, full=True), issue.updated_at)


def write(call: Call, rest: str) -> HttpResponse | None:
    """A write this module serves, or None."""
    method = call.request.method
    if rest == "/pulls" and method == "POST":
        return _create(call)
    match = re.fullmatch(r"/pulls/(\d+)", rest)
    if match and method == "PATCH":
        issue = call.repo.issues.get(int(match[1]))
        if issue is None or not issue.is_pull or issue.deleted:
            raise Refused(not_found(f"{DOC_PULLS}#update-a-pull-request"))
        return _edit(call, issue)
    return None


# --- payloads ------------------------------------------------------------------------------------


def _info(call: Call, issue: Issue) -> PullInfo:
    """The pull request's branches (one added by the world alone gets a made-up head)."""
    if issue.pull is not None:
        return issue.pull
    store = synced(call.repo, call.world.now())
    base = store.branches.get(call.repo.default_branch, "0" * 40)
    return PullInfo(f"patch-{issue.number}", call.repo.default_branch, base, base)


def _heads(call: Call, info: PullInfo) -> tuple[str, str]:
    store = synced(call.repo, call.world.now())
    if info.merged_at is None:
        return store.branches.get(info.head, info.head_sha), store.branches.get(
            info.base, info.base_sha
        )
    return info.head_sha, info.base_sha


def _part(call: Call, branch: str, sha: str) -> dict[str, Any]:
    owner = call.owner()
    return {
        "label": f"{call.repo.owner}:{branch}",
        "ref": branch,
        "sha": sha,
        "user": p.simple_owner(call.base, owner),
        "repo": p.repo_payload(call.base, call.repo, owner),
    }


def pull_json(call: Call, issue: Issue, *, full: bool) -> dict[str, Any]:
    """A pull request: as listed, or (`full`) as `GET /pulls/{n}` gives it."""
    info = _info(call, issue)
    head, base = _heads(call, info)
    as_issue = issue_json(call, issue)
    api, number = call.api, issue.number
    html = as_issue["html_url"]
    links = {
        "self": f"{api}/pulls/{number}",
        "html": html,
        "issue": f"{api}/issues/{number}",
        "comments": f"{api}/issues/{number}/comments",
        "review_comments": f"{api}/pulls/{number}/comments",
        "review_comment": f"{api}/pulls/comments{{/number}}",
        "commits": f"{api}/pulls/{number}/commits",
        "statuses": f"{api}/statuses/{head}",
    }
    payload: dict[str, Any] = {
        "url": links["self"],
        "id": call.repo.id * 1000 + number,
        "node_id": "PR_" + as_issue["node_id"][2:],
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": links["issue"],
        "number": number,
        "state": issue.state,
        "locked": False,
        "title": issue.title,
        "user": as_issue["user"],
        "body": issue.body,
        "created_at": as_issue["created_at"],
        "updated_at": as_issue["updated_at"],
        "closed_at": as_issue["closed_at"],
        "merged_at": p.iso(info.merged_at) if info.merged_at else None,
        "merge_commit_sha": info.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": as_issue["labels"],
        "milestone": None,
        "draft": info.draft,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "head": _part(call, info.head, head),
        "base": _part(call, info.base, base),
        "_links": {name: {"href": href} for name, href in links.items()},
        "author_association": as_issue["author_association"],
        "auto_merge": None,
        "active_lock_reason": None,
    }
    if full:
        files = _files(call, issue)
        merged = info.merged_at is not None
        payload |= {
            "merged": merged,
            "mergeable": None if merged else True,
            "rebaseable": None if merged else True,
            "mergeable_state": "unknown" if merged else "clean",
            "merged_by": p.simple_owner(call.base, call.world.user(info.merged_by))
            if info.merged_by
            else None,
            "comments": len(issue.comments),
            "review_comments": 0,
            "maintainer_can_modify": info.maintainer_can_modify,
            "commits": len(_commits(call, issue)),
            "additions": sum(f["additions"] for f in files),
            "deletions": sum(f["deletions"] for f in files),
            "changed_files": len(files),
        }
    return payload


def _commits(call: Call, issue: Issue) -> list[Commit]:
    """The commits on the head that the base lacks, oldest first."""
    head, base = _heads(call, _info(call, issue))
    store = call.repo.git
    theirs = set(store.ancestors(base))
    chosen = [s for s in store.ancestors(head) if s not in theirs]
    found = []
    for sha in reversed(chosen):
        commit = store.commit(sha)
        found.append(Commit(sha, commit.committer.date, commit.message, commit.author.name))
    return found


def _files(call: Call, issue: Issue) -> list[dict[str, Any]]:
    """What the head changes since it left the base, one entry per file."""
    head, base = _heads(call, _info(call, issue))
    store = call.repo.git
    if store.kind(head) != "commit":
        return []
    common = store.merge_base(head, base) if store.kind(base) == "commit" else None
    before = store.files(common) if common else {}
    after = store.files(head)
    html = f"https://github.com/{call.repo.full_name}"
    entries = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        lines = list(
            difflib.unified_diff(
                (old or "").splitlines(), (new or "").splitlines(), lineterm="", n=3
            )
        )[2:]
        added = sum(1 for line in lines if line.startswith("+"))
        removed = sum(1 for line in lines if line.startswith("-"))
        status = "added" if old is None else "removed" if new is None else "modified"
        leaf = store.leaves(store.commit(head if new is not None else common or head).tree)
        entries.append(
            {
                "sha": leaf[path][2] if path in leaf else None,
                "filename": path,
                "status": status,
                "additions": added,
                "deletions": removed,
                "changes": added + removed,
                "blob_url": f"{html}/blob/{head}/{quote(path)}",
                "raw_url": f"{html}/raw/{head}/{quote(path)}",
                "contents_url": f"{call.api}/contents/{quote(path)}?ref={head}",
                "patch": "\n".join(lines),
            }
        )
    return entries


# --- listing, creating, editing ------------------------------------------------------------------


def _list(call: Call) -> HttpResponse:
    request = call.request
    pulls = [i for i in call.repo.issues.values() if i.is_pull and not i.deleted]
    state = request.arg("state") or "open"
    if state in ("open", "closed"):
        pulls = [i for i in pulls if i.state == state]
    head = request.arg("head") or ""
    if ":" in head:  # without "owner:", GitHub ignores the filter
        owner, _, branch = head.partition(":")
        if owner.lower() != call.repo.owner.lower():
            pulls = []
        pulls = [i for i in pulls if _info(call, i).head == branch]
    base = request.arg("base")
    if base:
        pulls = [i for i in pulls if _info(call, i).base == base]
    keys = {"updated": lambda i: (i.updated_at or i.created_at, i.number)}
    key = keys.get(request.arg("sort") or "", lambda i: (i.created_at, i.number))
    default = "desc" if (request.arg("sort") or "created") in ("created", "updated") else "asc"
    pulls.sort(key=key, reverse=(request.arg("direction") or default) == "desc")
    params = {
        k: v
        for k in ("state", "head", "base", "sort", "direction")
        if (v := request.arg(k)) is not None
    }
    url = f"{call.listing}/pulls?" + (urlencode(params) + "&" if params else "")
    chunk, headers = page(request, pulls, url)
    return conditional(request, [pull_json(call, i, full=False) for i in chunk], None, headers)


def _create(call: Call) -> HttpResponse:
    doc = f"{DOC_PULLS}#create-a-pull-request"
    call.need(doc, "pull_requests")
    body = call.body(doc)
    title = field(body, "title", str, doc, required=True) or ""
    head = field(body, "head", str, doc, required=True) or ""
    base = field(body, "base", str, doc, required=True) or ""
    text = field(body, "body", str, doc)
    modify = field(body, "maintainer_can_modify", bool, doc)
    draft = field(body, "draft", bool, doc) or False
    owner, _, branch = head.rpartition(":")
    store = synced(call.repo, call.world.now())
    if (owner and owner.lower() != call.repo.owner.lower()) or branch not in store.branches:
        raise Refused(invalid(doc, {"resource": "PullRequest", "field": "head", "code": "invalid"}))
    if base not in store.branches:
        raise Refused(invalid(doc, {"resource": "PullRequest", "field": "base", "code": "invalid"}))
    for other in call.repo.issues.values():
        info = other.pull
        if info and other.state == "open" and info.head == branch and info.base == base:
            message = f"A pull request already exists for {call.repo.owner}:{branch}."
            raise Refused(
                invalid(doc, {"resource": "PullRequest", "code": "custom", "message": message})
            )
    head_sha, base_sha = store.branches[branch], store.branches[base]
    if head_sha in store.ancestors(base_sha):
        message = f"No commits between {base} and {branch}"
        raise Refused(
            invalid(doc, {"resource": "PullRequest", "code": "custom", "message": message})
        )
    now = call.world.now()
    issue = Issue(next_number(call.repo), title, is_pull=True, created_at=now, body=text)
    issue.author, issue.updated_at = call.user().login, now
    issue.pull = PullInfo(branch, base, head_sha, base_sha, modify is not False, draft)
    call.repo.issues[issue.number] = issue
    return created(pull_json(call, issue, full=True), f"{call.api}/pulls/{issue.number}")


def _edit(call: Call, issue: Issue) -> HttpResponse:
    doc = f"{DOC_PULLS}#update-a-pull-request"
    call.need(doc, "pull_requests")
    body = call.body(doc)
    title = field(body, "title", str, doc)
    text = field(body, "body", str, doc)
    state = field(body, "state", str, doc)
    base = field(body, "base", str, doc)
    modify = field(body, "maintainer_can_modify", bool, doc)
    if state not in (None, "open", "closed"):
        raise Refused(
            invalid(doc, {"resource": "PullRequest", "field": "state", "code": "invalid"})
        )
    info = _info(call, issue)
    store = synced(call.repo, call.world.now())
    if base is not None and base not in store.branches:
        raise Refused(invalid(doc, {"resource": "PullRequest", "field": "base", "code": "invalid"}))
    reopening = state == "open" and issue.state == "closed"
    if reopening and (info.merged_at is not None or info.head not in store.branches):
        message = "state cannot be changed. The pull request cannot be reopened."
        raise Refused(
            invalid(doc, {"resource": "PullRequest", "code": "custom", "message": message})
        )
    now = call.world.now()
    if title is not None:
        issue.title = title
    if "body" in body:
        issue.body = text
    if issue.pull is not None:
        if base is not None:
            issue.pull.base, issue.pull.base_sha = base, store.branches[base]
        if modify is not None:
            issue.pull.maintainer_can_modify = modify
    if state == "closed" and issue.state == "open":
        issue.state, issue.closed_at, issue.closed_by = "closed", now, call.user().login
    elif state == "open" and issue.state == "closed":
        issue.state, issue.closed_at, issue.closed_by = "open", None, None
        if issue.pull is not None:
            issue.pull.head_sha = store.branches[info.head]
    issue.updated_at = now
    return HttpResponse.json(200, pull_json(call, issue, full=True))
