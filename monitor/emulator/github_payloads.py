"""GitHub's REST JSON shapes, built from the world, with every API URL on the emulator's base.

Field names, order and types follow the recorded responses in
`../shared/api-examples/` (a 2026 `GET /repos/{o}/{r}`, a 2026 commit list).
`html_url` fields stay on https://github.com, as on the real service: they are
web pages, not API links. Every other `*_url`/`url` is on `base`, because
PyGithub follows them and refuses foreign hosts.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import quote

from monitor.emulator.basics import fake_sha
from monitor.emulator.gitstore import blob_sha, tree_sha
from monitor.emulator.world import Issue, Owner, Repo
from monitor.emulator.world_github import Comment, Commit, Label

LICENSES = {
    "MIT": ("mit", "MIT License"),
    "Apache-2.0": ("apache-2.0", "Apache License 2.0"),
    "GPL-3.0": ("gpl-3.0", "GNU General Public License v3.0"),
    "LGPL-3.0": ("lgpl-3.0", "GNU Lesser General Public License v3.0"),
    "BSD-3-Clause": ("bsd-3-clause", 'BSD 3-Clause "New" or "Revised" License'),
    "AGPL-3.0": ("agpl-3.0", "GNU Affero General Public License v3.0"),
    "CC-BY-4.0": ("cc-by-4.0", "Creative Commons Attribution 4.0 International"),
    "Unlicense": ("unlicense", "The Unlicense"),
}


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(value: datetime) -> str:
    return value.strftime("%a, %d %b %Y %H:%M:%S GMT")


def license_payload(base: str, spdx: str | None) -> dict[str, Any] | None:
    if spdx is None:
        return None
    if spdx == "NOASSERTION" or spdx not in LICENSES:
        return {
            "key": "other",
            "name": "Other",
            "spdx_id": "NOASSERTION",
            "url": None,
            "node_id": "MDc6TGljZW5zZTA=",
        }
    key, name = LICENSES[spdx]
    return {
        "key": key,
        "name": name,
        "spdx_id": spdx,
        "url": f"{base}/licenses/{key}",
        "node_id": "MDc6TGljZW5z" + base64.b64encode(key.encode()).decode()[:6],
    }


def simple_owner(base: str, owner: Owner) -> dict[str, Any]:
    login = owner.login
    api = f"{base}/users/{login}"
    return {
        "login": login,
        "id": owner.id,
        "node_id": ("MDEyOk9yZ2FuaXphdGlvbj" if owner.type == "Organization" else "MDQ6VXNlcj")
        + base64.b64encode(str(owner.id).encode()).decode().rstrip("="),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{owner.id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": owner.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def repo_payload(base: str, repo: Repo, owner: Owner) -> dict[str, Any]:
    full = repo.full_name
    api = f"{base}/repos/{full}"
    html = f"https://github.com/{full}"
    return {
        "id": repo.id,
        "node_id": repo.node_id,
        "name": repo.name,
        "full_name": full,
        "private": repo.private,
        "owner": simple_owner(base, owner),
        "html_url": html,
        "description": repo.description,
        "fork": repo.fork,
        "url": api,
        "forks_url": f"{api}/forks",
        "keys_url": f"{api}/keys{{/key_id}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "teams_url": f"{api}/teams",
        "hooks_url": f"{api}/hooks",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "events_url": f"{api}/events",
        "assignees_url": f"{api}/assignees{{/user}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "tags_url": f"{api}/tags",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "languages_url": f"{api}/languages",
        "stargazers_url": f"{api}/stargazers",
        "contributors_url": f"{api}/contributors",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "commits_url": f"{api}/commits{{/sha}}",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "comments_url": f"{api}/comments{{/number}}",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "merges_url": f"{api}/merges",
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{api}/downloads",
        "issues_url": f"{api}/issues{{/number}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "labels_url": f"{api}/labels{{/name}}",
        "releases_url": f"{api}/releases{{/id}}",
        "deployments_url": f"{api}/deployments",
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.updated_at),
        "pushed_at": iso(repo.pushed_at),
        "git_url": f"git://github.com/{full}.git",
        "ssh_url": f"git@github.com:{full}.git",
        "clone_url": f"{html}.git",
        "svn_url": html,
        "homepage": repo.homepage,
        "size": 1024 + len(repo.commits),
        "stargazers_count": repo.stars,
        "watchers_count": repo.stars,
        "language": repo.language,
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": repo.forks,
        "mirror_url": None,
        "archived": repo.archived,
        "disabled": repo.disabled,
        "open_issues_count": sum(1 for i in repo.issues.values() if i.state == "open"),
        "license": license_payload(base, repo.license),
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": list(repo.topics),
        "visibility": "private" if repo.private else "public",
        "forks": repo.forks,
        "open_issues": sum(1 for i in repo.issues.values() if i.state == "open"),
        "watchers": repo.stars,
        "default_branch": repo.default_branch,
        "network_count": repo.forks,
        "subscribers_count": repo.watchers,
    }


def commit_payload(base: str, repo: Repo, owner: Owner, commit: Commit) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    person = {
        "name": commit.author,
        "email": f"{commit.author}@users.noreply.github.com",
        "date": iso(commit.date),
    }
    author = simple_owner(base, Owner(commit.author, 583231, "User"))
    tree = fake_sha("tree", commit.sha)
    return {
        "sha": commit.sha,
        "node_id": "C_" + base64.b64encode(commit.sha.encode()).decode()[:40],
        "commit": {
            "author": person,
            "committer": dict(person),
            "message": commit.message,
            "tree": {"sha": tree, "url": f"{api}/git/trees/{tree}"},
            "url": f"{api}/git/commits/{commit.sha}",
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "url": f"{api}/commits/{commit.sha}",
        "html_url": f"https://github.com/{repo.full_name}/commit/{commit.sha}",
        "comments_url": f"{api}/commits/{commit.sha}/comments",
        "author": author,
        "committer": dict(author),
        "parents": [],
    }


def content_payload(
    base: str, repo: Repo, path: str, ref: str, content: str | None, tree: dict[str, str]
) -> dict[str, Any]:
    """A file (with `content`) or a directory entry (content None) of the contents API;
    `sha` is the git id of the file's blob or of the directory's tree (from `tree`, the
    ref's files)."""
    api = f"{base}/repos/{repo.full_name}"
    name = path.rsplit("/", 1)[-1]
    if content is not None:
        sha = blob_sha(content)
    else:
        prefix = f"{path}/"
        sha = tree_sha({p[len(prefix) :]: c for p, c in tree.items() if p.startswith(prefix)})
    kind = "file" if content is not None else "dir"
    git = f"{api}/git/{'blobs' if kind == 'file' else 'trees'}/{sha}"
    html = (
        f"https://github.com/{repo.full_name}/{'blob' if kind == 'file' else 'tree'}/{ref}/{path}"
    )
    url = f"{api}/contents/{path}?ref={ref}"
    payload: dict[str, Any] = {
        "name": name,
        "path": path,
        "sha": sha,
        "size": len(content.encode()) if content is not None else 0,
        "url": url,
        "html_url": html,
        "git_url": git,
        "download_url": (
            f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{path}"
            if kind == "file"
            else None
        ),
        "type": kind,
    }
    if content is not None:
        payload["content"] = base64.encodebytes(content.encode()).decode()
        payload["encoding"] = "base64"
    payload["_links"] = {"self": url, "git": git, "html": html}
    return payload


def label_payload(base: str, repo: Repo, label: Label) -> dict[str, Any]:
    return {
        "id": label.id,
        "node_id": "LA_" + fake_sha("label", repo.id, label.name)[:16],
        "url": f"{base}/repos/{repo.full_name}/labels/{quote(label.name)}",
        "name": label.name,
        "color": label.color,
        "default": label.default,
        "description": label.description,
    }


def issue_payload(
    base: str,
    repo: Repo,
    issue: Issue,
    user: Owner,
    closed_by: Owner | None = None,
    labels: list[Label] | None = None,
) -> dict[str, Any]:
    """An issue, or a pull request seen as an issue (with its `pull_request` key)."""
    api = f"{base}/repos/{repo.full_name}"
    kind = "pull" if issue.is_pull else "issues"
    updated = issue.updated_at or issue.closed_at or issue.created_at
    payload: dict[str, Any] = {
        "url": f"{api}/issues/{issue.number}",
        "repository_url": api,
        "labels_url": f"{api}/issues/{issue.number}/labels{{/name}}",
        "comments_url": f"{api}/issues/{issue.number}/comments",
        "events_url": f"{api}/issues/{issue.number}/events",
        "html_url": f"https://github.com/{repo.full_name}/{kind}/{issue.number}",
        "id": repo.id * 1000 + issue.number,
        "node_id": "I_" + fake_sha("issue", repo.id, issue.number)[:16],
        "number": issue.number,
        "title": issue.title,
        "user": simple_owner(base, user),
        "labels": [label_payload(base, repo, label) for label in labels or []],
        "state": issue.state,
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": len(issue.comments),
        "created_at": iso(issue.created_at),
        "updated_at": iso(updated),
        "closed_at": iso(issue.closed_at) if issue.closed_at else None,
        "author_association": "OWNER" if user.login == repo.owner else "NONE",
        "active_lock_reason": None,
        "body": issue.body,
        "closed_by": simple_owner(base, closed_by) if closed_by else None,
        "reactions": {
            "url": f"{api}/issues/{issue.number}/reactions",
            "total_count": 0,
            **dict.fromkeys(
                ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0
            ),
        },
        "timeline_url": f"{api}/issues/{issue.number}/timeline",
        "performed_via_github_app": None,
        "state_reason": issue.state_reason
        if issue.state_reason
        else ("completed" if issue.state == "closed" and not issue.is_pull else None),
    }
    if issue.is_pull:
        merged = issue.pull.merged_at if issue.pull else None
        payload["draft"] = bool(issue.pull and issue.pull.draft)
        payload["pull_request"] = {
            "url": f"{api}/pulls/{issue.number}",
            "html_url": payload["html_url"],
            "diff_url": payload["html_url"] + ".diff",
            "patch_url": payload["html_url"] + ".patch",
            "merged_at": iso(merged) if merged else None,
        }
    return payload


def comment_payload(
    base: str, repo: Repo, issue: Issue, comment: Comment, user: Owner
) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    kind = "pull" if issue.is_pull else "issues"
    return {
        "url": f"{api}/issues/comments/{comment.id}",
        "html_url": f"https://github.com/{repo.full_name}/{kind}/{issue.number}"
        f"#issuecomment-{comment.id}",
        "issue_url": f"{api}/issues/{issue.number}",
        "id": comment.id,
        "node_id": "IC_" + fake_sha("comment", comment.id)[:16],
        "user": simple_owner(base, user),
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
        "author_association": "OWNER" if user.login == repo.owner else "NONE",
        "body": comment.body,
        "reactions": {"url": f"{api}/issues/comments/{comment.id}/reactions", "total_count": 0},
        "performed_via_github_app": None,
    }


def account_payload(base: str, owner: Owner, public_repos: int) -> dict[str, Any]:
    """`GET /users/{login}` (either type) and `GET /orgs/{login}` (organisations)."""
    payload = simple_owner(base, owner)
    payload.update(
        {
            "name": owner.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": public_repos,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": iso(owner.created_at),
            "updated_at": iso(owner.created_at),
        }
    )
    if owner.type == "User":
        payload["hireable"] = None
    return payload


def org_payload(base: str, owner: Owner, public_repos: int) -> dict[str, Any]:
    api = f"{base}/orgs/{owner.login}"
    return {
        "login": owner.login,
        "id": owner.id,
        "node_id": simple_owner(base, owner)["node_id"],
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{owner.id}?v=4",
        "description": None,
        "name": owner.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "twitter_username": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": public_repos,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"https://github.com/{owner.login}",
        "created_at": iso(owner.created_at),
        "updated_at": iso(owner.created_at),
        "archived_at": None,
        "type": "Organization",
    }
