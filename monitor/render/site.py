"""`index.html`: the whole list on one static page, rendered with Jinja2 from plain values.

    write_atomically(path, render_page(Page(title, generated, total, counts, kinds, sections)))

The page works opened from disk: no server, nothing loaded from elsewhere (its
CSS and its one script are inline), readable with scripts off (the script only
adds the filters by state, kind and text). Every remote string goes through
Jinja2's autoescaping (the rows' links are http(s) URLs, `monitor.outputs` sees
to that). Pure: the values come from `monitor.outputs`, which reads the store;
sections and their rows may be generators, rendered as they come.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import jinja2

from monitor.model import Health

#: How a trend is drawn: the last this many points, in a 60 x 16 box.
TREND_POINTS = 30
WIDTH, HEIGHT = 60, 16


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that happened to an entry lately: its day and what it was, in words."""

    day: str
    text: str


@dataclass(frozen=True, slots=True)
class Row:
    """One entry as the page shows it."""

    name: str
    url: str
    kind: str
    state: str
    stars: int | None = None
    #: the polyline of the stars' (likes') trend, "" when there is none to draw
    trend: str = ""
    updated: str | None = None
    license: str | None = None
    flags: tuple[str, ...] = ()
    moved_to: str | None = None
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    rows: Iterable[Row]


@dataclass(frozen=True, slots=True)
class Page:
    title: str
    generated: str
    total: int
    #: (state, count), in the order the filters offer them
    counts: Sequence[tuple[str, int]]
    kinds: Sequence[str]
    sections: Iterable[Section]


def trend(values: Sequence[int]) -> str:
    """An SVG polyline's points for `values` (oldest first), "" for fewer than two."""
    points = list(values)[-TREND_POINTS:]
    if len(points) < 2:
        return ""
    low, high = min(points), max(points)
    span = (high - low) or 1
    step = (WIDTH - 2) / (len(points) - 1)
    return " ".join(
        f"{1 + i * step:.1f},{HEIGHT - 2 - (v - low) / span * (HEIGHT - 4):.1f}"
        for i, v in enumerate(points)
    )


def render_page(page: Page) -> Iterator[str]:
    """The page, in pieces as Jinja2 produces them (never the whole text at once)."""
    return _template().generate(page=page)


def state_order(counts: dict[str, int]) -> list[tuple[str, int]]:
    """States as the filters offer them: the worst first, `ok` and the quiet ones last."""
    order = [
        Health.DELETED,
        Health.DEAD,
        Health.BLOCKED,
        Health.UNREACHABLE,
        Health.SUSPECT,
        Health.UNVERIFIABLE,
        Health.UNKNOWN,
        Health.OK,
    ]
    known = [(h.value, counts[h.value]) for h in order if counts.get(h.value)]
    rest = sorted((s, n) for s, n in counts.items() if s not in {h.value for h in order})
    return known + rest


def page_time(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M UTC")


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("index.html.j2")
