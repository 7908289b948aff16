"""Readable diffs between two versions of an open letter, rendered like the letter.

`word_diff` is lossless: joining the text of the "same" and "removed" parts gives
the old text back exactly, and the "same" and "added" parts give the new text.
`version_diff_html` compares two versions' rendered bodies paragraph by
paragraph (the words that changed marked with <ins>/<del> inside the rendered
paragraph, unchanged paragraphs folded away) and their demands item by item
(escaped here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
        label = f'<span class="visually-hidden">{escape(_("Removed:"))} </span>'
        items.append(f'<li class="removed"><del>{label}{_text_html(demand)}</del></li>')

    def added(demand: str) -> None:
        label = f'<span class="visually-hidden">{escape(_("Added:"))} </span>'
        items.append(f'<li class="added"><ins>{label}{_text_html(demand)}</ins></li>')

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


# Sanitised HTML (letters.markup) as tags and the text between them.
_HTML_TOKEN_RE = re.compile(r"<[^>]*>|[^<]+")
_VOID = frozenset({"br", "hr", "img", "wbr"})


def _tag_name(tag: str) -> str:
    return re.split(r"[\s/>]", tag.lstrip("</"), maxsplit=1)[0].lower()


def _blocks(html: str) -> list[str]:
    """The top-level elements of a rendered letter body (paragraphs, lists,
    headings, quotes), each as its HTML; text between them is dropped if
    blank and kept as its own block if not."""
    blocks: list[str] = []
    current: list[str] = []
    depth = 0
    for token in _HTML_TOKEN_RE.findall(html):
        if token.startswith("<"):
            name = _tag_name(token)
            if token.startswith("</"):
                depth -= 1
            elif name not in _VOID and not token.endswith("/>"):
                depth += 1
            current.append(token)
        elif depth > 0 or not token.isspace():
            current.append(token)
        if depth <= 0 and current:
            depth = 0
            blocks.append("".join(current))
            current = []
    if current:
        blocks.append("".join(current))
    return blocks


def _slots(block: str) -> tuple[list[str], list[str]]:
    """A block as its tags and the texts around them: texts[i] comes before
    tags[i], and there is one more text than tags."""
    tags: list[str] = []
    texts = [""]
    for token in _HTML_TOKEN_RE.findall(block):
        if token.startswith("<"):
            tags.append(token)
            texts.append("")
        else:
            texts[-1] += token
    return tags, texts


def _escaped_parts(parts: list[DiffPart]) -> str:
    """Diff parts of text that is already escaped HTML (sanitised output)."""
    pieces: list[str] = []
    for part in parts:
        if part.kind == REMOVED:
            pieces.append(f"<del>{part.text}</del>")
        elif part.kind == ADDED:
            pieces.append(f"<ins>{part.text}</ins>")
        else:
            pieces.append(part.text)
    return "".join(pieces)


def _whole(kind: str, block: str) -> str:
    if kind == REMOVED:
        label = escape(_("Removed:"))
        return f'<del class="diff-block"><span class="visually-hidden">{label} </span>{block}</del>'
    label = escape(_("Added:"))
    return f'<ins class="diff-block"><span class="visually-hidden">{label} </span>{block}</ins>'


def _changed_block(old: str, new: str) -> str:
    """One paragraph (or list, heading...) that changed: a word diff inside
    it if its markup is the same, else the old one removed and the new one
    added."""
    old_tags, old_texts = _slots(old)
    new_tags, new_texts = _slots(new)
    if old_tags != new_tags:
        if old_tags[:1] and new_tags[:1] and _phrasing_block(old_tags[0], new_tags[0]):
            return f'<div class="diff-changed">{_markup_diff(old, new)}</div>'
        return _whole(REMOVED, old) + _whole(ADDED, new)
    pieces: list[str] = []
    for i, (old_text, new_text) in enumerate(zip(old_texts, new_texts, strict=True)):
        if old_text == new_text:
            pieces.append(new_text)
        else:
            pieces.append(_escaped_parts(word_diff(old_text, new_text)))
        if i < len(new_tags):
            pieces.append(new_tags[i])
    return f'<div class="diff-changed">{"".join(pieces)}</div>'


_PHRASING_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6"})
_WORD_OR_TAG_RE = re.compile(r"<[^>]*>|\s+|[^<\s]+")


def _phrasing_block(old_first: str, new_first: str) -> bool:
    """Both blocks are the same kind of paragraph or heading, whose content
    is phrasing: a <del> or <ins> may stand anywhere inside."""
    name = _tag_name(new_first)
    return name == _tag_name(old_first) and name in _PHRASING_BLOCKS


def _markup_diff(old: str, new: str) -> str:
    """A word diff of two paragraphs whose inline markup changed (a word put
    in bold, a link added): the new paragraph's tags all kept, in order;
    removed words marked where they stood; the old-only tags dropped."""
    old_tokens = _WORD_OR_TAG_RE.findall(old)
    new_tokens = _WORD_OR_TAG_RE.findall(new)
    pieces: list[str] = []

    def marked(kind: str, tokens: list[str], keep_tags: bool) -> None:
        run: list[str] = []
        for token in [*tokens, ""]:
            if token and not token.startswith("<"):
                run.append(token)
                continue
            if run:
                pieces.append(f"<{kind}>{''.join(run)}</{kind}>")
                run = []
            if token and keep_tags:
                pieces.append(token)

    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.extend(new_tokens[j1:j2])
            continue
        marked("del", old_tokens[i1:i2], keep_tags=False)
        marked("ins", new_tokens[j1:j2], keep_tags=True)
    return "".join(pieces)


def _unchanged(blocks: list[str]) -> str:
    summary = ngettext(
        "%(count)d unchanged paragraph", "%(count)d unchanged paragraphs", len(blocks)
    ) % {"count": len(blocks)}
    return (
        f'<details class="diff-same"><summary>{escape(summary)}</summary>'
        f"{''.join(blocks)}</details>"
    )


def body_diff_html(old_html: str, new_html: str) -> str:
    """Two rendered bodies compared paragraph by paragraph: what changed is
    shown rendered, with the words that changed marked; runs of unchanged
    paragraphs fold into a <details> the reader may open."""
    old_blocks, new_blocks = _blocks(old_html), _blocks(new_html)
    pieces: list[str] = []
    matcher = SequenceMatcher(None, old_blocks, new_blocks, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_slice, new_slice = old_blocks[i1:i2], new_blocks[j1:j2]
        if tag == "equal":
            pieces.append(_unchanged(new_slice))
            continue
        paired = min(len(old_slice), len(new_slice)) if tag == "replace" else 0
        for old_block, new_block in zip(old_slice[:paired], new_slice[:paired], strict=True):
            pieces.append(_changed_block(old_block, new_block))
        pieces.extend(_whole(REMOVED, b) for b in old_slice[paired:])
        pieces.extend(_whole(ADDED, b) for b in new_slice[paired:])
    return "".join(pieces)


def version_diff_html(
    old_html: str, old_demands: list[str], new_html: str, new_demands: list[str]
) -> SafeString:
    """What changed between two letter versions, as a small HTML fragment:
    the bodies (sanitised HTML from letters.markup) rendered like the letter
    with the changed words marked and unchanged paragraphs folded away, and
    the demands (plain text, escaped here) item by item."""
    if old_html == new_html and old_demands == new_demands:
        message = escape(_("No changes to the text."))
        return mark_safe(f'<div class="diff"><p>{message}</p></div>')  # noqa: S308

    body = body_diff_html(old_html, new_html)
    demands = "".join(_demand_items(old_demands, new_demands))
    html = (
        '<div class="diff">'
        f"<h3>{escape(_('Text'))}</h3>"
        f'<div class="letter-body diff-body">{body}</div>'
        + (
            f'<h3>{escape(_("Demands"))}</h3><ol class="demands diff-demands">{demands}</ol>'
            if demands
            else ""
        )
        + "</div>"
    )
    return mark_safe(html)  # noqa: S308
