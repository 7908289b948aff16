"""The public timeline of a letter as an Atom feed, in plain text."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.xmlutils import SimplerXMLGenerator

from letters import selectors
from letters.http import public_response
from letters.links import absolute_url, letter_url
from letters.models import Letter, LetterEvent

# Characters XML 1.0 cannot carry (SimplerXMLGenerator refuses them, which
# would make the feed a 500 for as long as an update holds one).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


class _PlainTextXMLGenerator(SimplerXMLGenerator):
    """Writes every Atom text construct as `type="text"`."""

    TEXT_CONSTRUCTS = frozenset({"title", "subtitle", "summary", "content", "rights"})

    def startElement(self, name: str, attrs: Any) -> None:
        if name in self.TEXT_CONSTRUCTS:
            attrs = {**attrs, "type": "text"}
        super().startElement(name, attrs)


class PlainTextAtom1Feed(Atom1Feed):
    """Atom whose titles, subtitle and summaries are plain text.

    Django's Atom1Feed writes `<summary type="html">`: a feed reader would
    render an organiser's `<img src=...>` as an image and fetch it.  Here
    every text construct says `type="text"`, so readers show the text as
    written (the XML writer escapes it) and never parse it as markup."""

    def write(self, outfile: Any, encoding: str) -> None:
        handler = _PlainTextXMLGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")


class LetterFeed(Feed):
    """The public timeline as an Atom feed, in plain text.

    Served like the letter page (`public_response`): the same bytes for
    every visitor of a language, cached for the count interval, with ETag
    and `Cache-Control: public`, through the short middleware chain; HEAD
    is GET without the body.  Links are absolute from SITE_URL, never from
    the request's Host, since the copy is shared."""

    feed_type = PlainTextAtom1Feed
    same_for_everyone = frozenset({"GET", "HEAD"})  # letters.http.same_for_everyone

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in self.same_for_everyone:
            return HttpResponseNotAllowed(sorted(self.same_for_everyone))

        feed = super().__call__

        def build() -> tuple[bytes, str]:
            response = feed(request, *args, **kwargs)
            return response.content, response["Content-Type"]

        return public_response(request, f"feed:{kwargs['slug']}", build)

    def get_object(self, request: HttpRequest, slug: str) -> Letter:
        return selectors.letter_public_get(slug=slug)

    def title(self, obj: Letter) -> str:
        return _xml_text(obj.title)

    def link(self, obj: Letter) -> str:
        return letter_url(obj)

    def feed_url(self, obj: Letter) -> str:
        return absolute_url("letters:feed", slug=obj.slug)

    def subtitle(self, obj: Letter) -> str:
        return _("Timeline of the open letter")

    def items(self, obj: Letter) -> list[LetterEvent]:
        return selectors.letter_events(letter=obj)

    def item_title(self, item: LetterEvent) -> str:
        return str(item.get_kind_display())

    def item_description(self, item: LetterEvent) -> str:
        return _xml_text(item.text)

    def item_link(self, item: LetterEvent) -> str:
        return f"{letter_url(item.letter)}#event-{item.pk}"

    def item_pubdate(self, item: LetterEvent) -> Any:
        return item.created_at
