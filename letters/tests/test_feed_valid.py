"""The Atom feed as a feed reader and a validator see it: valid RFC 4287
(the RFC's RELAX NG grammar, tests/schemas/atom.rnc, checked with Debian's
`jing`, and the two Schematron rules the grammar states in annotations),
well-formed for a strict XML parser, every event with its content in
words, and answered with 304 to a conditional GET."""

from __future__ import annotations

import shutil
import subprocess
import time
import xml.parsers.expat
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date, parse_http_date

from letters import services
from letters.models import PRIVATE_KINDS, Answer, EventKind, Letter, LetterEvent, LetterStatus
from letters.tests.factories import (
    confirmed_signature,
    current,
    deliver,
    edit_letter,
    record_paper,
)

pytestmark = pytest.mark.django_db

SCHEMA = Path(__file__).resolve().parents[2] / "tests" / "schemas" / "atom.rnc"
ATOM = "{http://www.w3.org/2005/Atom}"

STATEMENT = 'We hear you. <img src="https://evil.example/t.gif"> & we will act on pay.'
UPDATE = "We met the board today. Next step: the all-hands on Friday."
TAKEDOWN_REASON = "It named a colleague."
PRIVATE_TEXT = "Between the moderators and the organisers"


@pytest.fixture
def whole_timeline(open_letter: Letter, organiser: Any) -> Letter:
    """A letter with an event of every kind: published (the fixture), a
    new version, an organiser update, paper signatures and their correction,
    closed, delivered, acknowledged, the deadline passed, leadership's
    response with an answer per demand; and archived, written directly (an
    archived letter's feed is a 404, but the entry must be valid all the
    same)."""
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    letter = edit_letter(
        current(open_letter),
        by=organiser,
        body="Dear CEO,\n\nWe, the undersigned employees, ask you to act now.",
        demands=["Condemn the agency's actions", "End the contract", "Publish an ethics policy"],
        change_note="Asked for action now",
    )
    services.letter_post_update(letter=letter, by=organiser, text=UPDATE)
    first_batch = record_paper(letter, 40, by=organiser)
    record_paper(letter, 38, by=organiser, corrects=first_batch)
    services.letter_close(letter=letter, by=organiser)
    _delivery, (issued,) = deliver(
        current(letter), organiser, respond_by=timezone.now() + timedelta(days=1)
    )
    services.letter_acknowledge(link=issued.link)
    Letter.objects.filter(pk=letter.pk).update(respond_by=timezone.now() - timedelta(minutes=1))
    services.letters_mark_overdue()
    letter = current(letter)
    assert letter.current_version is not None
    ids = list(letter.current_version.demands.order_by("position").values_list("id", flat=True))
    services.letter_respond(
        letter=letter,
        statement=STATEMENT,
        answers={ids[0]: Answer.ACCEPTED, ids[1]: Answer.DECLINED, ids[2]: Answer.CONSIDERING},
        link=issued.link,
    )
    LetterEvent.objects.create(letter=letter, kind=EventKind.ARCHIVED)
    # The moderators' steps (issue 19): takedown and reinstatement are
    # public; the others are for the organisers only, never in the feed.
    LetterEvent.objects.create(letter=letter, kind=EventKind.TAKEN_DOWN, text=TAKEDOWN_REASON)
    LetterEvent.objects.create(letter=letter, kind=EventKind.REINSTATED)
    # An internal letter made public (services.internal): its feed starts then.
    LetterEvent.objects.create(letter=letter, kind=EventKind.WENT_PUBLIC)
    for kind in PRIVATE_KINDS:
        LetterEvent.objects.create(letter=letter, kind=kind, text=PRIVATE_TEXT)
    letter = current(letter)
    assert letter.status == LetterStatus.RESPONDED
    kinds = set(letter.events.values_list("kind", flat=True))
    assert kinds == set(EventKind.values)
    return letter


def feed_url(letter: Letter) -> str:
    return reverse("letters:feed", kwargs={"slug": letter.slug})


def jing(path: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("jing")
    if binary is None:
        pytest.fail("jing is not installed (Debian: apt-get install jing; .ci/run installs it)")
    return subprocess.run(
        [binary, "-c", str(SCHEMA), str(path)], capture_output=True, text=True, timeout=120
    )


def strict_parse(body: bytes) -> None:
    """Expat with namespaces, as a feed reader parses: any well-formedness
    or namespace error raises."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.Parse(body, True)


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(ATOM + "entry")


def entry_of(root: ET.Element, title: str) -> ET.Element:
    (found,) = [e for e in entries(root) if e.findtext(ATOM + "title") == title]
    return found


def test_the_grammar_rejects_an_entry_without_updated(tmp_path: Path) -> None:
    """The validator itself: a feed missing what RFC 4287 requires fails."""
    bad = tmp_path / "bad.xml"
    bad.write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>urn:x</id>'
        "<updated>2020-01-01T00:00:00Z</updated><author><name>a</name></author>"
        "<entry><title>e</title><id>urn:e</id></entry></feed>"
    )
    result = jing(bad)
    assert result.returncode != 0
    assert 'missing required element "updated"' in result.stdout


def test_a_feed_with_every_event_kind_is_valid_atom(whole_timeline: Letter, tmp_path: Path) -> None:
    response = Client().get(feed_url(whole_timeline))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    path = tmp_path / "feed.xml"
    path.write_bytes(response.content)

    result = jing(path)

    assert result.returncode == 0, result.stdout
    assert result.stdout == ""  # no error, no warning about the document
    strict_parse(response.content)
    root = ET.fromstring(response.content)  # noqa: S314 -- our own feed
    assert root.tag == ATOM + "feed"
    # The Schematron rules of RFC 4287 (jing -c does not check them):
    # an author on the feed or on every entry ...
    assert root.find(ATOM + "author") is not None or all(
        e.find(ATOM + "author") is not None for e in entries(root)
    )
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Undersigned"
    # ... and an alternate link or a content on every entry.
    for entry in entries(root):
        alternates = [
            link
            for link in entry.findall(ATOM + "link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert alternates or entry.find(ATOM + "content") is not None
    titles = {e.findtext(ATOM + "title") for e in entries(root)}
    assert titles == {str(label) for kind, label in EventKind.choices if kind not in PRIVATE_KINDS}


def test_every_entry_is_dated_identified_and_carries_its_content(whole_timeline: Letter) -> None:
    root = ET.fromstring(Client().get(feed_url(whole_timeline)).content)  # noqa: S314
    ids = [e.findtext(ATOM + "id") for e in entries(root)]
    assert len(ids) == len(set(ids)) == len(EventKind.values) - len(PRIVATE_KINDS)
    newest = max(datetime.fromisoformat(e.findtext(ATOM + "updated") or "") for e in entries(root))
    assert datetime.fromisoformat(root.findtext(ATOM + "updated") or "") == newest
    for entry in entries(root):
        updated = entry.findtext(ATOM + "updated")
        assert updated
        assert datetime.fromisoformat(updated).tzinfo is not None
        assert entry.findtext(ATOM + "published") == updated  # events are never edited
        content = entry.find(ATOM + "content")
        assert content is not None
        assert content.get("type") == "text"
        assert (content.text or "").strip(), entry.findtext(ATOM + "title")
        assert list(content) == []  # text, never elements
        link = entry.find(ATOM + "link")
        assert link is not None
        assert link.get("href", "").startswith(whole_timeline_url(whole_timeline) + "#event-")


def whole_timeline_url(letter: Letter) -> str:
    return settings.SITE_URL + letter.get_absolute_url()


def test_a_response_entry_states_the_statement_and_every_answer_in_words(
    whole_timeline: Letter,
) -> None:
    root = ET.fromstring(Client().get(feed_url(whole_timeline)).content)  # noqa: S314
    response = entry_of(root, "Response")
    content = response.findtext(ATOM + "content") or ""

    assert "Leadership responded (Casey Chief)." in content  # who, as the page says
    assert STATEMENT in content  # the markup is text, shown as written
    assert (
        "Answers to the demands:\n"
        "1. Condemn the agency's actions: Accepted\n"
        "2. End the contract: Declined\n"
        "3. Publish an ethics policy: Under consideration"
    ) in content
    summary = response.findtext(ATOM + "summary") or ""
    assert summary.startswith("Leadership responded (Casey Chief). We hear you.")
    for name in ("title", "summary", "content"):
        assert response.find(ATOM + name).get("type") == "text"  # type: ignore[union-attr]


def test_each_kind_of_event_says_what_happened(whole_timeline: Letter) -> None:
    root = ET.fromstring(Client().get(feed_url(whole_timeline)).content)  # noqa: S314

    def content(title: str) -> str:
        return entry_of(root, title).findtext(ATOM + "content") or ""

    assert content("Organiser update") == UPDATE
    assert entry_of(root, "Organiser update").findtext(ATOM + "summary") == UPDATE
    new_version = content("New version")
    assert new_version.startswith("Version 2 of the letter was published.")
    assert "What changed: Asked for action now" in new_version
    assert "The demands:\n1. Condemn the agency's actions\n2. End the contract" in new_version
    assert content("Published").startswith("The letter was published.")
    assert content("Closed") == "The letter was closed: it takes no more signatures."
    assert content("Delivered").startswith("The letter was delivered to leadership: Casey Chief")
    assert content("Acknowledged") == "Casey Chief acknowledged receiving the letter."
    assert "has passed without a response" in content("Response deadline passed")
    assert content("Archived") == "The letter was archived."
    assert content("Taken down by the moderators") == (
        f"The site's moderators took the letter down. {TAKEDOWN_REASON}"
    )
    assert content("Reinstated by the moderators") == "The site's moderators reinstated the letter."
    assert PRIVATE_TEXT not in Client().get(feed_url(whole_timeline)).content.decode()
    assert "Pia Public" not in Client().get(feed_url(whole_timeline)).content.decode()


def test_the_feed_answers_conditional_gets(open_letter: Letter, organiser: Any) -> None:
    """ETag and Last-Modified (the newest entry's time, not the time the
    copy was built) revalidate; a date before the last change does not."""
    past = timezone.now() - timedelta(days=3)
    LetterEvent.objects.filter(letter=open_letter).update(created_at=past)
    Letter.objects.filter(pk=open_letter.pk).update(published_at=past)
    client = Client()
    url = feed_url(open_letter)

    first = client.get(url)

    assert first["Last-Modified"] == http_date(past.timestamp())
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    earlier = format_datetime(past - timedelta(hours=1), usegmt=True)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200

    services.letter_post_update(letter=open_letter, by=organiser, text="News")
    time.sleep(settings.COUNT_INTERVAL + 0.1)
    second = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert second.status_code == 200
    assert b"News" in second.content
    assert parse_http_date(second["Last-Modified"]) > parse_http_date(first["Last-Modified"])
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_the_feed_in_another_language_is_a_shared_copy_too(open_letter: Letter) -> None:
    """`?lang=de` chooses the language, and is not remembered: a feed
    reader keeps no cookie, and the answer stays public."""
    response = Client().get(feed_url(open_letter) + "?lang=de")
    root = ET.fromstring(response.content)  # noqa: S314

    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "de"
    assert root.findtext(ATOM + "title") == "Beenden Sie den Vertrag"
    assert response["Cache-Control"].startswith("public")
    assert not response.cookies
