"""The letter page, the index and the read API: same bytes for everyone,
cacheable, and exact within the count interval."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from letters import selectors, services
from letters.charts import chart_table_rows
from letters.models import Display, Signature, SignatureStatus
from letters.suppression import merge_small_days
from letters.tests.factories import api_count_within, confirmed_signature, pending_signature

pytestmark = pytest.mark.django_db(transaction=True)


def test_visitor_reads_the_letter_with_count_progress_and_public_signatories(client, open_letter):
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org", team="Data")
    confirmed_signature(
        open_letter, name="Anna Anonymous", email="anna@example.org", display=Display.ANONYMOUS
    )

    response = client.get(open_letter.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Stop the contract" in html
    assert "Casey Chief" in html
    assert "End the contract" in html
    assert "2 verified signatures" in html
    assert '<progress class="progress" max="100" value="2"' in html
    assert "Pia Public" in html
    assert "and 1 more who withheld their name" in html
    assert "Anna Anonymous" not in html


def test_letter_page_is_public_cacheable_and_answers_304(client, open_letter, settings):
    url = open_letter.get_absolute_url()
    first = client.get(url)

    assert first["Cache-Control"].startswith("public, max-age=")
    assert "stale-while-revalidate" in first["Cache-Control"]
    # The language comes from the language cookie (a choice kept for the
    # visit) or Accept-Language: shared caches keep a copy per both.
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in first["Vary"].split(",")}
    assert not first.cookies
    assert "csrfmiddlewaretoken" not in first.content.decode()
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_the_count_is_exact_within_the_count_interval(client, open_letter, settings):
    url = reverse("api_letter", kwargs={"slug": open_letter.slug})
    assert json.loads(client.get(url).content)["confirmed_count"] == 0
    confirmed_signature(open_letter, name="New", email="new@example.org")

    assert api_count_within(client, open_letter, 1, settings.COUNT_INTERVAL + 1.5) == 1


def test_visitors_get_the_letter_in_their_language(client, open_letter):
    german = client.get(open_letter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de")
    english = client.get(open_letter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    assert "Beenden Sie den Vertrag" in german.content.decode()
    assert "Stop the contract" in english.content.decode()


def test_index_lists_open_letters(client, open_letter):
    response = client.get(reverse("letters:index"))
    assert open_letter.title in response.content.decode()


def test_draft_letters_are_not_public(client, organiser):
    from letters import services

    draft = services.letter_create(
        slug="secret-draft",
        data=services.LetterInput(title="Secret draft", body="x", demands=[], addressees=[]),
    )
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(reverse("api_letter", kwargs={"slug": draft.slug})).status_code == 404
    assert "Secret draft" not in client.get(reverse("api_letters")).content.decode()


def test_api_lists_open_letters_with_counts(client, open_letter):
    confirmed_signature(open_letter, name="Pia", email="pia@example.org")

    data = json.loads(client.get(reverse("api_letters")).content)

    assert data["letters"] == [
        {
            "slug": open_letter.slug,
            "title": open_letter.title,
            "status": "open",
            "url": "http://testserver" + open_letter.get_absolute_url(),
            "confirmed_count": 1,
            "goal": 100,
        }
    ]


def test_api_letter_detail_has_addressees_and_demands(client, open_letter):
    response = client.get(reverse("api_letter", kwargs={"slug": open_letter.slug}))

    data = json.loads(response.content)
    assert response["Content-Type"] == "application/json"
    assert data["addressees"] == [{"name": "Casey Chief", "role": "CEO"}]
    assert data["demands"][1]["text"] == "End the contract"
    assert response["Cache-Control"].startswith("public")
    assert (
        client.get(response.wsgi_request.path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code
        == 304
    )


@pytest.mark.parametrize("name", ["letters:index", "api_letters"])
def test_public_read_endpoints_refuse_post(client, name, open_letter):
    assert client.post(reverse(name)).status_code == 405


def test_letter_page_refuses_post(client, open_letter):
    assert client.post(open_letter.get_absolute_url()).status_code == 405


def test_public_signatories_are_paginated_newest_first_without_anonymous_ones(client, open_letter):
    from letters.views.public import SIGNATORIES_PER_PAGE

    total = SIGNATORIES_PER_PAGE + 5
    for n in range(total):
        confirmed_signature(open_letter, name=f"Signer {n:03d}", email=f"p{n}@example.org")
    confirmed_signature(
        open_letter, name="Hidden Person", email="h@example.org", display=Display.ANONYMOUS
    )
    url = reverse("letters:signatories", kwargs={"slug": open_letter.slug})

    first = client.get(url).content.decode()
    cursor = re.search(r'href="\?before=([A-Za-z0-9_-]+)"', first)
    assert cursor
    second = client.get(url, {"before": cursor.group(1)}).content.decode()

    names_first = re.findall(r"Signer (\d{3})", first)
    names_second = re.findall(r"Signer (\d{3})", second)
    assert names_first[0] == f"{total - 1:03d}"  # newest first
    assert len(names_first) == SIGNATORIES_PER_PAGE
    assert len(names_second) == 5
    assert not set(names_first) & set(names_second)
    assert "Hidden Person" not in first + second
    assert 'rel="next"' not in second
    assert (
        "See all public signatories" in client.get(open_letter.get_absolute_url()).content.decode()
    )
    assert client.get(url, {"before": "nonsense"}).status_code == 400


def test_the_language_switcher_overrides_accept_language_per_url(client, open_letter):
    url = open_letter.get_absolute_url()
    german = client.get(url + "?lang=de", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # another visitor (the choice is kept for the visit: letters/tests/test_language.py)
    english = Client().get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Beenden Sie den Vertrag" in german
    assert f'href="{url}?lang=en"' in german
    assert "Stop the contract" in english
    assert f'href="{url}?lang=de"' in english
    assert "Beenden Sie den Vertrag" not in english  # separate cache entries per language


def test_the_chart_merges_small_days_so_no_day_singles_anyone_out(client, open_letter):
    from letters.suppression import merge_small_days

    merged = merge_small_days({"2026-01-01": 2, "2026-01-02": 3, "2026-01-03": 1}, 5)
    assert merged == {"2026-01-01": 0, "2026-01-02": 0, "2026-01-03": 6}
    assert merge_small_days({"2026-01-01": 4}, 5) == {}
    assert merge_small_days({"2026-01-01": 7, "2026-01-02": 1}, 5) == {
        "2026-01-01": 0,
        "2026-01-02": 8,
    }
    for n in range(6):
        confirmed_signature(open_letter, name=f"S{n}", email=f"s{n}@example.org")

    html = client.get(open_letter.get_absolute_url()).content.decode()

    assert '<figure class="chart">' in html
    assert 'role="img"' in html
    assert "<td>6</td>" in html  # the text alternative


def test_merged_days_handle_days_whose_net_change_is_zero_or_negative():
    """Day counts are net changes (a day on which more left than joined is
    negative): no merged figure is below the threshold or negative, and they
    still add up to the total."""
    assert merge_small_days({"2026-01-01": 5, "2026-01-02": -3}, 5) == {}  # 2 in all
    assert merge_small_days({"2026-01-01": 6, "2026-01-02": 1, "2026-01-03": -1}, 5) == {
        "2026-01-01": 0,
        "2026-01-02": 0,
        "2026-01-03": 6,
    }
    # A trailing withdrawal merges back until the last group adds five again.
    assert merge_small_days({"2026-01-01": 5, "2026-01-02": 5, "2026-01-03": -3}, 5) == {
        "2026-01-01": 0,
        "2026-01-02": 0,
        "2026-01-03": 7,
    }
    assert merge_small_days({"2026-01-01": 7, "2026-01-02": 0, "2026-01-03": -7}, 5) == {}


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    days=st.dictionaries(
        st.integers(1, 28).map(lambda d: f"2026-02-{d:02d}"), st.integers(-8, 12), max_size=12
    ),
    threshold=st.integers(1, 8),
)
def test_merged_days_are_never_small_or_negative_and_add_up_to_the_total(days, threshold):
    merged = merge_small_days(days, threshold)
    total = sum(days.values())
    if total < threshold:
        assert merged == {}  # nothing shown only when there is too little to show
        return
    assert set(merged) == set(days)
    assert all(n == 0 or n >= threshold for n in merged.values())
    assert sum(merged.values()) == total


def _confirmed_on(letter, day, n: int, prefix: str, **kwargs) -> list[Signature]:
    rows = []
    for i in range(n):
        row = confirmed_signature(
            letter, name=f"{prefix} {i}", email=f"{prefix}{i}@x.org", **kwargs
        )
        Signature.objects.filter(pk=row.pk).update(confirmed_at=day)
        rows.append(row)
    return rows


def test_an_anonymous_withdrawal_counts_on_the_day_it_happens_not_the_day_they_signed(
    client, open_letter, settings
):
    """Day D's figure would drop when a signer of day D withdrew, telling
    the day they signed, which the public total does not.  Day counts are
    the net change of the total instead: D stays, the withdrawal's day shows
    it (in the selector, the cached copy, the API and the chart's table)."""
    settings.EXPORT_MIN_GROUP = 1  # so the raw figures show: suppression is tested elsewhere
    today = timezone.localdate()
    signed_on = timezone.now() - timedelta(days=3)
    _confirmed_on(open_letter, signed_on, 6, "early")
    (anna,) = _confirmed_on(open_letter, signed_on, 1, "anna", display=Display.ANONYMOUS)
    day_d = signed_on.date().isoformat()
    assert selectors.letter_day_counts(letter=open_letter) == {day_d: 7}

    services.signature_withdraw(signature_id=anna.pk)

    days = selectors.letter_day_counts(letter=open_letter)
    assert days == {day_d: 7, today.isoformat(): -1}
    confirmed = selectors.letter_counts(letter_id=open_letter.pk).confirmed
    assert confirmed == sum(days.values()) == 6
    assert selectors.letter_day_counts_cached(letter=open_letter, confirmed=confirmed) == days
    api = json.loads(
        client.get(reverse("api_letter_counts", kwargs={"slug": open_letter.slug})).content
    )
    assert api["days"] == [
        {"date": day_d, "count": 7, "suppressed": False},
        {"date": today.isoformat(), "count": -1, "suppressed": False},
    ]
    rows = chart_table_rows(days)
    assert (rows[0], rows[-1]) == ((day_d, 7, 7), (today.isoformat(), -1, 6))


def test_day_counts_are_net_changes_that_never_change_a_past_day(open_letter):
    """Confirmations count on their day, withdrawals and invalidations of
    counted signatures on theirs; held (flagged) and never-confirmed rows
    on none; a day whose changes cancel out is left out."""
    now = timezone.now()
    d1, d2, d3 = (now - timedelta(days=n) for n in (5, 3, 1))
    day = {d: d.date().isoformat() for d in (d1, d2, d3)}
    public = _confirmed_on(open_letter, d1, 4, "pub")
    anonymous = _confirmed_on(open_letter, d1, 3, "anon", display=Display.ANONYMOUS)
    held = [  # confirmed over the rate limit: held, never counted
        pending_signature(
            open_letter,
            email=f"h{n}@x.org",
            display=Display.ANONYMOUS,
            status=SignatureStatus.CONFIRMED,
            flagged=True,
            confirmed_at=d2,
        )
        for n in range(2)
    ]
    assert selectors.letter_day_counts(letter=open_letter) == {day[d1]: 7}
    first = selectors.letter_day_counts(letter=open_letter)

    # d2: one anonymous signer withdraws, one more confirms: no change that day.
    services.signature_withdraw(signature_id=anonymous[0].pk)
    Signature.objects.filter(pk=anonymous[0].pk).update(withdrawn_at=d2)
    _confirmed_on(open_letter, d2, 1, "late")
    # d3: a public signer is invalidated, a held one and a pending one withdraw.
    services.signature_invalidate(
        letter=open_letter, by=None, signature_id=public[0].pk, reason="fake"
    )
    Signature.objects.filter(pk=public[0].pk).update(invalidated_at=d3)
    services.signature_withdraw(signature_id=held[0].pk)
    pending = pending_signature(open_letter, email="p@x.org")
    services.signature_withdraw(signature_id=pending.pk)
    Signature.objects.filter(pk__in=[held[0].pk, pending.pk]).update(withdrawn_at=d3)

    days = selectors.letter_day_counts(letter=open_letter)
    assert days == {day[d1]: 7, day[d3]: -1}
    assert days[day[d1]] == first[day[d1]]  # the past day did not move
    assert sum(days.values()) == selectors.letter_counts(letter_id=open_letter.pk).confirmed == 6


def test_signing_safely_is_linked_beside_the_sign_form_and_explains_retention(
    client, open_letter, settings
):
    letter_page = client.get(open_letter.get_absolute_url()).content.decode()
    assert 'href="/signing-safely/"' in letter_page

    page = client.get("/signing-safely/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "personal device" in html
    assert f"erased {settings.RETENTION_DAYS} days after the letter is closed" in html
    assert client.post("/signing-safely/").status_code == 405


def test_a_stale_page_is_served_while_one_request_rebuilds_it(client, open_letter, settings):
    from django.core.cache import cache
    from django.utils.translation import override

    settings.COUNT_INTERVAL = 0  # every copy is stale at once
    first = client.get(open_letter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    confirmed_signature(open_letter, name="Newcomer", email="new@example.org")
    with override("en"):
        lock = f"public:en:letter:{open_letter.slug}:rebuild"
    cache.add(lock, 1, timeout=30)  # another request is rebuilding

    during = client.get(open_letter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    cache.delete(lock)
    after = client.get(open_letter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    assert during.content == first.content  # the stale copy, not a crowd of rebuilds
    assert "Newcomer" in after.content.decode()


def test_timeline_times_are_valid_html_datetimes(client, open_letter):
    """HTML's global date and time takes at most three digits of fraction:
    Django's "c" format writes microseconds, which the Nu checker refuses."""
    page = client.get(open_letter.get_absolute_url()).content.decode()

    stamps = re.findall(r'<time datetime="([^"]+)"', page)
    assert stamps  # the timeline has at least "Published"
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", stamp), stamp
