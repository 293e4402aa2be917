"""The emulator's chaos: each fault on the wire, through the real clients, and at a random rate."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.message import Message
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner
from github import Github, RateLimitExceededException
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from monitor.cli import main
from monitor.emulator import Emulator, World
from monitor.emulator.chaos import (
    APPLICABLE,
    RESET_STATUS,
    STALLED_STATUS,
    TRUNCATED_STATUS,
    Fault,
)
from monitor.emulator.http import HttpRequest

UA = {"User-Agent": "chaos-tests"}
TOKEN = {"User-Agent": "chaos-tests", "Authorization": "bearer t0ken"}
QUERY = {"query": '{ repository(owner: "acme", name: "tool") { stargazerCount } }'}
SERVICES = ("github", "hf", "arxiv", "web")
APIS = ("github", "hf", "arxiv")


@pytest.fixture
def world() -> World:
    """A world with one thing to ask each service for."""
    world = World()
    world.add_repo("acme/tool", stars=3)
    world.add_hf_repo("acme/model", likes=5)
    world.add_hf_repo("acme/other")
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T17:37:18Z"])
    world.set_page("/page", "ok", body="<p>" + "content " * 50 + "</p>")
    return world


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """One client for a test (a new httpx.Client per request costs ~20 ms)."""
    with httpx.Client(timeout=5) as client:
        yield client


def url(emulator: Emulator, service: str) -> str:
    return {
        "github": f"{emulator.github_url}/repos/acme/tool",
        "hf": f"{emulator.hf_url}/api/models/acme/model",
        "arxiv": f"{emulator.arxiv_url}?id_list=2106.09685",
        "web": emulator.page_url("/page"),
    }[service]


def graphql(http: httpx.Client, emulator: Emulator) -> httpx.Response:
    return http.post(f"{emulator.github_url}/graphql", json=QUERY, headers=TOKEN)


def wait_until(condition: object, seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


# --- faults at the socket: stall, drip, truncated, reset ------------------------------------------


def test_stall_times_out_and_the_emulator_still_stops_at_once(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """A stall times out on every service; stopping the emulator ends stalled connections."""
    closed: list[BaseException] = []

    def hold(service: str) -> None:
        try:
            httpx.get(url(emulator, service), headers=UA, timeout=5)
        except httpx.HTTPError as exc:
            closed.append(exc)

    for service in SERVICES:
        world.inject_fault(service, Fault.STALL)
        with pytest.raises(httpx.ReadTimeout):
            http.get(url(emulator, service), timeout=0.15)
    holders = [threading.Thread(target=hold, args=(service,)) for service in SERVICES]
    for thread in holders:
        thread.start()
    assert wait_until(lambda: world.chaos.held == len(SERVICES))
    started = time.monotonic()
    emulator.stop()
    assert time.monotonic() - started < 0.5
    for thread in holders:
        thread.join(2)
    assert len(closed) == len(SERVICES), "every stalled connection was closed"
    assert world.chaos.held == 0
    for service in SERVICES:
        assert [r.status for r in world.requests(service)] == [STALLED_STATUS] * 2
        assert world.chaos.injected[(service, "stall")] == 2


def test_a_stall_ends_when_the_client_leaves(world: World, emulator: Emulator) -> None:
    """A stalled handler notices its client went away and lets the connection go."""
    world.inject_fault("hf", "stall")
    host, port = urlsplit(emulator.hf_url).netloc.split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(b"GET /api/models/acme/model HTTP/1.1\r\nHost: hf\r\n\r\n")
        assert wait_until(lambda: world.chaos.held == 1)
    assert wait_until(lambda: world.chaos.held == 0, 1.0)


def test_stall_seconds_closes_the_connection_unanswered(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """With stall_seconds the connection is closed after that long, without an answer."""
    world.inject_fault("arxiv", "stall", times=1, stall_seconds=0.1)
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(url(emulator, "arxiv"), timeout=3)
    assert 0.1 <= time.monotonic() - started < 1.0
    assert http.get(url(emulator, "arxiv")).status_code == 200


@pytest.mark.parametrize(("service", "method"), [("hf", "GET"), ("github", "GET"), ("web", "HEAD")])
def test_drip_outlasts_the_read_timeout_without_tripping_it(
    world: World, emulator: Emulator, http: httpx.Client, service: str, method: str
) -> None:
    """A dripped answer (or a HEAD's headers) outlasts the read timeout without tripping it."""
    world.inject_fault(service, "drip", times=1, drip_interval=0.06, drip_chunks=5)
    started = time.monotonic()
    answer = http.request(method, url(emulator, service), timeout=0.2)
    assert time.monotonic() - started >= 0.29
    assert answer.status_code == 200
    plain = http.request(method, url(emulator, service))
    assert answer.content == plain.content or service == "github"  # GitHub's request ids differ
    if service == "github":
        assert answer.json()["full_name"] == "acme/tool"
    assert [r.fault for r in world.requests(service)] == ["drip", ""]


def test_truncated_answers_end_early(world: World, emulator: Emulator, http: httpx.Client) -> None:
    """A truncated answer declares its full length, sends part, closes: RemoteProtocolError."""
    for service in SERVICES:
        world.inject_fault(service, "truncated", times=1)
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            http.get(url(emulator, service), timeout=3)
        assert world.requests(service)[-1].status == TRUNCATED_STATUS
        assert http.get(url(emulator, service)).status_code == 200


def test_truncated_head_cuts_the_headers(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """A HEAD has no body to cut, so its headers are cut instead."""
    world.inject_fault("web", "truncated", times=1, method="HEAD")
    with pytest.raises(httpx.RemoteProtocolError):
        http.head(url(emulator, "web"), timeout=3)


def test_reset_drops_the_connection(world: World, emulator: Emulator, http: httpx.Client) -> None:
    """A reset fault answers with a TCP RST on every service, logged as -1."""
    for service in SERVICES:
        world.inject_fault(service, "reset", times=1)
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            http.get(url(emulator, service), timeout=3)
        assert world.requests(service)[-1].status == RESET_STATUS


# --- faults with an answer ------------------------------------------------------------------------


def test_github_server_errors_in_its_own_shapes(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """GitHub's 500 is JSON "Server Error", its 502 can be the Unicorn page, its 504 a timeout."""
    world.inject_fault("github", "5xx", times=1, status=500)
    world.inject_fault("github", "5xx", times=1, status=502, html=True)
    world.inject_fault("github", "5xx", times=1, status=504)
    first = http.get(url(emulator, "github"))
    assert first.status_code == 500 and first.json() == {"message": "Server Error"}
    unicorn = http.get(url(emulator, "github"))
    assert unicorn.status_code == 502 and unicorn.headers["content-type"].startswith("text/html")
    assert "Unicorn!" in unicorn.text
    timeout = http.get(url(emulator, "github"))
    assert timeout.status_code == 504 and "in time" in timeout.json()["message"]
    world.inject_fault("github", "5xx", times=1)
    drawn = graphql(http, emulator)
    assert drawn.status_code in (502, 504)


def test_hub_arxiv_and_web_server_errors(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """The Hub's 500 is JSON with X-Error-Message; its proxy's 502, arXiv's and pages' are HTML."""
    world.inject_fault("hf", "5xx", times=1, status=500)
    world.inject_fault("hf", "5xx", times=1, status=502)
    hub = http.get(url(emulator, "hf"))
    assert hub.status_code == 500 and "Internal Error" in hub.json()["error"]
    assert hub.headers["x-error-message"] == hub.json()["error"]
    proxy = http.get(url(emulator, "hf"))
    assert proxy.status_code == 502 and "<h1>502 Bad Gateway</h1>" in proxy.text
    for service in ("arxiv", "web"):
        world.inject_fault(service, "5xx", times=1, status=503)
        answer = http.get(url(emulator, service))
        assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/html")
        assert answer.headers["retry-after"] == "30"


def test_github_rate_limits(world: World, emulator: Emulator, http: httpx.Client) -> None:
    """REST: 403 or 429 with x-ratelimit-remaining 0; GraphQL: HTTP 200 with RATE_LIMITED."""
    world.inject_fault("github", "429", times=1, retry_after=40)
    rest = http.get(url(emulator, "github"))
    assert rest.status_code in (403, 429)
    assert rest.json()["message"].startswith("API rate limit exceeded")
    assert rest.headers["x-ratelimit-remaining"] == "0"
    assert int(rest.headers["x-ratelimit-reset"]) >= int(time.time()) + 39
    world.inject_fault("github", "429", times=1)
    limited = graphql(http, emulator)
    assert limited.status_code == 200 and limited.json()["errors"][0]["type"] == "RATE_LIMITED"
    assert limited.headers["x-ratelimit-resource"] == "graphql"


def test_hub_429_carries_its_ratelimit_headers(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """The Hub's 429 has Retry-After, RateLimit and RateLimit-Policy, on list endpoints too."""
    for path in ("/api/models/acme/model", "/api/models?author=acme&expand=likes&expand=sha"):
        assert len(http.get(f"{emulator.hf_url}{path}").json()) >= 2
        world.inject_fault("hf", "429", times=1, retry_after=12)
        answer = http.get(f"{emulator.hf_url}{path}")
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "12"
        assert answer.headers["ratelimit"] == '"api";r=0;t=12'
        assert answer.headers["ratelimit-policy"] == '"fixed window";"api";q=500;w=300'


def test_arxiv_throttles_say_rate_exceeded(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """arXiv's 429 and its 503 throttle are the plain text "Rate exceeded."."""
    world.inject_fault("arxiv", "429", times=1)
    world.inject_fault("arxiv", "rate-exceeded", times=1)
    for status in (429, 503):
        answer = http.get(url(emulator, "arxiv"))
        assert answer.status_code == status and answer.text == "Rate exceeded."
        assert answer.headers["content-type"].startswith("text/plain")
        assert "retry-after" in answer.headers


def test_secondary_limits_on_rest_and_graphql(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """GitHub's secondary limit: 403 with retry-after; PyGithub raises RateLimitExceeded."""
    world.inject_fault("github", "secondary", times=1, status=403, retry_after=60)
    client = Github(base_url=emulator.github_url, retry=None, seconds_between_requests=None)
    with pytest.raises(RateLimitExceededException):
        client.get_repo("acme/tool")
    world.inject_fault("github", "secondary", times=1)
    answer = graphql(http, emulator)
    assert answer.status_code == 403 and "secondary rate limit" in answer.json()["message"]
    assert answer.headers["retry-after"] == "30"


def test_graphql_pathless_error(world: World, emulator: Emulator, http: httpx.Client) -> None:
    """GraphQL's "Something went wrong" is HTTP 200, data null, errors with no path or type."""
    world.inject_fault("github", "graphql-pathless", times=1)
    assert http.get(url(emulator, "github")).status_code == 200  # REST untouched
    answer = graphql(http, emulator)
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert "path" not in error and "type" not in error
    assert error["message"].startswith("Something went wrong while executing your query")
    assert graphql(http, emulator).json()["data"]["repository"]["stargazerCount"] == 3


def test_portal_page_on_any_service(world: World, emulator: Emulator, http: httpx.Client) -> None:
    """A captive portal answers 200 text/html in place of any API's JSON or XML."""
    for service in (*SERVICES, "graphql"):
        world.inject_fault("github" if service == "graphql" else service, "portal", times=1)
        answer = (
            graphql(http, emulator) if service == "graphql" else http.get(url(emulator, service))
        )
        assert answer.status_code == 200, service
        assert answer.headers["content-type"].startswith("text/html")
        assert "<form" in answer.text


def test_redirect_away(world: World, emulator: Emulator, http: httpx.Client) -> None:
    """An API redirects to https:// on the same host, or to another host."""
    for service in APIS:
        for away in ("scheme", "host"):
            world.inject_fault(service, "redirect-away", times=1, away=away)
            answer = http.get(url(emulator, service))
            assert answer.is_redirect
            target, asked = urlsplit(answer.headers["location"]), urlsplit(url(emulator, service))
            if away == "scheme":
                assert (target.scheme, target.netloc, target.path) == (
                    "https",
                    asked.netloc,
                    asked.path,
                )
            else:
                assert target.hostname != asked.hostname


def test_pygithub_refuses_a_scheme_changing_redirect(world: World, emulator: Emulator) -> None:
    """PyGithub raises RuntimeError on a 301 to https:// (PyGithub#2524)."""
    world.inject_fault("github", "redirect-away", times=1, status=301, away="scheme")
    client = Github(base_url=emulator.github_url, retry=None, seconds_between_requests=None)
    with pytest.raises(RuntimeError, match="redirected from http protocol to https"):
        client.get_repo("acme/tool")


def test_huggingface_hub_gets_the_429(world: World, emulator: Emulator) -> None:
    """huggingface_hub's model_info (no retries) raises HfHubHTTPError with the 429 headers."""
    world.inject_fault("hf", "429", times=1, retry_after=7)
    with pytest.raises(HfHubHTTPError) as raised:
        HfApi(endpoint=emulator.hf_url).model_info("acme/model")
    response = raised.value.response
    assert response.status_code == 429 and response.headers["ratelimit"] == '"api";r=0;t=7'
    assert HfApi(endpoint=emulator.hf_url).model_info("acme/model").likes == 5


# --- rules, the rate, the control port --------------------------------------------------------


def test_inject_refuses_what_a_service_cannot_show(world: World) -> None:
    """Faults a service never shows, unknown options and wrong statuses are refused."""
    for service, fault in [
        ("hf", "secondary"),
        ("web", "redirect-away"),
        ("arxiv", "graphql-pathless"),
        ("web", "rate-exceeded"),
        ("control", "5xx"),
        ("nowhere", "5xx"),
    ]:
        with pytest.raises(ValueError, match=r"does not show|unknown service"):
            world.inject_fault(service, fault)
    with pytest.raises(ValueError, match="unknown fault"):
        world.inject_fault("github", "meltdown")
    with pytest.raises(TypeError, match="unknown chaos option"):
        world.inject_fault("github", "stall", stall_for=3)
    with pytest.raises(ValueError, match="not a '5xx' status"):
        world.inject_fault("github", "5xx", status=404)
    with pytest.raises(ValueError, match="does not apply"):
        world.inject_fault("github", "stall", status=500)
    with pytest.raises(ValueError, match="regular expression"):
        world.inject_fault("github", "5xx", path="(")
    assert world.chaos.rules == []


def test_times_path_and_method_pick_the_requests(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """Only matching requests get the fault, `times` of them, and rules apply in order."""
    rule = world.inject_fault("hf", "5xx", times=2, path=r"other$", status=503)
    world.inject_fault("hf", "429", times=1, method="HEAD")
    base = emulator.hf_url
    assert http.get(f"{base}/api/models/acme/model").status_code == 200
    assert http.get(f"{base}/api/models/acme/other").status_code == 503
    assert rule.remaining == 1
    assert http.head(f"{base}/api/models/acme/model").status_code == 429
    assert http.get(f"{base}/api/models?search=other").status_code == 503  # the query too
    assert rule.remaining == 0 and world.chaos.rules == []
    assert http.get(f"{base}/api/models/acme/other").status_code == 200
    assert [r.status for r in world.requests("hf")] == [200, 503, 429, 503, 200]


def test_clear_removes_rules_and_the_rate(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """clear(service) drops that service's rules; clear() drops every rule and the rate."""
    world.inject_fault("github", "5xx", status=500)
    world.inject_fault("hf", "5xx", status=500)
    world.clear_faults("github")
    assert http.get(url(emulator, "github")).status_code == 200
    assert http.get(url(emulator, "hf")).status_code == 500
    world.set_chaos(1.0, seed=1, faults=["5xx"], status=500)
    assert http.get(url(emulator, "web")).status_code == 500
    world.clear_faults()
    assert world.chaos.rate == 0 and world.chaos.rules == []
    assert all(http.get(url(emulator, s)).status_code == 200 for s in SERVICES)


def _soak(
    world: World, http: httpx.Client, emulator: Emulator, rounds: int
) -> list[tuple[str, ...]]:
    """`rounds` x (REST, Hub, arXiv, web, GraphQL) requests, each answered or failed; the log."""
    world.reset_log()
    for _ in range(rounds):
        for service in SERVICES:
            with contextlib.suppress(httpx.HTTPError):
                http.get(url(emulator, service), headers=TOKEN)
        with contextlib.suppress(httpx.HTTPError):
            graphql(http, emulator)
    return [(r.service, r.path, str(r.status), r.fault) for r in world.requests()]


SOCKET_FAULTS = {"stall", "drip", "reset", "truncated"}


def _replay(world: World, seed: int) -> list[tuple[str, str]]:
    """(fault, status of a fault answered over HTTP) for each logged request, as a fresh
    `seed` decides them, asked of the chaos directly rather than over the wire."""
    world.set_chaos(0.2, seed=seed)
    replayed = []
    for r in world.requests():
        request = HttpRequest(r.method, r.path, r.query, Message(), b"", r.host)
        injection = world.chaos.decide(r.service, request)
        if injection is None:
            replayed.append(("", ""))
        else:
            answered = injection.wire == "answer"
            replayed.append((injection.fault.value, str(injection.status) if answered else ""))
    return replayed


def test_random_rate_is_about_right_reproducible_and_applicable(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """A seeded 0.2 faults ~20 % of requests, reproducibly, with faults each service can show."""
    world.set_chaos(0.2, seed=1234, stall_seconds=0.01, drip_interval=0.001, drip_chunks=2)
    log = _soak(world, http, emulator, 100)
    faulted = [entry for entry in log if entry[3]]
    assert len(log) == 500
    assert 0.14 <= len(faulted) / len(log) <= 0.26
    assert world.stats()["chaos"]["total"] == len(faulted)  # type: ignore[index]
    for service, path, _, fault in faulted:
        row = "github-graphql" if path == "/graphql" else service
        assert Fault(fault) in APPLICABLE[row], (row, fault)
    assert len({fault for *_, fault in faulted}) >= 8  # a good mix, not one fault
    seen = [(f, s if f and f not in SOCKET_FAULTS else "") for *_, s, f in log]
    assert _replay(world, 1234) == seen
    assert _replay(world, 4321) != seen


def test_random_rate_never_draws_an_inapplicable_fault(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """At rate 1 with only service-specific faults allowed, other services are left alone."""
    world.set_chaos(1.0, seed=5, faults=["secondary", "graphql-pathless", "rate-exceeded"])
    _soak(world, http, emulator, 5)
    by_service = Counter((r.service, r.path == "/graphql", r.fault) for r in world.requests())
    assert by_service[("github", False, "secondary")] == 5
    assert by_service[("arxiv", False, "rate-exceeded")] == 5
    assert by_service[("hf", False, "")] == by_service[("web", False, "")] == 5
    graphql_faults = {f for (s, g, f) in by_service if g}
    assert graphql_faults <= {"secondary", "graphql-pathless"}


def test_control_port_drives_chaos_and_is_never_faulted(
    world: World, emulator: Emulator, http: httpx.Client
) -> None:
    """inject_fault, set_chaos and clear_faults work over POST /call/…; /stats reports them."""
    control = emulator.control_url
    call = http.post(
        f"{control}/call/inject_fault",
        json={"args": ["github", "5xx"], "kwargs": {"times": 1, "status": 503}},
    )
    assert call.json() == {"ok": True}
    assert http.get(url(emulator, "github")).status_code == 503
    refused = http.post(f"{control}/call/inject_fault", json={"args": ["hf", "secondary"]})
    assert refused.status_code == 400
    http.post(f"{control}/call/set_chaos", json={"args": [1.0], "kwargs": {"seed": 3}})
    stats = http.get(f"{control}/stats").json()["chaos"]
    assert stats["rate"] == 1.0 and stats["seed"] == 3
    assert stats["injected"] == {"github": {"5xx": 1}}
    assert http.post(f"{control}/call/clear_faults", json={}).json() == {"ok": True}
    assert world.chaos.rate == 0
    assert "control" not in world.chaos.seen


def test_emulator_serve_documents_chaos() -> None:
    """`monitor emulator serve --help` documents --chaos and --chaos-seed."""
    result = CliRunner().invoke(main, ["emulator", "serve", "--help"])
    assert result.exit_code == 0
    assert "--chaos RATE" in result.output and "--chaos-seed N" in result.output
    assert "inject_fault" in result.output
    bad = CliRunner().invoke(main, ["emulator", "serve", "--chaos", "2"])
    assert bad.exit_code == 2


def test_an_outage_of_some_services_then_their_return(world: World) -> None:
    """stop_services refuses connections to the named services only; start_services ends it."""
    with Emulator(world) as emulator:
        emulator.stop_services("github")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{emulator.github_url}/rate_limit", timeout=1)
        assert httpx.get(f"{emulator.arxiv_url}?id_list=", timeout=1).status_code == 200
        emulator.start_services("github")
        answer = httpx.get(
            f"{emulator.github_url}/rate_limit", headers={"User-Agent": "t"}, timeout=1
        )
        assert answer.status_code == 200
