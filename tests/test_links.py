"""Dead links without false alarms: `monitor check` over simulated days: pages, paths, papers."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.emulator import Emulator, World
from tests.conftest import ROOT
from tests.harness import Monitor, events

HOSTS = (
    "good.example",
    "gone.example",
    "flaky.example",
    # One host per wall: a 429 asking for 120 s leaves its own host alone for the run.
    "walls.example",
    "cf-wall.example",
    "robot-wall.example",
    "moved.example",
    "back.example",
    "soft.example",
)
PAGES: dict[str, tuple[Any, ...]] = {
    "https://good.example/": ("ok",),
    "https://gone.example/404": (404,),
    "https://gone.example/410": (410,),
    "https://flaky.example/page": ("ok", 503, "ok", "reset", 503, "ok"),
    "https://walls.example/429": (429,),
    "https://cf-wall.example/cf": ("cf-challenge",),
    "https://robot-wall.example/999": (999,),
    "https://moved.example/old": ("redirect",),
    "https://moved.example/new": ("ok",),
    "https://back.example/page": (404,),
    "https://soft.example/article": ("soft-404",),
}
UNKNOWN = "https://nxdomain.invalid/page"
PATH = "https://github.com/lm-sys/FastChat/tree/main/fastchat/eval"
PAPER = "https://arxiv.org/abs/2106.09685"


def catalog() -> str:
    urls = [*PAGES, UNKNOWN, PATH, PAPER]
    return "".join(f'[[source]]\nurl = "{url}"\n\n' for url in urls)


@pytest.fixture
def nxdomain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under .invalid do not resolve, answered at once, as a resolver's NXDOMAIN is."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.fixture
def links(
    tmp_path: Path,
    world: World,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    nxdomain: None,
) -> Monitor:
    for url, behaviour in PAGES.items():
        world.set_page(url, *behaviour, retry_after=120, location="https://moved.example/new")
    world.add_repo("lm-sys/FastChat", files=["fastchat/eval/README.md"])
    world.add_paper("2106.09685", "LoRA", ["2021-06-17T00:00:00Z"])
    monitor = Monitor(tmp_path, emulator, monkeypatch, catalog())
    web = emulator.web_url.removeprefix("http://")
    monkeypatch.setenv("MONITOR_CONNECT_TO", ",".join(f"{h}={web}" for h in HOSTS))
    monkeypatch.setenv("MONITOR_PROBES_WEB_RETRY_BACKOFF_MS", "1")
    return monitor


def day(n: int) -> str:
    return (datetime(2026, 11, 1, 6, tzinfo=UTC) + timedelta(days=n - 1)).isoformat()


def test_links_over_days(links: Monitor, world: World) -> None:
    """Dead on the 3rd check 48 h on; walls and flakes never; redirects, recoveries, versions."""
    code, first = links.check(day(1))
    health = links.health(day(1)[:10])
    assert health["https://gone.example/404"] == "suspect"
    assert health[UNKNOWN] == "suspect"
    assert health["https://soft.example/article"] == "suspect"
    assert health["https://cf-wall.example/cf"] == "unknown"  # no conclusive answer yet
    redirected = [e for e in first["events"] if e["event"] == "redirected"]
    assert [(e["url"], e["new_url"]) for e in redirected] == [
        ("https://moved.example/old", "https://moved.example/new")
    ]
    assert code == 0 and not first["runs"][0]["degraded"]

    world.remove_path("lm-sys/FastChat", "fastchat/eval")
    world.add_version("2106.09685", "2026-11-01T12:00:00Z")
    _, second = links.check(day(2))
    assert events(second, day(2)[:10]) == {"new_version": 1}
    assert links.health(day(2)[:10])[PATH] == "suspect"

    code, third = links.check(day(3))
    dead = {e["url"] for e in third["events"] if e["event"] == "dead"}
    assert dead == {
        "https://gone.example/404",
        "https://gone.example/410",
        UNKNOWN,
        "https://back.example/page",
        "https://soft.example/article",
    }
    assert code == 1

    _, fourth = links.check(day(4))
    assert {e["url"] for e in fourth["events"] if e["event"] == "dead"} == {PATH}

    world.set_page("https://back.example/page", "ok")
    _, fifth = links.check(day(5))  # one good answer after a verdict is not enough
    assert [e for e in fifth["events"] if e["event"] == "recovered"] == []
    _, sixth = links.check(day(6))
    recovered = [e for e in sixth["events"] if e["event"] == "recovered"]
    assert [(e["url"], e["old"]) for e in recovered] == [("https://back.example/page", "dead")]

    for n in range(7, 11):
        links.check(day(n))
    never = (
        "https://flaky.example/page",
        "https://walls.example/429",
        "https://cf-wall.example/cf",
        "https://robot-wall.example/999",
    )
    every = [e for n in range(1, 11) for e in links.report(day(n)[:10])["events"]]
    # The flaky page: ten days of 200/503/reset, not one event, not one alert.
    assert [e["event"] for e in every if e["url"] == "https://flaky.example/page"] == ["added"]
    # Bot walls and 429s are never dead nor unreachable: after 3 days they are unverifiable.
    walls = [(e["url"], e["event"], e["at"][:10]) for e in every if e["url"] in never[1:]]
    assert sorted(walls) == [(url, "unverifiable", "2026-11-04") for url in sorted(never[1:])]
    assert not any(e["alert"] for e in every if e["url"] in never[1:])
    final = links.health(day(10)[:10])
    assert final["https://flaky.example/page"] == "ok"


def test_report_puts_dead_links_first(links: Monitor) -> None:
    """Dead links lead the report, each with how long it has failed and the last answer seen."""
    for n in (1, 2, 3):
        links.check(day(n))
    text = (links.reports / f"{day(3)[:10]}.md").read_text()
    action = text[text.index("## Needs action") : text.index("## Activity")]
    assert action.index("### Dead links") < action.index("### ") + 1
    assert "https://gone.example/404" in action
    assert "failing since 2026-11-01" in action and "last: HTTP 404" in action


def test_per_host_limit_from_the_request_log(
    links: Monitor, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirty slow pages of one host: the emulator never sees more than 4 at once."""
    extra = [f"https://good.example/p{i}" for i in range(30)]
    for url in extra:
        world.set_page(url, "ok")
    links.catalog.write_text(catalog() + "".join(f'[[source]]\nurl = "{u}"\n\n' for u in extra))
    # Slow answers (0.3 s) against 50 ms spacing: without the limit, six would overlap.
    world.set_latency(0.3, "web")
    links.check(day(1))
    assert world.max_in_flight["good.example"] == 4
    assert max(world.max_in_flight[h] for h in HOSTS) <= 4


def test_refused_everywhere_is_degraded(
    tmp_path: Path, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every host refusing connections for three runs over 48 hours: degraded runs, nothing dead."""
    monitor = Monitor(tmp_path, emulator, monkeypatch, catalog())
    for name in ("MONITOR_GITHUB_API_URL", "MONITOR_HF_ENDPOINT"):
        monkeypatch.setenv(name, "http://127.0.0.1:1")
    monkeypatch.setenv("MONITOR_ARXIV_API_URL", "http://127.0.0.1:1/api/query")
    monkeypatch.setenv("MONITOR_CONNECT_TO", "*=127.0.0.1:1")
    monkeypatch.setenv("MONITOR_PROBES_WEB_RETRY_BACKOFF_MS", "1")
    for n in (1, 2, 3):
        code, report = monitor.check(day(n))
        assert code == 0 and report["runs"][-1]["degraded"] is True
        assert events(report) == {}
    text = (monitor.reports / f"{day(3)[:10]}.md").read_text()
    assert "**Degraded:**" in text


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine, as it is: no name resolves (every lookup answers EAI_NONAME)."""

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_offline_machine_declares_nothing_dead(
    tmp_path: Path, offline: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real catalog with no internet, three days running: nothing dead, "degraded" said."""
    catalog = tmp_path / "sources.toml"
    catalog.write_text((ROOT / "sources.toml").read_text())
    monkeypatch.setenv("MONITOR_CATALOG", str(catalog))
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{tmp_path / 'monitor.db'}")
    monkeypatch.setenv("MONITOR_REPORTS_DIR", str(tmp_path / "reports"))
    for n in (1, 2, 3):
        result = CliRunner().invoke(main, ["check", "--now", day(n)])
        assert result.exit_code == 0, result.output
        assert "DEGRADED: most hosts unreachable" in result.output
        assert "0 event(s)" in result.output
    text = (tmp_path / "reports" / f"{day(3)[:10]}.md").read_text()
    assert "**Degraded:**" in text and "Nothing needs action." in text
