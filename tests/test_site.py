"""The files every run leaves: the status page (in headless Chromium), feed, badge and metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.catalog.kinds import identify
from monitor.model import (
    Entry,
    Event,
    EventType,
    Facts,
    Health,
    Observation,
    Outcome,
    SourceState,
)
from monitor.outputs import FILES, write_run_files
from monitor.render.site import trend
from monitor.store import Checked, Store

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
HOSTILE = '<script>alert("name")</script><img src=x onerror=alert(1)>'
#: (url, section, name, health, facts, events as (type, days ago, old, new, new_url))
WORLD = [
    (
        "https://github.com/a/ok",
        "Models",
        "Fine repo",
        Health.OK,
        Facts(stars=120, last_commit=datetime(2026, 11, 30, tzinfo=UTC), license="mit"),
        [
            (EventType.STARS_CHANGED, 60, "100", "110", None),
            (EventType.STARS_CHANGED, 10, "110", "120", None),
        ],
    ),
    (
        "https://github.com/a/renamed",
        "Models",
        HOSTILE,
        Health.OK,
        Facts(stars=5, url="https://github.com/b/new-name", license="NOASSERTION", archived=True),
        [(EventType.RENAMED, 3, "a/renamed", "b/new-name", "https://github.com/b/new-name")],
    ),
    (
        "https://huggingface.co/org/model",
        "Models",
        "A model",
        Health.OK,
        Facts(stars=7, gated="manual", license="apache-2.0"),
        [(EventType.LICENSE_CHANGED, 2, "other", HOSTILE, None)],
    ),
    (
        "https://example.org/gone",
        "Blogs",
        "A dead blog",
        Health.DEAD,
        None,
        [(EventType.DEAD, 1, None, None, None)],
    ),
    (
        "https://arxiv.org/abs/2305.01234",
        "Papers",
        "A paper",
        Health.OK,
        Facts(version="v3", title="T"),
        [],
    ),
    ("https://example.org/new", "Blogs", "Never checked", Health.UNKNOWN, None, []),
]


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """A store holding WORLD after one run, and the four files written from it."""
    store = Store.connect(f"sqlite:///{tmp_path / 'monitor.db'}")
    entries = [
        Entry(url, identify(url).kind, identify(url).key, name=name, section=section)
        for url, section, name, *_ in WORLD
    ]
    store.sync_catalog(entries, NOW - timedelta(days=90))
    ids = {s.url: s for s in store.sources()}
    run = store.start_run(NOW)
    batch = []
    for url, _, _, health, facts, events in WORLD:
        source = ids[url]
        stored = tuple(
            Event(kind, source.key, url, source.kind, NOW - timedelta(days=ago), old, new, new_url)
            for kind, ago, old, new, new_url in events
        )
        state = SourceState(health, facts, last_checked_at=NOW)
        if health is not Health.UNKNOWN:
            batch.append(
                Checked(source.id, Observation(source.key, NOW, Outcome.OK, facts), state, stored)
            )
    store.record(run, batch)
    figures = {"services": {"github": {"requests": 3, "remaining": 4990}}, "duration_seconds": 2.5}
    store.finish_run(run, status="completed", degraded=False, figures=figures, finished_at=NOW)
    written = write_run_files(store, NOW, tmp_path / "reports", title="Awesome LLM")
    assert [p.name for p in written] == list(FILES)
    return tmp_path / "reports"


def test_the_page_is_one_self_contained_file(reports: Path) -> None:
    """No script, style or image from elsewhere; every entry a row, in its section."""
    html = (reports / "index.html").read_text()
    own = r"""(src|href)=["'](?!https?://(github|huggingface|example|arxiv))"""
    assert not re.search(own, html), "no link but the entries' own"
    assert "<link" not in html and "@import" not in html and 'src="' not in html
    assert html.count("<tr data-state=") == len(WORLD)
    assert re.findall(r"<h2>(.*?)</h2>", html) == ["Models", "Blogs", "Papers"]
    assert 'data-state="dead"' in html and 'data-kind="hf_model"' in html
    assert 'now at <a href="https://github.com/b/new-name">' in html
    for flag in ("archived", "gated", "v3"):
        assert f'<span class="flag">{flag}</span>' in html
    assert "<polyline" in html  # the stars' trend: 100 → 110 → 120


def test_remote_text_is_escaped_everywhere(reports: Path) -> None:
    """A hostile name and a hostile licence are text in all four files, never markup."""
    html = (reports / "index.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html
    feed = (reports / "feed.atom").read_text()
    assert "<script>" not in feed and "&lt;script&gt;" in feed
    json.loads((reports / "badge.json").read_text())
    from prometheus_client.parser import text_string_to_metric_families

    assert list(text_string_to_metric_families((reports / "monitor.prom").read_text()))


def test_the_trend_is_drawn_inside_its_box() -> None:
    """A series becomes polyline points within 60 x 16; one point draws nothing."""
    points = [tuple(map(float, p.split(","))) for p in trend([100, 110, 105, 120]).split()]
    assert len(points) == 4 and all(0 <= x <= 60 and 0 <= y <= 16 for x, y in points)
    assert points[-1][1] < points[0][1]  # higher is up
    assert trend([5]) == ""


def test_the_feed_badge_and_metrics_say_what_the_store_holds(reports: Path) -> None:
    """Feed: alerting events newest first; badge: 4/6 ok; metrics: states and the run."""
    import feedparser
    from prometheus_client.parser import text_string_to_metric_families

    feed = feedparser.parse((reports / "feed.atom").read_text())
    assert not feed.bozo
    words = [entry.title.split(":")[0] for entry in feed.entries]
    assert words == ["dead", "license_changed", "renamed"]  # newest first; no stars_changed
    assert feed.entries[0].link == "https://example.org/gone"
    badge = json.loads((reports / "badge.json").read_text())
    assert badge["schemaVersion"] == 1 and badge["message"] == "4/6 ok"
    families = {
        f.name: f for f in text_string_to_metric_families((reports / "monitor.prom").read_text())
    }
    states = {s.labels.get("state"): s.value for f in families.values() for s in f.samples
              if "state" in s.labels}  # fmt: skip
    assert states["ok"] == 4 and states["dead"] == 1 and states["unknown"] == 1


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no chromium (Debian's `chromium` package; .ci/run installs it)")
    return found


def browse(page: Path, *args: str, fragment: str = "") -> str:
    """What headless Chromium makes of the page: its DOM after the scripts ran."""
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--virtual-time-budget=3000", *args, page.as_uri() + fragment],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def visible_rows(dom: str) -> list[str]:
    return re.findall(r'<tr data-state="([a-z]+)" data-kind="[a-z_]+">', dom)


def test_chromium_shows_every_row_and_the_filters_work(reports: Path) -> None:
    """In Chromium: a row per entry; #state=dead and #kind=… leave only theirs shown."""
    page = reports / "index.html"
    everything = browse(page, "--dump-dom")
    assert len(visible_rows(everything)) == len(WORLD)
    assert 'id="shown">6 of 6 shown<' in everything
    dead = browse(page, "--dump-dom", fragment="#state=dead")
    assert visible_rows(dead) == ["dead"]
    assert 'id="shown">1 of 6 shown<' in dead
    models = browse(page, "--dump-dom", fragment="#kind=hf_model")
    assert 'id="shown">1 of 6 shown<' in models
    found = browse(page, "--dump-dom", fragment="#q=paper")
    assert 'id="shown">1 of 6 shown<' in found


def test_chromium_screenshot_at_1280_is_not_blank(reports: Path, tmp_path: Path) -> None:
    """A 1280-px-wide screenshot of the page has text and colour on it, not one flat colour."""
    shot = tmp_path / "page.png"
    browse(reports / "index.html", f"--screenshot={shot}", "--window-size=1280,900")
    assert shot.exists() and shot.stat().st_size > 10_000
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size[0] == 1280
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50
