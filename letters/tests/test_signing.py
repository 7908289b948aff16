"""Signing, confirming and withdrawing, through the views a co-worker uses."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters import services
from letters.models import CountDelta, Display, Signature, SignatureStatus
from letters.selectors import letter_counts
from letters.tests.factories import confirmed_signature, open_letter
from letters.tokens import Purpose, make_token

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN: dict[str, Any] = {"HTTP_ORIGIN": "http://testserver"}


def sign(client: Client, letter: Any, extra: dict[str, Any] | None = None, **overrides: Any) -> Any:
    data = {
        "name": "Cora Coworker",
        "email": "cora@example.org",
        "job_title": "Engineer",
        "team": "Platform",
        "location": "Berlin",
        "comment": "",
        "display": Display.PUBLIC,
        "consent": "on",
        "website": "",
    }
    data.update(overrides)
    headers: dict[str, Any] = ORIGIN if extra is None else extra
    url = reverse("letters:sign", kwargs={"slug": letter.slug})
    return client.post(url, data, **headers)


def link_path(message: Any, prefix: str) -> str:
    match = re.search(r"https?://[^/\s]+(" + prefix + r"[^\s]+)", message.body)
    assert match, message.body
    return match.group(1)


def test_coworker_signs_and_gets_a_discreet_confirmation_email(client, open_letter):
    response = sign(client, open_letter, email="Cora+letters@Example.ORG")

    assert response.status_code == 302
    assert (
        response["Location"] == reverse("letters:check_inbox", args=[open_letter.slug]) + "?lang=en"
    )
    signature = Signature.objects.get()
    assert signature.email == "cora@example.org"  # canonical: lower-cased, +tag stripped
    assert signature.status == SignatureStatus.PENDING
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["cora@example.org"]
    assert open_letter.title not in message.subject  # work mail is logged
    assert open_letter.title not in message.body
    assert "/s/" in message.body
    alternatives = message.alternatives  # type: ignore[attr-defined]
    assert alternatives[0][1] == "text/html"
    assert "<img" not in str(alternatives[0][0])  # no tracking pixel


def test_sign_errors_show_next_to_their_field_and_store_nothing(client, open_letter):
    response = sign(client, open_letter, name="", email="not-an-address", consent="")

    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_name_error"', html)
    assert re.search(r'id="id_email_error"', html)
    assert re.search(r'id="id_consent_error"', html)
    assert Signature.objects.count() == 0
    assert mail.outbox == []


def test_allowed_domains_are_enforced_with_a_clear_message(client, organiser):
    letter = open_letter(owner=organiser, slug="domain-only", allowed_domains=["northwind.example"])

    refused = sign(client, letter, email="cora@gmail.example")
    accepted = sign(client, letter, email="cora@eu.northwind.example")

    assert refused.status_code == 400
    assert "northwind.example" in refused.content.decode()
    assert accepted.status_code == 302
    assert list(Signature.objects.values_list("email", flat=True)) == ["cora@eu.northwind.example"]


def test_honeypot_answers_the_same_and_stores_nothing(client, open_letter):
    response = sign(client, open_letter, website="http://spam.example")

    assert response.status_code == 302
    assert Signature.objects.count() == 0
    assert mail.outbox == []


def test_cross_site_sign_post_is_refused(client, open_letter):
    response = sign(client, open_letter, extra={"HTTP_ORIGIN": "https://evil.example"})
    fetch = sign(client, open_letter, extra={"HTTP_SEC_FETCH_SITE": "cross-site"})

    assert response.status_code == 403
    assert fetch.status_code == 403
    assert Signature.objects.count() == 0


def test_sign_is_post_only(client, open_letter):
    url = reverse("letters:sign", kwargs={"slug": open_letter.slug})
    assert client.get(url).status_code == 405


def test_closed_letter_refuses_signatures(client, open_letter):
    open_letter.status = "closed"
    open_letter.save()

    response = sign(client, open_letter)

    assert response.status_code == 400
    assert Signature.objects.count() == 0


def test_a_letter_closed_a_moment_ago_refuses_signatures_at_once(client, open_letter):
    """The sign path keeps the letter's row in memory for a moment; the insert
    itself checks that the letter is still open."""
    assert sign(client, open_letter).status_code == 302  # this process has the row now
    open_letter.status = "closed"
    open_letter.save()

    response = sign(client, open_letter, email="late@example.org")

    assert response.status_code == 400
    assert "not open for signatures" in response.content.decode()
    assert not Signature.objects.filter(email="late@example.org").exists()


def test_opening_the_link_changes_nothing_and_the_button_confirms(client, open_letter):
    sign(client, open_letter)
    path = link_path(mail.outbox[0], "/s/")

    page = client.get(path)

    assert page.status_code == 200
    assert "Confirm my signature" in page.content.decode()
    assert Signature.objects.get().status == SignatureStatus.PENDING

    confirmed = client.post(path, {"display": Display.PUBLIC})
    assert confirmed.status_code == 302
    assert Signature.objects.get().status == SignatureStatus.CONFIRMED
    thanks = client.get(path)
    assert "Thank you for signing" in thanks.content.decode()
    assert "/w/" in thanks.content.decode()
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1
    confirmed_mail = mail.outbox[-1]
    assert confirmed_mail.to == ["cora@example.org"]
    assert "is confirmed" in confirmed_mail.body
    assert client.get(link_path(confirmed_mail, "/w/")).status_code == 200


def test_a_second_click_changes_nothing_more(client, open_letter):
    sign(client, open_letter)
    path = link_path(mail.outbox[0], "/s/")

    client.post(path, {"display": Display.PUBLIC})
    client.post(path, {"display": Display.ANONYMOUS})

    assert CountDelta.objects.count() == 1
    signature = Signature.objects.get()
    assert signature.display == Display.PUBLIC
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1


def test_signer_can_choose_anonymous_on_the_confirm_page(client, open_letter):
    sign(client, open_letter)
    client.post(link_path(mail.outbox[0], "/s/"), {"display": Display.ANONYMOUS})

    counts = letter_counts(letter_id=open_letter.pk)
    assert (counts.confirmed, counts.public, counts.anonymous) == (1, 0, 1)


def test_tampered_expired_and_unknown_tokens_get_one_and_the_same_page(
    client, open_letter, settings
):
    sign(client, open_letter)
    good = link_path(mail.outbox[0], "/s/").split("/")[2]
    signature = Signature.objects.get()
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    other_salt = make_token(signature, Purpose.WITHDRAW)
    unknown = signing.dumps([999999, "nope"], salt=Purpose.CONFIRM.value, compress=False)
    settings.SIGNATURE_CONFIRM_MAX_AGE = -1
    expired = good

    answers = []
    for token in (tampered, other_salt, unknown, expired, "garbage"):
        response = client.get(f"/s/{token}/")
        answers.append((response.status_code, response.content))
        post = client.post(f"/s/{token}/")
        answers.append((post.status_code, post.content))

    assert {status for status, _body in answers} == {404}
    assert len({body for _status, body in answers}) == 1
    assert Signature.objects.get().status == SignatureStatus.PENDING


def test_confirm_and_withdraw_refuse_other_methods(client, open_letter):
    sign(client, open_letter)
    path = link_path(mail.outbox[0], "/s/")
    assert client.put(path).status_code == 405
    assert client.delete(path).status_code == 405


def test_withdraw_erases_personal_data_and_the_count_drops(client, open_letter):
    signature = confirmed_signature(
        open_letter, name="Wanda Withdrawer", email="wanda@example.org", team="Support"
    )
    services.counts_fold(letter_id=open_letter.pk)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1
    path = f"/w/{make_token(signature, Purpose.WITHDRAW)}/"

    page = client.get(path)
    assert page.status_code == 200
    assert Signature.objects.get().status == SignatureStatus.CONFIRMED  # GET changes nothing

    done = client.post(path)

    assert done.status_code == 200
    row = Signature.objects.get()
    assert row.status == SignatureStatus.WITHDRAWN
    assert (row.email, row.name, row.team, row.location, row.comment, row.secret) == (
        "", "", "", "", "", ""
    )  # fmt: skip
    assert letter_counts(letter_id=open_letter.pk).confirmed == 0
    assert client.get(path).status_code == 404  # the link is revoked with the data


def test_the_sign_answer_is_identical_for_every_kind_of_address(client, open_letter, settings):
    """new, pending, confirmed, withdrawn and capped addresses."""
    confirmed_signature(open_letter, name="Con Firmed", email="confirmed@example.org")
    withdrawn = confirmed_signature(open_letter, name="Wit Drawn", email="withdrawn@example.org")
    services.signature_withdraw(signature_id=withdrawn.pk)
    sign(client, open_letter, email="pending@example.org")

    answers = {}
    for label, address in [
        ("new", "new@example.org"),
        ("pending", "pending@example.org"),
        ("confirmed", "confirmed@example.org"),
        ("withdrawn", "withdrawn@example.org"),
    ]:
        response = sign(client, open_letter, email=address)
        followed = client.get(response["Location"])
        answers[label] = (response.status_code, response["Location"], followed.content)
    for n in range(8):  # an address whose cap of emails is used up
        sign(client, open_letter, email="capped@example.org", name=f"Try {n}")
    capped = sign(client, open_letter, email="capped@example.org")
    answers["capped"] = (
        capped.status_code,
        capped["Location"],
        client.get(capped["Location"]).content,
    )

    assert len(set(answers.values())) == 1, answers.keys()


def test_the_owner_learns_from_the_email_what_happened(client, open_letter):
    confirmed_signature(open_letter, name="Con Firmed", email="confirmed@example.org")
    sign(client, open_letter, email="pending@example.org")
    mail.outbox.clear()

    sign(client, open_letter, email="pending@example.org")
    sign(client, open_letter, email="confirmed@example.org")

    by_address = {m.to[0]: m for m in mail.outbox}
    assert "/s/" in by_address["pending@example.org"].body
    already = by_address["confirmed@example.org"].body
    assert "already signed" in already
    # A withdraw link went out a moment ago with "confirmed": no fresh one.
    assert "/w/" not in already
    assert "use the link in the email we sent you recently" in already


def test_a_signature_gets_at_most_five_emails_a_day_from_the_form(client, open_letter, settings):
    for _ in range(8):
        sign(client, open_letter, email="eager@example.org")

    assert Signature.objects.count() == 1
    assert len(mail.outbox) == 5

    # The cap renews with its window: a stranger cannot use it up for good.
    Signature.objects.update(email_window_start=timezone.now() - timedelta(days=1, seconds=1))
    sign(client, open_letter, email="eager@example.org")
    assert len(mail.outbox) == 6


def test_confirmed_over_the_rate_limit_the_signature_is_held_and_the_signer_is_told(
    client, open_letter, settings
):
    settings.SIGN_RATE_BURST = "2/60"
    for n in range(3):
        sign(client, open_letter, email=f"burst{n}@example.org")
    for message in [m for m in mail.outbox if "/s/" in m.body]:
        client.post(link_path(message, "/s/"), {"display": Display.PUBLIC})

    held = Signature.objects.get(flagged=True)
    assert held.email == "burst2@example.org"  # the third confirmation from one client
    thanks = client.get(link_path(next(m for m in mail.outbox if m.to == [held.email]), "/s/"))
    assert "held and not counted" in thanks.content.decode()
    assert Signature.objects.filter(status=SignatureStatus.CONFIRMED).count() == 3
    assert letter_counts(letter_id=open_letter.pk).confirmed == 2
    services.counts_recount(letter_id=open_letter.pk)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 2


def test_office_ranges_on_the_allow_list_are_not_rate_limited(client, open_letter, settings):
    settings.SIGN_RATE_BURST = "1/60"
    settings.SIGN_RATE_ALLOWLIST = ["127.0.0.0/8"]
    for n in range(4):
        sign(client, open_letter, email=f"office{n}@example.org", extra={**ORIGIN})
    for message in [m for m in mail.outbox if "/s/" in m.body]:
        client.post(link_path(message, "/s/"), {"display": Display.PUBLIC})

    assert Signature.objects.filter(status=SignatureStatus.CONFIRMED).count() == 4
    assert not Signature.objects.filter(flagged=True).exists()


def test_stale_pending_signatures_are_deleted(open_letter, settings):
    services.signature_create(letter=open_letter, email="late@example.org", name="Late")
    settings.SIGNATURE_PENDING_MAX_AGE = -1

    assert services.signatures_delete_stale() == 1
    assert Signature.objects.count() == 0
