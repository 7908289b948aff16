"""What a public page says about itself to crawlers and link previews: its
canonical address and language alternates, its description, its share card.

Used in shared copies (`letters.http.public_page`), which are rendered
without a request: every address comes from SITE_URL and the page's path
(`page_path`, the same for every visitor of the copy), never from the Host
header."""

from __future__ import annotations

import html
import re

from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join, strip_tags
from django.utils.safestring import SafeString
from django.utils.translation import get_language, to_locale

from letters.links import absolute_url
from letters.models import Letter

register = template.Library()

# Open Graph wants language_TERRITORY; the site writes British English.
OG_LOCALES = {"en": "en_GB", "de": "de_DE"}

DESCRIPTION_LENGTH = 200  # characters: what link previews and search results show


def og_locale(code: str) -> str:
    if code in OG_LOCALES:
        return OG_LOCALES[code]
    locale = to_locale(code)
    return locale if "_" in locale else f"{locale}_{locale.upper()}"


def language_url(path: str, code: str) -> str:
    """The absolute address of `path` in language `code`: the plain address
    for the default language, `?lang=<code>` (the addressable form of the
    language switcher) for the others."""
    url = settings.SITE_URL.rstrip("/") + path
    return url if code == settings.LANGUAGE_CODE else f"{url}?lang={code}"


@register.simple_tag
def page_links(path: str) -> SafeString:
    """The canonical address of the page in its language, its alternates in
    every language (and x-default: the plain address, whose language the
    visitor's browser chooses), and the same for Open Graph."""
    current = get_language() or settings.LANGUAGE_CODE
    codes = [code for code, _name in settings.LANGUAGES]
    if current not in codes:
        current = settings.LANGUAGE_CODE
    canonical = language_url(path, current)
    return format_html(
        '<link rel="canonical" href="{}">\n  {}\n  '
        '<link rel="alternate" hreflang="x-default" href="{}">\n  '
        '<meta property="og:url" content="{}">\n  '
        '<meta property="og:locale" content="{}">\n  {}',
        canonical,
        format_html_join(
            "\n  ",
            '<link rel="alternate" hreflang="{}" href="{}">',
            ((code, language_url(path, code)) for code in codes),
        ),
        language_url(path, settings.LANGUAGE_CODE),
        canonical,
        og_locale(current),
        format_html_join(
            "\n  ",
            '<meta property="og:locale:alternate" content="{}">',
            ((og_locale(code),) for code in codes if code != current),
        ),
    )


_SPACE = re.compile(r"\s+")


@register.filter
def plain_excerpt(markup: str, length: int = DESCRIPTION_LENGTH) -> str:
    """Rendered HTML as one line of plain text, cut at a word boundary
    within `length` characters (with an ellipsis).  Autoescaping escapes it
    again where it is used."""
    text = _SPACE.sub(" ", html.unescape(strip_tags(markup or ""))).strip()
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"


@register.simple_tag
def share_card_url(letter: Letter) -> str:
    """The absolute address of the letter's share card in the page's
    language (`letters.views.meta.share_card`)."""
    url = absolute_url("letters:card", slug=letter.slug)
    current = get_language() or settings.LANGUAGE_CODE
    if current == settings.LANGUAGE_CODE or current not in dict(settings.LANGUAGES):
        return url
    return f"{url}?lang={current}"
