"""What a URL points at: its kind, its canonical form, and its identity.

`identify(url)` is the one place that knows the URL shapes of GitHub, the
Hugging Face Hub and arXiv. It answers three questions:

- **kind**: which probe checks it (`github_repo`, `hf_model`, `arxiv`, `web`, …);
- **url**: the canonical URL to keep in the catalog (`https://`, no `www.`, no
  trailing slash, no `#fragment` on repository links, `hf.co` spelled out);
- **key**: the identity used to find duplicates. Two URLs with the same key are
  the same resource: `http://www.github.com/Owner/Repo/` and
  `https://github.com/owner/repo#readme` are one repository (GitHub names are
  case-insensitive), `arxiv.org/pdf/2106.09685v2.pdf` and `arxiv.org/abs/2106.09685`
  are one paper.

A URL that is a sub-page of a resource (a pull request's files, a
repository's releases or wiki, an organisation's discussions) is `web`: it
never collapses into the repository, issue or owner it belongs to. Files and
folders inside a repository are paths (`github_path`, `hf_path`), which follow
their repository.

It never raises for a URL that merely looks wrong (an impossible GitHub owner
name, say): it classifies it anyway and lists what looks wrong in `problems`,
because a catalog must keep what the document really links to.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from monitor.model import Kind

GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})
HF_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co", "www.hf.co"})
ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})

#: First path segments on github.com that are site pages, not users or organisations.
GITHUB_RESERVED = frozenset(
    """about account apps blog codespaces collections contact copilot customer-stories dashboard
    enterprise enterprises events explore features git-guides github-copilot home issues join
    login logout marketplace mobile models new notifications open-source organizations pricing
    pulls readme resources search security sessions settings signup site sitemap solutions
    sponsors stars team topics trending users watching why-github premium-support
    password_reset""".split()
)

#: First path segments on huggingface.co that are site pages, not users or organisations.
HF_RESERVED = frozenset(
    """about academia api autotrain billing blog brand careers changelog chat code-of-conduct
    collections contact content-guidelines cookbook course datasets docs enterprise
    expert-support hardware hub huggingchat inference inference-api inference-endpoints join
    jobs languages leaderboards learn login logout mcp metrics models new new-collection
    new-dataset new-model new-space notifications oauth organizations papers password posts
    pricing privacy pro search security settings spaces sql-console storage subscribe support
    tasks terms-of-service transformers welcome""".split()
)

#: The sections of a Hub repository's URL that name a file or folder at a revision.
HF_PATH_SECTIONS = frozenset({"blob", "tree", "resolve", "raw"})

_GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_GITHUB_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
_HF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_ARXIV_ID = re.compile(
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Za-z]{2})?/\d{7})(?P<version>v\d+)?",
)
_TRACKING_PARAM = re.compile(r"utm_[a-z_]+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Resource:
    """A URL understood: what kind of thing it is and how to name it."""

    kind: Kind
    url: str
    key: str
    label: str
    problems: tuple[str, ...] = ()


class NotAWebURL(ValueError):
    """The text is not an absolute http(s) URL with a host."""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def identify(url: str) -> Resource:
    """Classify `url` and give its canonical form and identity. Raises `NotAWebURL` only."""
    text = url.strip()
    problems: list[str] = []
    if re.search(r"\s", text):
        problems.append("the URL contains a space, so it cannot lead where the text intends")
        text = re.sub(r"\s", lambda m: quote(m[0]), text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise NotAWebURL(f"{url!r} cannot be parsed as a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise NotAWebURL(f"{url!r} is not an http or https URL")
    host = (parts.hostname or "").rstrip(".")
    if not host or ("." not in host and host != "localhost" and not _is_ip(host)):
        raise NotAWebURL(f"{url!r} has no usable host name")
    segments = [unquote(s) for s in parts.path.split("/") if s]

    if host in GITHUB_HOSTS and port is None:
        found = _github(segments, problems)
    elif host in HF_HOSTS and port is None:
        found = _huggingface(segments, problems)
    elif host in ARXIV_HOSTS and port is None:
        found = _arxiv(segments)
    else:
        found = None
    if found is not None:
        return found
    return _web(scheme, host, port, parts.path, parts.query, parts.fragment, problems)


def _github(segments: list[str], problems: list[str]) -> Resource | None:
    if not segments or segments[0].lower() in GITHUB_RESERVED:
        return None
    if segments[0].lower() == "orgs":
        # `orgs/x` is the organisation; `orgs/x/discussions`, `orgs/x/projects/3`… are pages.
        if len(segments) != 2:
            return None
        segments = segments[1:]
    owner = segments[0]
    if not _GITHUB_LOGIN.fullmatch(owner):
        problems.append(f"{owner!r} cannot be a GitHub user or organisation name")
    if len(segments) == 1:
        return Resource(
            Kind.GITHUB_OWNER,
            f"https://github.com/{_segment(owner)}",
            f"github:{owner.lower()}",
            owner,
            tuple(problems),
        )
    repo = segments[1].removesuffix(".git")
    if not _GITHUB_REPO.fullmatch(repo) or repo in (".", ".."):
        problems.append(f"{repo!r} cannot be a GitHub repository name")
    slug = f"{owner}/{repo}"
    key = f"github:{slug.lower()}"
    base = f"https://github.com/{_segment(owner)}/{_segment(repo)}"
    if len(segments) == 2:
        return Resource(Kind.GITHUB_REPO, base, key, slug, tuple(problems))
    section = segments[2]
    if section in ("tree", "blob") and len(segments) >= 4:
        rest = "/".join(segments[3:])
        url = f"{base}/{section}/{quote(rest, safe='/')}"
        return Resource(
            Kind.GITHUB_PATH, url, f"{key}/tree/{rest}", f"{slug}/{rest}", tuple(problems)
        )
    # An issue or pull request itself; its tabs (`pull/73/files`, `/commits`) are pages.
    if section in ("issues", "pull", "pulls") and len(segments) == 4 and segments[3].isdigit():
        number = int(segments[3])
        section = "pull" if section == "pulls" else section
        return Resource(
            Kind.GITHUB_ISSUE,
            f"{base}/{section}/{number}",
            f"{key}#{number}",
            f"{slug}#{number}",
            tuple(problems),
        )
    return None


def _huggingface(segments: list[str], problems: list[str]) -> Resource | None:
    if not segments:
        return None
    head = segments[0]
    if head in ("datasets", "spaces"):
        kind = Kind.HF_DATASET if head == "datasets" else Kind.HF_SPACE
        rest = segments[1:]
        # Canonical datasets from before namespaces (`datasets/squad`) have no owner.
        legacy = kind is Kind.HF_DATASET
        path = _hf_path(head, rest, problems, legacy=legacy)
        if path is not None:
            return path
        if (len(rest) == 1 and legacy) or len(rest) == 2:
            repo_id = "/".join(rest)
            _check_hf_id(rest, problems)
            url = f"https://huggingface.co/{head}/{_segment(repo_id)}"
            return Resource(kind, url, f"hf:{head}/{repo_id.lower()}", repo_id, tuple(problems))
        return None
    if head.lower() in HF_RESERVED:
        return None
    path = _hf_path("models", segments, problems, legacy=True)
    if path is not None:
        return path
    if len(segments) == 1:
        # An owner, or one of the Hub's old un-namespaced models (`gpt2`): the URL
        # cannot tell; the probe settles it at the first check.
        _check_hf_id(segments, problems)
        return Resource(
            Kind.HF_OWNER,
            f"https://huggingface.co/{_segment(head)}",
            f"hf:{head.lower()}",
            head,
            tuple(problems),
        )
    if len(segments) == 2:
        repo_id = "/".join(segments)
        _check_hf_id(segments, problems)
        return Resource(
            Kind.HF_MODEL,
            f"https://huggingface.co/{_segment(repo_id)}",
            f"hf:models/{repo_id.lower()}",
            repo_id,
            tuple(problems),
        )
    return None


def _hf_path(area: str, rest: list[str], problems: list[str], *, legacy: bool) -> Resource | None:
    """`<repo>/blob|tree|resolve|raw/<rev>/<path>` inside a model, dataset or space.

    `area` is `models`, `datasets` or `spaces`; `rest` the segments after it. A
    `legacy` area also has un-namespaced repositories (`gpt2/blob/main/config.json`).
    """
    if len(rest) >= 4 and rest[2] in HF_PATH_SECTIONS:
        repo, section, revision, path = rest[:2], rest[2], rest[3], rest[4:]
    elif legacy and len(rest) >= 3 and rest[1] in HF_PATH_SECTIONS:
        repo, section, revision, path = rest[:1], rest[1], rest[2], rest[3:]
    else:
        return None
    _check_hf_id(repo, problems)
    repo_id = "/".join(repo)
    inside = "/".join(path)
    prefix = "" if area == "models" else f"{area}/"
    url = f"https://huggingface.co/{prefix}{_segment(repo_id)}/{section}/"
    url += quote(revision, safe="") + (f"/{quote(inside, safe='/')}" if inside else "")
    key = f"hf:path:{area}/{repo_id.lower()}/{revision}" + (f"/{inside}" if inside else "")
    label = f"{repo_id}/{inside}" if inside else f"{repo_id}@{revision}"
    return Resource(Kind.HF_PATH, url, key, label, tuple(problems))


def _segment(text: str) -> str:
    """Percent-encode a path segment (or `owner/name`) for a canonical URL."""
    return quote(text, safe="/")


def _check_hf_id(parts: list[str], problems: list[str]) -> None:
    for part in parts:
        if not _HF_NAME.fullmatch(part) or "--" in part or ".." in part:
            problems.append(f"{part!r} cannot be part of a Hugging Face repository id")


def _arxiv(segments: list[str]) -> Resource | None:
    if len(segments) < 2 or segments[0] not in ("abs", "pdf", "html", "format"):
        return None
    text = "/".join(segments[1:]).removesuffix(".pdf")
    match = _ARXIV_ID.fullmatch(text)
    if not match:
        return None
    paper, version = match["id"], match["version"] or ""
    return Resource(
        Kind.ARXIV,
        f"https://arxiv.org/abs/{paper}{version}",
        f"arxiv:{paper}",
        f"arXiv:{paper}{version}",
    )


def _web(
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    query: str,
    fragment: str,
    problems: list[str],
) -> Resource:
    default_port = {"http": 80, "https": 443}[scheme]
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    # Tracking parameters are dropped; the rest of the query is kept exactly as written.
    clean_query = "&".join(
        pair
        for pair in query.split("&")
        if pair and not _TRACKING_PARAM.fullmatch(unquote(pair.split("=", 1)[0]))
    )
    # Fragments name a place on a page, except in single-page apps (`#/route`, `#!route`).
    route = fragment if fragment.startswith(("/", "!")) else ""
    url = f"{scheme}://{netloc}{path or '/'}"
    url += f"?{clean_query}" if clean_query else ""
    url += f"#{route}" if route else ""
    bare_host = host.removeprefix("www.")
    key_path = unquote(path).rstrip("/") or "/"
    key = f"web:{bare_host}{'' if netloc == host else ':' + str(port)}{key_path}"
    key += f"?{clean_query}" if clean_query else ""
    key += f"#{route}" if route else ""
    label = f"{bare_host}{key_path if key_path != '/' else ''}"
    return Resource(Kind.WEB, url, key, label, tuple(problems))
