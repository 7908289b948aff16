"""Hypothesis-generated Markdown built from the pieces of XSS payloads
(tags, handlers, schemes, entities, URL whitespace browsers ignore): the
rendered, sanitised HTML never carries an active element, an event handler,
or a URL with a scheme other than http, https and mailto."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from letters.markup import render_markdown

PIECES = [
    "<", ">", "</", "/>", '"', "'", "=", " ", "\n", "\n\n", "\t", "(", ")", "[", "]", "!", "`",
    "*", "&", "&#x6A;", "&#106;", "&colon;", "%0a", "\x00", "\x0b",
    "script", "img", "svg", "iframe", "object", "embed", "a", "style", "details", "math",
    "src", "href", "action", "formaction", "srcdoc", "xlink:href",
    "onerror", "onload", "onclick", "ontoggle", "onmouseover",
    "javascript:", "JaVaScRiPt:", "java\tscript:", "java\nscript:", " javascript:",
    "vbscript:", "data:text/html,", "alert(1)", "x", "http://ok.example/",
]  # fmt: skip
SAFE_SCHEMES = ("http:", "https:", "mailto:")
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:")  # what makes a URL absolute
ACTIVE = {"script", "iframe", "object", "embed", "svg", "math", "img", "style", "form", "base"}


def browser_url(value: str) -> str:
    """What a browser parses: C0 controls and spaces trimmed, tabs and
    newlines removed anywhere (the URL standard), lower-cased."""
    trimmed = value.strip("".join(chr(c) for c in range(0x21)))
    return "".join(ch for ch in trimmed if ch not in "\t\n\r").lower()


class Live(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"srcdoc", "style", "formaction"}:
                self.found.append(f"{tag} {name}=")
            if name in {"href", "src", "action", "xlink:href"}:
                url = browser_url(value or "")
                if SCHEME.match(url) and not url.startswith(SAFE_SCHEMES):
                    self.found.append(f"{tag} {name}={url[:20]}")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_sanitised_markdown_never_carries_anything_active(text: str) -> None:
    for source in (text, f"[link]({text})", f"![pic]({text})", f"<{text}>"):
        parser = Live()
        parser.feed(render_markdown(source))
        parser.close()
        assert parser.found == [], source


def test_the_checker_sees_what_a_browser_would_run() -> None:
    parser = Live()
    parser.feed(
        '<a href=" java\tscript:alert(1)">x</a><a href="/ok">y</a><p onclick="x">z</p>'
        '<a href="&#106;avascript:alert(1)">w</a><img src="/x">'
    )
    assert parser.found == [
        "a href=javascript:alert(1)",
        "p onclick=",
        "a href=javascript:alert(1)",
        "<img>",
    ]
