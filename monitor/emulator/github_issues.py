"""GitHub's issues API on a repository (issues, comments, labels) and `GET /search/issues`.

Routes, after `/repos/{owner}/{repo}` (or `/repositories/{id}`):
    GET   /issues?state=&labels=a,b&creator=&since=&sort=&direction=&per_page=&page=
    POST  /issues                         title, body, labels (unknown labels are created)
    GET   /issues/{n}                     (github.py: it also answers 410 and 301)
    PATCH /issues/{n}                     title, body, state, state_reason, labels
    GET|POST /issues/{n}/comments;  GET|PATCH|DELETE /issues/comments/{id}
    GET|POST /labels;  GET|PATCH|DELETE /labels/{name}
    GET|POST|PUT|DELETE /issues/{n}/labels;  DELETE /issues/{n}/labels/{name}

As on GitHub: lists are newest first, 30 a page, with `Link` on /repositories/{id};
pull requests are in the issue list (with their `pull_request` key); closing sets
`closed_at`, `closed_by` and `state_reason` ("completed" unless "not_planned" is given);
reopening sets `state_reason` "reopened". Writes need the token's `issues: write`
(`pull_requests: write` also does for a pull request and for labels).

Search understands `repo:`, `is:issue|pr|open|closed`, `type:`, `state:`, `label:`
(repeated: all; `a,b`: either; `-label:`), `no:label`, `author:`, `user:`/`org:`,
`in:title|body|comments`, and words and "quoted phrases", matched as GitHub does: by
words, case and punctuation ignored (so a hidden `<!-- marker -->` in a body is found
by its words). Issues younger than `world.search_lag_seconds` are not found yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, urlencode

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
    invalid,
    not_found,
    page,
)
from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world import Issue, Repo, World
from monitor.emulator.world_github import Comment, Label, ensure_labels, next_number

DOC_ISSUES = f"{DOCS}/issues/issues"
DOC_COMMENTS = f"{DOCS}/issues/comments"
DOC_LABELS = f"{DOCS}/issues/labels"
DOC_SEARCH = f"{DOCS}/search/search#search-issues-and-pull-requests"
_ISSUE = re.compile(r"/issues/(\d+)")
_COMMENTS = re.compile(r"/issues/(\d+)/comments")
_COMMENT = re.compile(r"/issues/comments/(\d+)")
_LABEL = re.compile(r"/labels/(.+)")
_ISSUE_LABELS = re.compile(r"/issues/(\d+)/labels(?:/(.+))?")


def issue_json(call: Call, issue: Issue) -> dict[str, Any]:
    repo = call.repo
    labels = [repo.labels[n.lower()] for n in issue.labels if n.lower() in repo.labels]
    closed_by = call.world.user(issue.closed_by) if issue.closed_by else None
    return p.issue_payload(call.base, repo, issue, call.owner(issue.author), closed_by, labels)


def read(call: Call, rest: str) -> HttpResponse | None:
    """A GET this module serves, or None."""
    request = call.request
    if rest == "/issues":
        return _list(call)
    if match := _COMMENTS.fullmatch(rest):
        issue = _issue(call, int(match[1]))
        url = f"{call.listing}/issues/{issue.number}/comments?"
        chunk, headers = page(request, issue.comments, url)
        return conditional(request, [_comment_json(call, issue, c) for c in chunk], None, headers)
    if match := _COMMENT.fullmatch(rest):
        issue, comment = _comment(call, int(match[1]))
        return conditional(request, _comment_json(call, issue, comment), comment.updated_at)
    if rest == "/labels":
        labels = sorted(call.repo.labels.values(), key=lambda label: label.name.lower())
        shown, headers = page(request, labels, f"{call.listing}/labels?")
        payload = [p.label_payload(call.base, call.repo, label) for label in shown]
        return conditional(request, payload, None, headers)
    if match := _LABEL.fullmatch(rest):
        return conditional(request, _label_json(call, _label(call, match[1])), None)
    if (match := _ISSUE_LABELS.fullmatch(rest)) and match[2] is None:
        return conditional(request, _labels_of(call, _issue(call, int(match[1]))), None)
    return None


def write(call: Call, rest: str) -> HttpResponse | None:
    """A write this module serves, or None."""
    method = call.request.method
    if rest == "/issues" and method == "POST":
        return _create(call)
    if (match := _ISSUE.fullmatch(rest)) and method == "PATCH":
        return _edit(call, _issue(call, int(match[1])))
    if (match := _COMMENTS.fullmatch(rest)) and method == "POST":
        return _add_comment(call, _issue(call, int(match[1])))
    if match := _COMMENT.fullmatch(rest):
        return _change_comment(call, *_comment(call, int(match[1])))
    if rest == "/labels" and method == "POST":
        return _create_label(call)
    if match := _LABEL.fullmatch(rest):
        return _change_label(call, _label(call, match[1]))
    if match := _ISSUE_LABELS.fullmatch(rest):
        return _issue_labels(call, _issue(call, int(match[1])), match[2])
    return None


# --- issues --------------------------------------------------------------------------------------


def _issue(call: Call, number: int) -> Issue:
    issue = call.repo.issues.get(number)
    if issue is None or issue.moved_to is not None:
        raise Refused(not_found(f"{DOC_ISSUES}#get-an-issue"))
    if issue.deleted:
        raise Refused(error(410, "This issue was deleted", f"{DOC_ISSUES}#get-an-issue"))
    return issue


def _list(call: Call) -> HttpResponse:
    request = call.request
    state = request.arg("state") or "open"
    issues = [i for i in call.repo.issues.values() if not i.deleted and i.moved_to is None]
    if state in ("open", "closed"):
        issues = [i for i in issues if i.state == state]
    wanted = [n.strip().lower() for n in (request.arg("labels") or "").split(",") if n.strip()]
    issues = [i for i in issues if set(wanted) <= {n.lower() for n in i.labels}]
    creator = (request.arg("creator") or "").lower()
    if creator:
        issues = [i for i in issues if (i.author or call.repo.owner).lower() == creator]
    since = request.arg("since")
    if since:
        try:
            moment = utc(since)
        except ValueError:
            raise Refused(invalid(f"{DOC_ISSUES}#list-repository-issues")) from None
        issues = [i for i in issues if (i.updated_at or i.created_at) >= moment]
    issues = _sorted(issues, request.arg("sort"), request.arg("direction"))
    params = {
        k: v
        for k in ("state", "labels", "creator", "since", "sort", "direction")
        if (v := request.arg(k)) is not None
    }
    url = f"{call.listing}/issues?" + (urlencode(params) + "&" if params else "")
    chunk, headers = page(request, issues, url)
    return conditional(request, [issue_json(call, i) for i in chunk], None, headers)


def _sorted(issues: list[Issue], sort: str | None, direction: str | None) -> list[Issue]:
    keys: dict[str, Callable[[Issue], Any]] = {
        "created": lambda i: (i.created_at, i.number),
        "updated": lambda i: (i.updated_at or i.created_at, i.number),
        "comments": lambda i: (len(i.comments), i.number),
    }
    return sorted(
        issues, key=keys.get(sort or "created", keys["created"]), reverse=direction != "asc"
    )


def _label_names(body: dict[str, Any], doc: str) -> list[str] | None:
    values = field(body, "labels", list, doc)
    if values is None:
        return None
    names = []
    for value in values:
        name = value.get("name") if isinstance(value, dict) else value
        if not isinstance(name, str) or not name.strip():
            raise Refused(invalid(doc, {"resource": "Label", "field": "name", "code": "invalid"}))
        names.append(name.strip())
    return names


def _create(call: Call) -> HttpResponse:
    doc = f"{DOC_ISSUES}#create-an-issue"
    call.need(doc, "issues")
    body = call.body(doc)
    title = field(body, "title", str, doc, required=True)
    if not title or not title.strip():
        raise Refused(
            invalid(doc, {"resource": "Issue", "code": "missing_field", "field": "title"})
        )
    text = field(body, "body", str, doc)
    names = _label_names(body, doc) or []
    now = call.world.now()
    issue = Issue(next_number(call.repo), title, created_at=now, body=text)
    issue.author, issue.updated_at = call.user().login, now
    issue.labels = ensure_labels(call.world, call.repo, names)
    call.repo.issues[issue.number] = issue
    return created(issue_json(call, issue), f"{call.api}/issues/{issue.number}")


def _edit(call: Call, issue: Issue) -> HttpResponse:
    doc = f"{DOC_ISSUES}#update-an-issue"
    call.need(doc, "issues", *(("pull_requests",) if issue.is_pull else ()))
    body = call.body(doc)
    title = field(body, "title", str, doc)
    text = field(body, "body", str, doc)
    state = field(body, "state", str, doc)
    reason = field(body, "state_reason", str, doc)
    names = _label_names(body, doc)
    if state not in (None, "open", "closed"):
        raise Refused(invalid(doc, {"resource": "Issue", "code": "invalid", "field": "state"}))
    if reason not in (None, "completed", "not_planned", "reopened", "duplicate"):
        raise Refused(
            invalid(doc, {"resource": "Issue", "code": "invalid", "field": "state_reason"})
        )
    now = call.world.now()
    if title is not None:
        issue.title = title
    if "body" in body:
        issue.body = text
    if names is not None:
        issue.labels = ensure_labels(call.world, call.repo, names)
    if state == "closed" and issue.state == "open":
        issue.state, issue.closed_at, issue.closed_by = "closed", now, call.user().login
        issue.state_reason = None if issue.is_pull else reason or "completed"
    elif state == "open" and issue.state == "closed":
        issue.state, issue.closed_at, issue.closed_by = "open", None, None
        issue.state_reason = None if issue.is_pull else "reopened"
    elif reason is not None and issue.state == "closed" and not issue.is_pull:
        issue.state_reason = reason
    issue.updated_at = now
    return HttpResponse.json(200, issue_json(call, issue))


# --- comments ------------------------------------------------------------------------------------


def _comment_json(call: Call, issue: Issue, comment: Comment) -> dict[str, Any]:
    return p.comment_payload(call.base, call.repo, issue, comment, call.owner(comment.author))


def _comment(call: Call, comment_id: int) -> tuple[Issue, Comment]:
    for issue in call.repo.issues.values():
        for comment in issue.comments:
            if comment.id == comment_id and not issue.deleted:
                return issue, comment
    raise Refused(not_found(f"{DOC_COMMENTS}#get-an-issue-comment"))


def _add_comment(call: Call, issue: Issue) -> HttpResponse:
    doc = f"{DOC_COMMENTS}#create-an-issue-comment"
    call.need(doc, "issues", *(("pull_requests",) if issue.is_pull else ()))
    text = field(call.body(doc), "body", str, doc, required=True)
    now = call.world.now()
    comment = Comment(call.world.next_id(), text or "", call.user().login, now, now)
    issue.comments.append(comment)
    issue.updated_at = now
    return created(_comment_json(call, issue, comment), f"{call.api}/issues/comments/{comment.id}")


def _change_comment(call: Call, issue: Issue, comment: Comment) -> HttpResponse | None:
    doc = f"{DOC_COMMENTS}#update-an-issue-comment"
    if call.request.method not in ("PATCH", "DELETE"):
        return None
    call.need(doc, "issues", *(("pull_requests",) if issue.is_pull else ()))
    if call.request.method == "DELETE":
        issue.comments.remove(comment)
        return HttpResponse(204)
    comment.body = field(call.body(doc), "body", str, doc, required=True) or ""
    comment.updated_at = call.world.now()
    return HttpResponse.json(200, _comment_json(call, issue, comment))


# --- labels --------------------------------------------------------------------------------------


def _label_json(call: Call, label: Label) -> dict[str, Any]:
    return p.label_payload(call.base, call.repo, label)


def _label(call: Call, name: str) -> Label:
    label = call.repo.labels.get(unquote(name).lower())
    if label is None:
        raise Refused(not_found(f"{DOC_LABELS}#get-a-label"))
    return label


def _labels_of(call: Call, issue: Issue) -> list[dict[str, Any]]:
    labels = [call.repo.labels.get(n.lower()) for n in issue.labels]
    return [_label_json(call, label) for label in labels if label is not None]


def _color(body: dict[str, Any], doc: str, default: str | None) -> str | None:
    color = field(body, "color", str, doc)
    if color is None:
        return default
    color = color.lstrip("#").lower()
    if not re.fullmatch(r"[0-9a-f]{6}", color):
        raise Refused(invalid(doc, {"resource": "Label", "code": "invalid", "field": "color"}))
    return color


def _create_label(call: Call) -> HttpResponse:
    doc = f"{DOC_LABELS}#create-a-label"
    call.need(doc, "issues", "pull_requests")
    body = call.body(doc)
    name = (field(body, "name", str, doc, required=True) or "").strip()
    if not name:
        raise Refused(invalid(doc, {"resource": "Label", "code": "missing_field", "field": "name"}))
    if name.lower() in call.repo.labels:
        raise Refused(
            invalid(doc, {"resource": "Label", "code": "already_exists", "field": "name"})
        )
    color = _color(body, doc, "ededed") or "ededed"
    label = Label(call.world.next_id(), name, color, field(body, "description", str, doc))
    call.repo.labels[name.lower()] = label
    return created(_label_json(call, label), f"{call.api}/labels/{quote(name)}")


def _change_label(call: Call, label: Label) -> HttpResponse | None:
    doc = f"{DOC_LABELS}#update-a-label"
    if call.request.method not in ("PATCH", "DELETE"):
        return None
    call.need(doc, "issues", "pull_requests")
    labels = call.repo.labels
    if call.request.method == "DELETE":
        del labels[label.name.lower()]
        for issue in call.repo.issues.values():
            issue.labels = [n for n in issue.labels if n.lower() != label.name.lower()]
        return HttpResponse(204)
    body = call.body(doc)
    new_name = field(body, "new_name", str, doc)
    if new_name and new_name.lower() != label.name.lower():
        if new_name.lower() in labels:
            raise Refused(
                invalid(doc, {"resource": "Label", "code": "already_exists", "field": "name"})
            )
        del labels[label.name.lower()]
        for issue in call.repo.issues.values():
            issue.labels = [new_name if n == label.name else n for n in issue.labels]
        label.name = new_name
        labels[new_name.lower()] = label
    label.color = _color(body, doc, label.color) or label.color
    if "description" in body:
        label.description = field(body, "description", str, doc)
    return HttpResponse.json(200, _label_json(call, label))


def _issue_labels(call: Call, issue: Issue, name: str | None) -> HttpResponse | None:
    doc = f"{DOC_LABELS}#add-labels-to-an-issue"
    method = call.request.method
    if method not in ("POST", "PUT", "DELETE"):
        return None
    call.need(doc, "issues", "pull_requests")
    if method == "DELETE":
        if name is None:
            issue.labels = []
            return HttpResponse(204)
        kept = [n for n in issue.labels if n.lower() != unquote(name).lower()]
        if len(kept) == len(issue.labels):
            raise Refused(error(404, "Label does not exist", f"{DOC_LABELS}#remove-a-label"))
        issue.labels = kept
    else:
        try:
            sent = call.request.json()
        except ValueError:
            raise Refused(error(400, "Problems parsing JSON", doc)) from None
        names = _label_names({"labels": sent} if isinstance(sent, list) else sent or {}, doc)
        chosen = ensure_labels(call.world, call.repo, names or [])
        issue.labels = (
            chosen
            if method == "PUT"
            else ensure_labels(call.world, call.repo, issue.labels + chosen)
        )
    issue.updated_at = call.world.now()
    return HttpResponse.json(200, _labels_of(call, issue))


# --- search --------------------------------------------------------------------------------------

_TERM = re.compile(r'(-?)([a-z_-]+):("[^"]*"|\S+)|(-?)"([^"]*)"|(-?)(\S+)', re.IGNORECASE)
_QUALIFIERS = {"repo", "is", "type", "state", "label", "in", "author", "user", "org", "no"}


def _words(text: str | None) -> list[str]:
    return re.findall(r"\w+", (text or "").lower())


def _contains(haystack: list[str], needle: list[str]) -> bool:
    size = len(needle)
    return bool(needle) and any(
        haystack[i : i + size] == needle for i in range(len(haystack) - size + 1)
    )


class _Query:
    def __init__(self, text: str) -> None:
        self.filters: list[Callable[[Repo, Issue], bool]] = []
        self.terms: list[tuple[bool, list[str]]] = []
        self.repos: list[str] = []
        self.fields = {"title", "body", "comments"}
        for match in _TERM.finditer(text):
            minus, key, value, phrase_minus, phrase, word_minus, word = match.groups()
            if key is not None and key.lower() in _QUALIFIERS:
                self._qualifier(minus == "-", key.lower(), value.strip('"'))
            elif key is not None:  # not a qualifier GitHub knows: words
                self.terms.append((minus == "-", _words(f"{key} {value}")))
            elif phrase is not None:
                self.terms.append((phrase_minus == "-", _words(phrase)))
            else:
                self.terms.append((word_minus == "-", _words(word)))
        self.terms = [(negated, words) for negated, words in self.terms if words]

    def _qualifier(self, negated: bool, key: str, value: str) -> None:
        low = value.lower()
        test: Callable[[Repo, Issue], bool]
        if key == "repo":
            self.repos.append(low)
            return
        if key == "in":
            self.fields = {f for f in low.split(",") if f in ("title", "body", "comments")}
            return
        if key in ("is", "type", "state") and low in ("issue", "pr", "pull-request"):
            test = lambda r, i: i.is_pull == (low != "issue")  # noqa: E731
        elif key in ("is", "state") and low in ("open", "closed"):
            test = lambda r, i: i.state == low  # noqa: E731
        elif key == "label":
            options = {n.strip() for n in low.split(",")}
            test = lambda r, i: bool(options & {n.lower() for n in i.labels})  # noqa: E731
        elif key == "no" and low == "label":
            test = lambda r, i: not i.labels  # noqa: E731
        elif key == "author":
            test = lambda r, i: (i.author or r.owner).lower() == low  # noqa: E731
        elif key in ("user", "org"):
            test = lambda r, i: r.owner.lower() == low  # noqa: E731
        else:
            return
        self.filters.append((lambda r, i: not test(r, i)) if negated else test)

    def matches(self, repo: Repo, issue: Issue) -> bool:
        if self.repos and repo.full_name.lower() not in self.repos:
            return False
        if not all(test(repo, issue) for test in self.filters):
            return False
        texts = []
        if "title" in self.fields:
            texts.append(_words(issue.title))
        if "body" in self.fields:
            texts.append(_words(issue.body))
        if "comments" in self.fields:
            texts += [_words(c.body) for c in issue.comments]
        return all(
            any(_contains(text, words) for text in texts) != negated
            for negated, words in self.terms
        )


def search_issues(world: World, base: str, request: HttpRequest) -> HttpResponse:
    """`GET /search/issues?q=…&sort=&order=&per_page=&page=` (under `world.lock`)."""
    text = (request.arg("q") or "").strip()
    if not text:
        return invalid(DOC_SEARCH, {"resource": "Search", "field": "q", "code": "missing"})
    query = _Query(text)
    now, lag = world.now(), world.search_lag_seconds
    found: list[tuple[Repo, Issue]] = []
    for repo in world.repos.values():
        if repo.status != "ok" or repo.private:
            continue
        for issue in repo.issues.values():
            if issue.deleted or issue.moved_to is not None:
                continue
            if lag and (now - issue.created_at).total_seconds() < lag:
                continue
            if query.matches(repo, issue):
                found.append((repo, issue))
    order = _sorted([i for _, i in found], request.arg("sort"), request.arg("order"))
    where = {id(issue): repo for repo, issue in found}
    params = {k: v for k in ("q", "sort", "order") if (v := request.arg(k)) is not None}
    chunk, headers = page(request, order, f"{base}/search/issues?{urlencode(params)}&")
    items = [
        issue_json(Call(world, base, request, where[id(issue)]), issue) | {"score": 1.0}
        for issue in chunk
    ]
    payload = {"total_count": len(order), "incomplete_results": False, "items": items}
    return conditional(request, payload, None, headers)
