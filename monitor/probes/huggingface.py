"""Hugging Face models, datasets, spaces, owners and paths, checked through the Hub's API.

Owns what to ask the Hub for each source, and what each answer means as an `Observation`;
how a request is made, timed, retried and given up on is `huggingface_http`'s.

Each repository is one `GET /api/{models,datasets,spaces}/{id}` asking (`expand`) only for
what monitor reads; an owner with `list_threshold` entries or more of one type (2 by
default: `LIST_THRESHOLD`) is served by its paged listing (`/api/models?author=…&expand=…`,
the only way the Hub lists many repositories at once: it has no filter by a list of ids).
A listing reads no more pages than it pays to: it stops once at most one of the owner's
entries is still missing, and after as many pages as it has entries (`_listing`). What
it did not list (renamed, deleted, private, on a page not read), or all of it if the
listing fails, is asked one by one. Owners are
`/api/{organizations,users}/{name}/overview`; a one-segment URL whose overviews both say
"no such owner" may be one of the Hub's legacy models (`huggingface.co/gpt2`, which
`/api/models/gpt2` answers with a 307 to `openai-community/gpt2`), so the model endpoint is
asked too: OK with the model's facts, `Facts.resolved_kind = "hf_model"` and its namespaced
name and URL (the policy reports `renamed`), and asked first on the next check. Only when
all three say not-found is it NOT_FOUND. Paths (`hf_path`) are grouped by repository and
revision, one paths-info request per group (`huggingface_paths`).

Answers become `ModelInfo`, `DatasetInfo` and `SpaceInfo` (and `RepoFile`/`RepoFolder`)
as huggingface_hub builds them, and errors are read by its
`hf_raise_for_status`; `HfApi`'s methods themselves are not called, because `model_info`
sends `timeout=None` (no timeout at all) and the listings go through `http_backoff`.

What answers mean: a different `id` than the one asked for is a rename (the Hub answered
307). RepoNotFound (404, or the anonymous 401) is not-found only when the Hub itself says so
(its `X-Error-Code`, or its JSON: never a proxy's page); a gated error says the repository
exists (metadata calls do not raise it anyway; `GatedRepoError` is a subclass of
`RepositoryNotFoundError`, so it is caught first); `DisabledRepoError` is blocked. An id
the Hub cannot hold (`validate_repo_id` refuses it) is not-found without a request. For
paths, RevisionNotFound and EntryNotFound (the Hub's own `X-Error-Code`) are not-found.
Everything else is transient, never not-found (see `huggingface_http`).

`workers` daemon threads take tasks from a queue. Closing the generator sets a stop flag,
checked before every request, that also ends any pause between retries: no further request
is made, and nothing is left for the interpreter to wait for at exit; a request already in
flight ends at its timeout. A bug in a worker is raised again by the generator, for the
runner to isolate.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx2
import huggingface_hub as hub
from huggingface_hub import errors
from huggingface_hub.utils._headers import build_hf_headers
from huggingface_hub.utils._http import hf_request_event_hook
from huggingface_hub.utils._validators import validate_repo_id

from monitor.model import Facts, Kind, Observation, Outcome, Source
from monitor.probes import Figures
from monitor.probes.huggingface_http import (
    HubClient,
    Params,
    Run,
    Stopped,
    Verdict,
    is_json,
    read_json,
    unreadable,
)
from monitor.probes.huggingface_paths import PathChecker, group_key

TYPES = {Kind.HF_MODEL: "model", Kind.HF_DATASET: "dataset", Kind.HF_SPACE: "space"}
#: what a model's or a dataset's answer must carry (a space has no downloads or gating)
_REPO_EXPAND = "likes downloads lastModified sha gated disabled private cardData tags author"
EXPAND = {
    "model": _REPO_EXPAND.split(),
    "dataset": _REPO_EXPAND.split(),
    "space": "likes lastModified sha disabled private cardData tags author".split(),
}
#: an owner with more than 100 pages of 1,000 repositories is a loop, not an owner
MAX_PAGES = 100
#: An owner with this many entries of one type (distinct ids) is read from its listing
#: instead of entry by entry (the Hub has no filter by a list of ids). Hub requests per full
#: poll of the Zipf catalogs of bench/catalogs.py at 1,000 / 10,000 / 100,000 sources
#: (200 / 2,000 / 20,000 Hub entries; bench/hub_requests.py), every entry observed OK:
#:     2: 51 / 445 / 3,870     3: 66 / 534 / 4,640     4: 82 / 606 / 5,374
#:     5 (the default before): 97 / 690 / 5,905     one by one: 200 / 2,000 / 20,000
#: 2 is the fewest: one request per (owner, type), but for the second page of the largest
#: owner (1,675 models). The wager: a real owner may hold pages of other repositories (the
#: emulator's page holds 1,000; the Hub's page size is unverified), and if they are listed
#: before the catalog's, a listing reads them for nothing; `_listing` caps that at twice
#: the cost of asking one by one. In that worst case (1,000 sources, every owner with two
#: or more entries holding 1 / 3 / 10 pages of others listed first) 2 costs 89 / 181 / 285
#: requests, and 5 without the cap (before) 107 / 127 / 197.
LIST_THRESHOLD = 2
BAD_TOKEN = "Invalid credentials in Authorization header"


class RequestCounter:
    """Counts the HTTP requests huggingface_hub's client makes (an httpx2 event hook)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self, request: httpx2.Request) -> None:
        with self._lock:
            self.count += 1


def install_client(timeout: float) -> RequestCounter:
    """Give huggingface_hub an HTTP client with a timeout, counting its requests.

    The probe passes its own timeout on every request and reads each answer against a
    deadline; this timeout covers anything else in the process that uses huggingface_hub
    (its default client has none)."""
    counter = RequestCounter()

    def factory() -> httpx2.Client:
        return httpx2.Client(
            event_hooks={"request": [hf_request_event_hook, counter]},
            follow_redirects=True,
            timeout=timeout,
        )

    hub.set_client_factory(factory)
    return counter


def repo_id(source: Source) -> str:
    """The Hub id of a source URL: "owner/name" (or a legacy bare name)."""
    parts = [unquote(p) for p in urlsplit(source.url).path.split("/") if p]
    if source.kind in (Kind.HF_DATASET, Kind.HF_SPACE):
        parts = parts[1:]
    return "/".join(parts[:2])


@dataclass(frozen=True)
class _Task:
    """Sources one worker checks together: one listing of (type, owner), the paths of one
    repository at one revision, or one source."""

    sources: list[Source]
    listing: tuple[str, str] | None = None
    paths: bool = False


_DONE = object()  # a worker finished a task


class HuggingFaceProbe:
    """Checks `hf_model`, `hf_dataset`, `hf_space`, `hf_owner` and `hf_path` sources."""

    service = "hf"

    def __init__(
        self,
        api: hub.HfApi,
        *,
        token: str | None,
        counter: Callable[[], int],
        workers: int = 4,
        list_threshold: int = LIST_THRESHOLD,
        endpoint_host: str | None = None,
        timeout: float = 20.0,
        backoff: float = 1.0,
    ) -> None:
        self.api = api
        # False stops huggingface_hub from sending a token saved on this machine.
        self.token: str | bool = token or False
        self.counter = counter
        self.workers = max(1, workers)
        self.list_threshold = list_threshold
        self.host = endpoint_host or urlsplit(api.endpoint).netloc or "huggingface.co"
        headers = build_hf_headers(
            token=self.token,
            library_name=api.library_name,
            library_version=api.library_version,
            user_agent=api.user_agent,
            headers=api.headers,
        )
        self.hub = HubClient(api.endpoint, headers, timeout=timeout, backoff=backoff)
        self.endpoint = self.hub.endpoint
        self.paths = PathChecker(self.hub, self.host, self._refused)
        self._start = counter()

    def figures(self) -> Figures:
        with self.hub.lock:
            figures = self.hub.figures
            figures.requests = figures.points = self.counter() - self._start
            return figures

    # --- the run: tasks for daemon workers ---------------------------------------------------

    def observe(
        self, sources: Sequence[Source], now: datetime
    ) -> Generator[Observation, None, None]:
        """One observation per source as answers arrive; closed, no further request."""
        tasks = self._plan(sources)
        run = Run(now)
        work: queue.SimpleQueue[_Task] = queue.SimpleQueue()
        results: queue.SimpleQueue[object] = queue.SimpleQueue()
        for task in tasks:
            work.put(task)
        for number in range(min(self.workers, len(tasks))):
            worker = threading.Thread(
                target=self._work, args=(run, work, results), name=f"hf-probe-{number}"
            )
            worker.daemon = True  # never waited for at exit; a stalled call ends at its timeout
            worker.start()
        try:
            unfinished = len(tasks)
            while unfinished:
                item = results.get()
                if item is _DONE:
                    unfinished -= 1
                elif isinstance(item, BaseException):
                    raise item  # a bug in a worker: the runner isolates it
                elif isinstance(item, Observation):
                    if item.outcome is Outcome.DEFERRED:
                        with self.hub.lock:
                            self.hub.figures.deferred += 1
                    yield item
        finally:
            run.close()  # finished, closed or failed: the workers make no further request
            if (line := run.summary()) is not None:
                self.hub.note(line)

    def _plan(self, sources: Sequence[Source]) -> list[_Task]:
        singles: list[Source] = []
        crowds: dict[tuple[str, str], list[Source]] = defaultdict(list)
        paths: dict[tuple[str, str, str] | str, list[Source]] = defaultdict(list)
        for source in sources:
            if source.kind is Kind.HF_PATH:
                paths[group_key(source) or source.key].append(source)
            elif source.kind in TYPES and "/" in repo_id(source):
                crowds[(TYPES[source.kind], repo_id(source).split("/")[0].lower())].append(source)
            elif source.kind in TYPES or source.kind is Kind.HF_OWNER:
                singles.append(source)
        tasks: list[_Task] = []
        for listing, group in crowds.items():
            if len({repo_id(source).lower() for source in group}) >= self.list_threshold:
                tasks.append(_Task(group, listing))
            else:
                singles.extend(group)
        tasks += [_Task(group, paths=True) for group in paths.values()]
        return tasks + [_Task([source]) for source in singles]

    def _work(
        self, run: Run, work: queue.SimpleQueue[_Task], results: queue.SimpleQueue[object]
    ) -> None:
        while not run.stop.is_set():
            try:
                task = work.get_nowait()
            except queue.Empty:
                return
            try:
                self._do(run, task, results.put)
            except Stopped:
                return
            except BaseException as exc:  # a bug: raised again in the generator's thread
                results.put(exc)
                return
            results.put(_DONE)

    def _do(self, run: Run, task: _Task, emit: Callable[[object], None]) -> None:
        if task.paths:
            for observation in self.paths.check(run, task.sources):
                emit(observation)
            return
        found: dict[str, Any] = {}
        if task.listing is not None:
            # A listing that fails costs only itself: its entries are asked one by one
            # (and see at once a Hub that is spent or down).
            wanted = {repo_id(source).lower() for source in task.sources}
            with contextlib.suppress(Verdict):
                found = self._listing(run, *task.listing, wanted)
        for source in task.sources:
            info = found.get(repo_id(source).lower())
            if info is None:
                emit(self._one(run, source))
            else:
                run.judged(Outcome.OK)
                emit(self._ok(source, run.now, info))

    # --- what each source asks ---------------------------------------------------------------

    def _one(self, run: Run, source: Source) -> Observation:
        try:
            if source.kind is Kind.HF_OWNER:
                observation = self._owner(run, source)
            else:
                observation = self._repo(run, source)
        except Verdict as verdict:
            run.judged(verdict.outcome, unasked=verdict.unasked)
            return Observation(
                source.key,
                run.now,
                verdict.outcome,
                verdict.facts,
                verdict.status,
                verdict.error,
                host=self.host,
            )
        run.judged(observation.outcome)
        return observation

    def _repo(self, run: Run, source: Source) -> Observation:
        kind, name = TYPES[source.kind], repo_id(source)
        try:
            validate_repo_id(name)
        except errors.HFValidationError as exc:
            # The Hub cannot hold such an id (`catalog check` flags it too): nothing to ask.
            error = f"not a valid Hub id: {exc}".splitlines()[0][:300]
            raise Verdict(Outcome.NOT_FOUND, error) from None
        response = self.hub.get(run, f"{self.endpoint}/api/{kind}s/{name}", _expand(kind))
        if not response.is_success:
            raise self._refused(run, response)
        return self._ok(source, run.now, _info(kind, read_json(response, dict)))

    def _owner(self, run: Run, source: Source) -> Observation:
        """An organisation, a user, or one of the Hub's legacy models (`huggingface.co/gpt2`
        cannot tell): asked in that order, or what it was last time first."""
        name = repo_id(source).split("/")[0]
        last = source.last
        order = ["org", "user", "model"]
        if last is not None and last.resolved_kind == Kind.HF_MODEL.value:
            order = ["model", "org", "user"]
        elif last is not None and last.owner_type == "user":
            order = ["user", "org", "model"]
        for kind in order:
            if kind == "model":
                model = self._legacy_model(run, source, name)
                if model is not None:
                    return model
                continue
            segment = "organizations" if kind == "org" else "users"
            url = f"{self.endpoint}/api/{segment}/{quote(name, safe='')}/overview"
            response = self.hub.get(run, url)
            if response.status_code == 404 and is_json(response):
                continue  # the Hub says: not this kind of owner
            if not response.is_success:
                raise self._refused(run, response)
            read_json(response, dict)  # a portal's page is not an owner
            facts = Facts(name=name, url=f"https://huggingface.co/{name}", owner_type=kind)
            return Observation(source.key, run.now, Outcome.OK, facts, 200, host=self.host)
        raise Verdict(Outcome.NOT_FOUND, "no such user, organisation or model", 404)

    def _legacy_model(self, run: Run, source: Source, name: str) -> Observation | None:
        """`name` as one of the Hub's un-namespaced models (`gpt2` answers 307 to
        `openai-community/gpt2`): OK with the model's facts, or None if the Hub says there
        is no such model."""
        try:
            validate_repo_id(name)
        except errors.HFValidationError:
            return None
        response = self.hub.get(run, f"{self.endpoint}/api/models/{name}", _expand("model"))
        if not response.is_success:
            verdict = self._refused(run, response)
            if verdict.outcome is Outcome.NOT_FOUND:
                return None
            raise verdict
        facts = _facts("model", _info("model", read_json(response, dict)))
        facts = replace(facts, resolved_kind=Kind.HF_MODEL.value)
        return Observation(source.key, run.now, Outcome.OK, facts, 200, host=self.host)

    def _listing(self, run: Run, kind: str, owner: str, wanted: set[str]) -> dict[str, Any]:
        """The repositories of `kind` an owner has, by lowercased id, as far as it pays to
        read them: our pager, not huggingface_hub's `paginate` (whose `http_backoff` would
        sleep through a 429).

        It stops before the last page once at most one of `wanted` is missing (asking that
        one alone costs no more than another page, which may not hold it), and after
        `len(wanted)` pages: a listing that finds them all never costs more than asking
        each would, and one that finds none (an owner with pages of other repositories
        listed first) at most twice as much. What it did not find is asked one by one."""
        url: str | None = f"{self.endpoint}/api/{kind}s"
        params: Params = [("author", owner), *_expand(kind)]
        found: dict[str, Any] = {}
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            if url is None or url in seen:
                raise unreadable("a listing whose next page repeats an earlier one")
            seen.add(url)
            # Not retried: the entries of a listing that fails are asked one by one.
            response = self.hub.get(run, url, params, retries=0)
            if not response.is_success:
                if (
                    response.status_code == 401
                    and response.headers.get("X-Error-Message") == BAD_TOKEN
                ):
                    raise self._refused(run, response)  # halts the run: nothing more asked
                raise Verdict(Outcome.TRANSIENT, f"the listing answered {response.status_code}")
            for item in read_json(response, list):
                info = _info(kind, item)
                found[info.id.lower()] = info
            url, params = self.hub.next_page(response), None
            if url is None or len(wanted - found.keys()) <= 1 or page >= len(wanted):
                return found
        raise unreadable(f"a listing of more than {MAX_PAGES} pages")

    def _ok(self, source: Source, now: datetime, info: Any) -> Observation:
        facts = _facts(TYPES.get(source.kind, "model"), info)
        return Observation(source.key, now, Outcome.OK, facts, 200, host=self.host)

    def _refused(self, run: Run, response: httpx2.Response) -> Verdict:
        """A 3xx or 4xx answer, as huggingface_hub reads it, trusting only the Hub's own."""
        status = response.status_code
        said = response.headers.get("X-Error-Code") == "RepoNotFound" or is_json(response)
        try:
            hub.hf_raise_for_status(response)
        except errors.GatedRepoError:
            # Metadata of gated repos is public; a gated error here says the repo exists.
            return Verdict(Outcome.OK, None, status, Facts(gated="manual"))
        except errors.RevisionNotFoundError:
            return Verdict(Outcome.NOT_FOUND, "no such revision", status)
        except errors.RemoteEntryNotFoundError:
            return Verdict(Outcome.NOT_FOUND, "no such file or folder", status)
        except errors.RepositoryNotFoundError:
            if not said:
                return unreadable(f"a {status} page that is not the Hub's (a proxy?)", status)
            return Verdict(Outcome.NOT_FOUND, "repository not found", status)
        except errors.DisabledRepoError:
            return Verdict(Outcome.BLOCKED, "disabled by the Hub", status)
        except errors.HfHubHTTPError as exc:
            if status == 401 and response.headers.get("X-Error-Message") == BAD_TOKEN:
                why = "the Hub refused the token (401 Invalid credentials): check HF_TOKEN"
                return run.defer(why, status)
            # huggingface_hub's messages may open with blank lines ("\n\n403 Forbidden: …")
            lines = [line for line in str(exc).splitlines() if line.strip()]
            message = lines[0] if lines else f"the Hub answered {status}"
            return Verdict(Outcome.TRANSIENT, message[:300], status)
        except Exception:  # its reading of an error body that no Hub would send
            return Verdict(Outcome.TRANSIENT, f"the Hub answered {status}", status)
        return unreadable(f"HTTP {status} where JSON was expected", status)


def _expand(kind: str) -> list[tuple[str, str]]:
    # huggingface_hub's spelling (`expand=a&expand=b`), which the Hub accepts
    return [("expand", value) for value in EXPAND[kind]]


def _info(kind: str, item: Any) -> Any:
    """`ModelInfo`/`DatasetInfo`/`SpaceInfo` as huggingface_hub builds them from an answer."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise unreadable(f"a {kind} without an id")
    try:
        built: Callable[..., Any] = {
            "model": hub.ModelInfo,
            "dataset": hub.DatasetInfo,
            "space": hub.SpaceInfo,
        }[kind]
        return built(**{"siblings": None, **item})
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise unreadable(f"a {kind} that does not read ({type(exc).__name__}: {exc})") from None


def _licence(info: Any) -> str:
    card = getattr(info, "card_data", None)
    licence = getattr(card, "license", None) if card is not None else None
    if isinstance(licence, list):
        licence = licence[0] if licence else None
    tags = getattr(info, "tags", None)
    if not licence and isinstance(tags, list):
        for tag in tags:
            if isinstance(tag, str) and tag.startswith("license:"):
                licence = tag.removeprefix("license:")
                break
    return str(licence) if licence else "NONE"


def _typed(value: Any, kind: type[Any]) -> Any:
    """`value` if it is a `kind` (a bool is no count), else None: "not reported"."""
    wrong = isinstance(value, bool) and kind is not bool
    return value if isinstance(value, kind) and not wrong else None


def _facts(kind: str, info: Any) -> Facts:
    """What monitor keeps of an answer; a value of the wrong type is "not reported"."""
    prefix = "" if kind == "model" else f"{kind}s/"
    modified = getattr(info, "last_modified", None)
    gated = getattr(info, "gated", None)
    return Facts(
        remote_id=_typed(getattr(info, "_id", None), str),
        name=info.id,
        url=f"https://huggingface.co/{prefix}{info.id}",
        stars=_typed(getattr(info, "likes", None), int),
        downloads=_typed(getattr(info, "downloads", None), int),
        last_commit=modified.astimezone(UTC) if isinstance(modified, datetime) else None,
        license=_licence(info),
        gated=str(gated).lower() if isinstance(gated, bool | str) else None,
        disabled=_typed(getattr(info, "disabled", None), bool),
        private=_typed(getattr(info, "private", None), bool),
        sha=_typed(getattr(info, "sha", None), str),
    )
