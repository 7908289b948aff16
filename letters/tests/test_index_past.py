"""The index after a letter stops taking signatures (issue 20).

/letters/ lists the open letters first, then "Past letters": closed,
delivered, acknowledged and responded ones, newest first, each with its
count and what became of it, so the public can find leadership's answer.
Drafts were never public and archived letters are withdrawn from view: they
appear in neither section.  A past letter's own page stays reachable.  The
index is a cached public page: a letter that changes state moves between
sections when the copy is rebuilt, as every public page changes
(letters/http.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import User
from letters import http, services
from letters.models import Letter, LetterStatus
from letters.tests.factories import confirmed_signature, current, deliver, open_letter
from speed import memory

pytestmark = pytest.mark.django_db

INDEX = "/letters/"
OUTCOMES = ["closed", "delivered", "acknowledged", "responded"]


def past_letter(
    organiser: User,
    slug: str,
    outcome: str,
    *,
    signers: int = 0,
    overdue_by: timedelta | None = None,
) -> Letter:
    """A letter published by the organiser, signed by `signers` people,
    then taken through the services to `outcome` (one of OUTCOMES).
    `overdue_by`: leadership was asked to respond by that long ago."""
    letter = open_letter(
        owner=organiser,
        published_by=organiser,
        slug=slug,
        title=f"Letter {slug}",
        translations=(),
    )
    for n in range(signers):
        confirmed_signature(letter, name=f"Signer {n}", email=f"{slug}-{n}@example.org")
    if outcome == "closed":
        services.letter_close(letter=letter, by=organiser)
        return current(letter)
    respond_by = timezone.now() + timedelta(days=7) if overdue_by else None
    _delivery, (issued,) = deliver(letter, organiser, respond_by=respond_by)
    if overdue_by:  # the clock moves past the date (the form refuses a past date)
        Letter.objects.filter(pk=letter.pk).update(respond_by=timezone.now() - overdue_by)
    if outcome in ("acknowledged", "responded"):
        services.letter_acknowledge(link=issued.link)
    if outcome == "responded":
        services.letter_respond(
            letter=letter, statement="We will end the contract.", answers={}, link=issued.link
        )
    return current(letter)


def make_past_letters(organiser: User, n: int) -> list[Letter]:
    """`n` past letters, cycling through the outcomes, each signed once."""
    return [
        past_letter(organiser, f"past-{i}", OUTCOMES[i % len(OUTCOMES)], signers=1)
        for i in range(n)
    ]


def index(client, lang: str = "") -> str:
    response = client.get(INDEX, {"lang": lang} if lang else {})
    assert response.status_code == 200
    return response.content.decode()


def past_rows(html: str) -> list[tuple[str, str]]:
    """(outcome, the row's text without tags) of each past letter, in order."""
    section = html.split('id="past-letters"', 1)[1]
    rows = re.findall(r'<li data-outcome="(\w+)">(.*?)</li>', section, re.S)
    return [(outcome, " ".join(re.sub(r"<[^>]+>", " ", body).split())) for outcome, body in rows]


def english_date(value) -> str:
    """A date as the page shows it (DATE_FORMAT, the site's time zone)."""
    with translation.override("en"):
        return date_filter(timezone.localtime(value), "DATE_FORMAT")


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Move the public page caches' clocks (letters.http, speed.memory) past
    the longest a copy stays fresh; each call moves them further."""
    shift = [0.0]

    def move() -> None:
        shift[0] += max(settings.COUNT_INTERVAL, settings.SIGNING_LETTER_TTL) + 1
        clock = SimpleNamespace(
            time=lambda: time.time() + shift[0], monotonic=lambda: time.monotonic() + shift[0]
        )
        monkeypatch.setattr(http, "time", clock)
        monkeypatch.setattr(memory, "time", clock)

    return move


# --- What the index shows -------------------------------------------------------


def test_the_index_lists_open_letters_first_then_past_ones_with_their_outcome_and_count(
    client, organiser
):
    still_open = open_letter(
        owner=organiser, slug="still-open", title="Still collecting", translations=()
    )
    confirmed_signature(still_open, name="Olga Open", email="olga@example.org")
    closed = past_letter(organiser, "closed-early", "closed", signers=1)
    waiting = past_letter(organiser, "just-delivered", "delivered", signers=2)
    late = past_letter(
        organiser, "late-answer", "delivered", signers=3, overdue_by=timedelta(days=3, hours=2)
    )
    received = past_letter(organiser, "received", "acknowledged", signers=4)
    answered = past_letter(organiser, "answered", "responded", signers=5)

    html = index(client)

    assert html.index("Still collecting") < html.index('id="past-letters"')
    assert html.index('id="open-letters"') < html.index('id="past-letters"')
    assert "1 signature<" in html.split('id="past-letters"')[0]  # the open letter's count
    assert "Past letters" in html
    delivered_on = english_date(waiting.deliveries.get().delivered_at)
    assert past_rows(html) == [  # newest first
        (
            "responded",
            f"Letter answered 5 signatures "
            f"Responded on {english_date(answered.responses.get().created_at)}",
        ),
        ("acknowledged", "Letter received 4 signatures Acknowledged"),
        (
            "delivered",
            f"Letter late-answer 3 signatures Delivered on "
            f"{english_date(late.deliveries.get().delivered_at)}, no answer, 3 days overdue",
        ),
        (
            "delivered",
            f"Letter just-delivered 2 signatures Delivered on {delivered_on}, no answer yet",
        ),
        ("closed", "Letter closed-early 1 signature Closed, not delivered"),
    ]
    for letter in (closed, waiting, late, received, answered):
        assert f'href="{letter.get_absolute_url()}"' in html


def test_an_acknowledged_letter_past_its_respond_by_date_says_how_overdue_it_is(client, organiser):
    past_letter(organiser, "ignored", "acknowledged", overdue_by=timedelta(hours=5))

    assert past_rows(index(client)) == [
        ("acknowledged", "Letter ignored 0 signatures Acknowledged, no answer, 1 day overdue")
    ]


def test_a_responded_letter_is_not_called_overdue(client, organiser):
    past_letter(organiser, "answered-late", "responded", overdue_by=timedelta(days=10))

    [(outcome, text)] = past_rows(index(client))
    assert outcome == "responded"
    assert "Responded on" in text
    assert "overdue" not in text


def test_drafts_and_archived_letters_appear_in_neither_section(client, organiser):
    draft = services.letter_create(
        slug="secret-draft",
        data=services.LetterInput(
            title="A draft nobody saw",
            body="Dear Casey",
            demands=["Something"],
            addressees=[("Casey Chief", "CEO")],
        ),
        owner=organiser,
    )
    archived_open = open_letter(
        owner=organiser, slug="pulled-back", title="Pulled back", translations=()
    )
    services.letter_archive(letter=archived_open, by=organiser)
    archived_answered = past_letter(organiser, "answered-then-archived", "responded", signers=1)
    services.letter_archive(letter=archived_answered, by=organiser)
    assert Letter.objects.filter(status=LetterStatus.ARCHIVED).count() == 2

    html = index(client)

    for letter in (draft, archived_open, archived_answered):
        assert letter.slug not in html
        assert letter.title not in html
    assert 'id="past-letters"' not in html  # no past letter in view: no section
    assert "No letter is open for signatures right now." in html


# --- A past letter's own page ---------------------------------------------------


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_a_past_letter_s_own_page_stays_reachable_from_the_index(client, organiser, outcome):
    letter = past_letter(organiser, f"page-{outcome}", outcome, signers=2)
    assert letter.status == outcome

    html = index(client)
    assert f'href="{letter.get_absolute_url()}"' in html
    page = client.get(letter.get_absolute_url())

    assert page.status_code == 200
    body = page.content.decode()
    assert letter.title in body
    assert "2 verified signatures" in body
    assert 'class="sign-form"' not in body  # no longer signed
    if outcome == "responded":
        assert "We will end the contract." in body  # leadership's answer is public


# --- The cached page changes as it always did -----------------------------------


def test_a_letter_that_closes_and_is_answered_moves_to_past_letters_when_the_copy_is_rebuilt(
    client, organiser, later
):
    letter = open_letter(owner=organiser, slug="moving", title="On the move", translations=())
    before = index(client)
    assert "On the move" in before
    assert 'id="past-letters"' not in before

    services.letter_close(letter=letter, by=organiser)
    later()
    assert past_rows(index(client)) == [
        ("closed", "On the move 0 signatures Closed, not delivered")
    ]

    _delivery, (issued,) = deliver(letter, organiser)
    services.letter_acknowledge(link=issued.link)
    services.letter_respond(letter=letter, statement="Yes.", answers={}, link=issued.link)
    later()
    [(outcome, text)] = past_rows(index(client))
    assert outcome == "responded"
    assert text.startswith("On the move 0 signatures Responded on ")


def test_the_index_is_still_one_public_copy_for_everyone(client, organiser):
    past_letter(organiser, "cached", "delivered")
    first = client.get(INDEX)

    assert first["Cache-Control"].startswith("public, max-age=")
    assert not first.cookies
    assert client.get(INDEX, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


# --- In German --------------------------------------------------------------------


def test_the_german_index_has_the_past_section_through_gettext(client, organiser):
    open_letter(owner=organiser, slug="offen", title="Offener Brief", translations=())
    past_letter(organiser, "beantwortet", "responded", signers=1)
    past_letter(organiser, "geschlossen", "closed")

    html = index(client, lang="de")

    assert '<html lang="de"' in html
    with translation.override("de"):
        heading = gettext("Past letters")
    assert f'<h2 id="past-heading">{heading}</h2>' in html
    assert html.index("Offener Brief") < html.index('id="past-letters"')
    assert [outcome for outcome, _text in past_rows(html)] == ["closed", "responded"]


# --- Queries ----------------------------------------------------------------------


def uncached_index_queries(client) -> int:
    """The queries of one rebuild of the English index (its cached copies
    forgotten first)."""
    cache.delete("public:en:index")
    http.local_tier_clear()
    with CaptureQueriesContext(connection) as queries:
        index(client, lang="en")
    return len(queries)


def test_the_index_costs_the_same_queries_with_2_and_with_20_past_letters(client, organiser):
    open_letter(owner=organiser, slug="open-one", title="Open one", translations=())
    make_past_letters(organiser, 2)
    with_two = uncached_index_queries(client)
    assert len(past_rows(index(client, lang="en"))) == 2

    for i in range(2, 20):
        past_letter(organiser, f"past-{i}", OUTCOMES[i % len(OUTCOMES)], signers=1)
    with_twenty = uncached_index_queries(client)

    assert len(past_rows(index(client, lang="en"))) == 20
    assert with_twenty == with_two
    assert with_two <= 4  # open letters, past letters with their dates, counts (2)
