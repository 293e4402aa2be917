"""arXiv papers, through the export API: many ids per request, one request every 3 seconds.

`GET {MONITOR_ARXIV_API_URL}?id_list=ID1,ID2,…&max_results=N` answers an Atom
feed whose entries carry each paper's latest version in their `<id>`
(`…/abs/2106.09685v2`), its title (hard-wrapped; unwrapped here) and, for a
withdrawn paper, a comment saying so. An id with no entry does not exist; an
entry titled "Error" is arXiv complaining about an id, not a paper. arXiv's
terms ask for no more than one request every 3 seconds, so batches are spaced
by `interval`; a throttled answer (503 or 429, "Rate exceeded.") is retried
after the interval, then reported as transient.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from monitor.catalog.kinds import identify
from monitor.model import Facts, Kind, Observation, Outcome, Source
from monitor.probes import Figures

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
_VERSIONED = re.compile(r"abs/(?P<id>.+?)(?P<version>v\d+)$")


def paper_id(source: Source) -> str:
    """The arXiv id of a source, without version ("2106.09685", "hep-th/9901001")."""
    return identify(source.url).key.removeprefix("arxiv:")


class ArxivProbe:
    """Checks `arxiv` sources."""

    service = "arxiv"

    def __init__(
        self,
        api_url: str,
        *,
        client: httpx.Client | None = None,
        batch_size: int = 100,
        interval: float = 3.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_url = api_url
        self.client = client or httpx.Client(
            timeout=30.0,
            headers={"User-Agent": "monitor (link-and-freshness monitor; polite: 1 request / 3 s)"},
        )
        self.batch_size = batch_size
        self.interval = interval
        self.sleep = sleep
        self.clock = clock
        self.host = urlsplit(api_url).netloc
        self._figures = Figures()
        self._last = float("-inf")

    def figures(self) -> Figures:
        return self._figures

    def observe(self, sources: Sequence[Source], now: datetime) -> Iterator[Observation]:
        papers = [s for s in sources if s.kind is Kind.ARXIV]
        for start in range(0, len(papers), self.batch_size):
            yield from self._batch(papers[start : start + self.batch_size], now)

    def _batch(self, batch: Sequence[Source], now: datetime) -> Iterator[Observation]:
        ids = sorted({paper_id(s) for s in batch})
        params = {"id_list": ",".join(ids), "max_results": str(len(ids)), "start": "0"}
        response: httpx.Response | None = None
        error: Exception | None = None
        for attempt in range(3):
            self._wait_turn()
            try:
                self._figures.requests += 1
                response = self.client.get(self.api_url, params=params)
                error = None
            except httpx.HTTPError as exc:
                response, error = None, exc
            throttled = response is not None and response.status_code in (429, 503)
            if response is not None and not throttled and response.status_code < 500:
                break
            if isinstance(error, httpx.ConnectError):
                break  # the host cannot be reached: waiting will not change that this run
            if attempt < 2:
                self.sleep(self.interval * (attempt + 1))
        if response is None or response.status_code != 200:
            outcome = (
                Outcome.NETWORK if isinstance(error, httpx.ConnectError) else (Outcome.TRANSIENT)
            )
            message = (
                f"{type(error).__name__}: {error}"
                if error
                else (f"HTTP {response.status_code}" if response is not None else "no answer")
            )
            for source in batch:
                yield Observation(
                    source.key,
                    now,
                    outcome,
                    error=message[:300],
                    http_status=response.status_code if response else None,
                    host=self.host,
                )
            return
        try:
            found = parse_feed(response.text)
        except ET.ParseError as exc:
            for source in batch:
                yield Observation(
                    source.key,
                    now,
                    Outcome.TRANSIENT,
                    http_status=200,
                    error=f"unreadable feed: {exc}",
                    host=self.host,
                )
            return
        for source in batch:
            facts = found.get(paper_id(source))
            if facts is None:
                yield Observation(
                    source.key,
                    now,
                    Outcome.NOT_FOUND,
                    http_status=200,
                    error="arXiv has no paper with this id",
                    host=self.host,
                )
            else:
                yield Observation(
                    source.key, now, Outcome.OK, facts, http_status=200, host=self.host
                )

    def _wait_turn(self) -> None:
        wait = self._last + self.interval - self.clock()
        if wait > 0:
            self.sleep(wait)
        self._last = self.clock()


def parse_feed(text: str) -> dict[str, Facts]:
    """Facts per paper id from an export API Atom feed; error entries are skipped."""
    root = ET.fromstring(text)
    found: dict[str, Facts] = {}
    for entry in root.findall(f"{ATOM}entry"):
        title = " ".join((entry.findtext(f"{ATOM}title") or "").split())
        entry_id = entry.findtext(f"{ATOM}id") or ""
        match = _VERSIONED.search(entry_id)
        if title == "Error" or not match:
            continue
        comment = entry.findtext(f"{ARXIV}comment") or ""
        updated = entry.findtext(f"{ATOM}updated")
        found[match["id"]] = Facts(
            name=match["id"],
            url=f"https://arxiv.org/abs/{match['id']}",
            version=match["version"],
            title=title or None,
            last_commit=datetime.fromisoformat(updated.replace("Z", "+00:00")).astimezone(UTC)
            if updated
            else None,
            withdrawn="withdrawn" in comment.lower(),
        )
    return found
