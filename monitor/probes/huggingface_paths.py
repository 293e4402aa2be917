"""Paths inside Hub repositories (`hf_path`): is the file or folder a link points at still there?

A link is `https://huggingface.co/[datasets/|spaces/]<owner>/<name>/<section>/<revision>/<path>`
with `<section>` one of blob, tree, resolve or raw (a legacy model or dataset has no owner:
`huggingface.co/gpt2/blob/main/config.json`); `parse` reads it.

Asked the way huggingface_hub's `HfApi.get_paths_info` asks: one
`POST /api/{type}s/{repo_id}/paths-info/{revision}` with the form
`paths=a&paths=b&expand=false` for every path of one repository at one revision (`CHUNK` at
most in one request: the Hub refuses a thousand with 413). The answer is a list of
`RepoFile`/`RepoFolder` dicts for the paths that exist, and leaves out, silently, those that
do not. So:

- a path the answer leaves out is gone: NOT_FOUND (`dead` once the policy confirms it);
- every path of a repository the Hub says does not exist (RepoNotFound, as the repository
  probe reads it) is NOT_FOUND, and so is every path at a revision that does not resolve
  (404 `X-Error-Code: RevisionNotFound`);
- a repository renamed answers 307 to its new id; the request follows it, body and all, and
  each of its paths is OK with `Facts(name=<new id>, url=<the link in its new home>)`, so the
  policy reports the move (`redirected`, then `renamed` once a name it knew changes), as for
  a `github_path` in a moved repository;
- a link to the root of a revision (`/tree/main`), when its repository has no other path to
  ask about, asks `GET /api/{type}s/{id}/revision/{revision}?expand=sha` instead;
- anything else (a 5xx, a timeout, HTML or JSON of the wrong shape where the list should
  be) is transient for every path the request asked about (`huggingface_http`).

A request's outcome counts once towards the run's "is the Hub broken" streak, however many
paths it asked about.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx2
import huggingface_hub as hub
from huggingface_hub import errors
from huggingface_hub.utils._validators import validate_repo_id

from monitor.model import Facts, Observation, Outcome, Source
from monitor.probes.huggingface_http import HubClient, Run, Verdict, read_json, unreadable

MARKERS = frozenset({"blob", "tree", "resolve", "raw"})
#: paths in one paths-info request (huggingface_hub's own batch: the Hub refuses 1,000)
CHUNK = 500
_PREFIXES = {"datasets": "dataset", "spaces": "space"}
#: the repository id in the URL that finally answered (after a rename's 307)
_ANSWERED = re.compile(r"/api/(?:models|datasets|spaces)/(?P<id>.+?)/(?:paths-info|revision)/")

Refused = Callable[[Run, httpx2.Response], Verdict]


@dataclass(frozen=True, slots=True)
class HubPath:
    """What an `hf_path` link names."""

    type: str  # "model", "dataset" or "space"
    repo_id: str
    revision: str
    path: str  # "" for the root of the revision
    #: the link's path after the repository id, as written, with its query and fragment:
    #: "/blob/main/config.json#L3"
    tail: str

    @property
    def group(self) -> tuple[str, str, str]:
        """Paths that one request can answer: one repository at one revision."""
        return self.type, self.repo_id.lower(), self.revision

    def url_in(self, repo_id: str) -> str:
        """This link, in the repository `repo_id` (its new home)."""
        prefix = "" if self.type == "model" else f"{self.type}s/"
        return f"https://huggingface.co/{prefix}{quote(repo_id, safe='/')}{self.tail}"


def parse(url: str) -> HubPath | None:
    """The repository, revision and path of a Hub link; None if it names none."""
    parts = urlsplit(url)
    raw = [segment for segment in parts.path.split("/") if segment]
    kind = "model"
    if raw and raw[0] in _PREFIXES:
        kind, raw = _PREFIXES[raw[0]], raw[1:]
    if len(raw) >= 4 and raw[2] in MARKERS:
        at = 2
    elif len(raw) >= 3 and raw[1] in MARKERS:
        at = 1  # a legacy id without an owner: gpt2, bert-base-uncased
    else:
        return None
    tail = "/" + "/".join(raw[at:])
    tail += f"?{parts.query}" if parts.query else ""
    tail += f"#{parts.fragment}" if parts.fragment else ""
    return HubPath(
        type=kind,
        repo_id="/".join(unquote(s) for s in raw[:at]),
        revision=unquote(raw[at + 1]),
        path="/".join(unquote(s) for s in raw[at + 2 :]),
        tail=tail,
    )


def group_key(source: Source) -> tuple[str, str, str] | None:
    """The group a source is asked in (None: a link that names no path, asked alone)."""
    found = parse(source.url)
    return found.group if found is not None else None


class PathChecker:
    """Checks the `hf_path` sources of one repository at one revision."""

    def __init__(self, client: HubClient, host: str, refused: Refused) -> None:
        self.hub = client
        self.host = host
        #: how the repository probe reads a 3xx/4xx answer (RepoNotFound, disabled, …)
        self.refused = refused

    def check(self, run: Run, sources: Sequence[Source]) -> Iterator[Observation]:
        """One observation per source, as each request is answered."""
        named: list[tuple[Source, HubPath]] = []
        for source in sources:
            found = parse(source.url)
            if found is None:
                error = "not a file or folder link inside a Hub repository"
                yield self._observation(source, run.now, Verdict(Outcome.NOT_FOUND, error))
                run.judged(Outcome.NOT_FOUND)
            else:
                named.append((source, found))
        if not named:
            return
        first = named[0][1]
        try:
            validate_repo_id(first.repo_id)
        except errors.HFValidationError as exc:
            error = f"not a valid Hub id: {exc}".splitlines()[0][:300]
            verdict = Verdict(Outcome.NOT_FOUND, error)
            run.judged(Outcome.NOT_FOUND)
            yield from (self._observation(s, run.now, verdict) for s, _ in named)
            return
        paths = sorted({p.path for _, p in named if p.path})
        chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)] or [[]]
        for number, chunk in enumerate(chunks):
            asked = set(chunk)
            members = [(s, p) for s, p in named if p.path in asked or (not p.path and number == 0)]
            try:
                there, answered_id = self._ask(run, first, chunk)
            except Verdict as verdict:
                if verdict.unasked:
                    for _ in members:
                        run.judged(verdict.outcome, unasked=True)
                else:
                    run.judged(verdict.outcome)
                yield from (self._observation(s, run.now, verdict) for s, _ in members)
                continue
            run.judged(Outcome.OK)
            moved = answered_id.lower() != first.repo_id.lower()
            for source, path in members:
                if path.path and path.path not in there:
                    error = f"no such file or folder at {path.revision} in {answered_id}"
                    missing = Verdict(Outcome.NOT_FOUND, error[:300], 200)
                    yield self._observation(source, run.now, missing)
                    continue
                facts = Facts(name=answered_id, url=path.url_in(answered_id) if moved else None)
                yield Observation(source.key, run.now, Outcome.OK, facts, 200, host=self.host)

    def _ask(self, run: Run, where: HubPath, paths: list[str]) -> tuple[set[str], str]:
        """The paths among `paths` that exist, and the id of the repository that answered."""
        base = f"{self.hub.endpoint}/api/{where.type}s/{where.repo_id}"
        revision = quote(where.revision, safe="")
        if paths:
            form = {"paths": paths, "expand": False}
            response = self.hub.post(run, f"{base}/paths-info/{revision}", form)
        else:
            url = f"{base}/revision/{revision}"
            response = self.hub.get(run, url, [("expand", "sha")])
        if not response.is_success:
            raise self.refused(run, response)
        if paths:
            there = {_entry_path(item) for item in read_json(response, list)}
        else:
            read_json(response, dict)  # a portal's page is not the revision
            there = set()
        return there, _answered_id(response, where.repo_id)

    def _observation(self, source: Source, now: datetime, verdict: Verdict) -> Observation:
        return Observation(
            source.key,
            now,
            verdict.outcome,
            verdict.facts,
            verdict.status,
            verdict.error,
            host=self.host,
        )


def _entry_path(item: Any) -> str:
    """The path of one paths-info entry, read as huggingface_hub reads it."""
    if not isinstance(item, dict) or item.get("type") not in ("file", "directory"):
        raise unreadable("a paths-info entry that is neither a file nor a folder")
    read: Callable[..., Any] = hub.RepoFile if item["type"] == "file" else hub.RepoFolder
    try:
        built = read(**item)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise unreadable(f"a paths-info entry that does not read ({type(exc).__name__})") from None
    if not isinstance(built.path, str):
        raise unreadable("a paths-info entry whose path is not a string")
    return built.path


def _answered_id(response: httpx2.Response, asked: str) -> str:
    """The repository id in the URL that answered: the new one after a rename's 307."""
    match = _ANSWERED.search(response.url.path)
    return unquote(match["id"]) if match else asked
