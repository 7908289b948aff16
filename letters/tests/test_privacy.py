"""DESIGN section 2: an anonymous signer is counted but never named, and no
public answer ever carries any signer's email address."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from letters import services
from letters.models import Display, Signature, SignatureStatus
from letters.selectors import letter_counts
from letters.services.signing import SignOutcome
from letters.tests.factories import (
    address_of,
    confirmed_signature,
    pending_signature,
    signature_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

ANON_NAME = "Zanzibar Quixotic"
ANON_EMAIL = "zq.hidden@example.org"
ANON_TEAM = "Skunkworks-Ultraviolet"
PUBLIC_EMAIL = "pia.public@example.org"


@pytest.fixture
def signed_letter(open_letter):
    confirmed_signature(
        open_letter,
        name=ANON_NAME,
        email=ANON_EMAIL,
        display=Display.ANONYMOUS,
        team=ANON_TEAM,
        location="Secret Base",
        comment="Quietly furious",
    )
    confirmed_signature(open_letter, name="Pia Public", email=PUBLIC_EMAIL, team="Data")
    return open_letter


def assert_no_anonymous_trace(text: str) -> None:
    for secret in (ANON_NAME, "Zanzibar", ANON_EMAIL, ANON_TEAM, "Secret Base", "Quietly furious"):
        assert secret not in text
    assert PUBLIC_EMAIL not in text


def test_anonymous_signer_is_never_named_on_public_pages_or_the_api(client, signed_letter):
    urls = [
        reverse("letters:index"),
        signed_letter.get_absolute_url(),
        reverse("letters:check_inbox", kwargs={"slug": signed_letter.slug}),
        reverse("api_letters"),
        reverse("api_letter", kwargs={"slug": signed_letter.slug}),
    ]
    for url in urls:
        for language in ("en", "de"):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, url
            assert_no_anonymous_trace(response.content.decode())
    page = client.get(signed_letter.get_absolute_url()).content.decode()
    assert "Pia Public" in page
    assert "and 1 more who withheld their name" in page


def test_anonymous_signer_is_never_named_in_emails_to_anyone_else(client, signed_letter):
    mail.outbox.clear()  # the two "confirmed" emails went to their own signers
    services.signature_create(letter=signed_letter, email="other@example.org", name="Other")
    services.signature_create(letter=signed_letter, email=PUBLIC_EMAIL, name="Pia Public")

    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert ANON_EMAIL not in message.to
        assert_no_anonymous_trace(f"{message.subject} {message.body}")
        assert_no_anonymous_trace(str(message.alternatives[0][0]))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("chosen", "stranger_asks", "stored_name"),
    [
        # An anonymous signer's name is not stored at all, so nothing can expose it.
        (Display.ANONYMOUS, Display.PUBLIC, ""),
        (Display.PUBLIC, Display.ANONYMOUS, "Vic"),
    ],
)
def test_a_stranger_cannot_change_a_confirmed_signature(
    client, open_letter, chosen, stranger_asks, stored_name
):
    confirmed_signature(open_letter, name="Vic", email="victim@example.org", display=chosen)

    services.signature_create(
        letter=open_letter, email="victim@example.org", name="Vic Exposed", display=stranger_asks
    )

    signature = Signature.objects.get()
    assert (signature.name, signature.display) == (stored_name, chosen)


# --- Identities at rest (rules 4 and 10) ----------------------------------------------


def test_an_anonymous_signer_s_name_and_details_are_never_stored(open_letter):
    """Through the sign form's service and the confirmation: only the
    address's hash, its sealed copy and domain tags stand for the signer."""
    services.signature_create(
        letter=open_letter, email=ANON_EMAIL, name=ANON_NAME, team=ANON_TEAM,
        location="Secret Base", comment="Quietly furious", display=Display.ANONYMOUS,
    )  # fmt: skip
    signature = signature_of(open_letter, ANON_EMAIL).get()
    services.signature_confirm(signature=signature)

    row = Signature.objects.filter(pk=signature.pk).values().get()
    assert (row["status"], row["display"]) == (SignatureStatus.CONFIRMED, Display.ANONYMOUS)
    assert_no_anonymous_trace(repr(row))
    assert "example.org" not in repr(row)  # the domain is a keyed tag, not in clear
    assert address_of(Signature.objects.get(pk=signature.pk)) == ANON_EMAIL


def test_erasure_drops_the_sealed_address_and_keeps_its_hash_so_no_one_counts_twice(
    open_letter, organiser
):
    """Erasing identities (retention, or an owner's erasure of an open
    letter) leaves nothing that names the signer, but signing again with
    the same address neither adds a row nor counts."""
    signature = confirmed_signature(open_letter, name="Pia Public", email=PUBLIC_EMAIL)
    address_hash = signature.email_hash
    pending = pending_signature(open_letter, name="Pat Pending", email="pat@example.org")

    assert services.letter_erase_identities(letter=open_letter, by=organiser) == 1

    erased = Signature.objects.get(pk=signature.pk)
    assert erased.status == SignatureStatus.CONFIRMED
    assert (erased.email_sealed, erased.email_domains, erased.name) == (None, "", "")
    assert erased.email_hash == address_hash != ""
    # A pending signature is not counted: it is deleted, so its owner can
    # still sign (an erased one would block the address with no way to
    # confirm).
    assert not Signature.objects.filter(pk=pending.pk).exists()
    services.counts_fold(letter_id=open_letter.pk)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1
    mail.outbox.clear()

    for address in (PUBLIC_EMAIL, "PIA.Public@Example.org"):  # the same canonical address
        services.signature_create(letter=open_letter, email=address, name="Pia Again")

    assert list(signature_of(open_letter, PUBLIC_EMAIL)) == [erased]
    assert Signature.objects.filter(letter=open_letter).count() == 1
    assert mail.outbox == []  # no address to write to
    services.signature_create(letter=open_letter, email="pat@example.org", name="Pat Again")
    assert signature_of(open_letter, "pat@example.org").get().status == SignatureStatus.PENDING
    services.counts_fold(letter_id=open_letter.pk)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1
    services.counts_recount(letter_id=open_letter.pk)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1


def test_withdrawal_clears_the_address_hash_too_so_the_signer_may_sign_again(open_letter):
    signature = confirmed_signature(open_letter, name="Pia Public", email=PUBLIC_EMAIL)

    assert services.signature_withdraw(signature_id=signature.pk)

    withdrawn = Signature.objects.get(pk=signature.pk)
    assert withdrawn.status == SignatureStatus.WITHDRAWN
    assert (withdrawn.email_hash, withdrawn.email_sealed, withdrawn.email_domains) == ("", None, "")
    assert not signature_of(open_letter, PUBLIC_EMAIL).exists()
    mail.outbox.clear()

    outcome = services.signature_create(letter=open_letter, email=PUBLIC_EMAIL, name="Pia Again")

    assert outcome == SignOutcome.CREATED
    again = signature_of(open_letter, PUBLIC_EMAIL).get()
    assert (again.status, again.name) == (SignatureStatus.PENDING, "Pia Again")
    assert address_of(again) == PUBLIC_EMAIL
    assert [m.to for m in mail.outbox] == [[PUBLIC_EMAIL]]  # its confirmation request
    services.signature_confirm(signature=again)
    services.counts_fold(letter_id=open_letter.pk)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1
