"""The emulated arXiv export API and web hosts, driven with httpx over real HTTP."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import httpx
import pytest

from monitor.emulator import Emulator, World

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def feed(emulator: Emulator, ids: str) -> ET.Element:
    answer = httpx.get(emulator.arxiv_url, params={"id_list": ids, "max_results": 50})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    return ET.fromstring(answer.content)


def test_entries_carry_the_latest_version(world: World, emulator: Emulator) -> None:
    """An entry's id ends in the latest version; published is v1, updated the latest."""
    world.add_paper(
        "2106.09685",
        "LoRA: Low-Rank Adaptation of Large Language Models",
        ["2021-06-17T17:37:18Z", "2021-10-16T16:27:40Z"],
    )
    root = feed(emulator, "2106.09685")
    assert root.findtext(f"{OPENSEARCH}totalResults") == "1"
    (entry,) = root.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == "http://arxiv.org/abs/2106.09685v2"
    assert entry.findtext(f"{ATOM}published") == "2021-06-17T17:37:18Z"
    assert entry.findtext(f"{ATOM}updated") == "2021-10-16T16:27:40Z"
    title = " ".join((entry.findtext(f"{ATOM}title") or "").split())
    assert title == "LoRA: Low-Rank Adaptation of Large Language Models"
    # The feed's own id and link come first, so "the first link" is not a paper's.
    assert root[0].tag == f"{ATOM}link" and "api/query" in root[0].attrib["href"]


def test_version_requests_and_new_versions(world: World, emulator: Emulator) -> None:
    """Asking for v1 gives v1; a new version shows as v3 on the next query."""
    world.add_paper("2302.13971", "LLaMA", ["2023-02-27T00:00:00Z", "2023-03-01T00:00:00Z"])
    v1 = feed(emulator, "2302.13971v1").find(f"{ATOM}entry")
    assert v1 is not None and v1.findtext(f"{ATOM}id", "").endswith("v1")
    world.add_version("2302.13971", "2023-06-01T00:00:00Z")
    latest = feed(emulator, "2302.13971").find(f"{ATOM}entry")
    assert latest is not None and latest.findtext(f"{ATOM}id", "").endswith("v3")


def test_many_ids_one_request(world: World, emulator: Emulator) -> None:
    """Many ids in one id_list come back in one feed; a missing one is simply absent."""
    for i in range(30):
        world.add_paper(f"2301.{i:05d}", f"Paper {i}", ["2023-01-01T00:00:00Z"])
    ids = ",".join([*(f"2301.{i:05d}" for i in range(30)), "2301.99999"])
    root = feed(emulator, ids)
    assert root.findtext(f"{OPENSEARCH}totalResults") == "30"
    assert len(root.findall(f"{ATOM}entry")) == 30
    assert world.counts["arxiv"] == 1


def test_malformed_id_is_an_error_entry(world: World, emulator: Emulator) -> None:
    """A malformed id gives HTTP 200 with one entry titled Error, which is not a paper."""
    (entry,) = feed(emulator, "not-an-id").findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Error"
    assert "api/errors#incorrect_id_format" in (entry.findtext(f"{ATOM}id") or "")


def test_withdrawn_paper(world: World, emulator: Emulator) -> None:
    """A withdrawn paper is still served, as a new version whose comment says so."""
    world.add_paper("2304.00001", "Oops", ["2023-04-01T00:00:00Z"])
    world.add_version("2304.00001", "2023-05-01T00:00:00Z", withdrawn=True)
    entry = feed(emulator, "2304.00001").find(f"{ATOM}entry")
    assert entry is not None and entry.findtext(f"{ATOM}id", "").endswith("v2")
    comment = entry.findtext("{http://arxiv.org/schemas/atom}comment") or ""
    assert "withdrawn" in comment


def test_throttle(world: World, emulator: Emulator) -> None:
    """With a minimum interval set, a request sooner than that is 503 "Rate exceeded."."""
    world.arxiv_min_interval = 60.0
    assert httpx.get(emulator.arxiv_url, params={"id_list": "2106.09685"}).status_code == 200
    too_soon = httpx.get(emulator.arxiv_url, params={"id_list": "2106.09685"})
    assert (too_soon.status_code, too_soon.text) == (503, "Rate exceeded.")


# --- web hosts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "status"),
    [("ok", 200), (404, 404), (410, 410), (500, 500), (502, 502), (999, 999)],
)
def test_status_pages(world: World, emulator: Emulator, behaviour: str | int, status: int) -> None:
    """A page answers the status it was given, to GET and HEAD alike."""
    world.set_page("/p", behaviour)  # type: ignore[arg-type]
    assert httpx.get(emulator.page_url("/p")).status_code == status
    assert httpx.head(emulator.page_url("/p")).status_code == status


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after(world: World, emulator: Emulator, status: int) -> None:
    """429 and 503 carry Retry-After."""
    world.set_page("/busy", status, retry_after=17)
    answer = httpx.get(emulator.page_url("/busy"))
    assert answer.status_code == status and answer.headers["retry-after"] == "17"


def test_bot_walls_and_soft_404(world: World, emulator: Emulator) -> None:
    """cf-challenge is 403 with cf-mitigated; captcha and soft-404 are 200 pages that say so."""
    world.set_page("/cf", "cf-challenge")
    world.set_page("/robot", "captcha")
    world.set_page("/gone", "soft-404")
    challenge = httpx.get(emulator.page_url("/cf"))
    assert challenge.status_code == 403 and challenge.headers["cf-mitigated"] == "challenge"
    assert "robot" in httpx.get(emulator.page_url("/robot")).text
    soft = httpx.get(emulator.page_url("/gone"))
    assert soft.status_code == 200 and "<title>Page not found</title>" in soft.text


def test_slow_page_times_out(world: World, emulator: Emulator) -> None:
    """A slow page outlasts a client timeout."""
    world.set_page("/slow", "slow", slow_seconds=2.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(emulator.page_url("/slow"), timeout=0.2)


def test_reset_drops_the_connection(world: World, emulator: Emulator) -> None:
    """A reset page closes the connection without an answer."""
    world.set_page("/reset", "reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(emulator.page_url("/reset"))


def test_redirect_chain(world: World, emulator: Emulator) -> None:
    """301 -> 302 -> 307 -> 308 -> 200 is followed hop by hop, each hop recorded."""
    hops = [("/a", 301, "/b"), ("/b", 302, "/c"), ("/c", 307, "/d"), ("/d", 308, "/final")]
    for path, status, target in hops:
        world.set_page(path, "redirect", redirect_status=status, location=target)
    world.set_page("/final", "ok", title="Arrived")
    answer = httpx.get(emulator.page_url("/a"), follow_redirects=True)
    assert answer.status_code == 200 and "Arrived" in answer.text
    assert [r.status_code for r in answer.history] == [301, 302, 307, 308]


def test_head_refused(world: World, emulator: Emulator) -> None:
    """head-405 refuses HEAD and serves GET."""
    world.set_page("/nohead", "head-405")
    assert httpx.head(emulator.page_url("/nohead")).status_code == 405
    assert httpx.get(emulator.page_url("/nohead")).status_code == 200


def test_alternating_behaviour(world: World, emulator: Emulator) -> None:
    """Several behaviours are cycled per request: 200, 503, 200, 503."""
    world.set_page("/flaky", "ok", 503)
    statuses = [httpx.get(emulator.page_url("/flaky")).status_code for _ in range(4)]
    assert statuses == [200, 503, 200, 503]


def test_virtual_hosts(world: World, emulator: Emulator) -> None:
    """A page set on a full URL is served when that host name arrives in the Host header."""
    world.set_page("https://blog.lucien.ink/archives/538/", "ok", title="Lucien")
    hit = httpx.get(emulator.page_url("/archives/538/"), headers={"Host": "blog.lucien.ink"})
    assert hit.status_code == 200 and "Lucien" in hit.text
    assert httpx.get(emulator.page_url("/archives/538/")).status_code == 404
    assert world.requests("web")[0].host == "blog.lucien.ink"


def test_unknown_page_is_404(emulator: Emulator) -> None:
    """A path nobody set up is 404."""
    assert httpx.get(emulator.page_url("/nothing")).status_code == 404


def test_in_flight_requests_are_counted_per_host(world: World, emulator: Emulator) -> None:
    """max_in_flight records how many requests one host had at once."""
    world.set_page("/slow", "slow", slow_seconds=0.3)
    threads = [
        threading.Thread(target=httpx.get, args=(emulator.page_url("/slow"),)) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert world.max_in_flight[emulator.web_url.removeprefix("http://")] == 3


def test_latency_is_added(world: World, emulator: Emulator) -> None:
    """set_latency delays every answer by at least that much."""
    world.set_page("/p", "ok")
    world.set_latency(0.2, "web")
    answer = httpx.get(emulator.page_url("/p"))
    assert answer.elapsed.total_seconds() >= 0.2


def test_extra_web_addresses_are_distinct_hosts(world: World) -> None:
    """Each extra loopback address serves the pages set for its own host, and only those."""
    with Emulator(world, web_addresses=["127.0.0.2", "127.0.0.3"]) as running:
        first, second = running.web_host_urls
        world.set_page(f"{first}/post", "ok")
        world.set_page(f"{second}/post", 410)
        assert httpx.get(f"{first}/post").status_code == 200
        assert httpx.get(f"{second}/post").status_code == 410
        assert httpx.get(f"{first}/other").status_code == 404
