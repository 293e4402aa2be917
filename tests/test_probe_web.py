"""The web probe against the emulator's web hosts: outcome classes, HEAD/GET, limits, redirects."""

from __future__ import annotations

import asyncio
import itertools
import socket
import tomllib
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from monitor.emulator import Emulator, World
from monitor.model import Facts, Kind, Outcome, Source
from monitor.probes.web import HostPools, Slots, WebProbe
from tests.conftest import DATA

NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)
CASES: list[dict[str, Any]] = tomllib.loads((DATA / "web.toml").read_text())["case"]


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
    """Each way a page answers lands in its outcome class: ok, definitive, transient, bot wall."""
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
