"""DESIGN §2 rule 7: what is published about a signer is what that signer
chose, and they see all of it before it is published.  Whatever a stranger
submits for someone else's address cannot decide that person's name, details
or display, stop their own link from reaching them, or leave their confirmed
signature silently uncounted.

The stranger here is anyone who knows a colleague's address and types it into
the public sign form (an employer testing its staff, a prankster); the owner
is the person who reads that mailbox."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters.models import Display, Signature, SignatureStatus
from letters.selectors import letter_counts
from letters.tests.factories import confirmed_signature, signature_of

pytestmark = pytest.mark.django_db(transaction=True)

VICTIM = "vic.owner@example.org"
STRANGER_FORM = {
    "name": "Vic Exposed",
    "job_title": "Paralegal",
    "team": "Legal Berlin",
    "location": "Berlin HQ",
    "comment": "I want the CEO gone",
    "display": Display.PUBLIC,
}


def submit(letter: Any, *, ip: str = "203.0.113.66", **fields: Any) -> None:
    """The public sign form, from the given client address."""
    data = {"email": VICTIM, "consent": "on", "website": "", **fields}
    response = Client(REMOTE_ADDR=ip).post(
        reverse("letters:sign", kwargs={"slug": letter.slug}), data, HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 302


def confirm_links() -> list[str]:
    links = []
    for message in mail.outbox:
        found = re.search(r"https?://[^/\s]+(/s/[^\s]+)", str(message.body))
        if message.to == [VICTIM] and found:
            links.append(found.group(1))
    return links


def confirm_as_shown(client: Client, path: str, display: str) -> Any:
    """Press the button as a browser would: every field as the page shows
    it, plus the owner's choice of display."""
    page = client.get(path)
    assert page.status_code == 200
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if k != "wants_updates"}
    if form.initial.get("wants_updates"):
        data["wants_updates"] = "on"
    return client.post(path, {**data, "display": display})


def test_the_owner_s_own_submission_decides_over_a_stranger_s_earlier_one(client, open_letter):
    submit(open_letter, **STRANGER_FORM)
    submit(open_letter, ip="198.51.100.7", name="Vic", display=Display.ANONYMOUS)

    response = client.get(confirm_links()[-1])
    page = response.content.decode()
    # The owner's anonymous submission replaced the planted details; an
    # anonymous signer's name is not stored, so the page offers none.
    assert response.context["form"].initial["name"] == ""
    for planted in ("Vic Exposed", "Paralegal", "Legal Berlin", "Berlin HQ", "I want the CEO"):
        assert planted not in page

    confirm_as_shown(client, confirm_links()[-1], Display.ANONYMOUS)

    signature = signature_of(open_letter, VICTIM).get()
    assert signature.status == SignatureStatus.CONFIRMED
    assert (signature.name, signature.display, signature.comment) == ("", Display.ANONYMOUS, "")
    public_page = client.get(open_letter.get_absolute_url()).content.decode()
    assert "Vic Exposed" not in public_page
    assert "I want the CEO gone" not in public_page


def test_the_confirm_page_shows_every_field_that_would_be_published_and_picks_no_display(
    client, open_letter
):
    submit(open_letter, **STRANGER_FORM)
    path = confirm_links()[0]

    page = client.get(path).content.decode()

    for value in STRANGER_FORM.values():
        if value != Display.PUBLIC:
            assert value in page, value
    assert "checked" not in re.search(r"<fieldset.*?</fieldset>", page, re.S).group(0)  # type: ignore[union-attr]
    # Pressing the button without choosing changes nothing.
    refused = client.post(path, {k: v for k, v in STRANGER_FORM.items() if k != "display"})
    assert refused.status_code == 400
    assert "Choose how your signature appears." in refused.content.decode()
    assert signature_of(open_letter, VICTIM).get().status == SignatureStatus.PENDING


def test_what_the_owner_types_on_the_confirm_page_is_what_is_published(client, open_letter):
    submit(open_letter, **STRANGER_FORM)
    path = confirm_links()[0]

    client.post(path, {"name": "Vic O.", "display": Display.PUBLIC, "comment": ""})

    signature = signature_of(open_letter, VICTIM).get()
    published = (signature.name, signature.job_title, signature.team, signature.location)
    assert published == ("Vic O.", "", "", "")
    assert signature.comment == ""
    page = client.get(reverse("letters:signatories", kwargs={"slug": open_letter.slug}))
    assert "Vic O." in page.content.decode()
    assert "Legal Berlin" not in page.content.decode()


def test_a_row_a_stranger_planted_over_the_rate_limit_counts_when_its_owner_confirms(
    client, open_letter, settings
):
    settings.SIGN_RATE_BURST = "1/60"
    for n in range(3):  # the stranger's client goes over the limit...
        submit(open_letter, name=f"Filler {n}", email=f"filler{n}@example.org", display="public")
    submit(open_letter, **STRANGER_FORM)  # ...and then plants the owner's row

    owner = Client(REMOTE_ADDR="198.51.100.7")
    thanks = confirm_as_shown(owner, confirm_links()[0], Display.ANONYMOUS)

    assert thanks.status_code == 200
    signature = signature_of(open_letter, VICTIM).get()
    assert signature.status == SignatureStatus.CONFIRMED
    assert not signature.flagged
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1
    assert "held" not in thanks.content.decode()


def test_a_stranger_cannot_keep_the_owner_s_links_from_them(client, open_letter):
    for n in range(8):  # more than the cap of the sign form's emails
        submit(open_letter, **{**STRANGER_FORM, "name": f"Stranger {n}"})
    sent_to_owner = len(confirm_links())
    assert 0 < sent_to_owner <= 5

    # Every link the owner received works and lets them decide.
    owner = Client(REMOTE_ADDR="198.51.100.7")
    assert all(owner.get(path).status_code == 200 for path in confirm_links())
    # Within the day the owner's own attempt adds no email (the inbox holds
    # working links); once the window has passed, it sends one again.
    signature_of(open_letter, VICTIM).update(
        email_window_start=timezone.now() - timedelta(days=1, seconds=1)
    )
    submit(open_letter, ip="198.51.100.7", name="Vic", display=Display.ANONYMOUS)
    assert len(confirm_links()) == sent_to_owner + 1

    # The "confirmed" email, with the withdraw link, is never capped.
    mail.outbox.clear()
    for n in range(8):
        submit(open_letter, **{**STRANGER_FORM, "name": f"Stranger again {n}"})
    assert len(confirm_links()) == 4  # five in the window, the owner's included
    mail.outbox.clear()
    path = f"/s/{_confirm_token()}/"
    confirm_as_shown(owner, path, Display.ANONYMOUS)
    confirmed = [m for m in mail.outbox if m.to == [VICTIM]]
    assert len(confirmed) == 1
    assert "/w/" in confirmed[0].body


def _confirm_token() -> str:
    from letters.tokens import Purpose, make_token

    return make_token(signature_of(None, VICTIM).get(), Purpose.CONFIRM)


def test_the_sign_form_mints_a_withdraw_link_at_most_once_a_week(client, open_letter, settings):
    signature = confirmed_signature(open_letter, name="Vic", email=VICTIM)
    Signature.objects.filter(pk=signature.pk).update(
        withdraw_link_sent_at=timezone.now() - timedelta(days=8)
    )
    mail.outbox.clear()

    for _ in range(3):  # whoever controls the mailbox asks again and again
        submit(open_letter, name="Anyone", display="public")
    already = [m for m in mail.outbox if m.to == [VICTIM]]
    assert len(already) == 1  # at most one "already signed" a day
    assert "/w/" in already[0].body

    mail.outbox.clear()
    Signature.objects.filter(pk=signature.pk).update(
        email_window_start=timezone.now() - timedelta(days=2)
    )
    submit(open_letter, name="Anyone", display="public")
    again = [m for m in mail.outbox if m.to == [VICTIM]]
    assert len(again) == 1
    assert "already signed" in again[0].body
    assert "/w/" not in again[0].body  # a fresh link only once a week
    assert "use the link in the email we sent you recently" in again[0].body
