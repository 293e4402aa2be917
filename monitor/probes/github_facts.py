"""What GitHub's payloads say, as `Facts`, and the catalog URL arithmetic the probe needs.

Owns reading one repository, account or commit out of a REST or GraphQL payload.
A payload is checked as it is read: a field of the wrong type, or a missing one
that every real answer carries (an id, a name), raises `WrongShape`, which the
probe reports as an unreadable answer (transient). Reading it leniently instead
would turn a proxy's or a broken deploy's JSON into facts, and a `licenseInfo`
read as absent is a `license_changed` alert nobody should get.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

from monitor.model import Facts

T = TypeVar("T")


class WrongShape(ValueError):
    """JSON that is not the payload GitHub sends for this request."""


# --- catalog URLs -----------------------------------------------------------------------------


def parts(url: str) -> list[str]:
    return [unquote(p) for p in urlsplit(url).path.split("/") if p]


def slug(url: str) -> str:
    """ "owner/name" of a GitHub repository, path or issue URL."""
    segments = parts(url)
    return f"{segments[0]}/{segments[1]}"


def repo_of(html_url: str) -> str:
    """ "owner/name" of a URL GitHub sent (`html_url`); `WrongShape` if it names none."""
    try:
        segments = parts(html_url)
    except ValueError:  # urlsplit: "Invalid IPv6 URL"
        segments = []
    if len(segments) < 2:
        raise WrongShape(f"{html_url[:80]!r} is not a repository's URL")
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


# --- reading payloads -------------------------------------------------------------------------


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else `WrongShape` naming `what`."""
    if not isinstance(value, Mapping):
        raise WrongShape(f"{what} is {_type(value)}, not an object")
    return value


def field(data: Mapping[str, Any], key: str, kind: type[T], *, required: bool = False) -> T | None:
    """`data[key]` if it has the type GitHub sends; None if null or absent (unless required)."""
    value = data.get(key)
    if value is None:
        if required:
            raise WrongShape(f"no {key!r} in the answer")
        return None
    # bool is an int to Python, never to GitHub's schema
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise WrongShape(f"{key!r} is {_type(value)}")
    return value


def when(data: Mapping[str, Any], key: str) -> datetime | None:
    text = field(data, key, str)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise WrongShape(f"{key!r} is not a date: {text[:40]!r}") from None


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _id(data: Mapping[str, Any], key: str) -> str:
    return str(field(data, key, int, required=True))


def _licence(info: Any, spdx_key: str) -> str:
    if info is None:
        return "NONE"
    info = mapping(info, "the licence")
    spdx = field(info, spdx_key, str)
    if not spdx or field(info, "key", str) == "other":
        return "NOASSERTION"
    return spdx


def owner_type(typename: str | None) -> str | None:
    return {"User": "user", "Organization": "org"}.get(typename or "")


def present(data: Mapping[str, Any], *keys: str) -> None:
    """`WrongShape` unless every key is in `data` (GitHub sends a field it has no value for as
    null; a missing one means the payload is not what was asked for)."""
    missing = [k for k in keys if k not in data]
    if missing:
        raise WrongShape(f"no {', '.join(map(repr, missing))} in the answer")


def graphql_repo(node: Mapping[str, Any]) -> Facts:
    """A `...Repo` fragment."""
    present(node, "licenseInfo", "defaultBranchRef", "pushedAt", "isArchived", "isDisabled")
    branch = field(node, "defaultBranchRef", dict) or {}
    target = field(branch, "target", dict) or {}
    return Facts(
        remote_id=_id(node, "databaseId"),
        name=field(node, "nameWithOwner", str, required=True),
        url=field(node, "url", str),
        stars=field(node, "stargazerCount", int),
        last_commit=when(target, "committedDate"),
        pushed_at=when(node, "pushedAt"),
        license=_licence(node.get("licenseInfo"), "spdxId"),
        archived=field(node, "isArchived", bool),
        disabled=field(node, "isDisabled", bool),
        private=field(node, "isPrivate", bool),
    )


def graphql_owner(node: Mapping[str, Any]) -> Facts:
    """An `...Owner` fragment."""
    database_id = field(node, "databaseId", int)
    return Facts(
        remote_id=None if database_id is None else str(database_id),
        name=field(node, "login", str, required=True),
        url=field(node, "url", str),
        owner_type=owner_type(field(node, "__typename", str)),
    )


def rest_repo(body: Any) -> Facts:
    """`GET /repos/{owner}/{repo}` or `/repositories/{id}`."""
    body = mapping(body, "the repository")
    present(body, "license", "pushed_at", "archived")
    return Facts(
        remote_id=_id(body, "id"),
        name=field(body, "full_name", str, required=True),
        url=field(body, "html_url", str),
        stars=field(body, "stargazers_count", int),
        pushed_at=when(body, "pushed_at"),
        license=_licence(body.get("license"), "spdx_id"),
        archived=field(body, "archived", bool),
        disabled=field(body, "disabled", bool),
        private=field(body, "private", bool),
    )


def rest_account(body: Any) -> Facts:
    """`GET /users/{login}` or `/user/{id}`."""
    body = mapping(body, "the account")
    return Facts(
        remote_id=_id(body, "id"),
        name=field(body, "login", str, required=True),
        url=field(body, "html_url", str),
        owner_type=owner_type(field(body, "type", str)),
    )


def rest_last_commit(listing: Any) -> datetime | None:
    """The committer date of the first commit of `GET …/commits?per_page=1` (None: empty)."""
    if not isinstance(listing, list):
        raise WrongShape(f"the commit list is {_type(listing)}, not a list")
    if not listing:
        return None
    commit = mapping(mapping(listing[0], "a commit").get("commit"), "a commit's details")
    return when(mapping(commit.get("committer"), "a commit's committer"), "date")
