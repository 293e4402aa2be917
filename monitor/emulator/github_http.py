"""What every GitHub REST route shares: the call on a repository (`Call`), GitHub's error
bodies (404, 422 "Validation Failed", 403 for a token that lacks a permission), answers
that are 200 or 304 by ETag, and pages of a list with their `Link` header.

A route that has to refuse raises `Refused(response)`; github.py answers with it.
Refusals of writes, as GitHub words them:
- a fine-grained token without the permission: 403 "Resource not accessible by personal
  access token", with `X-Accepted-GitHub-Permissions: issues=write` (alternatives
  separated by "; ");
- an archived repository: 403 "Repository was archived so is read-only.";
- a body that is not JSON: 400 "Problems parsing JSON"; a missing or mistyped field:
  422 "Invalid request.\\n\\n\\"title\\" wasn't supplied.".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from monitor.emulator.github_payloads import http_date
from monitor.emulator.http import HttpRequest, HttpResponse
from monitor.emulator.world import Owner, Repo, World
from monitor.emulator.world_github import Permission

DOCS = "https://docs.github.com/rest"
T = TypeVar("T")


class Refused(Exception):
    """A route's answer when it cannot go on: the response to send."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status)
        self.response = response


def error(status: int, message: str, doc: str, **extra: Any) -> HttpResponse:
    return HttpResponse.json(
        status, {"message": message, **extra, "documentation_url": doc, "status": str(status)}
    )


def not_found(doc: str = f"{DOCS}/repos/repos#get-a-repository") -> HttpResponse:
    return error(404, "Not Found", doc)


def invalid(doc: str, *errors: dict[str, Any]) -> HttpResponse:
    """422 Validation Failed, with GitHub's `errors` list."""
    return error(422, "Validation Failed", doc, errors=list(errors))


@dataclass
class Call:
    """One REST call on a repository: everything a route needs to answer it."""

    world: World
    base: str
    request: HttpRequest
    repo: Repo

    @property
    def token(self) -> str:
        return self.request.token

    @property
    def api(self) -> str:
        return f"{self.base}/repos/{self.repo.full_name}"

    @property
    def listing(self) -> str:
        """Where `Link` headers of this repository's lists point (by id, as GitHub does)."""
        return f"{self.base}/repositories/{self.repo.id}"

    def user(self) -> Owner:
        """Who the token belongs to."""
        return self.world.token_user(self.token)

    def owner(self, login: str | None = None) -> Owner:
        """The account `login` (the repository's owner when None)."""
        return self.world.user(login or self.repo.owner)

    def body(self, doc: str) -> dict[str, Any]:
        """The JSON object sent, or a refusal."""
        try:
            value = self.request.json()
        except ValueError:
            raise Refused(error(400, "Problems parsing JSON", doc)) from None
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise Refused(
                error(
                    422,
                    f"Invalid request.\n\nFor 'links/0/schema', {value!r} is not an object.",
                    doc,
                )
            )
        return value

    def need(self, doc: str, *permissions: Permission) -> None:
        """Refuse unless the token may write one of `permissions` here."""
        if self.repo.archived:
            raise Refused(error(403, "Repository was archived so is read-only.", doc))
        if any(self.world.permission(self.token, p) == "write" for p in permissions):
            return
        response = error(403, "Resource not accessible by personal access token", doc)
        accepted = "; ".join(f"{p}=write" for p in permissions)
        raise Refused(response.header("X-Accepted-GitHub-Permissions", accepted))


def field(
    body: dict[str, Any], name: str, kind: type[T], doc: str, *, required: bool = False
) -> T | None:
    """`body[name]` if it is a `kind` (None if absent and not `required`), else a refusal."""
    if name not in body or (body[name] is None and not required):
        if required:
            raise Refused(error(422, f'Invalid request.\n\n"{name}" wasn\'t supplied.', doc))
        return None
    value = body[name]
    if kind is str and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # GitHub takes a number as a title
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        text = json_name(value)
        raise Refused(
            error(
                422,
                f"Invalid request.\n\nFor 'properties/{name}', {text} is not {_article(kind)}.",
                doc,
            )
        )
    return value


def json_name(value: Any) -> str:
    return "nil" if value is None else repr(value)


def _article(kind: type) -> str:
    return {str: "a string", bool: "a boolean", int: "an integer", list: "an array"}.get(
        kind, "an object"
    )


def int_arg(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def page(request: HttpRequest, items: Sequence[T], url: str) -> tuple[list[T], dict[str, str]]:
    """The page `request` asks for (`per_page` ≤ 100, default 30; `page` from 1) and its
    `Link` header; `url` is the list's URL with its other parameters, ending in `?` or `&`."""
    per_page = max(1, min(100, int_arg(request.arg("per_page"), 30)))
    number = max(1, int_arg(request.arg("page"), 1))
    last = max(1, -(-len(items) // per_page))
    chunk = list(items[(number - 1) * per_page : number * per_page])
    base = f"{url}per_page={per_page}&page="
    links = []
    if number > 1:
        links += [f'<{base}{number - 1}>; rel="prev"', f'<{base}1>; rel="first"']
    if number < last:
        links += [f'<{base}{number + 1}>; rel="next"', f'<{base}{last}>; rel="last"']
    return chunk, ({"link": ", ".join(links)} if links else {})


def conditional(
    request: HttpRequest,
    payload: Any,
    modified: datetime | None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """200 with a per-token weak ETag, or 304 if the client already has this body."""
    response = HttpResponse.json(200, payload, headers)
    digest = hashlib.sha256()
    for part in (request.header("Accept") or "", request.header("Authorization") or ""):
        digest.update(part.encode())
    digest.update(response.body)
    etag = f'W/"{digest.hexdigest()}"'
    caching = [
        ("cache-control", "private, max-age=60, s-maxage=60"),
        (
            "vary",
            "Accept, Authorization, Cookie, X-GitHub-OTP,Accept-Encoding, Accept, X-Requested-With",
        ),
        ("etag", etag),
    ]
    if modified is not None:
        caching.append(("last-modified", http_date(modified)))
    if _matches(request.header("If-None-Match"), etag) or (
        request.header("If-None-Match") is None
        and _not_modified_since(request.header("If-Modified-Since"), modified)
    ):
        return HttpResponse(304, b"", caching)
    response.headers += caching
    return response


def created(payload: Any, location: str) -> HttpResponse:
    """201 Created, with the new thing's API URL in `Location`."""
    return HttpResponse.json(201, payload, {"Location": location})


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def _not_modified_since(header: str | None, modified: datetime | None) -> bool:
    if not header or modified is None:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return modified.replace(microsecond=0) <= since
