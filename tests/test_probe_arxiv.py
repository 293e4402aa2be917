"""The arXiv probe: many ids per request, one request every 3 s, versions and withdrawals,
and an arXiv (or whatever answers in its place) that misbehaves."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from monitor.catalog.kinds import identify
from monitor.emulator import Emulator, World
from monitor.emulator.chaos import Fault
from monitor.model import Kind, Observation, Outcome, Source
from monitor.probes.arxiv import DOWN_AFTER, SILENT_RETRIES, ArxivProbe, Unreadable, read_feed

NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)
#: The probe's deadline for one request in the hostile tests, in seconds.
TIMEOUT = 0.5
#: What the machine may add to a test's own timeouts before it counts as hanging.
SLACK = 1.5
OPENSEARCH = 'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'


def source(url: str) -> Source:
    return Source(identify(url).key, url, Kind.ARXIV)


def papers(*ids: str) -> list[Source]:
    return [source(f"https://arxiv.org/abs/{i}") for i in ids]


class Clock:
    """A fake monotonic clock that `sleep` advances."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def feed(*entries: str, total: int | None = None) -> str:
    """An export API feed holding `entries` (`totalResults` left out when total is -1)."""
    count = len(entries) if total is None else total
    head = (
        ""
        if count == -1
        else f"<opensearch:totalResults {OPENSEARCH}>{count}</opensearch:totalResults>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>ArXiv Query</title>{head}{''.join(entries)}</feed>"
    )


def entry(paper: str, version: int = 1, title: str = "A paper") -> str:
    return (
        f"<entry><id>http://arxiv.org/abs/{paper}v{version}</id>"
        f"<updated>2023-05-01T00:00:00Z</updated><title>{title}</title></entry>"
    )


def error_entry(text: str) -> str:
    return (
        f"<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_{text}</id>"
        f"<title>Error</title><summary>incorrect id format for {text}</summary></entry>"
    )


def mocked(*answers: httpx.Response) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client whose requests get `answers` in turn (the last one for ever after)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1]

    return httpx.Client(transport=httpx.MockTransport(handle)), seen


def timed(run: Callable[[], list[Observation]]) -> tuple[list[Observation], float]:
    started = time.monotonic()
    found = run()
    return found, time.monotonic() - started


# --- a well-behaved arXiv -------------------------------------------------------------------------


def test_batches_and_versions(world: World, emulator: Emulator) -> None:
    """/abs/, /pdf/ and pinned-version links ask for the paper; its latest version is reported."""
    world.add_paper(
        "2106.09685",
        "LoRA: Low-Rank Adaptation of Large Language Models",
        ["2021-06-17T17:37:18Z", "2021-10-16T16:27:40Z"],
    )
    world.add_paper("2302.13971", "LLaMA", ["2023-02-27T00:00:00Z"])
    probe = ArxivProbe(emulator.arxiv_url, interval=0)
    found = {
        o.key: o
        for o in probe.observe(
            [
                source("https://arxiv.org/pdf/2106.09685.pdf"),
                source("https://arxiv.org/abs/2302.13971v1"),
                source("https://arxiv.org/abs/2401.99999"),
            ],
            NOW,
        )
    }
    lora = found["arxiv:2106.09685"]
    assert lora.outcome is Outcome.OK and lora.facts is not None
    assert (lora.facts.version, lora.facts.title) == (
        "v2",
        "LoRA: Low-Rank Adaptation of Large Language Models",
    )
    assert found["arxiv:2302.13971"].facts.version == "v1"  # type: ignore[union-attr]
    assert found["arxiv:2401.99999"].outcome is Outcome.NOT_FOUND
    assert world.counts["arxiv"] == 1


def test_one_request_every_interval(world: World, emulator: Emulator) -> None:
    """Batches of ids are spaced by the interval, as arXiv's terms ask (3 s by default)."""
    for i in range(25):
        world.add_paper(f"2301.{i:05d}", f"P{i}", ["2023-01-01T00:00:00Z"])
    clock = Clock()
    probe = ArxivProbe(
        emulator.arxiv_url, batch_size=10, interval=3.0, clock=clock, sleep=clock.sleep
    )
    found = list(probe.observe(papers(*(f"2301.{i:05d}" for i in range(25))), NOW))
    assert len(found) == 25 and {o.outcome for o in found} == {Outcome.OK}
    assert world.counts["arxiv"] == 3
    assert clock.slept == [3.0, 3.0]


def test_throttled_then_answered(world: World, emulator: Emulator) -> None:
    """A 503 "Rate exceeded." is waited out and asked again; a lasting one is transient."""
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    world.arxiv_min_interval = 60.0
    clock = Clock()
    probe = ArxivProbe(emulator.arxiv_url, interval=0.0, clock=clock, sleep=clock.sleep)
    first = list(probe.observe(papers("2106.09685"), NOW))
    assert first[0].outcome is Outcome.OK
    again = list(probe.observe(papers("2106.09685"), NOW))
    assert again[0].outcome is Outcome.TRANSIENT and again[0].http_status == 503
    assert "Rate exceeded." in (again[0].error or "")
    assert world.counts["arxiv"] == 4
    assert clock.slept == [3.0, 3.0]  # the emulator's Retry-After: 3


def test_withdrawn_and_error_entries() -> None:
    """A withdrawn paper says so; an "Error" entry is not mistaken for a paper."""
    text = feed(
        """<entry><id>http://arxiv.org/abs/2304.00001v2</id><updated>2023-05-01T00:00:00Z</updated>
    <title>Oops</title>
    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">This paper has been withdrawn
    by the author.</arxiv:comment></entry>""",
        error_entry("x"),
    )
    found = read_feed(text, "application/atom+xml; charset=utf-8")
    assert list(found.papers) == ["2304.00001"] and found.rejected == {
        "x": "incorrect id format for x"
    }
    assert found.papers["2304.00001"].withdrawn is True
    assert found.papers["2304.00001"].version == "v2"


def test_unreachable_api_is_a_network_failure() -> None:
    """An API that cannot be reached gives network outcomes at once, without retrying."""
    clock = Clock()
    probe = ArxivProbe("http://127.0.0.1:1/api/query", clock=clock, sleep=clock.sleep)
    (found,) = probe.observe(papers("2106.09685"), NOW)
    assert found.outcome is Outcome.NETWORK and clock.slept == []


def test_rejected_id_emulated(world: World, emulator: Emulator) -> None:
    """An id arXiv calls malformed is not found; the others of its batch are still read."""
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    probe = ArxivProbe(emulator.arxiv_url, interval=0)
    found = {o.key: o for o in probe.observe(papers("2106.09685", "math.gt/0309136"), NOW)}
    assert found["arxiv:2106.09685"].outcome is Outcome.OK
    rejected = found["arxiv:math.gt/0309136"]
    assert rejected.outcome is Outcome.NOT_FOUND
    assert "incorrect id format" in (rejected.error or "")


def test_rejected_id_alone_asks_the_rest_again() -> None:
    """arXiv answering one malformed id's error alone makes the others asked again, not gone."""
    client, seen = mocked(
        httpx.Response(200, text=feed(error_entry("math.gt/0309136"))),
        httpx.Response(200, text=feed(entry("2106.09685", 2))),
    )
    probe = ArxivProbe("http://arxiv.test/api/query", client=client, interval=0)
    found = {
        o.key: o for o in probe.observe(papers("2106.09685", "2401.99999", "math.gt/0309136"), NOW)
    }
    assert [r.url.params["id_list"] for r in seen] == [
        "2106.09685,2401.99999,math.gt/0309136",
        "2106.09685,2401.99999",
    ]
    assert found["arxiv:2106.09685"].outcome is Outcome.OK
    assert found["arxiv:2401.99999"].outcome is Outcome.NOT_FOUND
    assert found["arxiv:math.gt/0309136"].outcome is Outcome.NOT_FOUND


def test_query_error_concludes_nothing() -> None:
    """An "Error" entry about the query as a whole leaves every missing id transient."""
    complaint = (
        "<entry><id>http://arxiv.org/api/errors#max_results_too_large</id><title>Error</title>"
        "<summary>max_results must be at most 2000</summary></entry>"
    )
    client, _ = mocked(httpx.Response(200, text=feed(complaint)))
    probe = ArxivProbe("http://arxiv.test/api/query", client=client, interval=0)
    (found,) = probe.observe(papers("2106.09685"), NOW)
    assert found.outcome is Outcome.TRANSIENT
    assert "max_results must be at most 2000" in (found.error or "")


# --- a hostile arXiv, one behaviour at a time, through the emulator -----------------------------

#: (fault, options, words of the error, requests the batch costs, HTTP status reported)
HOSTILE: list[tuple[Fault, dict[str, Any], str, int, int | None]] = [
    (
        Fault.STALL,
        {},
        f"no complete answer from arXiv within {TIMEOUT:g} s",
        1 + SILENT_RETRIES,
        None,
    ),
    (
        Fault.DRIP,
        {"drip_interval": 0.1, "drip_chunks": 50},
        f"no complete answer from arXiv within {TIMEOUT:g} s",
        1 + SILENT_RETRIES,
        None,
    ),
    (Fault.RESET, {}, "no complete answer from arXiv (", 1 + SILENT_RETRIES, None),
    (Fault.SERVER_ERROR, {"status": 502}, "HTTP 502 from arXiv", 3, 502),
    (
        Fault.SERVER_ERROR,
        {"status": 503, "retry_after": 0},
        "arXiv is throttling (HTTP 503",
        3,
        503,
    ),
    (Fault.RATE_LIMIT, {"retry_after": 0}, "arXiv is throttling (HTTP 429", 3, 429),
    (Fault.RATE_EXCEEDED, {"retry_after": 0}, "(HTTP 503 'Rate exceeded.')", 3, 503),
    (
        Fault.PORTAL,
        {},
        "unreadable answer from arXiv: HTML where an Atom feed was expected "
        "(a captive portal or proxy?)",
        1,
        200,
    ),
    (
        Fault.TRUNCATED,
        {},
        "no complete answer from arXiv (RemoteProtocolError",
        1 + SILENT_RETRIES,
        None,
    ),
    (
        Fault.REDIRECT_AWAY,
        {"status": 302, "location": "http://127.0.0.2:9/portal/login"},
        "redirected (HTTP 302) to another host: http://127.0.0.2:9/portal/login",
        1,
        302,
    ),
    (Fault.REDIRECT_AWAY, {"status": 301}, "redirected (HTTP 301) to another", 1, 301),
]


@pytest.mark.parametrize(
    ("fault", "options", "words", "requests", "status"),
    HOSTILE,
    ids=[f"{fault.value}-{i}" for i, (fault, *_) in enumerate(HOSTILE)],
)
def test_hostile_answer_is_transient(
    world: World,
    emulator: Emulator,
    fault: Fault,
    options: dict[str, Any],
    words: str,
    requests: int,
    status: int | None,
) -> None:
    """Each hostile behaviour makes the batch transient, quickly, saying what happened."""
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    world.chaos.inject("arxiv", fault, **options)
    probe = ArxivProbe(emulator.arxiv_url, interval=0, timeout=TIMEOUT, max_wait=1)
    found, took = timed(lambda: list(probe.observe(papers("2106.09685", "2401.99999"), NOW)))
    assert {o.outcome for o in found} == {Outcome.TRANSIENT}
    assert all(words in (o.error or "") for o in found), found[0].error
    assert {o.http_status for o in found} == {status}
    assert probe.figures().requests == requests
    silent = fault in (Fault.STALL, Fault.DRIP, Fault.RESET, Fault.TRUNCATED)
    assert took < (requests * TIMEOUT if silent else 0) + SLACK


def test_slow_drip_is_cut_at_the_deadline(world: World, emulator: Emulator) -> None:
    """A body trickling slower than any check between pieces is cut at the deadline itself."""
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    # Each piece comes just before the per-read timeout: only the wall clock can stop it.
    world.chaos.inject("arxiv", Fault.DRIP, drip_interval=0.48, drip_chunks=20)
    probe = ArxivProbe(emulator.arxiv_url, interval=0, timeout=TIMEOUT)
    found, took = timed(lambda: list(probe.observe(papers("2106.09685"), NOW)))
    assert found[0].outcome is Outcome.TRANSIENT
    assert "within 0.5 s" in (found[0].error or "")
    # Two requests of 0.5 s each; checking only between pieces would take 0.96 s each.
    assert took < 2 * TIMEOUT + 0.5


def test_a_fault_then_the_real_feed(world: World, emulator: Emulator) -> None:
    """After a stalled first request, the real feed is read: a real missing id is not found."""
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    world.chaos.inject("arxiv", Fault.STALL, times=1)
    probe = ArxivProbe(emulator.arxiv_url, interval=0, timeout=TIMEOUT)
    found = {o.key: o for o in probe.observe(papers("2106.09685", "2401.99999"), NOW)}
    assert found["arxiv:2106.09685"].outcome is Outcome.OK
    assert found["arxiv:2401.99999"].outcome is Outcome.NOT_FOUND
    assert world.counts["arxiv"] == 2


# --- answers that are not the feed, whatever their status says ------------------------------------

XHTML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
    "<head><title>Proxy</title></head><body><p>Access denied by policy.</p></body></html>"
)

NOT_FEEDS: list[tuple[str, str, str]] = [
    (XHTML, "application/xml", "HTML where an Atom feed was expected (a captive portal or proxy?)"),
    (
        "<!DOCTYPE html><html><body>Sign in</body></html>",
        "application/atom+xml",
        "HTML where an Atom feed was expected",
    ),
    (
        feed(entry("2106.09685"), total=-1),
        "application/atom+xml",
        "without opensearch:totalResults",
    ),
    (feed(entry("2106.09685")), "text/html", "HTML where an Atom feed was expected"),
    (feed(entry("2106.09685"))[:150], "application/atom+xml", "a broken Atom feed"),
    ('{"error": "gateway"}', "application/json", "JSON where an Atom feed was expected"),
    ("", "application/atom+xml", "an empty body"),
    ("Service temporarily down", "text/plain", "plain text ('Service temporarily down')"),
    ('<rss version="2.0"><channel/></rss>', "application/xml", "XML with a <rss> root"),
    (
        '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaa">]>'
        '<feed xmlns="http://www.w3.org/2005/Atom"/>',
        "application/atom+xml",
        "with a DTD",
    ),
]


@pytest.mark.parametrize(("body", "content_type", "words"), NOT_FEEDS)
def test_not_a_feed_is_transient(body: str, content_type: str, words: str) -> None:
    """A 200 that is not an Atom feed with totalResults never says a paper is gone."""
    with pytest.raises(Unreadable, match=r"\S"):
        read_feed(body, content_type)
    client, seen = mocked(httpx.Response(200, text=body, headers={"content-type": content_type}))
    probe = ArxivProbe("http://arxiv.test/api/query", client=client, interval=0)
    found = list(probe.observe(papers("2106.09685", "2401.99999"), NOW))
    assert {o.outcome for o in found} == {Outcome.TRANSIENT}
    assert words in (found[0].error or ""), found[0].error
    assert (found[0].error or "").startswith("unreadable answer from arXiv: ")
    assert len(seen) == 1


def test_rate_exceeded_with_200_is_throttling() -> None:
    """A plain-text "Rate exceeded." is throttling whatever its status: waited out, asked again."""
    client, seen = mocked(
        httpx.Response(200, text="Rate exceeded.", headers={"content-type": "text/plain"}),
        httpx.Response(200, text=feed(entry("2106.09685"))),
    )
    clock = Clock()
    probe = ArxivProbe(
        "http://arxiv.test/api/query", client=client, interval=3, clock=clock, sleep=clock.sleep
    )
    found = {o.key: o for o in probe.observe(papers("2106.09685", "2401.99999"), NOW)}
    assert found["arxiv:2106.09685"].outcome is Outcome.OK
    assert found["arxiv:2401.99999"].outcome is Outcome.NOT_FOUND
    assert len(seen) == 2 and clock.slept == [3.0]


# --- waits, and when to stop asking ---------------------------------------------------------------


def test_short_retry_after_is_honoured(world: World, emulator: Emulator) -> None:
    """A Retry-After within the max wait is slept through before asking again."""
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    world.chaos.inject("arxiv", Fault.RATE_LIMIT, times=1, retry_after=7)
    clock = Clock()
    probe = ArxivProbe(emulator.arxiv_url, interval=3, clock=clock, sleep=clock.sleep)
    (found,) = probe.observe(papers("2106.09685"), NOW)
    assert found.outcome is Outcome.OK and clock.slept == [7.0]


def test_long_retry_after_is_not_slept_through(world: World, emulator: Emulator) -> None:
    """A Retry-After beyond the max wait: that batch transient, the rest deferred, no sleep."""
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    world.chaos.inject("arxiv", Fault.RATE_LIMIT, retry_after=3600)
    clock = Clock()
    probe = ArxivProbe(
        emulator.arxiv_url, batch_size=1, interval=0, max_wait=60, clock=clock, sleep=clock.sleep
    )
    found = list(probe.observe(papers("2106.09685", "2302.13971", "2401.99999"), NOW))
    assert [o.outcome for o in found] == [Outcome.TRANSIENT, Outcome.DEFERRED, Outcome.DEFERRED]
    assert "3600 s pause (Retry-After), longer than the 60 s" in (found[0].error or "")
    assert world.counts["arxiv"] == 1 and clock.slept == []
    assert probe.figures().deferred == 2
    assert probe.figures().errors == [
        f"{found[0].error}; 2 arXiv paper(s) deferred to the next run"
    ]


def test_black_holed_arxiv_costs_a_few_requests(world: World, emulator: Emulator) -> None:
    """An arXiv that never answers costs DOWN_AFTER batches' timeouts; the rest are deferred."""
    world.chaos.inject("arxiv", Fault.STALL)
    ids = [f"2301.{i:05d}" for i in range(12)]
    probe = ArxivProbe(emulator.arxiv_url, batch_size=2, interval=0, timeout=TIMEOUT)
    found, took = timed(lambda: list(probe.observe(papers(*ids), NOW)))
    asked = DOWN_AFTER * (1 + SILENT_RETRIES)
    assert world.counts["arxiv"] == asked
    outcomes = [o.outcome for o in found]
    assert outcomes == [Outcome.TRANSIENT] * 2 * DOWN_AFTER + [Outcome.DEFERRED] * (
        12 - 2 * DOWN_AFTER
    )
    assert took < asked * TIMEOUT + SLACK
    assert probe.figures().errors == [
        f"2 arXiv batches in a row failed ({found[0].error}); 8 arXiv paper(s) deferred to "
        "the next run"
    ]


def test_refused_connections_cost_one_request_per_failed_batch() -> None:
    """Refused connections are network failures, not retried; after two batches, deferred."""
    clock = Clock()
    probe = ArxivProbe("http://127.0.0.1:1/api/query", batch_size=1, clock=clock, sleep=clock.sleep)
    found = list(probe.observe(papers("2106.09685", "2302.13971", "2401.99999"), NOW))
    assert [o.outcome for o in found] == [Outcome.NETWORK, Outcome.NETWORK, Outcome.DEFERRED]
    assert probe.figures().requests == 2 and clock.slept == [3.0]  # the interval only


def test_a_good_batch_resets_the_count(world: World, emulator: Emulator) -> None:
    """Failures must come in a row: a batch answered between two failed ones keeps arXiv on."""
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    world.chaos.inject("arxiv", Fault.SERVER_ERROR, times=3, status=500)
    world.chaos.inject("arxiv", Fault.SERVER_ERROR, times=3, status=500, path="2302")
    probe = ArxivProbe(emulator.arxiv_url, batch_size=1, interval=0)
    found = list(probe.observe(papers("2104.00001", "2106.09685", "2302.13971"), NOW))
    assert [o.outcome for o in found] == [Outcome.TRANSIENT, Outcome.OK, Outcome.TRANSIENT]
    assert probe.figures().deferred == 0


# --- the runner lets go ---------------------------------------------------------------------------


def _first(observations: Iterator[Observation], count: int) -> list[Observation]:
    return [next(observations) for _ in range(count)]


@pytest.mark.parametrize("taken", [1, 2])
def test_closed_generator_asks_no_more(world: World, emulator: Emulator, taken: int) -> None:
    """Closed after (or within) the first batch, the probe neither sleeps nor asks again."""
    for i in range(6):
        world.add_paper(f"2301.{i:05d}", f"P{i}", ["2023-01-01T00:00:00Z"])
    clock = Clock()
    probe = ArxivProbe(emulator.arxiv_url, batch_size=2, interval=3, clock=clock, sleep=clock.sleep)
    observations = probe.observe(papers(*(f"2301.{i:05d}" for i in range(6))), NOW)
    assert {o.outcome for o in _first(observations, taken)} == {Outcome.OK}
    observations.close()  # type: ignore[attr-defined]
    assert world.counts["arxiv"] == 1 and probe.figures().requests == 1
    assert clock.slept == []
    with pytest.raises(StopIteration):
        next(observations)
    assert world.counts["arxiv"] == 1
