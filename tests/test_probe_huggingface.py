"""The Hub probe through the real huggingface_hub client against the emulator, one hostile
behaviour at a time: it returns within its timeouts, never raises, never cries wolf."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from huggingface_hub import HfApi, set_client_factory
from huggingface_hub import constants as hf_constants
from huggingface_hub.utils._http import default_client_factory

from monitor.catalog.kinds import identify
from monitor.emulator import Emulator, World
from monitor.emulator import huggingface as emulated_hub
from monitor.model import Kind, Observation, Outcome, Source
from monitor.probes.huggingface import LIST_THRESHOLD, HuggingFaceProbe, install_client
from monitor.probes.huggingface_http import BROKEN_AFTER, HubClient, Verdict, read_json

NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)
TIMEOUT = 0.5
BACKOFF = 0.05
#: the most one source may take: three attempts that each time out, and the two pauses
WORST = 3 * TIMEOUT + 3 * BACKOFF + 0.6
#: the fixture's probes ask each repository by itself unless a test names a threshold: most
#: tests here are about one request's fate, which an owner's listing would stand in for
ONE_BY_ONE = 100

Make = Callable[..., HuggingFaceProbe]


def source(url: str) -> Source:
    resource = identify(url)
    return Source(resource.key, resource.url, resource.kind)


def models(*names: str) -> list[Source]:
    return [source(f"https://huggingface.co/{name}") for name in names]


def check(probe: HuggingFaceProbe, sources: list[Source]) -> tuple[dict[str, Observation], float]:
    """Every observation by source URL, and how long the probe took."""
    started = time.monotonic()
    found = list(probe.observe(sources, NOW))
    took = time.monotonic() - started
    assert sorted(o.key for o in found) == sorted(s.key for s in sources)
    urls = {s.key: s.url.removeprefix("https://huggingface.co/") for s in sources}
    return {urls[o.key]: o for o in found}, took


def outcomes(found: dict[str, Observation]) -> dict[str, str]:
    return {name: o.outcome.value for name, o in found.items()}


@pytest.fixture
def hub(world: World, emulator: Emulator) -> Iterator[Make]:
    """Probes on the emulated Hub, with short timeouts and tiny pauses."""
    for name in ("org/a", "org/b", "org/c", "org/d", "solo/one", "solo/two"):
        world.add_hf_repo(name, likes=7, last_modified="2026-10-01T00:00:00Z")
    counter = install_client(timeout=TIMEOUT)

    def make(endpoint: str | None = None, **options: Any) -> HuggingFaceProbe:
        settings: dict[str, Any] = {
            "timeout": TIMEOUT,
            "backoff": BACKOFF,
            "list_threshold": ONE_BY_ONE,
            **options,
        }
        api = HfApi(endpoint=endpoint or emulator.hf_url, token=False)
        return HuggingFaceProbe(api, token=None, counter=lambda: counter.count, **settings)

    yield make
    # huggingface_hub's client is process-wide: leave it as other tests expect it.
    set_client_factory(default_client_factory)


def asked(world: World, fragment: str) -> int:
    return sum(1 for r in world.requests("hf") if fragment in r.path + "?" + r.query)


def test_healthy_kinds_and_relative_307_renames(world: World, hub: Make) -> None:
    """Models, datasets, spaces and owners answer OK; a rename's relative 307 is followed."""
    world.add_hf_repo("bert-base-uncased", likes=3)
    world.hf_rename("bert-base-uncased", "google-bert/bert-base-uncased")
    world.add_hf_repo("bigscience/P3", "dataset", likes=2)
    world.add_hf_repo("org/demo", "space", likes=1)
    world.add_hf_owner("decapoda-research", "org")
    legacy = Source("hf:bert", "https://huggingface.co/bert-base-uncased", Kind.HF_MODEL)
    sources = [
        *models("org/a"),
        legacy,
        source("https://huggingface.co/datasets/bigscience/P3"),
        source("https://huggingface.co/spaces/org/demo"),
        source("https://huggingface.co/decapoda-research"),
    ]
    probe = hub()
    found, _ = check(probe, sources)
    assert {o.outcome for o in found.values()} == {Outcome.OK}
    renamed = found["bert-base-uncased"].facts
    assert renamed is not None and renamed.name == "google-bert/bert-base-uncased"
    assert [r.status for r in world.requests("hf") if "bert" in r.path] == [307, 200]
    assert "expand=likes" in next(r.query for r in world.requests("hf") if "google-bert" in r.path)
    assert found["org/a"].facts is not None and found["org/a"].facts.stars == 7
    assert probe.figures().requests == len(world.requests("hf"))


def test_the_hubs_own_verdicts_stand(world: World, hub: Make) -> None:
    """Deleted (anonymous 401 RepoNotFound) is not-found, disabled blocked, gated still OK."""
    world.hf_delete("org/a")
    world.hf_disable("org/b")
    world.hf_gate("org/c", "manual")
    found, _ = check(hub(), models("org/a", "org/b", "org/c"))
    assert outcomes(found) == {"org/a": "not_found", "org/b": "blocked", "org/c": "ok"}
    gated = found["org/c"].facts
    assert gated is not None and gated.gated == "manual"


def test_a_refused_token_defers_everything(world: World, emulator: Emulator, hub: Make) -> None:
    """A token the Hub refuses (401 Invalid credentials): deferred, once, and said so."""
    world.hf_tokens = {"hf_good"}
    counter = install_client(timeout=TIMEOUT)
    api = HfApi(endpoint=emulator.hf_url, token="hf_bad")
    probe = HuggingFaceProbe(api, token="hf_bad", counter=lambda: counter.count, workers=1)
    found, _ = check(probe, models("org/a", "org/b", "solo/one"))
    assert set(outcomes(found).values()) == {"deferred"}
    (only,) = world.requests("hf")
    assert only.path == "/api/models" and only.status == 401  # org's listing, by default
    assert probe.figures().errors == [
        "the Hub refused the token (401 Invalid credentials): check HF_TOKEN: "
        "3 source(s) deferred to the next run"
    ]


def test_hf_hub_offline_defers_without_a_request(
    world: World, hub: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HF_HUB_OFFLINE makes huggingface_hub refuse every request: deferred, not a crash."""
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    probe = hub()
    found, _ = check(probe, models("org/a", "solo/one"))
    assert set(outcomes(found).values()) == {"deferred"}
    assert world.requests("hf") == [] and probe.figures().requests == 0


def test_listing_follows_link_pages_and_asks_the_unlisted_alone(
    world: World, hub: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An owner's listing is paged by `Link: rel="next"`; a renamed entry is asked by itself."""
    monkeypatch.setattr(emulated_hub, "PAGE_SIZE", 2)
    world.add_hf_repo("org/e")
    world.add_hf_repo("org/old-name")
    world.hf_rename("org/old-name", "org/new-name")
    names = ("org/a", "org/b", "org/c", "org/d", "org/e", "org/old-name")
    found, _ = check(hub(list_threshold=5), models(*names))
    assert set(outcomes(found).values()) == {"ok"}
    pages = [r for r in world.requests("hf") if r.path == "/api/models"]
    assert len(pages) == 3 and all("author=org" in r.query for r in pages)
    assert asked(world, "/api/models/org/a") == 0 and asked(world, "org/old-name") == 1
    renamed = found["org/old-name"].facts
    assert renamed is not None and renamed.name == "org/new-name"


def test_the_default_lists_an_owner_with_two_entries(
    world: World, emulator: Emulator, hub: Make
) -> None:
    """By default two entries of one owner cost one listing; a lone entry is asked alone."""
    counter = install_client(timeout=TIMEOUT)
    api = HfApi(endpoint=emulator.hf_url, token=False)
    probe = HuggingFaceProbe(api, token=None, counter=lambda: counter.count)
    assert probe.list_threshold == LIST_THRESHOLD == 2
    found, _ = check(probe, models("org/a", "org/b", "solo/one"))
    assert set(outcomes(found).values()) == {"ok"}
    assert found["org/b"].facts is not None and found["org/b"].facts.stars == 7
    paths = sorted(r.path for r in world.requests("hf"))
    assert paths == ["/api/models", "/api/models/solo/one"]
    assert probe.figures().requests == 2


def test_a_listing_stops_once_one_entry_is_missing(
    world: World, hub: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once at most one wanted entry is unlisted, no further page: that one is asked alone."""
    monkeypatch.setattr(emulated_hub, "PAGE_SIZE", 2)
    found, _ = check(hub(list_threshold=2), models("org/a", "org/b", "org/d"))
    assert set(outcomes(found).values()) == {"ok"}
    # Page 1 holds org/a and org/b; org/d (page 2) costs one request, not another page.
    assert [r.path for r in world.requests("hf") if r.path == "/api/models"] == ["/api/models"]
    assert asked(world, "/api/models/org/d") == 1 and asked(world, "/api/models/org/a") == 0


def test_a_big_owners_listing_reads_no_more_pages_than_entries(
    world: World, hub: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other repositories listed first: at most k pages for k entries, then one by one."""
    monkeypatch.setattr(emulated_hub, "PAGE_SIZE", 2)
    for n in range(10):
        world.add_hf_repo(f"big/0-other-{n:02d}")  # ids that sort before the catalog's
    world.add_hf_repo("big/x", likes=3)
    world.add_hf_repo("big/y", likes=4)
    found, _ = check(hub(list_threshold=2), models("big/x", "big/y"))
    assert outcomes(found) == {"big/x": "ok", "big/y": "ok"}
    assert found["big/y"].facts is not None and found["big/y"].facts.stars == 4
    pages = [r for r in world.requests("hf") if r.path == "/api/models"]
    assert len(pages) == 2  # the owner's listing has 6 pages
    assert asked(world, "/api/models/big/x") == 1 and asked(world, "/api/models/big/y") == 1
    assert len(world.requests("hf")) == 4


def test_an_owner_listed_on_one_page_costs_one_request(world: World, hub: Make) -> None:
    """Every wanted entry on the listing's first page: one request for all of them."""
    for n in range(3):
        world.add_hf_repo(f"org/extra-{n}", "dataset", likes=n)
    sources = [source(f"https://huggingface.co/datasets/org/extra-{n}") for n in range(3)]
    found, _ = check(hub(list_threshold=2), sources)
    assert {o.outcome for o in found.values()} == {Outcome.OK}
    (only,) = world.requests("hf")
    assert only.path == "/api/datasets" and "author=org" in only.query
    assert found["datasets/org/extra-2"].facts is not None
    assert found["datasets/org/extra-2"].facts.stars == 2


def test_stalled_info_times_out_and_the_others_answer(world: World, hub: Make) -> None:
    """A Hub that never answers one request: transient within its timeouts, the rest OK."""
    world.chaos.inject("hf", "stall", path="org/b")
    probe = hub()
    found, took = check(probe, models("org/a", "solo/one", "org/b"))
    assert outcomes(found) == {"org/a": "ok", "solo/one": "ok", "org/b": "transient"}
    assert "no answer from the Hub within 0.5 s" in (found["org/b"].error or "")
    assert asked(world, "org/b") == 3  # two retries
    assert took < WORST


def test_one_stall_is_retried(world: World, hub: Make) -> None:
    """A request stalled once is asked again, and answers."""
    world.chaos.inject("hf", "stall", path="org/b", times=1)
    found, took = check(hub(), models("org/b"))
    assert outcomes(found) == {"org/b": "ok"}
    assert took < TIMEOUT + 0.5


def test_stalled_listing_falls_back_to_one_by_one(world: World, hub: Make) -> None:
    """A stalled owner listing costs one timeout; its entries are then asked one by one."""
    world.chaos.inject("hf", "stall", path=r"^/api/models\?")
    found, took = check(hub(list_threshold=4), models("org/a", "org/b", "org/c", "org/d"))
    assert set(outcomes(found).values()) == {"ok"}
    assert asked(world, "/api/models?") == 1  # a listing is not retried
    assert took < TIMEOUT + 0.5


def test_a_dripping_body_ends_at_the_deadline(world: World, hub: Make) -> None:
    """An answer trickling in under every read timeout is cut at the request's total deadline."""
    world.chaos.inject("hf", "drip", path="org/b", drip_interval=0.1, drip_chunks=30)
    found, took = check(hub(), models("org/a", "org/b"))
    assert outcomes(found) == {"org/a": "ok", "org/b": "transient"}
    assert "took more than 0.5 s in all" in (found["org/b"].error or "")
    assert took < WORST


def test_resets_are_retried_then_transient(world: World, hub: Make) -> None:
    """A connection reset every time: two retries, then transient; the others OK."""
    world.chaos.inject("hf", "reset", path="org/b")
    found, took = check(hub(), models("org/a", "org/b"))
    assert outcomes(found) == {"org/a": "ok", "org/b": "transient"}
    assert "reset" in (found["org/b"].error or "").lower()
    assert asked(world, "org/b") == 3 and took < 1.0


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_then_transient(world: World, hub: Make, status: int) -> None:
    """5xx (the Hub's JSON 500, its proxy's HTML 503): two retries, then transient."""
    world.chaos.inject("hf", "5xx", path="org/b", status=status)
    found, took = check(hub(), models("org/a", "org/b"))
    assert outcomes(found) == {"org/a": "ok", "org/b": "transient"}
    assert found["org/b"].http_status == status and asked(world, "org/b") == 3
    assert took < 1.0


def test_429_on_info_defers_the_rest_without_sleeping(world: World, hub: Make) -> None:
    """A 429 asking to wait an hour: what is not yet asked is deferred, at once."""
    world.chaos.inject("hf", "429", path="org/b", retry_after=3600)
    probe = hub(workers=1)
    found, took = check(probe, models("org/a", "org/b", "org/c", "solo/one"))
    assert outcomes(found) == {
        "org/a": "ok",
        "org/b": "deferred",
        "org/c": "deferred",
        "solo/one": "deferred",
    }
    assert took < 0.5
    assert asked(world, "org/c") == 0 and asked(world, "solo/one") == 0
    figures = probe.figures()
    assert figures.deferred == 3 and figures.remaining == 0 and figures.requests == 2
    assert figures.errors == [
        "the Hub's rate limit is spent (429; it asks to wait 3600 s): "
        "3 source(s) deferred to the next run"
    ]


def test_429_on_the_listing_defers_everything(world: World, hub: Make) -> None:
    """A 429 on an owner listing defers its entries and every other source, without a wait."""
    world.chaos.inject("hf", "429", path=r"^/api/models\?", retry_after=3600)
    probe = hub(workers=1, list_threshold=3)
    found, took = check(probe, models("org/a", "org/b", "org/c", "solo/one"))
    assert set(outcomes(found).values()) == {"deferred"}
    assert took < 0.5 and len(world.requests("hf")) == 1
    assert probe.figures().deferred == 4


def test_captive_portal_html_is_transient(world: World, hub: Make) -> None:
    """200 text/html where JSON was expected: transient, saying so, never a crash."""
    world.chaos.inject("hf", "portal", path="org/b")
    found, _ = check(hub(), models("org/a", "org/b"))
    assert outcomes(found) == {"org/a": "ok", "org/b": "transient"}
    assert found["org/b"].error == (
        "unreadable answer from the Hub: HTML where JSON was expected (a captive portal or proxy?)"
    )


def test_a_portal_on_everything_defers_the_rest(world: World, hub: Make) -> None:
    """Behind a portal, BROKEN_AFTER sources fail; the rest are deferred, not each asked."""
    world.chaos.inject("hf", "portal")
    names = [f"org/m{i}" for i in range(BROKEN_AFTER + 3)]
    probe = hub(workers=1, list_threshold=100)
    found, _ = check(probe, models(*names))
    values = [found[name].outcome.value for name in names]
    assert values == ["transient"] * BROKEN_AFTER + ["deferred"] * 3
    assert len(world.requests("hf")) == BROKEN_AFTER
    assert probe.figures().errors == [
        f"the Hub failed {BROKEN_AFTER} sources in a row: 3 source(s) deferred to the next run"
    ]


def test_truncated_bodies_are_transient(world: World, hub: Make) -> None:
    """A body cut short (the full Content-Length declared): retried, then transient."""
    world.chaos.inject("hf", "truncated", path="org/b")
    found, _ = check(hub(), models("org/a", "org/b"))
    assert outcomes(found) == {"org/a": "ok", "org/b": "transient"}
    assert "closed before the answer was complete" in (found["org/b"].error or "")


def test_truncated_listing_falls_back(world: World, hub: Make) -> None:
    """A listing cut short is replaced by one request per entry."""
    world.chaos.inject("hf", "truncated", path=r"^/api/models\?")
    found, _ = check(hub(list_threshold=4), models("org/a", "org/b", "org/c", "org/d"))
    assert set(outcomes(found).values()) == {"ok"}


@pytest.mark.parametrize("where", ["scheme", "host"])
def test_redirects_away_are_not_followed(
    world: World, hub: Make, emulator: Emulator, where: str
) -> None:
    """A redirect to https:// or to another host: not followed, transient, saying where."""
    port = emulator.hf_url.rsplit(":", 1)[1]
    target = {
        "scheme": f"https://127.0.0.1:{port}/api/models/org/b",
        "host": f"http://127.0.0.2:{port}/portal/login?continue=x",
    }[where]
    world.chaos.inject("hf", "redirect-away", path="org/b", location=target, status=302)
    found, _ = check(hub(), models("org/a", "org/b"))
    assert outcomes(found) == {"org/a": "ok", "org/b": "transient"}
    assert found["org/b"].error == f"the Hub redirected to {target.split('?')[0]}; not followed"
    assert asked(world, "org/b") == 1


def test_a_hub_that_stalls_everything_is_down_after_three(world: World, hub: Make) -> None:
    """Three requests in a row unanswered: the Hub is down, the rest are deferred at once."""
    world.chaos.inject("hf", "stall")
    names = [f"org/m{i}" for i in range(10)]
    probe = hub(workers=4, list_threshold=100)
    found, took = check(probe, models(*names))
    values = sorted(o.outcome.value for o in found.values())
    assert values == ["deferred"] * 6 + ["transient"] * 4
    assert len(world.requests("hf")) == 4 and took < TIMEOUT + 0.5
    assert not any(o.outcome is Outcome.NOT_FOUND for o in found.values())


def test_offline_finishes_at_once_and_quietly(
    hub: Make, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Nothing listening: production backoff and timeout, still < 2 s, network, no "Retrying"."""
    caplog.set_level(logging.DEBUG)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    sources = [*models(*(f"org/m{i}" for i in range(20))), *models("solo/x", "solo/y")]
    probe = hub(endpoint=f"http://127.0.0.1:{port}", timeout=20.0, backoff=1.0, list_threshold=5)
    found, took = check(probe, sources)
    assert took < 2.0
    assert {o.outcome for o in found.values()} == {Outcome.NETWORK}
    assert "Retrying" not in caplog.text and "Retrying" not in "".join(capfd.readouterr())
    (line,) = probe.figures().errors
    assert line.startswith("the Hub gave no answer to 3 requests in a row (could not connect")


def test_closing_the_generator_stops_every_request(world: World, hub: Make) -> None:
    """Closed after its first observation, the probe asks nothing more and leaves no thread."""
    world.set_latency(0.05, "hf")
    names = [f"org/m{i}" for i in range(12)]
    for name in names:
        world.add_hf_repo(name)
    probe = hub(workers=2, list_threshold=100)
    observations = probe.observe(models(*names), NOW)
    first = next(observations)
    assert first.outcome is Outcome.OK
    workers = [t for t in threading.enumerate() if t.name.startswith("hf-probe-")]
    assert workers and all(t.daemon for t in workers)
    observations.close()
    for worker in workers:
        worker.join(timeout=1.0)
        assert not worker.is_alive()
    time.sleep(0.2)  # requests are logged when answered: let those in flight land
    made = len(world.requests("hf"))
    # The first, and per worker at most the one in flight and one sent as the close came.
    assert made <= 1 + 2 * 2 < len(names)
    time.sleep(0.3)
    assert len(world.requests("hf")) == made == probe.figures().requests


def test_closing_during_a_stall_leaves_only_daemon_threads(world: World, hub: Make) -> None:
    """Closed while a request stalls: that thread is a daemon and ends at its timeout."""
    world.chaos.inject("hf", "stall", path="org/b")
    observations = hub(workers=2).observe(models("org/a", "org/b", "org/c"), NOW)
    next(observations)
    observations.close()
    workers = [t for t in threading.enumerate() if t.name.startswith("hf-probe-")]
    assert all(t.daemon for t in workers)
    for worker in workers:
        worker.join(timeout=TIMEOUT + 0.5)
        assert not worker.is_alive()
    assert asked(world, "org/b") == 1  # not retried after the close


def test_unreadable_answers_say_what_came_instead() -> None:
    """HTML, text, cut JSON, an empty body, the wrong JSON shape: a transient verdict each."""
    request = httpx2.Request("GET", "https://huggingface.co/api/models/a/b")
    cases = [
        ("text/html", b"<html>sign in</html>", "HTML where JSON was expected"),
        ("text/plain", b"hello", "text/plain that is not JSON where JSON was expected"),
        ("application/json", b'{"id": "a/b", "lik', "JSON that does not parse"),
        ("application/json", b"", "an empty body where JSON was expected"),
        ("application/json", b'["a/b"]', "JSON list where an object was expected"),
    ]
    for kind, body, said in cases:
        response = httpx2.Response(
            200, headers={"Content-Type": kind}, content=body, request=request
        )
        with pytest.raises(Verdict) as caught:
            read_json(response, dict)
        assert caught.value.outcome is Outcome.TRANSIENT and said in (caught.value.error or "")


def test_a_next_page_on_another_host_is_not_asked() -> None:
    """A `Link: rel="next"` to another host would carry the token there: not followed."""
    client = HubClient("https://huggingface.co", {}, timeout=TIMEOUT, backoff=BACKOFF)
    request = httpx2.Request("GET", "https://huggingface.co/api/models?author=org")
    elsewhere = httpx2.Response(
        200,
        headers={"Link": '<https://evil.example/api/models?cursor=2>; rel="next"'},
        request=request,
    )
    with pytest.raises(Verdict, match="not followed"):
        client.next_page(elsewhere)
    relative = httpx2.Response(
        200, headers={"Link": '</api/models?cursor=2>; rel="next"'}, request=request
    )
    assert client.next_page(relative) == "https://huggingface.co/api/models?cursor=2"
