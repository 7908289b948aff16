"""Signing, confirming and withdrawing, through the views a co-worker uses."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters import services
from letters.emailaddr import mail_address
from letters.models import CountDelta, Display, Signature, SignatureStatus
from letters.selectors import letter_counts
from letters.signer_address import address_hash
from letters.tests.factories import (
    address_of,
    confirmed_signature,
    open_letter,
    signature_of,
)
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
    # Sent to the address as typed (a provider without subaddressing has no
    # "cora@" mailbox for "Cora+letters@"), the domain lower-cased;
    # deduplicated on the canonical form.
    assert address_of(signature) == "Cora+letters@example.org"
    assert signature.email_hash == address_hash("cora@example.org")
    assert signature.status == SignatureStatus.PENDING
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Cora+letters@example.org"]
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
    assert [address_of(s) for s in Signature.objects.all()] == ["cora@eu.northwind.example"]


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
    assert not signature_of(None, "late@example.org").exists()


def test_opening_the_link_changes_nothing_and_the_button_confirms(client, open_letter):
    sign(client, open_letter)
    path = link_path(mail.outbox[0], "/s/")

    page = client.get(path)

    assert page.status_code == 200
    assert "Confirm my signature" in page.content.decode()
    assert Signature.objects.get().status == SignatureStatus.PENDING

    thanks = client.post(path, {"display": Display.PUBLIC})
    assert thanks.status_code == 200  # the thanks page answers the POST, once
    assert Signature.objects.get().status == SignatureStatus.CONFIRMED
    assert "Thank you for signing" in thanks.content.decode()
    assert "/w/" in thanks.content.decode()
    assert "no-store" in thanks["Cache-Control"]
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
    assert (row.email_hash, row.email_sealed, row.email_domains) == ("", None, "")
    assert (row.name, row.team, row.location, row.comment, row.secret) == ("", "", "", "", "")
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
    pages = {
        message.to[0]: client.post(link_path(message, "/s/"), {"display": Display.PUBLIC})
        for message in [m for m in mail.outbox if "/s/" in m.body]
    }

    held = Signature.objects.get(flagged=True)
    assert address_of(held) == "burst2@example.org"  # the third confirmation from one client
    assert "counted after a review" in pages["burst2@example.org"].content.decode()
    assert "counted after a review" not in pages["burst1@example.org"].content.decode()
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


# --- What is stored of a signer (DESIGN §2 rule 10) ---------------------------------

NAMED = ("name", "job_title", "team", "location", "comment")


def test_an_anonymous_signer_s_name_and_details_are_not_stored_yet_they_count(client, open_letter):
    sign(
        client,
        open_letter,
        display=Display.ANONYMOUS,
        name="Anna Anonymous",
        job_title="Engineer",
        team="Platform",
        location="Berlin",
        comment="I have to stay unnamed.",
    )

    pending = Signature.objects.get()
    assert pending.display == Display.ANONYMOUS
    assert {field: getattr(pending, field) for field in NAMED} == dict.fromkeys(NAMED, "")
    assert letter_counts(letter_id=open_letter.pk).confirmed == 0

    path = link_path(mail.outbox[0], "/s/")
    page = client.get(path).content.decode()
    assert "Anna Anonymous" not in page  # nothing was kept to show
    client.post(path, {**dict.fromkeys(NAMED, ""), "display": Display.ANONYMOUS})

    row = Signature.objects.get()
    assert row.status == SignatureStatus.CONFIRMED
    assert {field: getattr(row, field) for field in NAMED} == dict.fromkeys(NAMED, "")
    counts = letter_counts(letter_id=open_letter.pk)
    assert (counts.confirmed, counts.public, counts.anonymous) == (1, 0, 1)
    services.counts_fold(letter_id=open_letter.pk)
    services.counts_recount(letter_id=open_letter.pk)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1


@pytest.mark.parametrize("name", ["", "   "])
def test_signing_publicly_needs_a_name_shown_next_to_the_name_field(client, open_letter, name):
    response = sign(client, open_letter, name=name, display=Display.PUBLIC)

    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_name_error"', html)
    assert "Enter your name to sign publicly, or choose anonymous." in html
    assert set(response.context["form"].errors) == {"name"}
    assert Signature.objects.count() == 0
    assert mail.outbox == []


def test_signing_anonymously_needs_no_name(client, open_letter):
    response = sign(client, open_letter, name="", display=Display.ANONYMOUS)

    assert response.status_code == 302
    signature = Signature.objects.get()
    assert (signature.display, signature.name) == (Display.ANONYMOUS, "")
    assert mail.outbox[0].to == ["cora@example.org"]


@pytest.mark.parametrize("posts", ["the_whole_page", "the_display_alone"])
def test_choosing_anonymous_on_the_confirm_page_drops_the_name_the_sign_form_stored(
    client, open_letter, posts
):
    sign(client, open_letter, comment="Count me in.")  # public, with a name and details
    assert Signature.objects.get().name == "Cora Coworker"
    path = link_path(mail.outbox[0], "/s/")
    page = client.get(path)
    assert "Cora Coworker" in page.content.decode()  # shown to the owner, who may keep it

    if posts == "the_whole_page":  # the form as the page shows it, anonymous chosen
        data = {field: getattr(Signature.objects.get(), field) for field in NAMED}
        response = client.post(path, {**data, "display": Display.ANONYMOUS})
    else:
        response = client.post(path, {"display": Display.ANONYMOUS})

    assert response.status_code == 200
    assert "Cora Coworker" not in response.content.decode()
    row = Signature.objects.get()
    assert (row.status, row.display) == (SignatureStatus.CONFIRMED, Display.ANONYMOUS)
    assert {field: getattr(row, field) for field in NAMED} == dict.fromkeys(NAMED, "")


def test_the_stored_row_holds_the_address_only_hashed_and_sealed(client, open_letter):
    typed = "Quentin.Quill+letters@Quillworks.EXAMPLE"
    canonical = "quentin.quill@quillworks.example"
    sign(client, open_letter, email=typed)

    row = Signature.objects.get()
    table = connection.ops.quote_name(Signature._meta.db_table)
    with connection.cursor() as cursor:  # every column, as a copy of the database holds it
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
        (stored,) = cursor.fetchall()
    texts = [str(value).lower() for value in stored if not isinstance(value, bytes | memoryview)]
    blobs = [bytes(value).lower() for value in stored if isinstance(value, bytes | memoryview)]
    for clear in (canonical, "quentin.quill", "quillworks"):
        assert not any(clear in text for text in texts), clear
        assert not any(clear.encode() in blob for blob in blobs), clear
    assert row.email_hash == address_hash(canonical)
    assert address_of(row) == "Quentin.Quill+letters@quillworks.example"  # as typed
    assert mail.outbox[0].to == ["Quentin.Quill+letters@quillworks.example"]


@pytest.mark.parametrize("again", ["CORA@example.ORG", "cora+another-tag@Example.org"])
def test_signing_again_in_another_case_or_with_a_tag_finds_the_same_signature(
    client, open_letter, again
):
    sign(client, open_letter, email="cora@example.org")
    first = Signature.objects.get()

    sign(client, open_letter, email=again, name="Cora C.")

    assert Signature.objects.count() == 1
    assert signature_of(open_letter, again).get().pk == first.pk
    assert Signature.objects.get().name == "Cora C."  # still pending: the latest details
    # ... and the latest spelling of the address, which the request goes to
    assert [m.to for m in mail.outbox] == [
        ["cora@example.org"],
        [mail_address(again).deliver_to],
    ]


def test_signing_again_after_confirming_in_another_case_or_with_a_tag_adds_no_signature(
    client, open_letter
):
    confirmed = confirmed_signature(open_letter, name="Dora Done", email="dora@example.org")
    mail.outbox.clear()

    sign(client, open_letter, email="DORA+again@Example.ORG", name="Someone Else")

    assert Signature.objects.count() == 1
    assert signature_of(open_letter, "Dora@example.org").get().pk == confirmed.pk
    assert Signature.objects.get().name == "Dora Done"
    assert [m.to for m in mail.outbox] == [["dora@example.org"]]
    assert "already signed" in mail.outbox[0].body
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("ann.lee@gmail.com", "AnnLee@googlemail.com"),
        ("a.n.n.lee+letters@GMail.com", "annlee@gmail.com"),
    ],
)
def test_gmail_dots_and_googlemail_are_one_mailbox(client, open_letter, first, again):
    sign(client, open_letter, email=first)
    sign(client, open_letter, email=again, name="Ann Lee")

    assert Signature.objects.count() == 1
    assert mail.outbox[0].to == [mail_address(first).deliver_to]  # as typed, each time
    assert mail.outbox[1].to == [mail_address(again).deliver_to]


def test_dots_still_matter_elsewhere(client, open_letter):
    sign(client, open_letter, email="ann.lee@example.org")
    sign(client, open_letter, email="annlee@example.org")

    assert Signature.objects.count() == 2


def test_the_language_links_after_a_failed_sign_lead_to_the_letter_page(client, open_letter):
    """The page answering a failed sign POST is the letter page at the sign
    URL (which answers POST only): its language links name the letter."""
    response = sign(client, open_letter, email="not-an-address")

    assert response.status_code == 400
    link = re.search(r'<a href="([^"]*)\?lang=de" hreflang="de"', response.content.decode())
    assert link is not None
    assert link.group(1) == open_letter.get_absolute_url()
    assert client.get(f"{link.group(1)}?lang=de").status_code == 200
