"""What a web answer means: the outcome classes of the web probe (see web.py's docstring).

`classify()` turns the last answer of a redirect chain, or the reason there was
none, into an `Observation`; the errors the probe raises for pages it did not
ask, or could not finish asking, are defined here so that their meaning sits
next to the rest.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from monitor.catalog.kinds import NotAWebURL, identify
from monitor.model import Facts, Observation, Outcome, Source
from monitor.probes.web_addresses import REFUSED as REDIRECT_REFUSED

BOT_WALL_TITLE = re.compile(
    r"captcha|are you (a )?(human|robot)|attention required|just a moment|access denied|"
    r"verify you are human|unusual traffic|security check",
    re.IGNORECASE,
)
NOT_FOUND_TITLE = re.compile(
    r"\b404\b|not found|page (does not|doesn.t) exist|no longer (available|exists)|"
    r"page not found|找不到|页面不存在|不存在的页面|ページが見つかりません",
    re.IGNORECASE,
)
TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


class HostBackedOff(httpx.TransportError):
    """A host's Retry-After reaches beyond this run: its other pages are not asked now."""


class HostDown(httpx.TransportError):
    """A host whose requests timed out `down_after` times in a row: given up for the run.

    `network` when those were connect timeouts (the host is unreachable, as far as
    the degraded-run count is concerned), not slow answers."""

    def __init__(self, message: str, *, network: bool) -> None:
        super().__init__(message)
        self.network = network


class ExchangeTimeout(httpx.TimeoutException):
    """An exchange that went on past its wall-clock deadline (a dripping body, say)."""


class Stopped(httpx.TransportError):
    """The run was stopped (the generator closed) before this request left."""


class RedirectRefused(Exception):
    """A redirect from a public host into a private address: its target is not asked."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


@dataclass(frozen=True, slots=True)
class Answer:
    """The last response of a chain, or the reason there was none."""

    status: int | None
    url: str
    chain: tuple[tuple[int, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    error: BaseException | None = None


def classify(
    source: Source,
    now: datetime,
    host: str,
    answer: Answer,
    accepted: Sequence[int] = (),
) -> Observation:
    """What `answer` says about `source`: the observation of one check. A status in
    `accepted` (the maintainer's `accept`, the source's own and its host's) is alive."""

    def seen(
        outcome: Outcome,
        error: str | None = None,
        facts: Facts | None = None,
        validators: tuple[tuple[str, str], ...] = (),
    ) -> Observation:
        return Observation(
            source.key,
            now,
            outcome,
            facts,
            http_status=answer.status,
            error=error,
            validators=validators,
            host=host,
        )

    if isinstance(answer.error, RedirectRefused):
        return seen(Outcome.TRANSIENT, f"{REDIRECT_REFUSED} ({answer.error.target[:200]})")
    if isinstance(answer.error, HostBackedOff):
        return seen(Outcome.DEFERRED, str(answer.error))
    if answer.error is not None:
        return seen(*connection_failure(answer.error))
    status = answer.status or 0
    if status in accepted:
        # The maintainer says this answer means alive (`accept = [999]`): nothing to read.
        return seen(Outcome.OK, facts=Facts())
    if status in (404, 410):
        return seen(Outcome.NOT_FOUND, f"HTTP {status}")
    title = _text(TITLE, answer.body)
    refusal = robot_refusal(status, answer.headers, answer.body, title)
    if refusal is not None:
        return seen(Outcome.REFUSED, refusal)
    if not 200 <= status < 300:
        return seen(Outcome.TRANSIENT, f"HTTP {status}")
    if answer.body and (
        NOT_FOUND_TITLE.search(title)
        or (not title and NOT_FOUND_TITLE.search(_text(HEADING, answer.body)))
    ):
        return seen(Outcome.NOT_FOUND, f"soft 404: the page says {title[:80]!r}")
    if answer.chain and _home_page(source.url, answer.url):
        return seen(Outcome.NOT_FOUND, "soft 404: redirected to the site's home page")
    moved = _permanent_target(answer.chain, answer.url)
    facts = Facts(
        url=moved if moved and _different(source.url, moved) else None,
        title=title[:200] or None,
    )
    page = validators_of(answer.headers)
    validators = (("page", page),) if page and is_html(answer.headers) else ()
    return seen(Outcome.OK, facts=facts, validators=validators)


def robot_refusal(status: int, headers: Mapping[str, str], body: str, title: str) -> str | None:
    """Why an answer is a refusal aimed at robots rather than news of the page, if it is."""
    if status == 999:
        return "bot wall (HTTP 999)"  # LinkedIn's answer to whatever it takes for a robot
    if status == 429:
        return "rate limited (HTTP 429)"  # only once the in-run retries did not lift it
    if status in (403, 503) and "cf-mitigated" in headers:
        # Cloudflare's challenge: `cf-mitigated: challenge` is the value it sends.
        return f"bot wall (HTTP {status}, cf-mitigated: {headers['cf-mitigated'][:40]})"
    if status in (200, 403, 503) and body:
        wall = title or _text(HEADING, body)
        if BOT_WALL_TITLE.search(wall):
            return f"bot wall (HTTP {status}): {wall[:80]}"
    return None


def connection_failure(error: BaseException) -> tuple[Outcome, str]:
    """The outcome and error of an exchange that brought no answer to classify."""
    text = f"{type(error).__name__}: {error}"[:300]
    if isinstance(error, HostDown):
        return (Outcome.NETWORK if error.network else Outcome.TRANSIENT), str(error)[:300]
    if isinstance(error, httpx.ConnectError) and (
        "Name or service not known" in text
        or "nodename nor servname" in text
        or "No address associated" in text
    ):
        return Outcome.NOT_FOUND, f"unknown host ({text})"
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return Outcome.NETWORK, text
    if isinstance(error, httpx.RemoteProtocolError | httpx.DecodingError):
        # The host answered, but not in a way that can be read (a body cut short, a broken
        # encoding): nothing learnt about the page, ask again later.
        return Outcome.TRANSIENT, f"unreadable answer ({text})"
    return Outcome.TRANSIENT, text


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a `Retry-After` asks for (seconds or an HTTP date), None without one."""
    value = headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def is_html(headers: Mapping[str, str]) -> bool:
    return "html" in headers.get("content-type", "")


def validators_of(headers: Mapping[str, str]) -> str:
    parts = [headers.get(name, "") for name in ("etag", "last-modified", "content-length")]
    return "|".join(parts) if any(parts) else ""


def _text(pattern: re.Pattern[str], body: str) -> str:
    match = pattern.search(body)
    return re.sub(r"<[^>]+>|\s+", " ", match[1]).strip() if match else ""


def _permanent_target(chain: Sequence[tuple[int, str]], final: str) -> str | None:
    """Where the permanent hops at the start of the chain lead; None if the first is not."""
    target = None
    for index, (status, _) in enumerate(chain):
        if status not in (301, 308):
            break
        target = chain[index + 1][1] if index + 1 < len(chain) else final
    return target


def _home_page(original: str, final: str) -> bool:
    """A link deep into a site that lands on its home page: the page it meant is gone."""
    start, end = urlsplit(original), urlsplit(final)
    return start.path.strip("/") != "" and end.path.strip("/") == "" and not end.query


def _different(original: str, moved: str) -> bool:
    try:
        return identify(original).key != identify(moved).key
    except NotAWebURL:
        return True
