"""What visitors see in their language: a chosen language stays for the visit
(the language cookie), shared copies stay one per language, the widget keeps
its own language and theme, and dates read the same way everywhere."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from letters.tests.factories import confirmed_signature

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME
GERMAN_TITLE = "Beenden Sie den Vertrag"
ENGLISH_TITLE = "Stop the contract"


def directives(response) -> set[str]:
    return {d.strip() for d in response["Cache-Control"].split(",")}


# --- The choice stays for the visit ----------------------------------------------------


def test_a_chosen_language_stays_for_the_next_pages(client, open_letter):
    chosen = client.get(open_letter.get_absolute_url() + "?lang=de", HTTP_ACCEPT_LANGUAGE="en")
    assert GERMAN_TITLE in chosen.content.decode()

    for url in (
        reverse("letters:index"),
        open_letter.get_absolute_url(),
        reverse("signing_safely"),
        reverse("letters:signatories", kwargs={"slug": open_letter.slug}),
    ):
        later = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert later["Content-Language"] == "de", url
        assert '<html lang="de"' in later.content.decode(), url
    assert GERMAN_TITLE in client.get(open_letter.get_absolute_url()).content.decode()


def test_another_visitor_still_gets_their_own_language(client, open_letter):
    client.get(open_letter.get_absolute_url() + "?lang=de")

    stranger = Client().get(open_letter.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert ENGLISH_TITLE in stranger.content.decode()
    assert GERMAN_TITLE not in stranger.content.decode()
    assert not stranger.cookies


def test_choosing_again_changes_it_and_the_url_wins_over_the_cookie(client, open_letter):
    url = open_letter.get_absolute_url()
    client.get(url + "?lang=de")

    assert ENGLISH_TITLE in client.get(url + "?lang=en").content.decode()
    assert client.cookies[COOKIE].value == "en"
    assert ENGLISH_TITLE in client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()


def test_the_language_cookie_is_a_session_cookie_lax_and_http_only(client, open_letter):
    response = client.get(open_letter.get_absolute_url() + "?lang=de")

    cookie = response.cookies[COOKIE]
    assert cookie.value == "de"
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"]
    assert not cookie["max-age"]
    assert not cookie["expires"]
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # plain http in tests; see the next test


def test_the_language_cookie_is_secure_where_the_session_cookie_is(client, open_letter, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = client.get(open_letter.get_absolute_url() + "?lang=de")

    assert response.cookies[COOKIE]["secure"]


def test_an_answer_that_sets_the_cookie_is_never_a_shared_copy(client, open_letter):
    """The answer that sets the cookie is private; the next one (the cookie
    sent back) is the shared copy again, without a cookie."""
    url = open_letter.get_absolute_url() + "?lang=de"
    first = client.get(url)
    assert first.cookies[COOKIE].value == "de"
    assert directives(first) == {"private", "no-store"}

    again = client.get(url)
    assert not again.cookies
    assert again["Cache-Control"].startswith("public, max-age=")
    assert client.get(url, HTTP_IF_NONE_MATCH=again["ETag"]).status_code == 304


def test_shared_copies_vary_on_the_cookie_and_stay_one_per_language(client, open_letter):
    """A shared cache keeps the copy per Accept-Language and Cookie; ours
    keeps one per language, whichever of URL, cookie or header chose it."""
    url = open_letter.get_absolute_url()
    by_cookie = Client(headers={"Cookie": f"{COOKIE}=de"}).get(url, HTTP_ACCEPT_LANGUAGE="en")
    by_header = Client().get(url, HTTP_ACCEPT_LANGUAGE="de")
    english = Client().get(url, HTTP_ACCEPT_LANGUAGE="en")

    for response in (by_cookie, by_header, english):
        vary = {v.strip() for v in response["Vary"].split(",")}
        assert {"Accept-Language", "Cookie"} <= vary
        assert response["Cache-Control"].startswith("public, max-age=")
        assert not response.cookies
    assert by_cookie.content == by_header.content  # one German copy
    assert GERMAN_TITLE in by_cookie.content.decode()
    assert ENGLISH_TITLE in english.content.decode()


def test_a_sign_post_sets_no_cookie(client, open_letter):
    response = client.post(
        reverse("letters:sign", kwargs={"slug": open_letter.slug}) + "?lang=de",
        {"email": "nina@example.org", "name": "Nina", "display": "public", "consent": "on"},
    )

    assert response.status_code == 302
    assert COOKIE not in response.cookies


def test_organiser_and_account_pages_follow_the_chosen_language(client, organiser, open_letter):
    client.get(reverse("letters:index") + "?lang=de")

    login = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="de"' in login.content.decode()
    client.force_login(organiser)
    for url in (reverse("organise:dashboard"), reverse("organise:letter", args=[open_letter.slug])):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        assert '<html lang="de"' in page.content.decode(), url


def test_an_unknown_language_is_ignored_and_not_remembered(client, open_letter):
    response = client.get(open_letter.get_absolute_url() + "?lang=xx", HTTP_ACCEPT_LANGUAGE="en")

    assert ENGLISH_TITLE in response.content.decode()
    assert not response.cookies
    assert response["Cache-Control"].startswith("public, max-age=")


# --- The widget --------------------------------------------------------------------------


def embed_url(letter, **query: str) -> str:
    url = reverse("letter_embed", kwargs={"slug": letter.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_widget_links_to_the_letter_in_its_own_language(client, open_letter):
    german = client.get(embed_url(open_letter, lang="de"), HTTP_ACCEPT_LANGUAGE="en")
    english = client.get(embed_url(open_letter, lang="en"), HTTP_ACCEPT_LANGUAGE="de")

    page = f"http://testserver{open_letter.get_absolute_url()}"
    assert f'href="{page}?lang=de"' in german.content.decode()
    assert GERMAN_TITLE in german.content.decode()
    assert f'href="{page}?lang=en"' in english.content.decode()
    assert "?lang=de" not in english.content.decode()


def test_the_widget_remembers_no_language(client, open_letter):
    """The frame sits on another site: it sets no cookie and stays one
    shared copy per language."""
    response = client.get(embed_url(open_letter, lang="de"))

    assert not response.cookies
    assert response["Cache-Control"].startswith("public, max-age=")
    plain = client.get(embed_url(open_letter), HTTP_ACCEPT_LANGUAGE="en")
    assert ENGLISH_TITLE in plain.content.decode()


@pytest.mark.parametrize(
    ("query", "theme"),
    [({}, "light"), ({"theme": "light"}, "light"), ({"theme": "dark"}, "dark"),
     ({"theme": "auto"}, "auto"), ({"theme": "<b>"}, "light")],
)  # fmt: skip
def test_the_widget_follows_its_theme_light_by_default(client, open_letter, query, theme):
    response = client.get(embed_url(open_letter, **query))

    assert response.status_code == 200
    assert re.search(rf'<html lang="en" class="theme-{theme}">', response.content.decode())


def test_each_theme_is_its_own_shared_copy(client, open_letter):
    dark = client.get(embed_url(open_letter, theme="dark"))
    light = client.get(embed_url(open_letter, theme="light"))

    assert dark["ETag"] != light["ETag"]
    assert "theme-light" in client.get(embed_url(open_letter)).content.decode()


def test_the_widget_snippet_gives_working_code_with_its_options(client, open_letter):
    open_letter.title = 'Stop "the" contract & <more>'
    with translation.override("en"):
        snippet = render_to_string("organise/_widget_snippet.html", {"letter": open_letter})

    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", snippet, re.S)
    assert textarea is not None
    code = html.unescape(textarea.group(1))  # what the organiser copies
    found = re.search(r'src="([^"]+)"', code)
    assert found is not None
    src = found.group(1)
    site = settings.SITE_URL.rstrip("/")
    assert src == f"{site}/letters/{open_letter.slug}/embed/?lang=en&amp;theme=light"
    assert 'width="320" height="340"' in code
    assert 'title="Stop &quot;the&quot; contract &amp; &lt;more&gt;"' in code
    assert "<more>" not in snippet  # escaped for our page too
    assert re.search(r'<label for="widget-code">', snippet)
    assert "readonly" in snippet
    for option in ("lang=", "theme=", "auto", "dark", "320 by 340 pixels"):
        assert option in snippet
    widget = client.get(html.unescape(src).removeprefix(site))
    assert widget.status_code == 200


# --- One date format, localised ----------------------------------------------------------

MOMENT = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "date", "moment"),
    [("en", "5 January 2026", "5 January 2026, 14:30 UTC"),
     ("de", "5. Januar 2026", "5. Januar 2026, 14:30 UTC")],
)  # fmt: skip
def test_dates_have_one_format_per_language(language, date, moment, settings):
    settings.TIME_ZONE = "UTC"
    with translation.override(language):
        assert date_format(MOMENT, "DATE_FORMAT") == date
        assert date_format(MOMENT, "SHORT_DATE_FORMAT") == date
        assert date_format(MOMENT, "DATETIME_FORMAT") == moment
        assert date_format(MOMENT, "SHORT_DATETIME_FORMAT") == moment


def test_the_letter_page_writes_its_dates_in_the_readers_language(client, open_letter):
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    published = timezone.localtime(open_letter.published_at)

    for language in ("en", "de"):
        page = client.get(open_letter.get_absolute_url() + f"?lang={language}").content.decode()
        with translation.override(language):
            day = date_format(published, "DATE_FORMAT")
        assert day in page, language
        assert not re.search(r">\s*\d{4}-\d{2}-\d{2}\s*<", page)  # no ISO date shown as text
        assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}T', page)  # machines still get ISO
