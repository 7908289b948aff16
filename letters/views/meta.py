"""What crawlers and link previews read: robots.txt, sitemap.xml and each
letter's share card (the `og:image` of its page).

All three are shared copies (`letters.http.public_response`): the same
bytes for everyone, cached, with ETag and Last-Modified, and answered with
304 to a conditional GET.  Addresses come from SITE_URL and the URL
configuration, never from the request."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.xmlutils import SimplerXMLGenerator
from django.views.decorators.http import require_safe

from letters import selectors
from letters.http import public_response, query_language, same_for_everyone
from letters.links import SIGNER_ROUTES, absolute_url
from letters.replica import reads_from_replica
from letters.selectors.changes import letters_for_sitemap, newest
from letters.share_card import render_card
from letters.templatetags.page_meta import language_url

logger = logging.getLogger(__name__)

# --- robots.txt -----------------------------------------------------------------------

# Routes whose path starts with a bearer token: none is for a crawler, and
# an address a crawler knows must not be followed by one.
TOKEN_ROUTES = (*SIGNER_ROUTES.values(), "leadership", "letter_preview", "read_pass")


def _section(path: str) -> str:
    """The first segment of `path`: "/s/abc/" → "/s/"."""
    return "/" + path.strip("/").split("/")[0] + "/"


def robots_lines() -> list[str]:
    """Public pages are open to crawlers; organisers' and accounts' pages,
    the admin, the local outbox, every token address (confirm, withdraw,
    leadership, preview ...) and the sign and check-inbox steps are not."""
    private = [
        _section(reverse("organise:dashboard")),
        _section(reverse("account_login")),
        _section(reverse("admin:index")),
        "/outbox/",  # the development mail outbox (outbox.urls), when enabled
        *sorted({_section(reverse(name, kwargs={"token": "x"})) for name in TOKEN_ROUTES}),
    ]
    steps = [
        reverse(name, kwargs={"slug": "SLUG"}).replace("SLUG", "*")
        for name in ("letters:sign", "letters:check_inbox", "letters:read_request")
    ]
    # Disallow lines first: some parsers (Python's robotparser) take the
    # first rule that matches, Google the longest; both then read the same.
    return [
        "User-agent: *",
        *(f"Disallow: {path}" for path in private),
        *(f"Disallow: {path}" for path in steps),
        "Allow: /",
        "",
        f"Sitemap: {absolute_url('sitemap')}",
    ]


@same_for_everyone("GET", "HEAD")
@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    def build() -> tuple[bytes, str]:
        return ("\n".join(robots_lines()) + "\n").encode(), "text/plain; charset=utf-8"

    return public_response(request, "robots", build)


# --- sitemap.xml ----------------------------------------------------------------------

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def w3c_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _attrs(attrs: dict[str, str]) -> Any:
    """Attributes as SimplerXMLGenerator takes them (a plain dict)."""
    return attrs


def _url(xml: SimplerXMLGenerator, path: str, lastmod: datetime | None) -> None:
    """One <url> per language of `path`, each naming all of them (and the
    x-default: the plain address, whose language the browser chooses)."""
    codes = [code for code, _name in settings.LANGUAGES]
    for code in codes:
        xml.startElement("url", _attrs({}))
        xml.addQuickElement("loc", language_url(path, code))
        if lastmod is not None:
            xml.addQuickElement("lastmod", w3c_datetime(lastmod))
        for other in [*codes, "x-default"]:
            href = language_url(path, settings.LANGUAGE_CODE if other == "x-default" else other)
            xml.addQuickElement(
                "xhtml:link", None, {"rel": "alternate", "hreflang": other, "href": href}
            )
        xml.endElement("url")


def sitemap_bytes() -> tuple[bytes, datetime | None]:
    """The index, the page on signing safely, and every public letter (open,
    closed, delivered, acknowledged, responded; never a draft, an archived
    or an internal letter), each with when its content last changed.  One
    query."""
    per_language = max(1, len(settings.LANGUAGES))
    letters = letters_for_sitemap(limit=(50_000 - 2 * per_language) // per_language)
    newest_change = newest(*(letter.lastmod for letter in letters))
    out = io.StringIO()
    xml = SimplerXMLGenerator(out, "utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("urlset", _attrs({"xmlns": SITEMAP_NS, "xmlns:xhtml": XHTML_NS}))
    _url(xml, reverse("letters:index"), newest_change)
    _url(xml, reverse("signing_safely"), None)
    for letter in letters:
        _url(xml, reverse("letters:detail", kwargs={"slug": letter.slug}), letter.lastmod)
    xml.endElement("urlset")
    return out.getvalue().encode(), newest_change


@same_for_everyone("GET", "HEAD")
@require_safe
def sitemap_xml(request: HttpRequest) -> HttpResponse:
    @reads_from_replica
    def build() -> tuple[bytes, str, datetime | None]:
        body, changed_at = sitemap_bytes()
        return body, "application/xml; charset=utf-8", changed_at

    return public_response(request, "sitemap", build)


# --- The share card -------------------------------------------------------------------

CARD_KEPT = 7 * 24 * 3600  # seconds a drawn card is kept (its key names what it shows)


def _card_png(*, letter_id: int, language: str, title: str, confirmed: int) -> bytes:
    """The card, drawn once per letter, language, title and count: the
    public copy is rebuilt every count interval, the picture only when what
    it shows changed."""
    digest = hashlib.sha256(title.encode()).hexdigest()[:16]
    key = f"share-card:v1:{letter_id}:{language}:{confirmed}:{digest}"
    try:
        png = cache.get(key)
    except Exception:
        logger.warning("share card cache unavailable", exc_info=True)
        png = None
    if isinstance(png, bytes):
        return png
    png = render_card(title=title, confirmed=confirmed)
    try:
        cache.set(key, png, timeout=CARD_KEPT)
    except Exception:
        logger.warning("share card cache unavailable", exc_info=True)
    return png


@same_for_everyone("GET", "HEAD")
@require_safe
def share_card(request: HttpRequest, slug: str) -> HttpResponse:
    """The letter's share card (1200x630 PNG): its title in the page's
    language (`?lang=`), its verified count and the site's name; nothing
    about any signer.  A draft or archived letter has none (404, like its
    page).  `?lang=` is read but not remembered: an image sets no cookie."""
    query_language(request)

    @reads_from_replica
    def build() -> tuple[bytes, str, datetime | None]:
        letter = selectors.letter_public_get(slug=slug)
        language = get_language() or letter.language
        text = selectors.letter_text(letter, language)
        counts = selectors.letter_counts(letter_id=letter.pk)
        png = _card_png(
            letter_id=letter.pk, language=language, title=text.title, confirmed=counts.confirmed
        )
        return png, "image/png", newest(letter.published_at, counts.changed_at)

    return public_response(request, f"card:{slug}", build)
