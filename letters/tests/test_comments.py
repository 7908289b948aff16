"""Comments apart from signatures (issue 19): an organiser hides one
signer's comment with a reason, the signature and its count untouched, the
signer told by email if they asked for updates (neutrally at a work
address); a letter can turn public comments off."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters import exports, http, services
from letters.models import AuditLog, Display, LetterEvent, Signature, SignatureStatus
from letters.refs import signature_ref
from letters.selectors import letter_counts
from letters.signer_address import sealed_address
from letters.tests.factories import (
    add_co_organisers,
    confirmed_signature,
    open_letter,
    sign,
)

pytestmark = pytest.mark.django_db(transaction=True)

RUDE = "Our manager is a clown"
KIND = "Proud to stand with my colleagues"
REASON = "Personal attack on a colleague"


@pytest.fixture
def team(open_letter, organiser) -> dict[str, Any]:
    return {"letter": open_letter, "owner": organiser, **add_co_organisers(open_letter)}


@pytest.fixture
def commented(team) -> dict[str, Signature]:
    letter = team["letter"]
    return {
        "rude": confirmed_signature(
            letter, name="Rita Rude", email="rita@example.org", comment=RUDE, wants_updates=True
        ),
        "kind": confirmed_signature(letter, name="Kim Kind", email="kim@example.org", comment=KIND),
    }


def client_for(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def hide_url(letter: Any, signature: Signature) -> str:
    return reverse(
        "organise:comment_hide",
        kwargs={"slug": letter.slug, "signature_ref": signature_ref(signature.pk)},
    )


def fresh(path: str) -> str:
    """A public page as a visitor gets it once its cached copy is rebuilt."""
    http.local_tier_clear()
    from django.core.cache import cache

    cache.clear()
    return Client().get(path).content.decode()


def everything_public(letter: Any) -> str:
    """The letter page, the signatories page, the API and both signatory
    exports (CSV through COPY, JSON through the ORM)."""
    pages = [
        fresh(reverse("letters:detail", kwargs={"slug": letter.slug})),
        fresh(reverse("letters:signatories", kwargs={"slug": letter.slug})),
        fresh(f"/api/letters/{letter.slug}/"),
    ]
    csv = b"".join(exports.signatory_csv_copy(letter)).decode("utf-8-sig")
    rows = json.dumps(list(exports.signatory_rows(letter)))
    return "\n".join([*pages, csv, rows])


def everything_in(message: Any) -> str:
    """Subject, headers, text and HTML of an email, as the mail server keeps it."""
    return message.message().as_string() + "".join(str(a[0]) for a in message.alternatives)


# --- The service ----------------------------------------------------------------------


def test_hiding_a_comment_keeps_the_signature_and_its_count_and_is_audited(team, commented):
    letter, rude = team["letter"], commented["rude"]
    before = letter_counts(letter_id=letter.pk)
    events = LetterEvent.objects.filter(letter=letter).count()

    services.signature_comment_hide(
        letter=letter, by=team["editor"], signature_id=rude.pk, reason=REASON
    )

    row = Signature.objects.get(pk=rude.pk)
    assert row.status == SignatureStatus.CONFIRMED
    assert row.display == Display.PUBLIC
    assert row.name == "Rita Rude"
    assert row.comment == RUDE  # kept (withdrawal and retention erase it)
    assert row.comment_hidden_at is not None
    assert row.comment_hidden_reason == REASON
    after = letter_counts(letter_id=letter.pk)
    assert (after.confirmed, after.public) == (before.confirmed, before.public) == (2, 2)
    entry = AuditLog.objects.get(action="comment.hide")
    assert entry.actor == team["editor"]
    assert entry.letter == letter
    assert entry.target == f"signature {rude.pk}"
    assert entry.details == {"reason": REASON}
    assert LetterEvent.objects.filter(letter=letter).count() == events  # nothing public


def test_a_hidden_comment_is_shown_nowhere_and_the_signer_still_is(team, commented):
    letter = team["letter"]
    assert RUDE in everything_public(letter)

    services.signature_comment_hide(
        letter=letter, by=team["owner"], signature_id=commented["rude"].pk, reason=REASON
    )

    seen = everything_public(letter)
    assert RUDE not in seen
    assert REASON not in seen
    assert "Rita Rude" in seen  # the name stays on the list
    assert KIND in seen  # other comments stay
    packet = client_for(team["owner"]).get(reverse("organise:packet", kwargs={"slug": letter.slug}))
    assert RUDE not in packet.content.decode()
    assert "Rita Rude" in packet.content.decode()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_comment_is_hidden_only_with_a_reason(team, commented, reason):
    with pytest.raises(services.ServiceError) as refused:
        services.signature_comment_hide(
            letter=team["letter"],
            by=team["owner"],
            signature_id=commented["rude"].pk,
            reason=reason,
        )
    assert refused.value.field == "reason"
    assert Signature.objects.get(pk=commented["rude"].pk).comment_hidden_at is None
    assert not AuditLog.objects.filter(action="comment.hide").exists()


def test_only_a_shown_comment_of_this_letter_s_public_signers_can_be_hidden(
    team, commented, organiser
):
    letter = team["letter"]
    other = open_letter(owner=organiser, slug="another-letter")
    elsewhere = confirmed_signature(other, name="Olga", email="olga@example.org", comment="Hi")
    anonymous = confirmed_signature(letter, email="anna@example.org", display=Display.ANONYMOUS)
    pending = sign(letter, comment="Pending words")
    services.signature_comment_hide(
        letter=letter, by=team["owner"], signature_id=commented["rude"].pk, reason=REASON
    )

    for signature in (elsewhere, anonymous, pending, commented["rude"]):
        with pytest.raises(services.ServiceError):
            services.signature_comment_hide(
                letter=letter, by=team["owner"], signature_id=signature.pk, reason=REASON
            )
    assert AuditLog.objects.filter(action="comment.hide").count() == 1


# --- The signer is told -------------------------------------------------------------


def test_the_signer_who_asked_for_updates_is_emailed_once_with_the_reason(team, commented):
    letter = team["letter"]
    mail.outbox.clear()

    services.signature_comment_hide(
        letter=letter, by=team["owner"], signature_id=commented["rude"].pk, reason=REASON
    )
    services.signature_comment_hide(
        letter=letter, by=team["owner"], signature_id=commented["kind"].pk, reason="Off topic"
    )  # Kim did not ask for updates: no email

    (told,) = mail.outbox
    assert told.to == ["rita@example.org"]
    assert letter.title in told.body
    assert REASON in told.body
    assert RUDE in told.body
    assert "still counts" in told.body
    assert REASON in everything_in(told)
    # A retried or repeated task sends nothing more.
    assert services.comment_hidden_email_send(signature_id=commented["rude"].pk) == "skipped"
    assert len(mail.outbox) == 1


def test_a_work_address_gets_only_the_neutral_notice(organiser):
    letter = open_letter(
        owner=organiser, slug="northwind-ice", allowed_domains=["northwind.example"]
    )
    worker = confirmed_signature(
        letter,
        name="Wendy Worker",
        email="wendy@northwind.example",
        comment=RUDE,
        work_address=True,
        wants_updates=True,
    )
    mail.outbox.clear()

    services.signature_comment_hide(
        letter=letter, by=organiser, signature_id=worker.pk, reason=REASON
    )

    (notice,) = mail.outbox
    assert notice.to == ["wendy@northwind.example"]
    assert notice.subject == "News"
    everything = everything_in(notice)
    for secret in (letter.title, letter.slug, RUDE, REASON, "comment", "Wendy Worker"):
        assert secret.lower() not in everything.lower(), secret


def test_a_work_address_with_a_confirmed_personal_one_is_told_there(organiser):
    letter = open_letter(
        owner=organiser, slug="northwind-ice", allowed_domains=["northwind.example"]
    )
    worker = confirmed_signature(
        letter,
        name="Wendy Worker",
        email="wendy@northwind.example",
        comment=RUDE,
        work_address=True,
        wants_updates=True,
    )
    Signature.objects.filter(pk=worker.pk).update(
        personal_sealed=sealed_address("wendy@home.example"), personal_confirmed_at=timezone.now()
    )
    mail.outbox.clear()

    services.signature_comment_hide(
        letter=letter, by=organiser, signature_id=worker.pk, reason=REASON
    )

    (told,) = mail.outbox
    assert told.to == ["wendy@home.example"]  # never the work mailbox
    assert REASON in told.body
    assert letter.title in told.body


# --- The organisers' page -------------------------------------------------------------


def test_an_editor_hides_a_comment_after_confirming_with_a_reason(team, commented):
    letter, rude = team["letter"], commented["rude"]
    client = client_for(team["editor"])
    listing = client.get(reverse("organise:comments", kwargs={"slug": letter.slug})).content
    assert RUDE in listing.decode()
    assert hide_url(letter, rude) in listing.decode()

    confirm = client.get(hide_url(letter, rude))
    assert confirm.status_code == 200
    assert RUDE in confirm.content.decode()
    assert "still counts" in confirm.content.decode()
    refused = client.post(hide_url(letter, rude), {"reason": ""})
    assert refused.status_code == 400
    assert Signature.objects.get(pk=rude.pk).comment_hidden_at is None

    done = client.post(hide_url(letter, rude), {"reason": REASON}, follow=True)

    assert Signature.objects.get(pk=rude.pk).comment_hidden_at is not None
    page = done.content.decode()
    assert "The comment is hidden" in page
    assert REASON in page  # listed under the hidden comments, with the reason
    assert hide_url(letter, rude) not in page
    assert client.get(hide_url(letter, rude)).status_code == 404  # already hidden
    assert letter_counts(letter_id=letter.pk).confirmed == 2


def test_a_viewer_sees_comments_but_cannot_hide_or_turn_them_off(team, commented):
    letter = team["letter"]
    viewer = client_for(team["viewer"])
    listing = viewer.get(reverse("organise:comments", kwargs={"slug": letter.slug}))
    assert listing.status_code == 200
    assert RUDE in listing.content.decode()
    assert "/hide/" not in listing.content.decode()
    assert viewer.get(hide_url(letter, commented["rude"])).status_code == 403
    assert viewer.post(hide_url(letter, commented["rude"]), {"reason": "x"}).status_code == 403
    setting = reverse("organise:comments_setting", kwargs={"slug": letter.slug})
    assert viewer.post(setting, {"public_comments": "off"}).status_code == 403
    assert Signature.objects.get(pk=commented["rude"].pk).comment_hidden_at is None
    letter.refresh_from_db()
    assert letter.public_comments


def test_hiding_needs_an_organiser_of_this_letter(team, commented, outsider):
    url = hide_url(team["letter"], commented["rude"])
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).post(url, {"reason": "x"}).status_code == 404
    visitor = client_for(None).post(url, {"reason": "x"})
    assert visitor.status_code == 302
    assert visitor["Location"].startswith(reverse("account_login"))
    assert Signature.objects.get(pk=commented["rude"].pk).comment_hidden_at is None


# --- Public comments off ------------------------------------------------------------------


def test_turning_public_comments_off_hides_them_all_and_the_form_asks_for_none(team, commented):
    letter = team["letter"]
    detail = reverse("letters:detail", kwargs={"slug": letter.slug})
    assert 'name="comment"' in fresh(detail)
    setting = reverse("organise:comments_setting", kwargs={"slug": letter.slug})

    client_for(team["editor"]).post(setting, {"public_comments": "off"})

    letter.refresh_from_db()
    assert not letter.public_comments
    seen = everything_public(letter)
    assert RUDE not in seen
    assert KIND not in seen
    assert "Kim Kind" in seen
    assert 'name="comment"' not in fresh(detail)
    assert Signature.objects.get(pk=commented["kind"].pk).comment == KIND  # kept
    entry = AuditLog.objects.get(action="letter.public_comments")
    assert (entry.actor, entry.details) == (team["editor"], {"enabled": "False"})
    # A comment sent anyway (a script, an old page) is not stored.
    new = sign(letter, comment="Sneaked in")
    assert new.comment == ""
    assert letter_counts(letter_id=letter.pk).confirmed == 2

    client_for(team["owner"]).post(setting, {"public_comments": "on"})

    seen = everything_public(letter)
    assert KIND in seen  # shown again
    assert RUDE in seen


def test_a_duplicate_keeps_the_comments_setting(team):
    letter = team["letter"]
    services.letter_set_public_comments(letter=letter, by=team["owner"], enabled=False)

    copy = services.letter_duplicate(letter=letter, by=team["owner"])

    assert not copy.public_comments
    assert AuditLog.objects.filter(action="letter.public_comments").count() == 1
    # Setting it to what it already is changes nothing and logs nothing.
    assert not services.letter_set_public_comments(letter=letter, by=team["owner"], enabled=False)
    assert AuditLog.objects.filter(action="letter.public_comments").count() == 1
