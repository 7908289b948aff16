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
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

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

    width = max(int(width), 4 * _MARGIN_X + 80)
    height = max(int(height), _MARGIN_TOP + _MARGIN_BOTTOM + 40)
    left, right = _MARGIN_X, width - _MARGIN_X
    top, bottom = _MARGIN_TOP, height - _MARGIN_BOTTOM
    plot_width, plot_height = right - left, bottom - top

    counts = [count for _day, count, _total in rows]
    totals = [total for _day, _count, total in rows]
    max_per_day = max(counts)
    final_total = totals[-1]
    slot = plot_width / max(len(rows), MIN_SLOTS)
    gap = slot * 0.15 if slot > 3 else 0.0
    shown_right = left + len(rows) * slot  # the end of the last shown day

    def scale(values: list[int]) -> tuple[int, int]:
        """The range a series is drawn over: always from 0 (at the bottom
        unless the series goes below it) to its highest value."""
        return min(0, *values), max(0, *values)

    def y_for(value: int, low: int, high: int) -> float:
        if high <= low:
            return float(bottom)
        return bottom - plot_height * (value - low) / (high - low)

    bar_low, bar_high = scale(counts)
    zero = y_for(0, bar_low, bar_high)
    line_low, line_high = scale(totals)
    bars: list[str] = []
    points: list[str] = []
    for index, (_day, count, total) in enumerate(rows):
        x = left + index * slot
        if count:
            y = y_for(count, bar_low, bar_high)
            top_y, bottom_y = min(y, zero), max(y, zero)
            bars.append(
                f'<rect x="{_num(x + gap / 2)}" y="{_num(top_y)}" '
                f'width="{_num(slot - gap)}" height="{_num(bottom_y - top_y)}"/>'
            )
        points.append(f"{_num(x + slot / 2)},{_num(y_for(total, line_low, line_high))}")
    if len(points) == 1:
        y_line = _num(y_for(final_total, line_low, line_high))
        points = [f"{_num(left)},{y_line}", f"{_num(shown_right)},{y_line}"]

    chart_id = _chart_id(title, description, width, height, rows)
    label_top = top - 8
    label_bottom = bottom + _FONT_SIZE + 5
    parts = [
        _svg_open(width, height, chart_id),
        _title_and_desc(chart_id, title, description),
        (
            '<g class="chart-bar" fill="currentColor" fill-opacity="0.35"'
            f' stroke="currentColor" stroke-width="1">{"".join(bars)}</g>'
        ),
        (
            f'<line class="chart-axis" x1="{_num(left)}" y1="{_num(top)}" '
            f'x2="{_num(right)}" y2="{_num(top)}" stroke="currentColor" '
            'stroke-width="0.5" stroke-dasharray="2 3" stroke-opacity="0.6"/>'
        ),
        # The zero line of the bars, when some day is below it.
        (
            f'<line class="chart-axis" x1="{_num(left)}" y1="{_num(zero)}" '
            f'x2="{_num(right)}" y2="{_num(zero)}" stroke="currentColor" '
            'stroke-width="0.5" stroke-opacity="0.6"/>'
            if bar_low < 0
            else ""
        ),
        (
            f'<line class="chart-axis" x1="{_num(left)}" y1="{_num(bottom)}" '
            f'x2="{_num(right)}" y2="{_num(bottom)}" stroke="currentColor" stroke-width="1"/>'
        ),
        (
            f'<polyline class="chart-line" points="{" ".join(points)}" fill="none" '
            'stroke="currentColor" stroke-width="2" stroke-linejoin="round" '
            'stroke-linecap="round"/>'
        ),
        _label(left, label_top, _("Most per day: %(count)s") % {"count": max_per_day}, "start"),
        _label(right, label_top, _("In total: %(count)s") % {"count": final_total}, "end"),
        _label(left, label_bottom, rows[0][0], "start"),
    ]
    if len(rows) > 1:
        parts.append(_label(shown_right, label_bottom, rows[-1][0], "end"))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
