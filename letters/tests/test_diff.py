"""Word diffs between letter versions: lossless, readable and escaped."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from letters.diff import DiffPart, version_diff_html, word_diff
from letters.markup import render_markdown


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


def _diff(old_body: str, old_demands: list[str], new_body: str, new_demands: list[str]) -> str:
    """The diff of two versions written in Markdown, as the pages show it."""
    return version_diff_html(
        render_markdown(old_body), old_demands, render_markdown(new_body), new_demands
    )


def test_added_sentence_is_inside_ins_within_the_rendered_paragraph() -> None:
    html = _diff("We demand fair pay.", [], "We demand fair pay. We also want holidays.", [])
    assert (
        '<div class="diff-changed"><p>We demand fair pay.<ins> We also want holidays.</ins></p>'
        in html
    )
    assert "<del>" not in html


def test_removed_word_is_inside_del() -> None:
    html = _diff("We demand very fair pay.", [], "We demand fair pay.", [])
    assert "<p>We demand <del>very </del>fair pay.</p>" in html
    assert "<ins>" not in html


def test_replaced_word_reads_as_deletion_then_insertion() -> None:
    parts = word_diff("We demand fair pay.", "We demand decent pay.")
    assert parts == [
        DiffPart("same", "We demand "),
        DiffPart("removed", "fair"),
        DiffPart("added", "decent"),
        DiffPart("same", " pay."),
    ]


def test_markdown_is_rendered_not_shown_raw() -> None:
    html = _diff("We ask for a **fair rota**.", [], "We ask for a **fair rota** now.", [])
    assert "**" not in html
    assert "<strong>fair rota</strong>" in html
    assert "<ins> now.</ins>" in html


def test_unchanged_paragraphs_are_folded_not_repeated() -> None:
    body = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph."
    html = _diff(body, [], body.replace("Third", "Last"), [])
    assert '<details class="diff-same"><summary>2 unchanged paragraphs</summary>' in html
    assert "<p><del>Third</del><ins>Last</ins> paragraph.</p>" in html
    assert html.count("First paragraph.") == 1


def test_added_and_removed_paragraphs_are_whole_blocks() -> None:
    html = _diff("Keep.\n\nDrop this.", [], "Keep.\n\n- a new list", [])
    assert (
        '<del class="diff-block"><span class="visually-hidden">Removed: </span>'
        "<p>Drop this.</p></del>" in html
    )
    assert '<ins class="diff-block"><span class="visually-hidden">Added: </span><ul>' in html


def test_html_in_input_is_escaped_or_removed() -> None:
    evil = "<script>alert(1)</script>"
    html = _diff(
        f"Hello {evil}", [evil, "Keep & this"], f"Bye {evil} <b>x</b>", [f"{evil}!", "New <i>"]
    )
    assert "<script" not in html
    assert "alert(1)" not in html.split('<ol class="demands diff-demands">')[0]
    assert "<i>" not in html
    assert "&lt;script&gt;" in html  # in the demands, which are plain text
    assert "Keep &amp; this" in html


def test_output_structure_and_headings() -> None:
    html = _diff("Old.", ["One"], "New.", ["One"])
    assert html.startswith('<div class="diff">')
    assert html.endswith("</div>")
    assert "<h3>Text</h3>" in html
    assert "<h3>Demands</h3>" in html
    assert '<ol class="demands diff-demands"><li>One</li></ol>' in html


def test_added_demand() -> None:
    html = _diff("Body.", ["Fair pay"], "Body.", ["Fair pay", "Holidays"])
    assert (
        '<li>Fair pay</li><li class="added"><ins><span class="visually-hidden">Added: </span>'
        "Holidays</ins></li>"
    ) in html
    assert 'class="removed"' not in html
    assert 'class="changed"' not in html


def test_removed_demand() -> None:
    html = _diff("Body.", ["Fair pay", "Holidays"], "Body.", ["Holidays"])
    assert (
        '<li class="removed"><del><span class="visually-hidden">Removed: </span>Fair pay</del>'
        "</li><li>Holidays</li>"
    ) in html
    assert 'class="added"' not in html


def test_changed_demand_is_a_word_diff_in_one_item() -> None:
    html = _diff(
        "Body.", ["Fair pay", "Paid holidays for all"], "Body.", ["Fair pay", "Paid leave for all"]
    )
    assert (
        '<li>Fair pay</li><li class="changed">Paid <del>holidays</del><ins>leave</ins> for all</li>'
    ) in html
    assert 'class="added"' not in html
    assert 'class="removed"' not in html


def test_uneven_replacement_pairs_then_adds() -> None:
    html = _diff("Body.", ["A one"], "Body.", ["A two", "B three"])
    assert '<li class="changed">A <del>one</del><ins>two</ins></li>' in html
    assert "B three</ins></li>" in html


def test_uneven_replacement_pairs_then_removes() -> None:
    html = _diff("Body.", ["A one", "B three"], "Body.", ["A two"])
    assert '<li class="changed">A <del>one</del><ins>two</ins></li>' in html
    assert "B three</del></li>" in html


def test_unchanged_versions_say_no_changes() -> None:
    html = _diff("Same body.", ["One", "Two"], "Same body.", ["One", "Two"])
    assert "<p>No changes to the text.</p>" in html
    assert "<del>" not in html
    assert "<ins>" not in html
    assert "<ol" not in html


def test_empty_versions_say_no_changes() -> None:
    assert "No changes to the text." in _diff("", [], "", [])


def test_only_demands_changed_still_shows_diff() -> None:
    html = _diff("Same.", [], "Same.", ["New demand"])
    assert "No changes" not in html
    assert "1 unchanged paragraph</summary><p>Same.</p></details>" in html
    assert "New demand</ins></li>" in html


def test_a_word_put_in_bold_keeps_the_new_markup_and_marks_the_words() -> None:
    html = _diff("Act now, please.", [], "Act **now**, please [today](https://example.org/).", [])
    assert "<strong><ins>now</ins></strong>" in html or "<ins>now</ins>" in html
    assert "<strong>" in html
    assert "</strong>" in html
    assert '<a href="https://example.org/"' in html
    assert "<del>" in html
    assert html.count("<p>") == 1  # one paragraph, diffed inside


def _balanced(html: str) -> bool:
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-z0-9]+)[^>]*>", html):
        if name in {"br", "hr", "img", "wbr"}:
            continue
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def _words(html: str) -> list[str]:
    return re.sub(r"<[^>]*>", " ", html).split()


@given(st.text(alphabet="ab *_#->\n", max_size=40), st.text(alphabet="ab *_#->\n", max_size=40))
def test_the_rendered_diff_is_well_formed_and_reads_as_the_new_text(old: str, new: str) -> None:
    """Taking out what was removed (and the folding and screen-reader labels)
    leaves exactly the new text's words, in well-formed markup."""
    old_html, new_html = render_markdown(old), render_markdown(new)
    html = str(version_diff_html(old_html, [], new_html, []))
    assert _balanced(html)
    if old_html == new_html:
        return
    body = html.split('<div class="letter-body diff-body">', 1)[1]
    body = re.sub(r"<del[^>]*>.*?</del>", "", body, flags=re.S)
    body = re.sub(r"<summary>.*?</summary>|<span class=\"visually-hidden\">.*?</span>", "", body)
    assert _words(body) == _words(new_html)
