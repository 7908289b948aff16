"""DESIGN section 2: an anonymous signer is counted but never named, and no
public answer ever carries any signer's email address."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from letters import services
from letters.models import Display
from letters.tests.factories import confirmed_signature

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


def test_a_stranger_cannot_change_a_confirmed_signature(client, open_letter):
    confirmed_signature(
        open_letter, name="Vic", email="victim@example.org", display=Display.ANONYMOUS
    )

    services.signature_create(
        letter=open_letter, email="victim@example.org", name="Vic Exposed", display=Display.PUBLIC
    )

    from letters.models import Signature

    signature = Signature.objects.get()
    assert (signature.name, signature.display) == ("Vic", Display.ANONYMOUS)
