"""Server-side SVG charts of signatures over time.

`signatures_chart_svg` draws per-day signature counts as bars and the running
total as a line on the same time axis. The output is a self-contained SVG: no
script, no external resources, no `style` attribute or element (the site's CSP
forbids inline styles), only presentation attributes and the CSS classes
`chart-bar`, `chart-line`, `chart-axis` and `chart-label`. Every piece of text is
escaped. `chart_table_rows` gives the same numbers as rows for a table that
serves as the text alternative.

Day counts are net changes of the total (`selectors.letter_day_counts`), so a
day may be 0 or negative: a negative day is a bar below the zero line, and
the running total falls on it.

Days without signatures between the first and the last date are filled with 0,
and only the most recent `MAX_DAYS` days (ending at the last date) are shown;
the running total counts the shown days.  The time axis is at least
`MIN_SLOTS` days wide, the first shown day at the left: a letter in its
first days (when most visitors see it) shows bars of a day's width, not one
bar across the whole chart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from letters.selectors.employers import EmployerCounts

MAX_DAYS = 365
MIN_SLOTS = 7  # a week

_SVG_NS = "http://www.w3.org/2000/svg"
_FONT_SIZE = 11
_MARGIN_TOP = 22
_MARGIN_BOTTOM = 22
_MARGIN_X = 8


def _daily_series(day_counts: dict[str, int]) -> list[tuple[date, int]]:
    """One (day, count) pair per day from the first to the last date, gaps as 0.

    Capped to the most recent `MAX_DAYS` days. Counts may be negative (net
    changes). Raises ValueError for a key that is not an ISO date.
    """
    counts: dict[date, int] = {}
    for key, value in day_counts.items():
        day = date.fromisoformat(key)
        counts[day] = counts.get(day, 0) + int(value)
    if not counts:
        return []
    last = max(counts)
    first = max(min(counts), last - timedelta(days=MAX_DAYS - 1))
    span = (last - first).days + 1
    days = [first + timedelta(days=offset) for offset in range(span)]
    return [(day, counts.get(day, 0)) for day in days]


def chart_table_rows(day_counts: dict[str, int]) -> list[tuple[str, int, int]]:
    """(ISO date, signatures that day, running total) for each shown day."""
    rows: list[tuple[str, int, int]] = []
    total = 0
    for day, count in _daily_series(day_counts):
        total += count
        rows.append((day.isoformat(), count, total))
    return rows


def _day(iso: str) -> str:
    """An ISO day as people read it in the active language: the site's date
    format without the year (MONTH_DAY_FORMAT, "26 November"), as short as
    the ISO date, so that the first and last day of a young letter do not
    run into each other; the table beside the chart gives the years."""
    return date_format(date.fromisoformat(iso), "MONTH_DAY_FORMAT")


def _num(value: float) -> str:
    """A compact coordinate: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


def _chart_id(*parts: object) -> str:
    """A deterministic id prefix, so that two different charts on a page differ."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()
    return f"chart-{digest[:10]}"


def _svg_open(width: int, height: int, chart_id: str) -> str:
    return (
        f'<svg xmlns="{_SVG_NS}" class="chart-svg" width="100%" '
        f'viewBox="0 0 {int(width)} {int(height)}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-size="{_FONT_SIZE}" fill="currentColor">'
    )


def _title_and_desc(chart_id: str, title: str, description: str) -> str:
    return (
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )


def _label(x: float, y: float, text: str, anchor: str) -> str:
    return (
        f'<text class="chart-label" x="{_num(x)}" y="{_num(y)}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def _empty_svg(title: str) -> SafeString:
    width, height = 320, 60
    message = _("No signatures yet")
    chart_id = _chart_id("empty", title)
    parts = [
        _svg_open(width, height, chart_id),
        _title_and_desc(chart_id, title, message),
        _label(width / 2, height / 2 + _FONT_SIZE / 3, message, "middle"),
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


@dataclass(frozen=True)
class _Plot:
    """Where a chart draws: its size, the plot area inside the margins and
    the time axis (one slot a day, at least `MIN_SLOTS` of them)."""

    width: int
    height: int
    days: int
    right: int
    bottom: int
    slot: float
    left: int = _MARGIN_X
    top: int = _MARGIN_TOP

    @classmethod
    def sized(cls, width: int, height: int, days: int) -> _Plot:
        width = max(int(width), 4 * _MARGIN_X + 80)
        height = max(int(height), _MARGIN_TOP + _MARGIN_BOTTOM + 40)
        right = width - _MARGIN_X
        return cls(
            width=width,
            height=height,
            days=days,
            right=right,
            bottom=height - _MARGIN_BOTTOM,
            slot=(right - _MARGIN_X) / max(days, MIN_SLOTS),
        )

    @property
    def shown_right(self) -> float:
        """The end of the last shown day."""
        return self.left + self.days * self.slot

    def x_for(self, index: int) -> float:
        return self.left + index * self.slot

    def y_for(self, value: int, low: int, high: int) -> float:
        if high <= low:
            return float(self.bottom)
        return self.bottom - (self.bottom - self.top) * (value - low) / (high - low)


def _scale(values: list[int]) -> tuple[int, int]:
    """The range a series is drawn over: always from 0 (at the bottom
    unless the series goes below it) to its highest value."""
    return min(0, *values), max(0, *values)


def _bars(plot: _Plot, counts: list[int]) -> str:
    """One bar a day with signatures, from the zero line up (or down)."""
    low, high = _scale(counts)
    zero = plot.y_for(0, low, high)
    slot = plot.slot
    gap = slot * 0.15 if slot > 3 else 0.0
    bars: list[str] = []
    for index, count in enumerate(counts):
        if count:
            y = plot.y_for(count, low, high)
            top_y, bottom_y = min(y, zero), max(y, zero)
            bars.append(
                f'<rect x="{_num(plot.x_for(index) + gap / 2)}" y="{_num(top_y)}" '
                f'width="{_num(slot - gap)}" height="{_num(bottom_y - top_y)}"/>'
            )
    return (
        '<g class="chart-bar" fill="currentColor" fill-opacity="0.35"'
        f' stroke="currentColor" stroke-width="1">{"".join(bars)}</g>'
    )


def _axes(plot: _Plot, counts: list[int]) -> str:
    """The dashed top line, the zero line of the bars when some day is
    below it, and the bottom line."""
    low, high = _scale(counts)
    left, right = _num(plot.left), _num(plot.right)
    top, bottom = _num(plot.top), _num(plot.bottom)
    zero = _num(plot.y_for(0, low, high))
    return "".join(
        [
            f'<line class="chart-axis" x1="{left}" y1="{top}" x2="{right}" y2="{top}" '
            'stroke="currentColor" stroke-width="0.5" stroke-dasharray="2 3" '
            'stroke-opacity="0.6"/>',
            f'<line class="chart-axis" x1="{left}" y1="{zero}" x2="{right}" y2="{zero}" '
            'stroke="currentColor" stroke-width="0.5" stroke-opacity="0.6"/>'
            if low < 0
            else "",
            f'<line class="chart-axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" '
            'stroke="currentColor" stroke-width="1"/>',
        ]
    )


def _total_line(plot: _Plot, totals: list[int]) -> str:
    """The running total, a point at the middle of each day; a single day
    is a level line across the shown day."""
    low, high = _scale(totals)
    points = [
        f"{_num(plot.x_for(index) + plot.slot / 2)},{_num(plot.y_for(total, low, high))}"
        for index, total in enumerate(totals)
    ]
    if len(points) == 1:
        y_line = _num(plot.y_for(totals[-1], low, high))
        points = [f"{_num(plot.left)},{y_line}", f"{_num(plot.shown_right)},{y_line}"]
    return (
        f'<polyline class="chart-line" points="{" ".join(points)}" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linejoin="round" '
        'stroke-linecap="round"/>'
    )


def _labels(plot: _Plot, rows: list[tuple[str, int, int]]) -> list[str]:
    """The most per day and the total above the plot; the first and the
    last shown day below it."""
    label_top = plot.top - 8
    label_bottom = plot.bottom + _FONT_SIZE + 5
    most = max(count for _day, count, _total in rows)
    total = rows[-1][2]
    labels = [
        _label(plot.left, label_top, _("Most per day: %(count)s") % {"count": most}, "start"),
        _label(plot.right, label_top, _("In total: %(count)s") % {"count": total}, "end"),
        _label(plot.left, label_bottom, _day(rows[0][0]), "start"),
    ]
    if len(rows) > 1:
        labels.append(_label(plot.shown_right, label_bottom, _day(rows[-1][0]), "end"))
    return labels


def signatures_chart_svg(
    day_counts: dict[str, int],
    *,
    width: int = 640,
    height: int = 220,
    title: str,
    description: str,
) -> SafeString:
    """An accessible SVG of signatures per day (bars) and in total (line)."""
    rows = chart_table_rows(day_counts)
    if not rows:
        return _empty_svg(title)
    plot = _Plot.sized(width, height, len(rows))
    counts = [count for _day, count, _total in rows]
    totals = [total for _day, _count, total in rows]
    chart_id = _chart_id(title, description, plot.width, plot.height, rows)
    parts = [
        _svg_open(plot.width, plot.height, chart_id),
        _title_and_desc(chart_id, title, description),
        _bars(plot, counts),
        _axes(plot, counts),
        _total_line(plot, totals),
        *_labels(plot, rows),
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


# --- Signatures by employer (coalition letters) ------------------------------------
#
# A coalition letter's count split by employer is drawn as one bar per
# employer (templates/letters/_employer_bars.html: an HTML <meter> with the
# number written beside it, so nothing depends on colour and no SVG needs a
# table beside it), not as the over-time chart split by employer: each bar
# is an employer's total, which DESIGN §2 rule 9 lets move with one signer,
# and nothing inside an employer (no day, team or version) is drawn.  The
# over-time chart stays the letter's, its days bounded as before.


@dataclass(frozen=True)
class EmployerBar:
    """One employer's signatures (or the other supporters'): verified and
    on paper."""

    name: str
    confirmed: int
    paper: int

    @property
    def total(self) -> int:
        return self.confirmed + self.paper


@dataclass(frozen=True)
class EmployerChart:
    """The bars of a coalition letter: its employers in the letter's order,
    the other supporters apart (None unless the letter accepts them), and
    the scale every bar is drawn against (the letter's total)."""

    employers: tuple[EmployerBar, ...]
    supporters: EmployerBar | None
    total: int

    @property
    def scale(self) -> int:
        """Every bar's maximum: the letter's total (never below a bar, even
        while the counts read a moment apart disagree)."""
        shown = sum(bar.total for bar in self.employers)
        shown += self.supporters.total if self.supporters else 0
        return max(1, self.total, shown)

    def largest(self, limit: int) -> tuple[list[EmployerBar], int]:
        """The `limit` employers with the most signatures (ties in the
        letter's order) and how many others there are (the widget)."""
        ranked = sorted(self.employers, key=lambda bar: -bar.total)
        return ranked[:limit], max(0, len(ranked) - limit)


def employer_chart(
    counts: EmployerCounts, *, total: int, accept_supporters: bool
) -> EmployerChart | None:
    """The bars a letter's public pages draw, or None where a split by
    employer would say nothing: a letter with one employer (or none) that
    takes no other supporters has one bar, its total."""
    if len(counts.employers) < 2 and not (counts.employers and accept_supporters):
        return None
    return EmployerChart(
        employers=tuple(
            EmployerBar(name=row.name, confirmed=row.confirmed, paper=row.paper)
            for row in counts.employers
        ),
        supporters=EmployerBar(
            name=_("Other supporters"), confirmed=counts.supporters, paper=counts.supporters_paper
        )
        if accept_supporters
        else None,
        total=total,
    )
