"""Last-Modified of the public pages is when what they show last changed,
not when the shared copy was last rebuilt; and a conditional GET with an
earlier date still gets the new page (`letters.http._last_modified`)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django.utils.http import http_date, parse_http_date

from letters import services
from letters.models import Letter, LetterEvent, LetterStats
from letters.tests.factories import confirmed_signature, open_letter

pytestmark = pytest.mark.django_db


def backdate(letter: Letter, when: datetime) -> None:
    """The letter as if published, and its timeline written, at `when`."""
    LetterEvent.objects.filter(letter=letter).update(created_at=when)
    Letter.objects.filter(pk=letter.pk).update(published_at=when)
    letter.versions.update(created_at=when)
    LetterStats.objects.filter(letter=letter).update(updated_at=when)  # counted from then


def the_copy_goes_stale() -> None:
    time.sleep(settings.COUNT_INTERVAL + 0.1)


def a_second_passes() -> None:
    """Last-Modified counts whole seconds: a change in the same second as
    the previous build could not be told from it."""
    time.sleep(1.1)


def date(moment: datetime) -> str:
    return http_date(moment.timestamp())


def test_the_letter_page_is_dated_by_its_last_change_not_by_its_rebuild(
    client: Client, open_letter: Letter
) -> None:
    past = timezone.now() - timedelta(days=3)
    backdate(open_letter, past)
    url = open_letter.get_absolute_url()

    first = client.get(url)
    the_copy_goes_stale()
    rebuilt = client.get(url)

    assert first["Last-Modified"] == date(past)
    assert rebuilt["Last-Modified"] == date(past)  # the same bytes: the same date
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=date(past)).status_code == 304
    assert (
        client.get(url, HTTP_IF_MODIFIED_SINCE=date(past - timedelta(hours=1))).status_code == 200
    )


def test_a_new_event_dates_the_page_and_earlier_dates_get_the_new_page(
    client: Client, open_letter: Letter, organiser: Any
) -> None:
    backdate(open_letter, timezone.now() - timedelta(days=3))
    url = open_letter.get_absolute_url()
    first = client.get(url)
    a_second_passes()

    event = services.letter_post_update(letter=open_letter, by=organiser, text="We met the CEO.")
    the_copy_goes_stale()
    after = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert after.status_code == 200
    assert "We met the CEO." in after.content.decode()
    assert after["Last-Modified"] == date(event.created_at)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=after["Last-Modified"]).status_code == 304
    just_before = date(event.created_at - timedelta(seconds=1))
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=just_before).status_code == 200


def test_a_change_no_row_dates_still_gives_a_later_date(
    client: Client, open_letter: Letter
) -> None:
    """An edit of the goal writes no event; the page's bytes change, so its
    date moves to when the change was seen (at the latest)."""
    backdate(open_letter, timezone.now() - timedelta(days=3))
    url = open_letter.get_absolute_url()
    first = client.get(url)

    Letter.objects.filter(pk=open_letter.pk).update(goal=500)
    the_copy_goes_stale()
    before_fetch = int(time.time())
    after = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert after.status_code == 200
    assert "Goal: 500 signatures" in after.content.decode()
    assert parse_http_date(after["Last-Modified"]) > parse_http_date(first["Last-Modified"])
    assert parse_http_date(after["Last-Modified"]) <= before_fetch + 1


def test_a_new_signature_dates_the_page_by_the_count_change(
    client: Client, open_letter: Letter
) -> None:
    backdate(open_letter, timezone.now() - timedelta(days=3))
    url = open_letter.get_absolute_url()
    first = client.get(url)
    a_second_passes()

    signed_at = int(time.time())
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    the_copy_goes_stale()
    after = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert after.status_code == 200
    assert "1 verified signature" in after.content.decode()
    assert signed_at <= parse_http_date(after["Last-Modified"]) <= int(time.time())


def test_the_index_is_dated_by_its_newest_letter(client: Client, organiser: Any) -> None:
    older = open_letter(owner=organiser, slug="older")
    newer = open_letter(owner=organiser, slug="newer")
    backdate(older, timezone.now() - timedelta(days=5))
    newest = timezone.now() - timedelta(days=2)
    backdate(newer, newest)

    index = client.get("/letters/")

    assert index["Last-Modified"] == date(newest)
    assert client.get("/letters/", HTTP_IF_MODIFIED_SINCE=date(newest)).status_code == 304


def test_the_date_is_worked_out_when_the_copy_is_built_not_per_request(
    client: Client, open_letter: Letter, django_assert_max_num_queries: Any
) -> None:
    backdate(open_letter, timezone.now() - timedelta(days=3))
    url = open_letter.get_absolute_url()
    first = client.get(url)

    with django_assert_max_num_queries(0):
        again = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        full = client.get(url)

    assert again.status_code == 304
    assert full["Last-Modified"] == first["Last-Modified"]
