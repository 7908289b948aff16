"""Readable word-level diffs between two versions of an open letter.

`word_diff` is lossless: joining the text of the "same" and "removed" parts gives
the old text back exactly, and the "same" and "added" parts give the new text.
`version_diff_html` turns that into a small HTML fragment in which every piece of
user text is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

SAME = "same"
ADDED = "added"
REMOVED = "removed"

# Runs of whitespace and runs of anything else, as separate tokens: every
# character of the input belongs to exactly one token, so nothing is lost.
_TOKEN_RE = re.compile(r"\s+|\S+")


@dataclass(frozen=True)
class DiffPart:
    kind: str  # "same", "added" or "removed"
    text: str


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def word_diff(old: str, new: str) -> list[DiffPart]:
    """Compare `old` and `new` word by word.

    Within each stretch of changes, everything removed comes first and then
    everything added; adjacent parts never share a kind.  Whitespace that
    happens to match between two changes is folded into the change so that a
    rewritten phrase reads as one deletion and one insertion.
    """
    old_tokens = _tokens(old)
    new_tokens = _tokens(new)
    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    opcodes = matcher.get_opcodes()

    raw: list[DiffPart] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        old_text = "".join(old_tokens[i1:i2])
        new_text = "".join(new_tokens[j1:j2])
        if tag == "equal":
            between_changes = 0 < index < len(opcodes) - 1
            if between_changes and old_text.isspace():
                raw.append(DiffPart(REMOVED, old_text))
                raw.append(DiffPart(ADDED, new_text))
            else:
                raw.append(DiffPart(SAME, old_text))
            continue
        if old_text:
            raw.append(DiffPart(REMOVED, old_text))
        if new_text:
            raw.append(DiffPart(ADDED, new_text))
    return _normalise(raw)


def _normalise(parts: list[DiffPart]) -> list[DiffPart]:
    """Merge each stretch of changes into at most one removal then one addition."""
    result: list[DiffPart] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if removed:
            result.append(DiffPart(REMOVED, "".join(removed)))
        if added:
            result.append(DiffPart(ADDED, "".join(added)))
        removed.clear()
        added.clear()

    for part in parts:
        if not part.text:
            continue
        if part.kind == REMOVED:
            removed.append(part.text)
        elif part.kind == ADDED:
            added.append(part.text)
        else:
            flush()
            if result and result[-1].kind == SAME:
                result[-1] = DiffPart(SAME, result[-1].text + part.text)
            else:
                result.append(part)
    flush()
    return result


def _text_html(text: str) -> str:
    return str(escape(text)).replace("\n", "<br>")


def _parts_html(parts: list[DiffPart]) -> str:
    pieces: list[str] = []
    for part in parts:
        text = _text_html(part.text)
        if part.kind == REMOVED:
            pieces.append(f"<del>{text}</del>")
        elif part.kind == ADDED:
            pieces.append(f"<ins>{text}</ins>")
        else:
            pieces.append(text)
    return "".join(pieces)


def _demand_items(old_demands: list[str], new_demands: list[str]) -> list[str]:
    items: list[str] = []

    def removed(demand: str) -> None:
        items.append(f'<li class="removed"><del>{_text_html(demand)}</del></li>')

    def added(demand: str) -> None:
        items.append(f'<li class="added"><ins>{_text_html(demand)}</ins></li>')

    matcher = SequenceMatcher(None, old_demands, new_demands, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_slice = old_demands[i1:i2]
        new_slice = new_demands[j1:j2]
        if tag == "equal":
            items.extend(f"<li>{_text_html(demand)}</li>" for demand in old_slice)
            continue
        paired = min(len(old_slice), len(new_slice)) if tag == "replace" else 0
        for old_demand, new_demand in zip(old_slice[:paired], new_slice[:paired], strict=True):
            diff = _parts_html(word_diff(old_demand, new_demand))
            items.append(f'<li class="changed">{diff}</li>')
        for demand in old_slice[paired:]:
            removed(demand)
        for demand in new_slice[paired:]:
            added(demand)
    return items


def version_diff_html(
    old_body: str, old_demands: list[str], new_body: str, new_demands: list[str]
) -> SafeString:
    """An escaped HTML fragment showing what changed between two letter versions."""
    if old_body == new_body and old_demands == new_demands:
        message = escape(_("No changes to the text."))
        return mark_safe(f'<div class="diff"><p>{message}</p></div>')  # noqa: S308

    body = _parts_html(word_diff(old_body, new_body))
    demands = "".join(_demand_items(old_demands, new_demands))
    html = (
        '<div class="diff">'
        f"<h3>{escape(_('Text'))}</h3>"
        f'<p class="diff-body">{body}</p>'
        f"<h3>{escape(_('Demands'))}</h3>"
        f'<ol class="diff-demands">{demands}</ol>'
        "</div>"
    )
    return mark_safe(html)  # noqa: S308
