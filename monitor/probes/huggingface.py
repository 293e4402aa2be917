"""Hugging Face models, datasets, spaces and owners, through huggingface_hub's `HfApi`.

Each repository is one `*_info` call asking (`expand`) for only the properties
the monitor reads; where many entries share an owner, one
`list_models(author=…, expand=[…])` call serves all of them and only the ones
it does not list (renamed, deleted, private) are asked for one by one. Calls run
a few at a time in threads, as the Hub's 5-minute budget allows.

The answers become outcomes as the Hub means them: a different `id` than the
one asked for is a rename (the Hub answered 307); `RepositoryNotFoundError` is
not-found (after `GatedRepoError`, its subclass, which metadata calls do not
raise anyway); `DisabledRepoError` is blocked; a 429 defers everything not yet
asked to the next run. The endpoint is passed explicitly (huggingface_hub reads
`HF_ENDPOINT` only at import) and the HTTP client has a timeout (its default
has none): `install_client` sets both up and counts the requests.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx2
from huggingface_hub import HfApi, set_client_factory
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
)
from huggingface_hub.utils._http import hf_request_event_hook

from monitor.model import Facts, Kind, Observation, Outcome, Source
from monitor.probes import Figures

TYPES = {Kind.HF_MODEL: "model", Kind.HF_DATASET: "dataset", Kind.HF_SPACE: "space"}
#: what a model's or a dataset's answer must carry (a space has no downloads or gating)
_REPO_EXPAND = [
    "likes",
    "downloads",
    "lastModified",
    "sha",
    "gated",
    "disabled",
    "private",
    "cardData",
    "tags",
    "author",
]
EXPAND = {
    "model": _REPO_EXPAND,
    "dataset": _REPO_EXPAND,
    "space": ["likes", "lastModified", "sha", "disabled", "private", "cardData", "tags", "author"],
}


class RequestCounter:
    """Counts the HTTP requests huggingface_hub makes (an httpx2 event hook)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self, request: httpx2.Request) -> None:
        with self._lock:
            self.count += 1


def install_client(timeout: float) -> RequestCounter:
    """Give huggingface_hub an HTTP client with a timeout, counting its requests."""
    counter = RequestCounter()

    def factory() -> httpx2.Client:
        return httpx2.Client(
            event_hooks={"request": [hf_request_event_hook, counter]},
            follow_redirects=True,
            timeout=timeout,
        )

    set_client_factory(factory)
    return counter


def repo_id(source: Source) -> str:
    """The Hub id of a source URL: "owner/name" (or a legacy bare name)."""
    parts = [unquote(p) for p in urlsplit(source.url).path.split("/") if p]
    if source.kind in (Kind.HF_DATASET, Kind.HF_SPACE):
        parts = parts[1:]
    return "/".join(parts[:2])


class HuggingFaceProbe:
    """Checks `hf_model`, `hf_dataset`, `hf_space` and `hf_owner` sources."""

    service = "hf"

    def __init__(
        self,
        api: HfApi,
        *,
        token: str | None,
        counter: Callable[[], int],
        workers: int = 4,
        list_threshold: int = 5,
        endpoint_host: str | None = None,
    ) -> None:
        self.api = api
        # False stops huggingface_hub from sending a token saved on this machine.
        self.token: str | bool = token or False
        self.counter = counter
        self.workers = workers
        self.list_threshold = list_threshold
        self.host = endpoint_host or urlsplit(api.endpoint).netloc or "huggingface.co"
        self._figures = Figures()
        self._start = counter()
        self._spent = threading.Event()

    def figures(self) -> Figures:
        self._figures.requests = self.counter() - self._start
        self._figures.points = self._figures.requests
        return self._figures

    def observe(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        wanted = [s for s in sources if s.kind in TYPES or s.kind is Kind.HF_OWNER]
        singles: list[Source] = []
        crowds: dict[tuple[str, str], list[Source]] = defaultdict(list)
        for source in wanted:
            if source.kind in TYPES and "/" in repo_id(source):
                crowds[(TYPES[source.kind], repo_id(source).split("/")[0].lower())].append(source)
            else:
                singles.append(source)
        listed: list[tuple[str, str, list[Source]]] = []
        for (kind, owner), group in crowds.items():
            if len(group) >= self.list_threshold:
                listed.append((kind, owner, group))
            else:
                singles.extend(group)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="hf") as pool:
            pending: set[Future[list[Observation]]] = set()
            for kind, owner, group in listed:
                pending.add(pool.submit(self._list, kind, owner, group, now))
            for source in singles:
                pending.add(pool.submit(self._single, source, now))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    for observation in future.result():
                        if observation.outcome is Outcome.DEFERRED:
                            self._figures.deferred += 1
                        yield observation

    # --- one repository or owner -------------------------------------------------------------

    def _one(self, source: Source, now: datetime) -> Observation:
        if self._spent.is_set():
            return Observation(source.key, now, Outcome.DEFERRED, host=self.host)
        try:
            if source.kind is Kind.HF_OWNER:
                return self._owner(source, now)
            kind = TYPES[source.kind]
            info = self._info(kind)(repo_id(source), expand=EXPAND[kind], token=self.token)
            return Observation(
                source.key, now, Outcome.OK, _facts(kind, info), http_status=200, host=self.host
            )
        except Exception as exc:  # every remote failure becomes an observation
            return self._failure(source, now, exc)

    def _single(self, source: Source, now: datetime) -> list[Observation]:
        return [self._one(source, now)]

    def _info(self, kind: str) -> Callable[..., Any]:
        calls: dict[str, Callable[..., Any]] = {
            "model": self.api.model_info,
            "dataset": self.api.dataset_info,
            "space": self.api.space_info,
        }
        return calls[kind]

    def _owner(self, source: Source, now: datetime) -> Observation:
        name = repo_id(source).split("/")[0]
        guess = source.last.owner_type if source.last and source.last.owner_type else "org"
        order = ["org", "user"] if guess == "org" else ["user", "org"]
        for kind in order:
            try:
                if kind == "org":
                    self.api.get_organization_overview(name, token=self.token)
                else:
                    self.api.get_user_overview(name, token=self.token)
            except HfHubHTTPError as exc:
                if exc.response is not None and exc.response.status_code == 404:
                    continue
                raise
            return Observation(
                source.key,
                now,
                Outcome.OK,
                Facts(name=name, url=f"https://huggingface.co/{name}", owner_type=kind),
                http_status=200,
                host=self.host,
            )
        return Observation(
            source.key,
            now,
            Outcome.NOT_FOUND,
            http_status=404,
            error="no such user or organisation",
            host=self.host,
        )

    def _list(self, kind: str, owner: str, group: list[Source], now: datetime) -> list[Observation]:
        """One paged listing of an owner's repositories serves every entry it contains."""
        if self._spent.is_set():
            return [Observation(s.key, now, Outcome.DEFERRED, host=self.host) for s in group]
        listers: dict[str, Callable[..., Any]] = {
            "model": self.api.list_models,
            "dataset": self.api.list_datasets,
            "space": self.api.list_spaces,
        }
        lister = listers[kind]
        try:
            found = {
                info.id.lower(): info
                for info in lister(author=owner, expand=EXPAND[kind], token=self.token)
            }
        except Exception:  # a listing that fails costs nothing: ask one by one
            return [self._one(s, now) for s in group]
        observations = []
        for source in group:
            info = found.get(repo_id(source).lower())
            if info is None:
                observations.append(self._one(source, now))
            else:
                observations.append(
                    Observation(
                        source.key,
                        now,
                        Outcome.OK,
                        _facts(kind, info),
                        http_status=200,
                        host=self.host,
                    )
                )
        return observations

    def _failure(self, source: Source, now: datetime, exc: Exception) -> Observation:
        status = None
        response = getattr(exc, "response", None)
        if response is not None:
            status = response.status_code
        message = f"{type(exc).__name__}: {exc}".split("\n")[0][:300]
        if isinstance(exc, GatedRepoError):
            # Metadata of gated repos is public; a gated error here says the repo exists.
            return Observation(
                source.key,
                now,
                Outcome.OK,
                Facts(gated="manual"),
                http_status=status,
                host=self.host,
            )
        if isinstance(exc, RepositoryNotFoundError):
            return Observation(
                source.key,
                now,
                Outcome.NOT_FOUND,
                http_status=status,
                error="repository not found",
                host=self.host,
            )
        if isinstance(exc, DisabledRepoError):
            return Observation(
                source.key,
                now,
                Outcome.BLOCKED,
                http_status=status,
                error="disabled by the Hub",
                host=self.host,
            )
        if status == 429:
            self._spent.set()
            return Observation(source.key, now, Outcome.DEFERRED, http_status=429, host=self.host)
        if isinstance(exc, httpx2.ConnectError):
            return Observation(source.key, now, Outcome.NETWORK, error=message, host=self.host)
        if status == 404 and source.kind is Kind.HF_OWNER:
            return Observation(source.key, now, Outcome.NOT_FOUND, http_status=404, host=self.host)
        if isinstance(exc, HfHubHTTPError | httpx2.HTTPError):
            return Observation(
                source.key,
                now,
                Outcome.TRANSIENT,
                http_status=status,
                error=message,
                host=self.host,
            )
        raise exc


def _licence(info: Any) -> str:
    card = getattr(info, "card_data", None)
    licence = getattr(card, "license", None) if card is not None else None
    if isinstance(licence, list):
        licence = licence[0] if licence else None
    if not licence:
        for tag in getattr(info, "tags", None) or []:
            if tag.startswith("license:"):
                licence = tag.removeprefix("license:")
                break
    return str(licence) if licence else "NONE"


def _facts(kind: str, info: Any) -> Facts:
    prefix = "" if kind == "model" else f"{kind}s/"
    modified = getattr(info, "last_modified", None)
    gated = getattr(info, "gated", None)
    return Facts(
        remote_id=getattr(info, "_id", None),
        name=info.id,
        url=f"https://huggingface.co/{prefix}{info.id}",
        stars=getattr(info, "likes", None),
        downloads=getattr(info, "downloads", None),
        last_commit=modified.astimezone(UTC) if isinstance(modified, datetime) else None,
        license=_licence(info),
        gated=None if gated is None else str(gated).lower(),
        disabled=getattr(info, "disabled", None),
        private=getattr(info, "private", None),
        sha=getattr(info, "sha", None),
    )
