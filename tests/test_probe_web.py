"""The web probe against the emulator's web hosts: outcome classes, HEAD/GET, limits, redirects."""

from __future__ import annotations

import itertools
import socket
import tomllib
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.emulator import Emulator, World
from monitor.model import Facts, Kind, Outcome, Source
from monitor.probes.web import WebProbe
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
