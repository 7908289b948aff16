"""Word diffs between letter versions: lossless, readable and escaped."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from letters.diff import DiffPart, version_diff_html, word_diff


def _old(parts: list[DiffPart]) -> str:
    return "".join(part.text for part in parts if part.kind in {"same", "removed"})


def _new(parts: list[DiffPart]) -> str:
    return "".join(part.text for part in parts if part.kind in {"same", "added"})


def _assert_well_formed(parts: list[DiffPart]) -> None:
    assert all(part.kind in {"same", "added", "removed"} for part in parts)
    assert all(part.text for part in parts)
    for before, after in pairwise(parts):
        assert before.kind != after.kind


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", ""),
        ("", "Something new."),
        ("Something old.", ""),
        ("We demand fair pay.", "We demand fair pay."),
        ("We demand fair pay.", "We demand fair pay and more holidays."),
        ("Grüße aus Köln — 你好 🌍", "Grüße aus München — 你好 🌍🌍"),
        ("two  spaces   here", "two spaces    here  "),
        ("line one\nline two\n\nline four", "line one\r\nline 2\n\n\nline four\n"),
        ("\t leading and trailing \n", "leading and trailing"),
        ("the cat sat on the mat", "a dog ran under a table"),
    ],
)
def test_round_trip(old: str, new: str) -> None:
    parts = word_diff(old, new)
    assert _old(parts) == old
    assert _new(parts) == new
    _assert_well_formed(parts)


_text = st.text(
    alphabet=st.sampled_from(["a", "b", "ä", "字", " ", "\n", "\t", "\u00a0", "<", "&"])
)


@given(old=_text, new=_text)
def test_round_trip_property(old: str, new: str) -> None:
    parts = word_diff(old, new)
    assert _old(parts) == old
    assert _new(parts) == new
    _assert_well_formed(parts)


@given(old=st.text(), new=st.text())
def test_round_trip_property_any_text(old: str, new: str) -> None:
    parts = word_diff(old, new)
    assert _old(parts) == old
    assert _new(parts) == new


def test_identical_texts_are_one_same_part() -> None:
    assert word_diff("a b  c", "a b  c") == [DiffPart("same", "a b  c")]
    assert word_diff("", "") == []


def test_added_sentence_is_inside_ins() -> None:
    html = version_diff_html(
        "We demand fair pay.", [], "We demand fair pay. We also want holidays.", []
    )
    assert "<ins> We also want holidays.</ins>" in html
    assert "<del>" not in html
    assert '<p class="diff-body">We demand fair pay.<ins>' in html


def test_removed_word_is_inside_del() -> None:
    html = version_diff_html("We demand very fair pay.", [], "We demand fair pay.", [])
    assert "<del>very </del>" in html
    assert "<ins>" not in html


def test_replaced_word_reads_as_deletion_then_insertion() -> None:
    parts = word_diff("We demand fair pay.", "We demand decent pay.")
    assert parts == [
        DiffPart("same", "We demand "),
        DiffPart("removed", "fair"),
        DiffPart("added", "decent"),
        DiffPart("same", " pay."),
    ]


def test_newlines_become_line_breaks() -> None:
    html = version_diff_html("First.\nSecond.", [], "First.\nSecond.\n\nThird.", [])
    assert "First.<br>Second.<ins><br><br>Third.</ins>" in html


def test_html_in_input_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    html = version_diff_html(
        f"Hello {evil}", [evil, "Keep & this"], f"Bye {evil} <b>x</b>", [f"{evil}!", "New <i>"]
    )
    assert "<script" not in html
    assert "<b>" not in html
    assert "<i>" not in html
    assert "&lt;script&gt;" in html
    assert "Keep &amp; this" in html


def test_output_structure_and_headings() -> None:
    html = version_diff_html("Old.", ["One"], "New.", ["One"])
    assert html.startswith('<div class="diff">')
    assert html.endswith("</div>")
    assert "<h3>Text</h3>" in html
    assert "<h3>Demands</h3>" in html
    assert '<ol class="diff-demands"><li>One</li></ol>' in html


def test_added_demand() -> None:
    html = version_diff_html("Body.", ["Fair pay"], "Body.", ["Fair pay", "Holidays"])
    assert '<li>Fair pay</li><li class="added"><ins>Holidays</ins></li>' in html
    assert 'class="removed"' not in html
    assert 'class="changed"' not in html


def test_removed_demand() -> None:
    html = version_diff_html("Body.", ["Fair pay", "Holidays"], "Body.", ["Holidays"])
    assert '<li class="removed"><del>Fair pay</del></li><li>Holidays</li>' in html
    assert 'class="added"' not in html


def test_changed_demand_is_a_word_diff_in_one_item() -> None:
    html = version_diff_html(
        "Body.", ["Fair pay", "Paid holidays for all"], "Body.", ["Fair pay", "Paid leave for all"]
    )
    assert (
        '<li>Fair pay</li><li class="changed">Paid <del>holidays</del><ins>leave</ins> for all</li>'
    ) in html
    assert 'class="added"' not in html
    assert 'class="removed"' not in html


def test_uneven_replacement_pairs_then_adds() -> None:
    html = version_diff_html("Body.", ["A one"], "Body.", ["A two", "B three"])
    assert '<li class="changed">A <del>one</del><ins>two</ins></li>' in html
    assert '<li class="added"><ins>B three</ins></li>' in html


def test_uneven_replacement_pairs_then_removes() -> None:
    html = version_diff_html("Body.", ["A one", "B three"], "Body.", ["A two"])
    assert '<li class="changed">A <del>one</del><ins>two</ins></li>' in html
    assert '<li class="removed"><del>B three</del></li>' in html


def test_unchanged_versions_say_no_changes() -> None:
    html = version_diff_html("Same body.", ["One", "Two"], "Same body.", ["One", "Two"])
    assert "<p>No changes to the text.</p>" in html
    assert "<del>" not in html
    assert "<ins>" not in html
    assert "<ol" not in html


def test_empty_versions_say_no_changes() -> None:
    assert "No changes to the text." in version_diff_html("", [], "", [])


def test_only_demands_changed_still_shows_diff() -> None:
    html = version_diff_html("Same.", [], "Same.", ["New demand"])
    assert "No changes" not in html
    assert '<p class="diff-body">Same.</p>' in html
    assert '<li class="added"><ins>New demand</ins></li>' in html
