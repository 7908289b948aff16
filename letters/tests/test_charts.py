"""Signatures-over-time SVG charts: accessible, escaped, CSP-safe and correct."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from letters.charts import MAX_DAYS, MIN_SLOTS, chart_table_rows, signatures_chart_svg

SVG = "{http://www.w3.org/2000/svg}"


def _svg(day_counts: dict[str, int], title: str = "Signatures", desc: str = "Over time") -> str:
    return str(signatures_chart_svg(day_counts, title=title, description=desc))


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    return root


def _days(start: date, count: int) -> dict[str, int]:
    return {(start + timedelta(days=i)).isoformat(): i % 7 for i in range(count)}


def _assert_safe_and_accessible(svg: str, title: str, desc: str) -> None:
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("viewBox")
    assert root.get("width") == "100%"
    title_el = root.find(f"{SVG}title")
    desc_el = root.find(f"{SVG}desc")
    assert title_el is not None
    assert desc_el is not None
    assert title_el.text == title
    assert desc_el.text == desc
    labelledby = (root.get("aria-labelledby") or "").split()
    assert title_el.get("id") in labelledby
    assert desc_el.get("id") in labelledby
    lowered = svg.lower()
    assert "<script" not in lowered
    assert "style=" not in lowered
    assert "<style" not in lowered
    assert "href" not in lowered
    for element in root.iter():
        assert "style" not in element.attrib
        assert not any("href" in name for name in element.attrib)


def test_svg_is_valid_accessible_and_csp_safe() -> None:
    data = {"2026-11-26": 3, "2026-11-27": 5, "2026-11-28": 2}
    svg = _svg(data, "Signatures", "Ten signatures in three days")
    _assert_safe_and_accessible(svg, "Signatures", "Ten signatures in three days")
    root = _parse(svg)
    assert len(root.findall(f".//{SVG}rect")) == 3
    assert root.find(f".//{SVG}polyline") is not None
    classes = {element.get("class") for element in root.iter()}
    assert {"chart-bar", "chart-line", "chart-axis", "chart-label"} <= classes
    labels = " ".join(el.text or "" for el in root.iter(f"{SVG}text"))
    assert "26 November" in labels  # the site's date format, without the year
    assert "28 November" in labels
    assert "5" in labels
    assert "10" in labels


def test_the_first_and_last_day_are_written_in_the_readers_language() -> None:
    with translation.override("de"):
        svg = _svg({"2026-03-02": 3, "2026-03-04": 1}, "Unterschriften", "Vier")
    labels = " ".join(el.text or "" for el in _parse(svg).iter(f"{SVG}text"))
    assert "2. März" in labels
    assert "4. März" in labels
    assert "2026-03" not in labels


def test_gaps_are_filled_with_zero() -> None:
    rows = chart_table_rows({"2026-11-28": 4, "2026-11-26": 1})
    assert rows == [("2026-11-26", 1, 1), ("2026-11-27", 0, 1), ("2026-11-28", 4, 5)]


def test_cumulative_total_is_running_sum() -> None:
    data = {"2026-01-01": 2, "2026-01-02": 0, "2026-01-03": 7, "2026-01-05": 1}
    rows = chart_table_rows(data)
    assert [total for _day, _count, total in rows] == [2, 2, 9, 9, 10]
    assert [count for _day, count, _total in rows] == [2, 0, 7, 0, 1]


def test_text_is_escaped() -> None:
    payload = '<script>alert("x")</script>'
    svg = _svg({"2026-11-28": 1}, title=payload, desc=payload + " & more")
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    _assert_safe_and_accessible(svg, payload, payload + " & more")


def test_empty_input_says_no_signatures_yet() -> None:
    svg = _svg({}, title="Signatures")
    root = _parse(svg)
    assert root.get("role") == "img"
    assert "No signatures yet" in svg
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}desc") is not None
    assert root.find(f".//{SVG}rect") is None
    assert chart_table_rows({}) == []


def test_long_history_is_capped_to_most_recent_year() -> None:
    data = _days(date(2025, 1, 1), 400)
    rows = chart_table_rows(data)
    assert len(rows) == MAX_DAYS == 365
    last = date(2025, 1, 1) + timedelta(days=399)
    assert rows[-1][0] == last.isoformat()
    assert rows[0][0] == (last - timedelta(days=364)).isoformat()
    shown = {day for day, _count, _total in rows}
    assert rows[-1][2] == sum(count for day, count in data.items() if day in shown)

    ones = {(date(2025, 1, 1) + timedelta(days=i)).isoformat(): 1 for i in range(400)}
    root = _parse(_svg(ones))
    assert len(root.findall(f".//{SVG}rect")) == 365


def test_single_day_and_all_zero_days_render() -> None:
    _parse(_svg({"2026-11-28": 9}))
    root = _parse(_svg({"2026-11-27": 0, "2026-11-28": 0}))
    assert root.find(f".//{SVG}rect") is None


def _plot(root: ET.Element) -> tuple[float, float]:
    """The left and right ends of the time axis (the bottom axis line)."""
    axis = root.findall(f".//{SVG}line")[-1]
    return float(axis.get("x1") or 0), float(axis.get("x2") or 0)


def test_a_letters_first_day_is_a_bar_of_a_days_width_not_the_whole_chart() -> None:
    root = _parse(_svg({"2026-11-28": 40}))
    left, right = _plot(root)
    (bar,) = root.findall(f".//{SVG}rect")
    assert float(bar.get("x") or 0) < left + (right - left) / MIN_SLOTS
    assert float(bar.get("width") or 0) < (right - left) / MIN_SLOTS
    line = root.find(f".//{SVG}polyline")
    assert line is not None
    ends = [float(point.split(",")[0]) for point in (line.get("points") or "").split()]
    assert max(ends) <= left + (right - left) / MIN_SLOTS + 0.01


def test_a_young_letters_days_start_at_the_left_and_the_last_date_is_under_its_day() -> None:
    root = _parse(_svg({"2026-11-26": 3, "2026-11-27": 5, "2026-11-28": 2}))
    left, right = _plot(root)
    day = (right - left) / MIN_SLOTS
    xs = sorted(float(bar.get("x") or 0) for bar in root.findall(f".//{SVG}rect"))
    assert [round((x - left) / day) for x in xs] == [0, 1, 2]
    labels = {el.text: float(el.get("x") or 0) for el in root.iter(f"{SVG}text")}
    assert labels["26 November"] == left
    assert abs(labels["28 November"] - (left + 3 * day)) < 0.01


def test_a_letter_older_than_a_week_fills_the_chart() -> None:
    data = _days(date(2026, 10, 1), 30)
    root = _parse(_svg(data))
    left, right = _plot(root)
    last = max(root.findall(f".//{SVG}rect"), key=lambda bar: float(bar.get("x") or 0))
    last_end = float(last.get("x") or 0) + float(last.get("width") or 0)
    assert abs(last_end - right) < (right - left) / 30
    labels = {el.text: float(el.get("x") or 0) for el in root.iter(f"{SVG}text")}
    assert labels["30 October"] == right  # 2026-10-01 + 29 days


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)).map(date.isoformat),
        st.integers(min_value=0, max_value=10**6),
        max_size=40,
    )
)
def test_last_total_is_sum_of_shown_days_and_svg_parses(data: dict[str, int]) -> None:
    rows = chart_table_rows(data)
    svg = _svg(data)
    _parse(svg)
    if not data:
        assert rows == []
        return
    last = max(date.fromisoformat(day) for day in data)
    first_shown = max(min(date.fromisoformat(day) for day in data), last - timedelta(days=364))
    shown = {day: count for day, count in data.items() if date.fromisoformat(day) >= first_shown}
    assert len(rows) == (last - first_shown).days + 1
    assert rows[-1][2] == sum(shown.values())
    assert sum(count for _day, count, _total in rows) == sum(shown.values())


def test_a_day_with_a_negative_net_change_is_a_bar_below_the_zero_line() -> None:
    """Day counts are net changes of the total: a day on which more signers
    withdrew than confirmed is negative, and the running total falls."""
    data = {"2026-11-26": 6, "2026-11-27": -2, "2026-11-28": 0, "2026-11-29": 3}
    rows = chart_table_rows(data)
    assert rows == [
        ("2026-11-26", 6, 6),
        ("2026-11-27", -2, 4),
        ("2026-11-28", 0, 4),
        ("2026-11-29", 3, 7),
    ]
    svg = _svg(data)
    _assert_safe_and_accessible(svg, "Signatures", "Over time")
    root = _parse(svg)
    bars = root.findall(f".//{SVG}rect")
    assert len(bars) == 3  # the day without change has none
    lines = root.findall(f".//{SVG}line")
    zero = float(lines[1].get("y1") or 0)  # the zero line, drawn because a day is below it
    bottom = float(lines[-1].get("y1") or 0)
    assert zero < bottom
    up, down, _later = sorted(bars, key=lambda bar: float(bar.get("x") or 0))
    assert abs(float(up.get("y") or 0) + float(up.get("height") or 0) - zero) < 0.01
    assert abs(float(down.get("y") or 0) - zero) < 0.01  # hangs from the zero line
    assert float(down.get("y") or 0) + float(down.get("height") or 0) <= bottom + 0.01
    for bar in bars:
        assert float(bar.get("height") or 0) > 0
    assert "In total: 7" in svg


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 3, 31)).map(date.isoformat),
        st.integers(min_value=-50, max_value=50),
        max_size=30,
    )
)
def test_net_days_of_any_sign_render_inside_the_plot(data: dict[str, int]) -> None:
    rows = chart_table_rows(data)
    root = _parse(_svg(data))
    if not data:
        assert rows == []
        return
    assert rows[-1][2] == sum(data.values())
    lines = root.findall(f".//{SVG}line")
    top, bottom = float(lines[0].get("y1") or 0), float(lines[-1].get("y1") or 0)
    for bar in root.findall(f".//{SVG}rect"):
        y, height = float(bar.get("y") or 0), float(bar.get("height") or 0)
        assert height >= 0
        assert top - 0.01 <= y
        assert y + height <= bottom + 0.01
    line = root.find(f".//{SVG}polyline")
    assert line is not None
    for point in (line.get("points") or "").split():
        assert top - 0.01 <= float(point.split(",")[1]) <= bottom + 0.01
