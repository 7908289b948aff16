"""HEAD answers like GET without a body, on every public page, through the
test client and through the WSGI app gunicorn serves (which, unlike the test
client and runserver, strips nothing itself); HEAD of an emailed link
changes nothing.  And the Atom feed carries organiser text as text, never
as markup a feed reader would render (an `<img>` it would fetch)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from config import wsgi
from config.middleware import private_by_default
from letters import services
from letters.models import Letter, Signature
from letters.tokens import make_token
from speed.public_chain import is_public
from tests.security.world import SIGNER_LINKS, snapshot
from tests.test_wsgi import call

ATOM = "{http://www.w3.org/2005/Atom}"
TEXT_CONSTRUCTS = ("title", "subtitle", "summary", "content", "rights")

# (URL name, whether it takes the letter's slug)
PUBLIC_PAGES = [
    ("letters:detail", True),
    ("letters:index", False),
    ("letters:signatories", True),
    ("letters:check_inbox", True),
    ("signing_safely", False),
    ("api_letters", False),
    ("api_letter", True),
    ("api_letter_counts", True),
    ("api_openapi", False),
    ("letter_embed", True),
    ("letters:feed", True),
    ("letters:card", True),
    ("robots_txt", False),
    ("sitemap", False),
]


@pytest.fixture(autouse=True)
def _steady_copies(settings: Any) -> Iterator[None]:
    """GET and HEAD meet the same cached copy (the test stack's count
    interval is one second); and a handler called directly leaves its
    language active, so it is restored (tests/test_wsgi.py says more)."""
    settings.COUNT_INTERVAL = 600
    with translation.override(settings.LANGUAGE_CODE):
        yield


def page_url(letter: Letter, name: str, slug: bool) -> str:
    return reverse(name, kwargs={"slug": letter.slug} if slug else None)


# --- HEAD -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "slug"), PUBLIC_PAGES)
def test_head_of_a_public_page_answers_like_get_without_a_body(
    open_letter: Letter, name: str, slug: bool
) -> None:
    url = page_url(open_letter, name, slug)
    client = Client()

    get = client.get(url)
    head = client.head(url)

    assert get.status_code == head.status_code == 200
    assert dict(head.items()) == dict(get.items())
    assert head.content == b""
    assert head["Cache-Control"].startswith("public, max-age=")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("name", "slug"), PUBLIC_PAGES)
def test_head_through_the_wsgi_app_carries_the_get_s_headers_and_no_body(
    open_letter: Letter, name: str, slug: bool
) -> None:
    """Status, ETag, Content-Type, Cache-Control, Content-Length: the GET's;
    body: none.  HEAD takes the same middleware chain as GET."""
    url = page_url(open_letter, name, slug)
    assert is_public("HEAD", url) == is_public("GET", url)

    get = call(wsgi.application, "GET", url, accept_language="de")
    head = call(wsgi.application, "HEAD", url, accept_language="de")
    revalidated = call(wsgi.application, "HEAD", url, accept_language="de",
                       if_none_match=get[1]["ETag"])  # fmt: skip

    assert get[0] == head[0] == 200
    assert head[1] == get[1]
    assert head[1]["Content-Length"] == str(len(get[2]))
    assert get[2] != b""
    assert head[2] == b""
    assert revalidated[0] == 304
    assert revalidated[2] == b""


def test_the_public_views_are_marked_for_head_as_for_get() -> None:
    """A view marked as the same for everyone on GET is so on HEAD."""
    for path in ("/letters/", "/letters/x/", "/letters/x/feed/", "/api/letters/x/counts/"):
        assert is_public("GET", path), path
        assert is_public("HEAD", path), path


@pytest.mark.django_db(transaction=True)
def test_head_of_an_emailed_link_changes_nothing(open_letter: Letter) -> None:
    services.signature_create(
        letter=open_letter, email="sam.signer@example.org", name="Sam Signer", wants_updates=True
    )
    signature = Signature.objects.get(letter=open_letter)
    before = snapshot()

    for prefix, purpose in SIGNER_LINKS.items():
        path = f"/{prefix}/{make_token(signature, purpose)}/"
        via_client = Client().head(path)
        status, headers, body = call(wsgi.application, "HEAD", path)
        assert status == via_client.status_code, path
        assert status in {200, 405}, path
        assert body == b"" == via_client.content, path
        assert headers["Cache-Control"] == "private, no-store", path

    assert snapshot() == before
    assert Signature.objects.get(pk=signature.pk).status == "pending"


def test_head_of_a_stream_sends_nothing_and_never_reads_it() -> None:
    read: list[int] = []

    def rows() -> Iterator[bytes]:
        read.append(1)
        yield b"name,email\n"

    def export(request: HttpRequest) -> StreamingHttpResponse:
        return StreamingHttpResponse(rows(), content_type="text/csv")

    response = private_by_default(export)(RequestFactory().head("/export/"))
    assert isinstance(response, StreamingHttpResponse)

    assert b"".join(response) == b""
    response.close()
    assert read == []
    assert response["Cache-Control"] == "private, no-store"


def test_head_keeps_a_length_the_view_set() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"12345")

    response = private_by_default(view)(RequestFactory().head("/"))

    assert isinstance(response, HttpResponse)
    assert response.content == b""
    assert response["Content-Length"] == "5"


# --- The feed -------------------------------------------------------------------------

EVIL_IMG = '<img src="https://evil.example/track.gif">'
EVIL_SCRIPT = "<script>alert(document.cookie)</script>"


class Tags(HTMLParser):
    """What an HTML parser finds in a string: elements and their attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def markup_a_reader_would_render(root: ET.Element) -> list[str]:
    """What a feed reader would render as HTML: `type="html"` constructs
    are parsed as escaped HTML, `type="xhtml"` ones carry elements; a
    `type="text"` (or untyped) construct is shown as written."""
    found = []
    for name in TEXT_CONSTRUCTS:
        for element in root.iter(ATOM + name):
            kind = element.get("type", "text")
            if kind == "html":
                found += [
                    f"{name}: <{tag} {attrs}>" for tag, attrs in Tags(element.text or "").found
                ]
            elif kind != "text":
                found.append(f"{name}: type={kind}")
            found += [f"{name}: element {child.tag}" for child in element]
    return found


def parse(feed: bytes) -> ET.Element:
    return ET.fromstring(feed)  # noqa: S314 -- our own feed, built in this test


def fetch_feed(letter: Letter, **extra: Any) -> ET.Element:
    response = Client().get(reverse("letters:feed", kwargs={"slug": letter.slug}), **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return parse(response.content)


@pytest.mark.django_db
def test_the_feed_carries_organiser_text_as_text_never_markup(
    open_letter: Letter, organiser: Any
) -> None:
    title = f"Pay us fairly {EVIL_IMG}"
    text = f"We met them. {EVIL_IMG} {EVIL_SCRIPT} & more"
    Letter.objects.filter(pk=open_letter.pk).update(title=title)
    open_letter.refresh_from_db()
    services.letter_post_update(letter=open_letter, by=organiser, text=text)

    root = fetch_feed(open_letter)

    assert markup_a_reader_would_render(root) == []
    constructs = [e for name in TEXT_CONSTRUCTS for e in root.iter(ATOM + name)]
    assert {e.get("type") for e in constructs} == {"text"}
    assert {e.tag for e in constructs} >= {ATOM + "title", ATOM + "subtitle", ATOM + "summary"}
    assert root.findtext(ATOM + "title") == title
    summaries = [e.text for e in root.iter(ATOM + "summary")]
    assert text in summaries
    assert not [e for e in root.iter() if not e.tag.startswith(ATOM)]  # no foreign elements


@pytest.mark.django_db
def test_control_characters_in_an_update_do_not_break_the_feed(
    open_letter: Letter, organiser: Any
) -> None:
    """XML 1.0 cannot carry them; the feed shows a replacement character."""
    services.letter_post_update(letter=open_letter, by=organiser, text="Line\x0bbreak\x01!")

    root = fetch_feed(open_letter)

    assert "Line\ufffdbreak\ufffd!" in [e.text for e in root.iter(ATOM + "summary")]


@pytest.mark.django_db
def test_the_feed_is_a_shared_copy_with_links_from_site_url(open_letter: Letter) -> None:
    """Cached for everyone like the letter page, so nothing in it comes from
    the request: not the Host header either."""
    url = reverse("letters:feed", kwargs={"slug": open_letter.slug})

    response = Client().get(url, HTTP_HOST="localhost")
    root = parse(response.content)

    assert response["Cache-Control"].startswith("public, max-age=")
    assert response["ETag"]
    hrefs = [e.get("href", "") for e in root.iter(ATOM + "link")]
    ids = [e.text or "" for e in root.iter(ATOM + "id")]
    assert hrefs
    assert all(h.startswith(settings.SITE_URL + "/") for h in hrefs + ids), hrefs + ids
    assert Client().post(url).status_code == 405
    assert Client().get("/letters/no-such-letter/feed/").status_code == 404


@pytest.mark.django_db
def test_the_api_carries_organiser_text_as_json_strings(
    open_letter: Letter, organiser: Any
) -> None:
    """JSON strings are text to every client; nosniff keeps browsers from
    reading the answer as HTML."""
    text = f"News {EVIL_IMG} {EVIL_SCRIPT}"
    services.letter_post_update(letter=open_letter, by=organiser, text=text)

    response = Client().get(reverse("api_letter", kwargs={"slug": open_letter.slug}))

    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert text in [event["text"] for event in json.loads(response.content)["timeline"]]
