"""The PyGithub client for the list's repository, built from the settings in one place.

    repo = connect(settings).repo          # a PyGithub Repository, OWNER/NAME from settings

The token goes to the GitHub API host only (PyGithub's `base_url`); requests have
the API timeout and no retry loop of PyGithub's own (`retry=None`): a failure is
reported, not slept through. What GitHub refuses becomes `GitHubRefused` (exit 3)
with the permission the token lacks, read from GitHub's answer
(`X-Accepted-GitHub-Permissions`, the 403 "Resource not accessible" messages).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor import __version__
from monitor.errors import Problem, RunFailed, UserInputError
from monitor.settings import Settings

if TYPE_CHECKING:
    from github import Github
    from github.Repository import Repository


class GitHubRefused(RunFailed):
    """GitHub refused what monitor asked of the list's repository (exit 3); the message
    names what the token lacks, never the token."""


@dataclass
class Connection:
    github: Github
    repo: Repository
    name: str
    #: the requests made through `github` so far (`connect`'s own included)
    counter: RequestCounter


class RequestCounter:
    """Counts the requests PyGithub makes for one client: every REST call, pages and
    lazy completions included, goes through its requester's `requestJsonAndCheck`."""

    def __init__(self, github: Github) -> None:
        self.requests = 0
        requester = github.requester
        inner = requester.requestJsonAndCheck

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.requests += 1
            return inner(*args, **kwargs)

        setattr(requester, "requestJsonAndCheck", counted)  # noqa: B010 (a method, on purpose)


def repository_name(settings: Settings, given: str | None = None) -> str:
    """OWNER/NAME: `--repo`, else MONITOR_GITHUB_REPO; bad input (exit 2) when neither."""
    name = given or settings.github_repo
    if not name:
        raise UserInputError(
            [
                Problem(
                    "MONITOR_GITHUB_REPO / --repo",
                    "no repository is named",
                    hint="set MONITOR_GITHUB_REPO=OWNER/NAME (the repository that holds the list)",
                )
            ]
        )
    if settings.github_token is None:
        raise UserInputError(
            [
                Problem(
                    "GITHUB_TOKEN",
                    "a token is needed to write to the list's repository",
                    hint="issues: write for the tracking issue; contents: write and "
                    "pull-requests: write for the repair pull request",
                )
            ]
        )
    return name


def connect(settings: Settings, name: str) -> Connection:
    """The repository `name` through PyGithub, with the settings' token and timeouts."""
    from github import Auth, Github

    assert settings.github_token is not None
    github = Github(
        base_url=settings.github_api_url,
        auth=Auth.Token(settings.github_token.reveal()),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        timeout=max(1, round(settings.probes.api_timeout_seconds)),
        user_agent=f"monitor/{__version__}",
    )
    counter = RequestCounter(github)
    with refusals(name, "read the repository"):
        repo = github.get_repo(name)
    return Connection(github, repo, name, counter)


#: What each write needs, as GitHub's fine-grained token permissions name it.
PERMISSIONS = {
    "issues": "issues: write",
    "contents": "contents: write",
    "pulls": "pull-requests: write",
}


@contextmanager
def refusals(repository: str, doing: str, needs: str | None = None) -> Iterator[None]:
    """Turn GitHub's refusals of `doing` into `GitHubRefused` naming what is missing."""
    from github import GithubException

    try:
        yield
    except GithubException as exc:
        raise GitHubRefused(_why(exc, repository, doing, needs)) from None


def _why(exc: Any, repository: str, doing: str, needs: str | None) -> str:
    status = exc.status
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or "").strip()
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    accepted = headers.get("x-accepted-github-permissions", "")
    wanted = accepted_permissions(accepted) or needs
    text = f"GitHub refused to {doing} in {repository} (HTTP {status}"
    text += f": {message})" if message else ")"
    if status in (401,):
        return text + "; check GITHUB_TOKEN"
    if status in (403, 404) and wanted:
        return text + f"; the token needs {wanted} on {repository}"
    return text


def accepted_permissions(header: str) -> str:
    """`X-Accepted-GitHub-Permissions` in words: each set of permissions that would do
    (GitHub separates the sets by ";", the permissions of one set by ","), so
    "issues=write; pull_requests=write" is "issues: write or pull-requests: write"."""
    sets = []
    for alternative in header.split(";"):
        pairs = (p.split("=", 1) for p in alternative.split(",") if "=" in p)
        words = [f"{k.strip().replace('_', '-')}: {v.strip()}" for k, v in pairs]
        if words:
            sets.append(" and ".join(words))
    return " or ".join(sets)
