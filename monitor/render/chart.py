"""The weekly digest's star-history chart: series in, SVG text out, the same bytes every time.

Drawn with matplotlib's object API (a `Figure` of its own, never pyplot's global
state, no GUI backend), under an `rc_context` that makes the SVG reproducible:
a fixed `svg.hashsalt` for the ids, no date in the metadata, and text kept as
text (`svg.fonttype = "none"`), which also spares us glyphs DejaVu lacks.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: A week of dates reads best as weekday names; strftime's %a follows the locale, these do not.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Drawn in this order; distinguishable in colour and by marker for readers who cannot tell hues.
_STYLES = (
    ("#1f77b4", "o"),
    ("#d62728", "s"),
    ("#2ca02c", "^"),
    ("#9467bd", "D"),
    ("#ff7f0e", "v"),
)
MAX_SERIES = len(_STYLES)


@dataclass(frozen=True, slots=True)
class StarSeries:
    """One source's star (or like) count over a week, oldest point first.

    `observed` says, point by point, whether monitor checked the source at that moment;
    a point that is not observed (the count carried to the week's start and end) is on
    the line but carries no marker. Empty: every point was observed."""

    label: str
    points: tuple[tuple[datetime, int], ...]
    observed: tuple[bool, ...] = ()

    @property
    def marked(self) -> list[int]:
        """The indices of the observed points: those drawn with a marker."""
        if not self.observed:
            return list(range(len(self.points)))
        return [i for i, seen in enumerate(self.observed) if seen]

    @property
    def first(self) -> int:
        return self.points[0][1] if self.points else 0

    @property
    def last(self) -> int:
        return self.points[-1][1] if self.points else 0


def star_chart_svg(series: Sequence[StarSeries], *, title: str = "Change in stars or likes") -> str:
    """An SVG line chart of each series' change since its first point (at most
    `MAX_SERIES`), gains above zero and losses below, a marker on each check.

    Changes, not totals, go on the y axis: a week's +300 on a 150,000-star repository
    would be a flat line next to a 40-star one. The legend carries the totals.
    """
    drawn = [s for s in series if s.points][:MAX_SERIES]
    with matplotlib.rc_context(
        {
            "svg.hashsalt": "monitor-digest",
            "svg.fonttype": "none",
            # Names are not TeX: "a$b$" must print as written, never fail as bad mathtext.
            "text.parse_math": False,
            "font.family": "sans-serif",
            "font.size": 9.0,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    ):
        figure = Figure(figsize=(9.0, 4.8), layout="constrained")
        axes = figure.add_subplot()
        origin = _origin(drawn)
        for index, (item, (colour, marker)) in enumerate(zip(drawn, _STYLES, strict=False)):
            xs = [_days(at, origin) for at, _ in item.points]
            ys = [value - item.first for _, value in item.points]
            change = item.last - item.first
            (line,) = axes.plot(
                xs,
                ys,
                color=colour,
                marker=marker,
                # Markers on the checks only, not on the counts carried to the week's ends.
                markevery=item.marked,
                markersize=4,
                linewidth=1.8,
                label=f"{item.label}: {item.first:,} to {item.last:,} ({change:+,})",
            )
            # A stable id per mover, so the SVG can be read (and tested) line by line.
            line.set_gid(f"mover-{index + 1}")
        axes.axhline(0, color="#888888", linewidth=0.8, zorder=0)
        _week_axis(axes, drawn, origin)
        axes.set_title(title)
        axes.set_xlabel("day (UTC)")
        axes.set_ylabel("stars or likes gained or lost this week")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(True, axis="y", color="#dddddd", linewidth=0.6)
        if drawn:
            axes.legend(loc="upper left", frameon=False)
        buffer = io.StringIO()
        with warnings.catch_warnings():
            # Text stays text in the SVG, so a glyph DejaVu lacks (CJK) is the viewer's font's
            # business; matplotlib only measures with it.
            warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font", UserWarning)
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def _origin(drawn: Sequence[StarSeries]) -> datetime:
    """Midnight UTC before the first point: x is counted in days from there."""
    moments = [at for item in drawn for at, _ in item.points]
    return _midnight(min(moments)) if moments else datetime(1970, 1, 1, tzinfo=UTC)


def _days(moment: datetime, origin: datetime) -> float:
    return (moment - origin) / timedelta(days=1)


def _week_axis(axes: Axes, drawn: Sequence[StarSeries], start: datetime) -> None:
    # Plain day numbers with labels of our own: matplotlib's date axis would choose
    # its ticks (and their locale's weekday names) by itself.
    moments = [at for item in drawn for at, _ in item.points]
    if not moments:
        return
    end = _midnight(max(moments))
    if end < max(moments):
        end += timedelta(days=1)
    days = []
    day = start
    while day <= end:
        days.append(day)
        day += timedelta(days=1)
    axes.set_xlim(0.0, _days(end, start))
    axes.set_xticks(
        [_days(d, start) for d in days],
        [f"{_WEEKDAYS[d.weekday()]} {d:%m-%d}" for d in days],
    )


def _midnight(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, tzinfo=UTC)
