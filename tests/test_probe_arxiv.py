"""The arXiv probe: many ids per request, one request every 3 s, versions and withdrawals."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.emulator import Emulator, World
from monitor.model import Kind, Outcome, Source
from monitor.probes.arxiv import ArxivProbe, parse_feed

NOW = datetime(2026, 11, 21, 6, tzinfo=UTC)


def source(url: str) -> Source:
    from monitor.catalog.kinds import identify

    return Source(identify(url).key, url, Kind.ARXIV)


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
    found = list(
        probe.observe([source(f"https://arxiv.org/abs/2301.{i:05d}") for i in range(25)], NOW)
    )
    assert len(found) == 25 and {o.outcome for o in found} == {Outcome.OK}
    assert world.counts["arxiv"] == 3
    assert clock.slept == [3.0, 3.0]


def test_throttled_then_answered(world: World, emulator: Emulator) -> None:
    """A 503 "Rate exceeded." is waited out and asked again; a lasting one is transient."""
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    world.arxiv_min_interval = 60.0
    clock = Clock()
    probe = ArxivProbe(emulator.arxiv_url, interval=0.0, clock=clock, sleep=clock.sleep)
    first = list(probe.observe([source("https://arxiv.org/abs/2106.09685")], NOW))
    assert first[0].outcome is Outcome.OK
    again = list(probe.observe([source("https://arxiv.org/abs/2106.09685")], NOW))
    assert again[0].outcome is Outcome.TRANSIENT and again[0].http_status == 503
    assert world.counts["arxiv"] == 4


def test_withdrawn_and_error_entries() -> None:
    """A withdrawn paper says so; an "Error" entry is not mistaken for a paper."""
    feed = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <entry><id>http://arxiv.org/abs/2304.00001v2</id><updated>2023-05-01T00:00:00Z</updated>
    <title>Oops</title>
    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">This paper has been withdrawn
    by the author.</arxiv:comment></entry>
  <entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_x</id><title>Error</title></entry>
</feed>"""
    found = parse_feed(feed)
    assert list(found) == ["2304.00001"]
    assert found["2304.00001"].withdrawn is True and found["2304.00001"].version == "v2"


def test_unreachable_api_is_a_network_failure() -> None:
    """An API that cannot be reached gives network outcomes at once, without retrying."""
    clock = Clock()
    probe = ArxivProbe("http://127.0.0.1:1/api/query", clock=clock, sleep=clock.sleep)
    (found,) = probe.observe([source("https://arxiv.org/abs/2106.09685")], NOW)
    assert found.outcome is Outcome.NETWORK and clock.slept == []
