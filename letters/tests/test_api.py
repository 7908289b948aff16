"""The read API and the embeddable widget: what they say (counts, never
names), how they are cached, who may read them (any origin) and frame them
(the widget only)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters import selectors, services
from letters.models import Answer, Display, EventKind, Letter, Signature
from letters.tests.factories import confirmed_signature, deliver, edit_letter, record_paper

pytestmark = pytest.mark.django_db(transaction=True)

ANON_NAME = "Zora Zanzibar"
ANON_EMAIL = "zora.z@example.org"


def detail_url(letter: Letter) -> str:
    return reverse("api_letter", kwargs={"slug": letter.slug})


def counts_url(letter: Letter) -> str:
    return reverse("api_letter_counts", kwargs={"slug": letter.slug})


def api_urls(letter: Letter) -> list[str]:
    return [reverse("api_letters"), detail_url(letter), counts_url(letter), reverse("api_openapi")]


def get_json(client: Client, url: str, **headers: Any) -> Any:
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def confirm_on(letter: Letter, day: Any, n: int, prefix: str) -> None:
    """`n` confirmed signatures, as if confirmed on `day`."""
    for i in range(n):
        signature = confirmed_signature(letter, name=f"{prefix} {i}", email=f"{prefix}{i}@x.org")
        Signature.objects.filter(pk=signature.pk).update(confirmed_at=day)


@pytest.fixture
def signed(open_letter: Letter) -> Letter:
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org", team="Data")
    confirmed_signature(
        open_letter,
        name=ANON_NAME,
        email=ANON_EMAIL,
        display=Display.ANONYMOUS,
        team="Secret Squad",
        comment="Quietly furious",
    )
    return open_letter


# --- What the detail says ------------------------------------------------------------


def test_letter_detail_has_counts_goal_status_timeline_and_versions(client, signed):
    record_paper(signed, 7)

    data = get_json(client, detail_url(signed))

    assert data["status"] == "open"
    assert data["goal"] == 100
    assert (data["confirmed_count"], data["anonymous_count"]) == (2, 1)
    assert (data["paper_count"], data["total"]) == (7, 9)
    # Newest first: the batch of paper signatures is an event too.
    assert [e["kind"] for e in data["timeline"]] == [EventKind.PAPER, EventKind.PUBLISHED]
    assert data["timeline"][0]["text"] == "7"
    assert data["timeline"][0]["created_at"].startswith(str(timezone.now().year))
    (version,) = data["versions"]
    assert version["number"] == 1
    assert version["public_count"] == 1  # the anonymous signer is in the totals only
    assert version["change_note"] == ""
    signed.refresh_from_db()
    assert signed.current_version is not None
    assert version["fingerprint"] == selectors.version_fingerprint(signed.current_version)
    assert [d["text"] for d in data["demands"]] == [
        "Condemn the agency's actions",
        "End the contract",
        "Publish an ethics policy",
    ]
    assert all(d["answer"] is None for d in data["demands"])
    assert data["responses"] == []


def test_demands_carry_the_latest_responses_answers_by_position(client, signed, organiser):
    edit_letter(
        signed,
        by=organiser,
        body="Dear CEO,\n\nPlease act now.",
        demands=["Condemn", "End the contract", "Publish an ethics policy"],
        goal=100,
        change_note="Shorter first demand",
    )
    signed.refresh_from_db()
    confirmed_signature(signed, name="Vic Version", email="vic@example.org")
    deliver(signed, by=organiser)
    signed.refresh_from_db()
    assert signed.current_version is not None
    ids = list(signed.current_version.demands.order_by("position").values_list("id", flat=True))
    services.letter_respond(
        letter=signed,
        statement="We will consider it.",
        answers={ids[0]: Answer.DECLINED, ids[1]: Answer.CONSIDERING},
        source="All-hands",
    )
    services.letter_respond(
        letter=signed,
        statement="We end the contract.",
        answers={ids[0]: Answer.DECLINED, ids[1]: Answer.ACCEPTED},
        source="Press release",
    )

    data = get_json(client, detail_url(signed))

    assert data["status"] == "responded"
    assert data["demands"] == [
        {"text": "Condemn", "answer": "declined"},
        {"text": "End the contract", "answer": "accepted"},
        {"text": "Publish an ethics policy", "answer": "no_answer"},
    ]
    assert [(r["statement"], r["source"]) for r in data["responses"]] == [
        ("We end the contract.", "Press release"),
        ("We will consider it.", "All-hands"),
    ]
    # Named signers only: the anonymous signer of version 1 is in the totals.
    assert [(v["number"], v["public_count"], v["change_note"]) for v in data["versions"]] == [
        (2, 1, "Shorter first demand"),
        (1, 1, ""),
    ]
    assert data["versions"][0]["fingerprint"] != data["versions"][1]["fingerprint"]
    kinds = [e["kind"] for e in data["timeline"]]
    assert kinds[:3] == [EventKind.RESPONSE, EventKind.RESPONSE, EventKind.DELIVERED]
    assert EventKind.NEW_VERSION in kinds


def test_unknown_and_draft_letters_are_a_json_404(client, organiser):
    draft = services.letter_create(
        slug="secret-draft",
        data=services.LetterInput(title="Secret draft", body="x", demands=[], addressees=[]),
    )
    for url in [
        detail_url(draft),
        counts_url(draft),
        "/api/letters/no-such-letter/",
        "/api/letters/no-such-letter/counts/",
        "/api/letters/not%20a%20slug/",
        "/api/letters/new%0Aline/counts/",
        "/api/nothing-here/",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json"
        assert json.loads(response.content) == {"detail": "Not found."}
        assert response["Access-Control-Allow-Origin"] == "*"


# --- Counts per day --------------------------------------------------------------------


def test_counts_per_day_suppress_small_days_and_one_more_so_none_can_be_derived(
    client, open_letter
):
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=2), today - timedelta(days=1), today]
    confirm_on(open_letter, days[0], 6, "early")
    confirm_on(open_letter, days[1], 5, "middle")
    confirm_on(open_letter, days[2], 2, "late")  # below 5: hidden, and so is the 5

    data = get_json(client, counts_url(open_letter))

    assert data["min_group"] == 5
    assert (data["confirmed_count"], data["total"]) == (13, 13)
    assert data["days"] == [
        {"date": days[0].date().isoformat(), "count": 6, "suppressed": False},
        {"date": days[1].date().isoformat(), "count": None, "suppressed": True},
        {"date": days[2].date().isoformat(), "count": None, "suppressed": True},
    ]


def test_counts_per_day_show_days_at_the_threshold_and_hide_two_small_ones(
    client, open_letter, settings
):
    settings.EXPORT_MIN_GROUP = 3
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=2), today - timedelta(days=1), today]
    confirm_on(open_letter, days[0], 3, "a")
    confirm_on(open_letter, days[1], 1, "b")
    confirm_on(open_letter, days[2], 2, "c")

    data = get_json(client, counts_url(open_letter))

    assert data["min_group"] == 3
    assert [(d["count"], d["suppressed"]) for d in data["days"]] == [
        (3, False),
        (None, True),
        (None, True),
    ]
    assert data["confirmed_count"] == 6


def test_counts_of_a_letter_nobody_signed_yet(client, open_letter):
    data = get_json(client, counts_url(open_letter))
    assert data["days"] == []
    assert data["total"] == 0


# --- Privacy ---------------------------------------------------------------------------


def test_anonymous_signer_is_never_named_in_any_api_answer(client, signed):
    for url in api_urls(signed):
        for language in ("en", "de"):
            text = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            for secret in (ANON_NAME, "Zanzibar", ANON_EMAIL, "Secret Squad", "Quietly furious"):
                assert secret not in text, url
            assert "pia@example.org" not in text
            assert "Pia Public" not in text  # the API names nobody, only counts


# --- Caching and CORS ------------------------------------------------------------------


@pytest.mark.parametrize("which", ["list", "detail", "counts", "openapi"])
def test_api_answers_are_public_cacheable_answer_304_and_open_to_any_origin(
    client, open_letter, settings, which
):
    url = dict(zip(["list", "detail", "counts", "openapi"], api_urls(open_letter), strict=True))[
        which
    ]
    first = client.get(url, HTTP_ORIGIN="https://news.example.com")

    assert first.status_code == 200
    assert first["Cache-Control"] == (
        f"public, max-age={settings.COUNT_INTERVAL}, "
        f"stale-while-revalidate={max(60, settings.COUNT_INTERVAL * 6)}"
    )
    assert first["ETag"]
    assert first["Last-Modified"]
    assert first["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in first["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in first
    assert not first.cookies
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["Access-Control-Allow-Origin"] == "*"
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304


def test_preflight_allows_get_only_without_credentials(client, open_letter):
    for url in api_urls(open_letter):
        response = client.options(
            url,
            HTTP_ORIGIN="https://news.example.com",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
        )
        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == "*"
        assert response["Access-Control-Allow-Methods"] == "GET"
        assert "If-None-Match" in response["Access-Control-Allow-Headers"]
        assert int(response["Access-Control-Max-Age"]) > 0
        assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_api_refuses_every_method_but_get_and_head(method, open_letter):
    client = Client(enforce_csrf_checks=True)  # a stray POST gets 405, not a CSRF 403
    for url in api_urls(open_letter):
        response = getattr(client, method)(url)
        assert response.status_code == 405, (method, url)
        assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_openapi_document_describes_exactly_the_api(client):
    doc = get_json(client, reverse("api_openapi"))

    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {
        "/api/letters/",
        "/api/letters/{slug}/",
        "/api/letters/{slug}/counts/",
        "/api/openapi.json",
    }
    assert all(set(ops) == {"get"} for ops in doc["paths"].values())
    detail = doc["components"]["schemas"]["LetterDetail"]
    assert detail["additionalProperties"] is False
    assert {"confirmed_count", "anonymous_count", "paper_count", "total"} <= set(
        detail["properties"]
    )


# --- The widget ------------------------------------------------------------------------


def test_widget_shows_title_count_progress_and_a_link_to_sign(client, signed):
    html = client.get(reverse("letter_embed", kwargs={"slug": signed.slug})).content.decode()

    assert "Stop the contract" in html
    assert "2 verified signatures" in html
    assert '<progress class="progress" max="100" value="2"' in html
    page = f"http://testserver{signed.get_absolute_url()}?lang=en"  # the widget's language
    link = f'href="{page}" target="_blank" rel="noopener"'
    assert f'<a class="button" {link}>Sign this letter</a>' in html
    assert "<script" not in html
    assert "style=" not in html
    assert "<style" not in html
    assert ANON_NAME not in html
    assert "Pia Public" not in html


def test_widget_may_be_framed_by_any_site_but_the_letter_page_may_not(client, open_letter):
    widget = client.get(reverse("letter_embed", kwargs={"slug": open_letter.slug}))
    page = client.get(open_letter.get_absolute_url())

    assert widget.status_code == 200
    assert "X-Frame-Options" not in widget
    assert "frame-ancestors *" in widget["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in widget["Content-Security-Policy"].split(";"))
    assert directives["frame-ancestors"] == "*"
    assert directives["script-src"] == "'none'"
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    api = client.get(detail_url(open_letter))
    assert api["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in api["Content-Security-Policy"]


def test_widget_is_cached_like_the_letter_page(client, open_letter):
    url = reverse("letter_embed", kwargs={"slug": open_letter.slug})
    first = client.get(url)

    assert first["Cache-Control"].startswith("public, max-age=")
    assert "stale-while-revalidate" in first["Cache-Control"]
    assert not first.cookies
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert "X-Frame-Options" not in again
    assert "frame-ancestors *" in again["Content-Security-Policy"]


def test_widget_speaks_the_visitors_language(client, open_letter):
    url = reverse("letter_embed", kwargs={"slug": open_letter.slug})
    assert "Beenden Sie den Vertrag" in client.get(url + "?lang=de").content.decode()


def test_widget_of_a_closed_letter_links_to_read_it(client, open_letter):
    services.letter_close(letter=open_letter)
    html = client.get(reverse("letter_embed", kwargs={"slug": open_letter.slug})).content.decode()
    assert "Sign this letter" not in html
    assert "Read the letter" in html


def test_widget_refuses_post_and_unknown_letters(client, open_letter):
    url = reverse("letter_embed", kwargs={"slug": open_letter.slug})
    assert client.post(url).status_code == 405
    assert client.get(reverse("letter_embed", kwargs={"slug": "nope"})).status_code == 404
