"""The web probe against the emulator's web hosts: outcome classes, HEAD/GET, limits, redirects."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import struct
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from monitor.emulator import Emulator, World
from monitor.model import Facts, Kind, Outcome, Source
from monitor.probes.web import WebProbe
from monitor.probes.web_addresses import REFUSED, Addresses
from monitor.probes.web_network import Pool
from monitor.probes.web_transport import HostPools, Slots
from tests.conftest import DATA

NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)
TABLES: dict[str, Any] = tomllib.loads((DATA / "web.toml").read_text())
CASES: list[dict[str, Any]] = TABLES["case"]
ADDRESSES: list[dict[str, Any]] = TABLES["address"]
REDIRECTS: list[dict[str, Any]] = TABLES["redirect"]


def probe(**options: Any) -> WebProbe:
    defaults: dict[str, Any] = {
        "timeout": 0.5,
        "max_wait": 2.0,
        "min_interval": 0.0,
        "backoff": 0.01,
    }
    return WebProbe(**(defaults | options))


def check(
    emulator: Emulator,
    *paths: str,
    web: WebProbe | None = None,
    validators: tuple[tuple[str, str], ...] = (),
    last: Facts | None = None,
) -> dict[str, Any]:
    sources = [
        Source(p, emulator.page_url(p), Kind.WEB, validators=validators, last=last) for p in paths
    ]
    return {o.key: o for o in (web or probe()).observe(sources, NOW)}


@pytest.mark.parametrize(
    "case", CASES, ids=[" then ".join(map(str, c["behaviour"])) for c in CASES]
)
def test_outcome_classes(world: World, emulator: Emulator, case: dict[str, Any]) -> None:
    """Each way a page answers lands in its outcome class: ok, definitive, transient, refused."""
    world.set_page("/page", *case["behaviour"], slow_seconds=3.0, retry_after=0)
    observation = check(emulator, "/page")["/page"]
    assert observation.outcome is Outcome(case["outcome"])
    if "error" in case:
        assert (observation.error or "").startswith(case["error"]), observation.error


def test_head_first_then_get_when_head_is_doubtful(world: World, emulator: Emulator) -> None:
    """A page alive last time gets HEAD first; a 404 or 405 to HEAD is confirmed with GET."""
    world.set_page("/nohead", "head-405")
    world.set_page("/gone", 404)
    check(emulator, "/nohead", "/gone", last=Facts())
    methods = [(r.method, r.path) for r in world.requests("web")]
    assert methods.count(("HEAD", "/nohead")) == 1 and methods.count(("GET", "/nohead")) == 1
    assert methods.count(("HEAD", "/gone")) == 1 and methods.count(("GET", "/gone")) == 1


def test_a_new_or_failing_page_is_asked_with_one_get(world: World, emulator: Emulator) -> None:
    """Without a previous good answer the HEAD would be followed by a GET anyway: GET alone."""
    world.set_page("/new", "ok")
    world.set_page("/nohead", "head-405")
    world.set_page("/gone", 404)
    found = check(emulator, "/new", "/nohead", "/gone")
    assert sorted((r.method, r.path) for r in world.requests("web")) == [
        ("GET", "/gone"),
        ("GET", "/new"),
        ("GET", "/nohead"),
    ]
    assert found["/new"].outcome is Outcome.OK and found["/gone"].outcome is Outcome.NOT_FOUND


def test_unchanged_page_is_head_only(world: World, emulator: Emulator) -> None:
    """A page whose validators match the last check is not downloaded again."""
    world.set_page("/page", "ok")
    first = check(emulator, "/page")["/page"]
    assert first.validators
    world.reset_log()
    again = check(emulator, "/page", validators=first.validators, last=first.facts)["/page"]
    assert again.outcome is Outcome.OK
    assert [r.method for r in world.requests("web")] == ["HEAD"]


def test_redirects(world: World, emulator: Emulator) -> None:
    """Permanent redirects say where they lead, temporary ones do not; home pages are soft 404s."""
    world.set_page("/old", "redirect", redirect_status=301, location="/new")
    world.set_page("/hop", "redirect", redirect_status=308, location="/old")
    world.set_page("/temp", "redirect", redirect_status=302, location="/new")
    world.set_page("/new", "ok")
    world.set_page("/deep/article", "redirect", redirect_status=301, location="/")
    world.set_page("/", "ok", title="Home")
    found = check(emulator, "/old", "/hop", "/temp", "/deep/article")
    assert found["/old"].facts.url == emulator.page_url("/new")
    assert found["/hop"].facts.url == emulator.page_url("/new")
    assert found["/temp"].outcome is Outcome.OK and found["/temp"].facts.url is None
    assert found["/deep/article"].outcome is Outcome.NOT_FOUND


def test_per_host_limit_holds(world: World, emulator: Emulator) -> None:
    """With 40 slow pages on one host, never more than `per_host` requests are in flight there."""
    world.set_latency(0.05, "web")
    paths = [f"/p{i}" for i in range(40)]
    for path in paths:
        world.set_page(f"https://arxiv.org{path}", "ok")
    web = probe(per_host=4, connect_to={"*": emulator.web_url.removeprefix("http://")})
    sources = [Source(p, f"https://arxiv.org{p}", Kind.WEB) for p in paths]
    found = list(web.observe(sources, NOW))
    assert {o.outcome for o in found} == {Outcome.OK}
    assert world.max_in_flight["arxiv.org"] == 4
    assert all(r.host == "arxiv.org" for r in world.requests("web"))


def test_min_interval_spaces_requests_to_one_host(world: World, emulator: Emulator) -> None:
    """Requests to one host start at least `min_interval` apart."""
    for i in range(5):
        world.set_page(f"/s{i}", 404)
    check(emulator, *(f"/s{i}" for i in range(5)), web=probe(min_interval=0.1))
    starts = sorted(r.started for r in world.requests("web"))
    assert all(b - a >= 0.09 for a, b in itertools.pairwise(starts))


def test_retry_after_holds_the_host(world: World, emulator: Emulator) -> None:
    """After a 429 with Retry-After, the host gets no request until that time has passed."""
    world.set_page("/busy", 429, "ok", retry_after=1)
    found = check(emulator, "/busy", web=probe(max_wait=5.0))
    assert found["/busy"].outcome is Outcome.OK
    first, second = sorted(world.requests("web"), key=lambda r: r.started)[:2]
    assert second.started - first.started >= 0.95


def test_connect_to_keeps_the_host_header(world: World, emulator: Emulator) -> None:
    """MONITOR_CONNECT_TO sends https://blog.lucien.ink/... to the emulator with its Host intact."""
    world.set_page("https://blog.lucien.ink/archives/538/", "ok", title="Lucien")
    web = probe(connect_to={"blog.lucien.ink": emulator.web_url.removeprefix("http://")})
    (found,) = web.observe([Source("k", "https://blog.lucien.ink/archives/538/", Kind.WEB)], NOW)
    assert found.outcome is Outcome.OK and found.facts.title == "Lucien"
    assert found.host == "blog.lucien.ink"


def test_unknown_and_refused_hosts(
    world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown host is a definitive failure; a refused connection is only a network failure."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "no-such-host.invalid":  # as a resolver answers NXDOMAIN, on any machine
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    web = probe(connect_to={"refused.example": "127.0.0.1:1"})
    sources = [
        Source("unknown", "https://no-such-host.invalid/page", Kind.WEB),
        Source("refused", "https://refused.example/page", Kind.WEB),
    ]
    found = {o.key: o for o in web.observe(sources, NOW)}
    assert found["unknown"].outcome is Outcome.NOT_FOUND
    assert (found["unknown"].error or "").startswith("unknown host")
    assert found["refused"].outcome is Outcome.NETWORK


def test_a_user_agent_like_a_browser(world: World, emulator: Emulator) -> None:
    """Pages are asked with a browser-like User-Agent, which can be set."""
    world.set_page("/p", "ok")
    check(emulator, "/p", web=probe(user_agent="Mozilla/5.0 test"))
    assert {r.header("User-Agent") for r in world.requests("web")} == {"Mozilla/5.0 test"}


def test_a_free_overall_slot_goes_to_the_longest_queue_first() -> None:
    """Slots serve waiters by priority (a host's pages left), equal priorities first come first."""

    async def scenario() -> list[str]:
        slots = Slots(1)
        served: list[str] = []
        await slots.acquire()

        async def wait(name: str, priority: int) -> None:
            async with slots.slot(priority):
                served.append(name)

        waiters = [
            asyncio.create_task(wait(n, p)) for n, p in (("a", 1), ("b", 5), ("c", 3), ("d", 5))
        ]
        await asyncio.sleep(0)
        slots.release()
        await asyncio.gather(*waiters)
        assert slots.free == 1
        return served

    assert asyncio.run(scenario()) == ["b", "d", "c", "a"]


def test_a_cancelled_waiter_gives_its_slot_on() -> None:
    """A waiter cancelled while queued neither takes nor loses a slot."""

    async def scenario() -> int:
        slots = Slots(1)
        await slots.acquire()
        gone = asyncio.create_task(slots.acquire(9))
        later = asyncio.create_task(slots.acquire(1))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.sleep(0)
        slots.release()
        await asyncio.wait_for(later, 2)
        slots.release()
        return slots.free

    assert asyncio.run(scenario()) == 1


def test_host_pools_keep_one_pool_per_host_and_close_the_least_recently_used() -> None:
    """Each host gets its own pool; past `most` pools, the idle least recently used one closes."""
    made: list[str] = []
    closed: list[str] = []

    class Pool(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.host = ""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if not self.host:
                self.host = request.url.host
                made.append(self.host)
            return httpx.Response(200, stream=httpx.ByteStream(b"ok"))

        async def aclose(self) -> None:
            closed.append(self.host)

    async def scenario() -> None:
        pools = HostPools(Pool, most=2)
        async with httpx.AsyncClient(transport=pools) as client:
            for host in ("a.test", "b.test", "a.test", "c.test", "a.test"):
                assert (await client.get(f"http://{host}/")).status_code == 200
            assert [key[1] for key in pools.pools] == ["c.test", "a.test"]

    asyncio.run(scenario())
    assert made == ["a.test", "b.test", "c.test"]
    assert closed[0] == "b.test" and sorted(closed) == ["a.test", "b.test", "c.test"]


# --- refusals aimed at robots ------------------------------------------------------------------


def mocked(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> WebProbe:
    """A probe whose every request is answered by `handler` (no network, no emulator)."""
    return probe(transport=httpx.MockTransport(handler), **options)


WALL = "<html><head><title>Just a moment...</title></head><body>Checking…</body></html>"
CAPTCHA = "<html><head><title>Security check</title></head><body>CAPTCHA</body></html>"
PLAIN = "<html><head><title>503 Service Unavailable</title></head><body></body></html>"


@pytest.mark.parametrize(
    ("status", "headers", "body", "outcome", "error"),
    [
        (503, {"cf-mitigated": "challenge"}, WALL, "refused", "bot wall (HTTP 503, cf-mitigated"),
        (403, {"cf-mitigated": "challenge"}, WALL, "refused", "bot wall (HTTP 403, cf-mitigated"),
        (503, {}, WALL, "refused", "bot wall (HTTP 503): Just a moment..."),
        (403, {}, CAPTCHA, "refused", "bot wall (HTTP 403): Security check"),
        (999, {}, "", "refused", "bot wall (HTTP 999)"),
        (503, {}, PLAIN, "transient", "HTTP 503"),
        (500, {}, PLAIN, "transient", "HTTP 500"),
        (502, {"cf-ray": "8a1b2c3d4e5f"}, PLAIN, "transient", "HTTP 502"),
    ],
)
def test_bot_walls_are_refused_and_plain_server_errors_transient(
    status: int, headers: dict[str, str], body: str, outcome: str, error: str
) -> None:
    """Cloudflare challenges and captcha pages on 403/503, and 999, are refused; plain 5xx not."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.method)
        return httpx.Response(status, headers={"content-type": "text/html"} | headers, text=body)

    (found,) = mocked(answer).observe([Source("k", "https://walled.example/p", Kind.WEB)], NOW)
    assert found.outcome is Outcome(outcome)
    assert (found.error or "").startswith(error), found.error
    # A bot wall is not asked again within the run; a plain server error is, twice.
    assert len(asked) == (1 if outcome == "refused" else 3)


def test_a_persistent_429_is_refused_after_the_in_run_retries(
    world: World, emulator: Emulator
) -> None:
    """A 429 with a short Retry-After is asked again twice, then reported as rate limited."""
    world.set_page("/busy", 429, retry_after=0)
    found = check(emulator, "/busy")["/busy"]
    assert found.outcome is Outcome.REFUSED and found.error == "rate limited (HTTP 429)"
    assert len(world.requests("web")) == 3


def test_a_host_backing_off_beyond_the_run_defers_its_other_pages(
    world: World, emulator: Emulator
) -> None:
    """A 429 asking for more than `max_wait` is refused at once; the host's other pages wait."""
    world.set_page("/busy", 429, retry_after=120)
    world.set_page("/other", "ok")
    web = probe(per_host=1)
    found = check(emulator, "/busy", "/other", web=web)
    assert found["/busy"].outcome is Outcome.REFUSED
    assert found["/other"].outcome is Outcome.DEFERRED
    assert [r.path for r in world.requests("web")] == ["/busy"]
    assert web.figures().requests == 1 and web.figures().deferred == 1


# --- redirects into private addresses ----------------------------------------------------------


@pytest.mark.parametrize(
    "case", ADDRESSES, ids=[f"{c['host']}{' mapped' if c.get('mapped') else ''}" for c in ADDRESSES]
)
def test_which_hosts_are_private(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback, link-local, private, unspecified and embedded IPv4 addresses are private."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host).endswith(".invalid"):  # as a resolver answers NXDOMAIN, on any machine
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    addresses = Addresses(case.get("mapped", ()))
    assert asyncio.run(addresses.private(case["host"])) is case["private"]


@pytest.mark.parametrize(
    "case", REDIRECTS, ids=[f"{c['origin']} -> {c['target']}" for c in REDIRECTS]
)
def test_which_redirects_are_refused(case: dict[str, Any]) -> None:
    """Only a hop from a public host to a private address is refused; mapped names are public."""
    addresses = Addresses(case.get("mapped", ()))
    assert asyncio.run(addresses.refused(case["origin"], case["target"])) is case["refused"]


@pytest.fixture
def ipv6_listener() -> Iterator[socket.socket]:
    """A listener on [::1] that never answers: connections made to it wait in its backlog."""
    listener = socket.socket(socket.AF_INET6)
    try:
        listener.bind(("::1", 0))
    except OSError:
        listener.close()
        pytest.skip("no IPv6 loopback on this machine")
    listener.listen(8)
    listener.setblocking(False)
    yield listener
    listener.close()


def connections(listener: socket.socket) -> int:
    """How many connections `listener` has received (taken from its backlog)."""
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def public(emulator: Emulator, *names: str, **options: Any) -> WebProbe:
    """A probe that routes `names` to the emulator, as MONITOR_CONNECT_TO does for public hosts."""
    route = emulator.web_url.removeprefix("http://")
    return probe(connect_to=dict.fromkeys(names, route), **options)


@pytest.mark.parametrize("target", ["loopback", "metadata", "ipv6", "localhost", "resolved"])
def test_a_redirect_from_a_public_host_into_a_private_address_is_refused(
    target: str,
    world: World,
    emulator: Emulator,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The target is never asked: the page is transient, with the contract's error."""
    port = emulator.web_url.rsplit(":", 1)[1]
    listener: socket.socket | None = None
    if target == "ipv6":
        listener = request.getfixturevalue("ipv6_listener")
        location = f"http://[::1]:{listener.getsockname()[1]}/"
    elif target == "resolved":
        real = socket.getaddrinfo

        def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
            return real("127.0.0.1" if host == "intranet.corp" else host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
        location = f"http://intranet.corp:{port}/secret"
    else:
        location = {
            "loopback": f"http://127.0.0.1:{port}/secret",
            "metadata": "http://169.254.169.254/latest/meta-data/",
            "localhost": f"http://localhost:{port}/secret",
        }[target]
    world.set_page("/secret", "ok", title="Secret")
    world.set_page("https://public.example/go", "redirect", redirect_status=302, location=location)
    web = public(emulator, "public.example")
    (found,) = web.observe([Source("k", "https://public.example/go", Kind.WEB)], NOW)
    assert found.outcome is Outcome.TRANSIENT
    assert (found.error or "").startswith(REFUSED), found.error
    assert [(r.host, r.path) for r in world.requests("web")] == [("public.example", "/go")]
    assert web.figures().requests == 1  # not asked again within the run either
    if listener is not None:
        assert connections(listener) == 0


def test_allow_private_redirects_follows_them(world: World, emulator: Emulator) -> None:
    """With `allow_private_redirects`, a public page redirecting to loopback is followed."""
    port = emulator.web_url.rsplit(":", 1)[1]
    world.set_page("/secret", "ok", title="Secret")
    world.set_page(
        "https://public.example/go",
        "redirect",
        redirect_status=302,
        location=f"http://127.0.0.1:{port}/secret",
    )
    web = public(emulator, "public.example", allow_private_redirects=True)
    (found,) = web.observe([Source("k", "https://public.example/go", Kind.WEB)], NOW)
    assert found.outcome is Outcome.OK and found.facts.title == "Secret"
    assert [r.path for r in world.requests("web")] == ["/go", "/secret"]


def test_private_catalog_urls_and_redirects_between_private_addresses_are_followed(
    world: World,
) -> None:
    """A catalog URL on 127.0.0.1 is trusted, and so are its redirects within private addresses."""
    with Emulator(world, web_addresses=["127.0.0.2"]) as emulator:
        (other,) = emulator.web_host_urls
        world.set_page("/within", "redirect", redirect_status=301, location="/secret")
        world.set_page("/across", "redirect", redirect_status=302, location=f"{other}/elsewhere")
        world.set_page("/secret", "ok", title="Secret")
        world.set_page(f"{other}/elsewhere", "ok", title="Elsewhere")
        found = check(emulator, "/within", "/across")
    assert found["/within"].outcome is Outcome.OK
    assert found["/within"].facts.url == emulator.page_url("/secret")
    assert found["/across"].outcome is Outcome.OK and found["/across"].facts.title == "Elsewhere"


def test_a_redirect_between_public_hosts_is_followed(world: World, emulator: Emulator) -> None:
    """Public to public is no concern of the rule: followed, and reported where it leads."""
    world.set_page("https://public.example/old", "redirect", location="https://other.example/new")
    world.set_page("https://other.example/new", "ok", title="New")
    web = public(emulator, "public.example", "other.example")
    (found,) = web.observe([Source("k", "https://public.example/old", Kind.WEB)], NOW)
    assert found.outcome is Outcome.OK and found.facts.url == "https://other.example/new"


# --- deadlines, hosts given up, stopping -------------------------------------------------------


def test_a_stalled_host_is_given_up_after_three_timeouts(world: World, emulator: Emulator) -> None:
    """20 pages on a host that never answers cost 3 timeouts; the others are told so at once."""
    pages = [f"https://stalled.example/stalled/{i}" for i in range(20)]
    for url in pages:
        world.set_page(url, "ok")
    world.set_page("https://fine.example/page", "ok")
    world.chaos.inject("web", "stall", path="^/stalled/")
    web = public(emulator, "stalled.example", "fine.example", per_host=1)
    sources = [Source(url, url, Kind.WEB) for url in [*pages, "https://fine.example/page"]]
    started = time.monotonic()
    found = {o.key: o for o in web.observe(sources, NOW)}
    assert time.monotonic() - started < 2.5  # 3 timeouts of 0.5 s, not 20 (or 60 with retries)
    assert found["https://fine.example/page"].outcome is Outcome.OK
    assert {found[url].outcome for url in pages} == {Outcome.TRANSIENT}
    # The first two pages' retries, and every page after the third, are not asked.
    errors = sorted(found[url].error or "" for url in pages)
    assert errors[0].startswith("ReadTimeout")
    assert (
        errors[1:] == ["stalled.example timed out 3 times in a row: not asked again this run"] * 19
    )
    assert len([r for r in world.requests("web") if r.host == "stalled.example"]) == 3


def test_a_black_holed_host_is_a_network_failure_after_three_connect_timeouts() -> None:
    """Connect timeouts give the host up the same way, its pages counted as network failures."""
    asked: list[str] = []

    def black_hole(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        raise httpx.ConnectTimeout("timed out", request=request)

    sources = [Source(f"k{i}", f"https://dark.example/{i}", Kind.WEB) for i in range(10)]
    found = list(mocked(black_hole, per_host=1).observe(sources, NOW))
    assert len(asked) == 3
    assert {o.outcome for o in found} == {Outcome.NETWORK}


def test_a_dripping_answer_is_cut_at_the_deadline(world: World, emulator: Emulator) -> None:
    """A body trickling in faster than the read timeout still ends at the exchange's deadline."""
    world.set_page("/drip", "ok")
    world.chaos.inject("web", "drip", path="^/drip", drip_interval=0.2, drip_chunks=20)
    started = time.monotonic()
    found = check(emulator, "/drip")["/drip"]
    elapsed = time.monotonic() - started
    assert found.outcome is Outcome.TRANSIENT
    assert found.error == "ExchangeTimeout: no complete answer within 0.75 s"
    assert elapsed < 3.5  # three attempts of 0.75 s; uncut, each would take 4 s
    assert len(world.requests("web")) == 3


def test_a_truncated_body_is_transient(world: World, emulator: Emulator) -> None:
    """A body cut short of its Content-Length is an unreadable answer, not a verdict."""
    world.set_page("/cut", "ok")
    world.chaos.inject("web", "truncated", path="^/cut")
    found = check(emulator, "/cut")["/cut"]
    assert found.outcome is Outcome.TRANSIENT
    assert (found.error or "").startswith("unreadable answer (RemoteProtocolError: "), found.error


def test_closing_the_generator_stops_every_request(world: World, emulator: Emulator) -> None:
    """Closed after the first observation, the probe cancels what is in flight and asks no more."""
    world.set_page("/fast", "ok")
    world.chaos.inject("web", "stall", path="^/stall")
    paths = ["/fast", *(f"/stall{i}" for i in range(10))]
    sources = [Source(p, emulator.page_url(p), Kind.WEB) for p in paths]
    observations = probe().observe(sources, NOW)
    assert next(observations).key == "/fast"
    started = time.monotonic()
    observations.close()
    assert time.monotonic() - started < 1.0
    assert not [t for t in threading.enumerate() if t.name == "web-checks" and t.is_alive()]
    time.sleep(0.2)  # requests sent before the close reach the log
    asked = len(world.requests("web"))
    time.sleep(1.0)  # two timeouts: a probe still running would retry and ask the other pages
    assert len(world.requests("web")) == asked <= 5  # /fast, and the 4 stalled in flight
    deadline = time.monotonic() + 2
    while world.chaos.held and time.monotonic() < deadline:  # the stalled requests were dropped
        time.sleep(0.05)
    assert world.chaos.held == 0


def test_never_waiting_for_retry_after_still_keeps_the_spacing(
    world: World, emulator: Emulator
) -> None:
    """max_wait 0 defers hosts that ask for a pause, never the pages of a polite host."""
    paths = [f"/polite/{i}" for i in range(8)]
    for path in paths:
        world.set_page(path, "ok")
    found = check(emulator, *paths, web=probe(max_wait=0.0, min_interval=0.01))
    assert {o.outcome for o in found.values()} == {Outcome.OK}


def test_accepted_statuses_are_alive(world: World, emulator: Emulator) -> None:
    """A status the source or its host accepts is alive, whatever it would mean otherwise."""
    world.set_page("/linkedin", 999)
    world.set_page("/walled", 403)
    sources = [
        Source("a", emulator.page_url("/linkedin"), Kind.WEB),
        Source("b", emulator.page_url("/walled"), Kind.WEB, accept=(403,)),
    ]
    web = probe(host_accept=lambda host: (999,) if host == "127.0.0.1" else ())
    found = {o.key: o for o in web.observe(sources, NOW)}
    assert found["a"].outcome is Outcome.OK and found["b"].outcome is Outcome.OK


# --- the sockets (web_network.py) and one request (web_exchange.py) ----------------------------

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]


async def _head_of_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def _served(serve: Serve, scenario: Callable[[str], Any]) -> Any:
    """Run `scenario(base_url)` against a one-off asyncio server answering with `serve`."""

    async def main() -> Any:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await scenario(f"http://127.0.0.1:{port}")

    return asyncio.run(main())


def _pool() -> Pool:
    return Pool(httpx.create_ssl_context, keepalive=4)


def test_a_pool_keeps_one_connection_for_a_hosts_pages_in_turn() -> None:
    """Pages asked one after another reuse one kept-alive connection."""
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while await _head_of_request(reader):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    async def scenario(base: str) -> list[int]:
        pool = _pool()
        statuses = []
        for index in range(5):
            answer = await pool.handle_async_request(httpx.Request("GET", f"{base}/{index}"))
            await answer.aread()
            statuses.append(answer.status_code)
        await pool.aclose()
        return statuses

    assert _served(serve, scenario) == [200] * 5
    assert connections == 1


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    """A kept-alive connection the server has since closed is dropped, not asked again."""
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _head_of_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # without saying so: no `Connection: close`

    async def scenario(base: str) -> list[int]:
        pool = _pool()
        statuses = []
        for index in range(2):
            answer = await pool.handle_async_request(httpx.Request("GET", f"{base}/{index}"))
            await answer.aread()
            statuses.append(answer.status_code)
            await asyncio.sleep(0.1)  # the server's close arrives meanwhile
        await pool.aclose()
        return statuses

    assert _served(serve, scenario) == [200, 200]
    assert connections == 2


def test_a_large_body_read_late_arrives_whole() -> None:
    """A body the reader falls behind on pauses the socket's reading and loses nothing."""
    body = bytes(range(256)) * 4096  # 1 MiB, four times what a connection holds unread

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _head_of_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    async def scenario(base: str) -> bytes:
        pool = _pool()
        answer = await pool.handle_async_request(httpx.Request("GET", f"{base}/big"))
        await asyncio.sleep(0.2)  # the server has sent all it can meanwhile
        content = await answer.aread()
        await pool.aclose()
        return content

    assert _served(serve, scenario) == body


def test_the_sockets_errors_are_httpx_errors() -> None:
    """A silent server is a ReadTimeout, a reset a ReadError, a closed port a ConnectError."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await _head_of_request(reader)
        if b"/reset" in head:
            sock = writer.get_extra_info("socket")
            # Lingering 0 s: closing sends a reset, not the end of the stream.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        await asyncio.sleep(5)  # never answers

    async def scenario(base: str) -> list[type[BaseException]]:
        pool = _pool()
        timeout = {"timeout": httpx.Timeout(0.2).as_dict()}
        raised = []
        for url in (f"{base}/silent", f"{base}/reset", "http://127.0.0.1:1/closed"):
            with pytest.raises(httpx.TransportError) as caught:
                await pool.handle_async_request(httpx.Request("GET", url, extensions=timeout))
            raised.append(type(caught.value))
        await pool.aclose()
        return raised

    assert _served(serve, scenario) == [httpx.ReadTimeout, httpx.ReadError, httpx.ConnectError]


def test_a_cookie_a_page_sets_goes_with_its_next_hop() -> None:
    """Cookies set on a redirect are sent to where it leads, as a browser (and httpx) would."""
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        if request.url.path == "/login":
            return httpx.Response(302, headers={"location": "/page", "set-cookie": "visit=1"})
        return httpx.Response(
            200, headers={"content-type": "text/html"}, text="<title>Page</title>"
        )

    (found,) = mocked(answer).observe([Source("k", "https://cookies.example/login", Kind.WEB)], NOW)
    assert found.outcome is Outcome.OK and found.facts.title == "Page"
    assert seen == [None, "visit=1"]
