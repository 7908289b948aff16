"""The public timeline of a letter as an Atom feed (RFC 4287), in plain text.

Every entry is an event of the timeline with its full content in words: a
response carries leadership's statement and the answer to each demand
("Accepted", "Declined", ...), a new version its change note and demands,
an update its text.  `letters/tests/test_feed_valid.py` validates the feed
against the RFC's RELAX NG grammar (tests/schemas/atom.rnc) with jing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import parse_http_date_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.xmlutils import SimplerXMLGenerator

from letters import selectors
from letters.http import public_response, query_language
from letters.links import absolute_url, letter_url
from letters.models import EventKind, Letter, LetterEvent, LetterVersion
from letters.replica import reads_from_replica

# Characters XML 1.0 cannot carry (SimplerXMLGenerator refuses them, which
# would make the feed a 500 for as long as an update holds one).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

SUMMARY_LENGTH = 300  # characters of a long text in an entry's summary

SITE_NAME = "Undersigned"


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _excerpt(text: str, length: int = SUMMARY_LENGTH) -> str:
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    return (cut[: cut.rindex(" ")] if " " in cut else cut) + "…"


class _PlainTextXMLGenerator(SimplerXMLGenerator):
    """Writes every Atom text construct as `type="text"`."""

    TEXT_CONSTRUCTS = frozenset({"title", "subtitle", "summary", "content", "rights"})

    def startElement(self, name: str, attrs: Any) -> None:
        if name in self.TEXT_CONSTRUCTS:
            attrs = {**attrs, "type": "text"}
        super().startElement(name, attrs)


class PlainTextAtom1Feed(Atom1Feed):
    """Atom whose text constructs are plain text, whose entries carry their
    content, and which is valid RFC 4287.

    Django's Atom1Feed writes `<summary type="html">`: a feed reader would
    render an organiser's `<img src=...>` as an image and fetch it.  Here
    every text construct says `type="text"`, so readers show the text as
    written (the XML writer escapes it) and never parse it as markup.

    RFC 4287 also asks of every entry an `updated` (Django writes one only
    for items with an `updateddate`) and of the feed or every entry an
    `author` (the feed's, here); and the feed's own `updated` is its newest
    entry's, or the letter's publication: never the time of the request,
    which would change the bytes (and the ETag) of an unchanged feed."""

    def write(self, outfile: Any, encoding: str) -> None:
        handler = _PlainTextXMLGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")

    def latest_post_date(self) -> datetime:
        dates = [item[key] for item in self.items for key in ("updateddate", "pubdate")]
        dates = [d for d in dates if d is not None]
        if dates:
            return max(dates)
        fallback = self.feed.get("updated_fallback")
        return fallback if fallback is not None else datetime(2000, 1, 1, tzinfo=UTC)

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"])


@dataclass(frozen=True)
class Entry:
    """One timeline event as the feed tells it."""

    event: LetterEvent
    link: str
    summary: str
    content: str


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))


class _Versions:
    """The letter's versions, oldest first, with their demands in the feed's
    language where the version was translated into it."""

    def __init__(self, letter: Letter, language: str) -> None:
        self.rows = list(
            LetterVersion.objects.filter(letter=letter)
            .prefetch_related("demands", "translations")
            .order_by("number")
        )
        self.language = language

    def at(self, moment: datetime) -> LetterVersion | None:
        """The newest version written by `moment` (an event's time)."""
        found = None
        for version in self.rows:
            if version.created_at <= moment:
                found = version
        return found

    def demands(self, version: LetterVersion) -> list[str]:
        for translation in version.translations.all():
            if translation.language == self.language:
                return [str(d) for d in translation.demands]
        return [d.text for d in sorted(version.demands.all(), key=lambda d: d.position)]


def _employer_name(event: LetterEvent) -> str:
    """Whose leadership the event is about, on a coalition letter ("": the
    whole letter); `letter_events` reads the employers with the events."""
    return event.employer.name if event.employer_id and event.employer else ""


def _demands_block(demands: list[str]) -> str:
    return f"{_('The demands:')}\n{_numbered(demands)}" if demands else ""


def _response_content(
    event: LetterEvent, found: selectors.ResponseView | None, versions: _Versions
) -> tuple[str, str]:
    who = event.text.strip()
    employer = _employer_name(event)
    if employer:
        heading = (
            _("The leadership of %(employer)s responded (%(who)s).")
            % {"employer": employer, "who": who}
            if who
            else _("The leadership of %(employer)s responded.") % {"employer": employer}
        )
    else:
        heading = (
            _("Leadership responded (%(who)s).") % {"who": who}
            if who
            else _("Leadership responded.")
        )
    if found is None:
        return heading, heading
    response = found.response
    # The demands in the feed's language where the answered version was
    # translated (answers come in the version's order of demands).
    answered = [d.text for d in found.demands]
    version = next((v for v in versions.rows if v.pk == response.version_id), None)
    if version is not None:
        translated = versions.demands(version)
        if len(translated) == len(answered):
            answered = translated
    answers = [f"{text}: {d.answer_label}" for text, d in zip(answered, found.demands, strict=True)]
    parts = [heading]
    if response.source:
        parts.append(_("Source: %(source)s") % {"source": response.source})
    parts.append(f"{_('Statement:')}\n{response.statement}")
    if answers:
        parts.append(f"{_('Answers to the demands:')}\n{_numbered(answers)}")
    summary = f"{heading} {_excerpt(response.statement)}"
    return summary, "\n\n".join(parts)


def _texts(
    event: LetterEvent, found: selectors.ResponseView | None, versions: _Versions
) -> tuple[str, str]:
    """(summary, content) of an event, in words."""
    text = event.text.strip()
    kind = event.kind
    if kind == EventKind.RESPONSE:
        return _response_content(event, found, versions)
    if kind == EventKind.UPDATE:
        return event.text, event.text
    if kind in (EventKind.PUBLISHED, EventKind.NEW_VERSION):
        version = versions.at(event.created_at)
        if kind == EventKind.PUBLISHED:
            summary = _("The letter was published.")
        elif version is not None:
            summary = _("Version %(number)s of the letter was published.") % {
                "number": version.number
            }
        else:
            summary = _("A new version of the letter was published.")
        if kind == EventKind.NEW_VERSION and text:
            summary = f"{summary} {_('What changed: %(note)s') % {'note': text}}"
        demands = _demands_block(versions.demands(version)) if version is not None else ""
        return summary, "\n\n".join(p for p in (summary, demands) if p)
    sentences = {
        EventKind.CLOSED: _("The letter was closed: it takes no more signatures."),
        EventKind.ARCHIVED: _("The letter was archived."),
        EventKind.TAKEN_DOWN: _("The site's moderators took the letter down."),
        EventKind.REINSTATED: _("The site's moderators reinstated the letter."),
        EventKind.WENT_PUBLIC: _(
            "The letter was made public: until then, only its employers' staff could read it."
        ),
        # The text is the count ("40"), or the correction ("40 → 35").
        EventKind.PAPER: _("Signatures collected on paper were recorded:"),
        EventKind.PAPER_CORRECTED: _("A batch of signatures on paper was corrected:"),
        EventKind.DEADLINE_PASSED: _(
            "The date leadership was asked to respond by has passed without a response."
        ),
    }
    employer = _employer_name(event)
    if kind == EventKind.DELIVERED and employer:
        summary = (
            _("The letter was delivered to the leadership of %(employer)s: %(to)s")
            % {"employer": employer, "to": text}
            if text
            else _("The letter was delivered to the leadership of %(employer)s.")
            % {"employer": employer}
        )
    elif kind == EventKind.DELIVERED:
        summary = (
            _("The letter was delivered to leadership: %(to)s") % {"to": text}
            if text
            else _("The letter was delivered to leadership.")
        )
    elif kind == EventKind.ACKNOWLEDGED and employer:
        summary = (
            _("%(name)s acknowledged receiving the letter for %(employer)s.")
            % {"name": text, "employer": employer}
            if text
            else _("The leadership of %(employer)s acknowledged receiving the letter.")
            % {"employer": employer}
        )
    elif kind == EventKind.ACKNOWLEDGED:
        summary = (
            _("%(name)s acknowledged receiving the letter.") % {"name": text}
            if text
            else _("Leadership acknowledged receiving the letter.")
        )
    else:
        summary = sentences.get(EventKind(kind), text)
        if text and text not in summary:
            summary = f"{summary} {text}"
    return summary, summary


def _responses_by_event(
    events: list[LetterEvent], responses: list[selectors.ResponseView]
) -> dict[int, selectors.ResponseView]:
    """Each "response" event's response: the one it names, else (events
    written before events named them) the newest response written by the
    event's time that no newer event took."""
    by_id = {r.response.pk: r for r in responses}
    found: dict[int, selectors.ResponseView] = {}
    left = list(responses)  # newest first
    for event in events:  # newest first
        if event.kind != EventKind.RESPONSE:
            continue
        named = by_id.get(getattr(event, "response_id", None) or 0)
        if named is None:
            named = next((r for r in left if r.response.created_at <= event.created_at), None)
        if named is not None:
            found[event.pk] = named
            if named in left:
                left.remove(named)
    return found


class LetterFeed(Feed):
    """The public timeline as an Atom feed, in plain text.

    Served like the letter page (`public_response`): the same bytes for
    every visitor of a language (`?lang=` chooses it, and is not
    remembered: a feed reader keeps no cookie), cached for the count
    interval, with ETag, Last-Modified (the newest entry) and `Cache-Control:
    public`, answering 304 to If-None-Match and If-Modified-Since, through
    the short middleware chain; HEAD is GET without the body.  Links are
    absolute from SITE_URL, never from the request's Host, since the copy
    is shared."""

    feed_type = PlainTextAtom1Feed
    same_for_everyone = frozenset({"GET", "HEAD"})  # letters.http.same_for_everyone

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in self.same_for_everyone:
            return HttpResponseNotAllowed(sorted(self.same_for_everyone))
        query_language(request)

        feed = super().__call__

        @reads_from_replica
        def build() -> tuple[bytes, str, datetime | None]:
            response = feed(request, *args, **kwargs)
            # Django's Feed dates the answer by its newest entry.
            stamp = parse_http_date_safe(response.get("Last-Modified", ""))
            updated = datetime.fromtimestamp(stamp, tz=UTC) if stamp is not None else None
            return response.content, response["Content-Type"], updated

        return public_response(request, f"feed:{kwargs['slug']}", build)

    def get_object(self, request: HttpRequest, slug: str) -> Letter:
        return selectors.letter_public_get(slug=slug)

    def title(self, obj: Letter) -> str:
        language = get_language() or obj.language
        return _xml_text(selectors.letter_text(obj, language).title)

    def link(self, obj: Letter) -> str:
        return letter_url(obj)

    def feed_url(self, obj: Letter) -> str:
        return absolute_url("letters:feed", slug=obj.slug)

    def subtitle(self, obj: Letter) -> str:
        return _("Timeline of the open letter")

    def author_name(self, obj: Letter) -> str:
        return SITE_NAME

    def author_link(self, obj: Letter) -> str:
        return absolute_url("letters:index")

    def feed_extra_kwargs(self, obj: Letter) -> dict[str, Any]:
        return {"updated_fallback": obj.published_at}

    def items(self, obj: Letter) -> list[Entry]:
        events = selectors.letter_events(letter=obj)
        responses = selectors.letter_responses(letter=obj)
        versions = _Versions(obj, get_language() or obj.language)
        answered = _responses_by_event(events, responses)
        page = letter_url(obj)
        entries = []
        for event in events:
            summary, content = _texts(event, answered.get(event.pk), versions)
            link = f"{page}#event-{event.pk}"
            entries.append(Entry(event, link, _xml_text(summary), _xml_text(content)))
        return entries

    def item_title(self, item: Entry) -> str:
        return str(item.event.get_kind_display())

    def item_description(self, item: Entry) -> str:
        return item.summary

    def item_extra_kwargs(self, item: Entry) -> dict[str, Any]:
        return {"content": item.content}

    def item_link(self, item: Entry) -> str:
        return item.link

    def item_pubdate(self, item: Entry) -> datetime:
        return item.event.created_at

    def item_updateddate(self, item: Entry) -> datetime:
        return item.event.created_at  # events are never edited
