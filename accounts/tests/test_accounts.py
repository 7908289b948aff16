"""Organiser accounts: email login, mandatory verification, no enumeration,
password reset, MFA (TOTP with recovery codes), in the site's own layout."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a sturdy passphrase 42"


def signup(client, email: str):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def test_signup_requires_verifying_the_email_before_login(client):
    response = signup(client, "new.organiser@example.org")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.get().email == "new.organiser@example.org"
    login = client.post(
        reverse("account_login"), {"login": "new.organiser@example.org", "password": PASSWORD}
    )
    assert login["Location"] == reverse("account_email_verification_sent")
    (message,) = [m for m in mail.outbox if "new.organiser@example.org" in m.to]
    confirm_path = re.search(r"https?://[^/]+(/accounts/confirm-email/[^\s]+)", str(message.body))
    assert confirm_path
    assert client.get(confirm_path.group(1)).status_code == 200  # GET shows a button
    done = client.post(confirm_path.group(1))
    assert done.status_code == 302
    assert client.get(reverse("account_email")).status_code == 200  # now signed in


def test_signup_with_a_taken_address_answers_like_a_new_one(client, organiser):
    taken = signup(client, organiser.email)
    fresh = signup(client, "someone.new@example.org")

    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"])
    assert User.objects.filter(email=organiser.email).count() == 1


def test_password_reset_answers_the_same_for_unknown_addresses(client, organiser):
    known = client.post(reverse("account_reset_password"), {"email": organiser.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert any(organiser.email in m.to for m in mail.outbox)


def test_login_is_by_email_and_pages_use_the_site_layout(client, organiser):
    page = client.get(reverse("account_login"))
    html = page.content.decode()
    assert 'class="site-header"' in html
    assert "/static/css/site" in html
    assert 'name="username"' not in html

    response = client.post(
        reverse("account_login"),
        {"login": organiser.email, "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert client.get(reverse("account_email")).status_code == 200


def test_organiser_can_turn_on_totp_and_gets_recovery_codes(client, organiser):
    client.post(
        reverse("account_login"),
        {"login": organiser.email, "password": "correct horse battery staple"},
    )
    asked = client.get(reverse("mfa_activate_totp"))
    assert asked.status_code == 302  # sensitive: asks for the password again
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    client.post(asked["Location"], {"password": "correct horse battery staple"})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.content.decode())
    if secret is None:
        secret = re.search(r'value="([A-Z2-7]{32})"', page.content.decode())
    assert secret, page.content.decode()
    code = format_hotp_value(hotp_value(secret.group(1), int(time.time()) // 30))

    response = client.post(reverse("mfa_activate_totp"), {"code": code})

    assert response.status_code == 302
    kinds = set(Authenticator.objects.filter(user=organiser).values_list("type", flat=True))
    assert kinds == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    client.logout()
    login = client.post(
        reverse("account_login"),
        {"login": organiser.email, "password": "correct horse battery staple"},
    )
    assert login["Location"] == reverse("mfa_authenticate")  # second factor asked for


def test_account_emails_name_the_site_not_the_host_the_request_came_through(client, settings):
    settings.SITE_URL = "https://letters.example.net"
    signup(client, "named.site@example.org")

    (message,) = [m for m in mail.outbox if "named.site@example.org" in m.to]
    assert message.subject.startswith("[Undersigned] ")
    assert message.body.startswith("Hello from Undersigned!")  # not the request's host
    assert message.body.rstrip().endswith("Thank you for using Undersigned!\nletters.example.net")


def test_account_emails_link_to_the_site_not_to_the_host_the_request_came_through(
    client, organiser, settings
):
    settings.SITE_URL = "https://letters.example.net"
    signup(client, "linked.site@example.org")
    client.post(reverse("account_reset_password"), {"email": organiser.email})

    (welcome,) = [m for m in mail.outbox if "linked.site@example.org" in m.to]
    (reset,) = [m for m in mail.outbox if organiser.email in m.to]
    assert "https://letters.example.net/accounts/confirm-email/" in welcome.body
    assert "https://letters.example.net/accounts/password/reset/key/" in reset.body
    assert "testserver" not in str(welcome.body)
    assert "testserver" not in str(reset.body)


def test_account_pages_come_in_the_language_asked_for_and_keep_it(client):
    german = client.get(reverse("account_login") + "?lang=de")
    html = german.content.decode()

    assert '<html lang="de">' in html
    assert "Passwort vergessen?" in html
    assert german["Content-Language"] == "de"
    later = client.get(reverse("account_signup"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="de">' in later.content.decode()  # the choice stays for the visit
    english = client.get(reverse("account_signup") + "?lang=en")
    assert "Already have an account?" in english.content.decode()


def test_a_form_with_errors_shows_each_next_to_its_field_and_a_summary_first(client):
    response = signup(client, "not an address")
    html = response.content.decode()

    assert response.status_code == 200
    summary = html.index('class="error-summary"')
    field = html.index('<label for="id_email">')
    assert summary < field
    assert 'aria-invalid="true"' in html
    assert re.search(r'<label for="id_email">Email</label>\s*<input[^>]*id="id_email"', html)
    assert re.search(
        r'id="id_email">\s*<div role="alert"><ul class="errorlist" id="id_email_error">', html
    )


def test_allauths_sentences_listed_for_our_german_voice_are_allauths_own():
    """accounts/words.py lists allauth's sentences so our catalogue can say
    them with "Sie": each must be a sentence allauth's catalogue knows
    (a changed msgid after an upgrade would silently never be ours)."""
    from django.utils import translation

    from accounts.words import ALLAUTH_SENTENCES

    assert len(ALLAUTH_SENTENCES) > 20
    with translation.override("de"):
        untranslated = [s for s in ALLAUTH_SENTENCES if translation.gettext(s) == s]
    assert untranslated == []


def test_switching_language_on_the_login_page_keeps_where_it_leads(client):
    """Sent to sign in on the way to a page, a German speaker switches
    language and still lands on that page afterwards."""
    page = client.get("/accounts/login/?next=/organise/new/").content.decode()
    assert 'href="/accounts/login/?lang=de&amp;next=%2Forganise%2Fnew%2F"' in page
    page = client.get("/accounts/login/?next=/organise/new/&lang=de").content.decode()
    assert 'href="/accounts/login/?lang=en&amp;next=%2Forganise%2Fnew%2F"' in page
