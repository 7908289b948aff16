"""A letter that requires a work address (issue "The employer's mail server
learns as little as possible"): whoever reads that mailbox (the employer)
finds only neutral emails that name nothing, and the links in it lose their
power once used."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from letters import services
from letters.models import Answer, Display, Signature, SignatureStatus
from letters.selectors import letter_counts
from letters.tests.factories import (
    LEADERSHIP,
    ORGANISER,
    deliver,
    edit_letter,
    open_letter,
    signature_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

WORK = "wendy.worker@northwind.example"
QUIET = "quinn.quiet@eu.northwind.example"


@pytest.fixture
def work_letter(organiser: Any) -> Any:
    return open_letter(owner=organiser, slug="northwind-ice", allowed_domains=["northwind.example"])


def sign(letter: Any, email: str, **overrides: Any) -> Any:
    data = {
        "name": "Wendy Worker",
        "email": email,
        "display": Display.PUBLIC,
        "consent": "on",
        "wants_updates": "on",
        **overrides,
    }
    data = {k: v for k, v in data.items() if v is not None}
    url = reverse("letters:sign", kwargs={"slug": letter.slug})
    return Client().post(url, data, HTTP_ORIGIN="http://testserver")


def link_path(message: Any, prefix: str) -> str:
    match = re.search(r"https?://[^/\s]+(" + prefix + r"[^\s]+)", message.body)
    assert match, message.body
    return match.group(1)


def to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


def everything_in(message: Any) -> str:
    """Subject, headers, text and HTML of an email, as the mail server keeps it."""
    return message.message().as_string() + "".join(str(a[0]) for a in message.alternatives)


def without_tokens(text: str) -> str:
    """`text` without the random tokens of its links (`/s/<token>/` keeps
    `/s//`; quoted-printable soft line breaks joined first): a token may
    hold any short word ("ceo").  The rest of every link stays, so a link
    naming the letter (`/letters/<slug>/`) is still seen."""
    return re.sub(r"(/[a-z]{1,2}/)[^/\s\"'<>]+", r"\1", text.replace("=\n", ""))


def test_a_work_mailbox_only_ever_gets_neutral_emails_through_the_whole_story(
    work_letter, organiser
):
    """Sign (twice, and once more after confirming), confirm, a new version,
    delivery, a response, an update: the work mailbox gets the confirmation
    request per sign attempt and neutral notices, none naming the letter,
    its demands, addressees, organisers or count."""
    for _ in range(2):
        assert sign(work_letter, WORK).status_code == 302
    assert (
        sign(work_letter, QUIET, wants_updates=None, display=Display.ANONYMOUS).status_code == 302
    )
    requests = to(WORK)
    assert len(requests) == 2  # one confirmation request per sign attempt
    assert requests[0].subject == requests[1].subject == "Please confirm your email address"

    thanks = Client().post(link_path(requests[-1], "/s/"), {"display": Display.PUBLIC})
    assert thanks.status_code == 200
    assert "/w/" in thanks.content.decode()  # the withdraw link, shown on this page
    Client().post(link_path(to(QUIET)[0], "/s/"), {"display": Display.ANONYMOUS})
    assert len(to(WORK)) == 2  # no "confirmed" email: it would name the letter
    assert sign(work_letter, WORK).status_code == 302  # signing again once confirmed
    again = to(WORK)[-1]
    assert len(to(WORK)) == 3
    assert again.subject == "Please confirm your email address"
    assert again.body.replace(link_path(again, "/s/"), "") == requests[0].body.replace(
        link_path(requests[0], "/s/"), ""
    )  # word for word the confirmation request
    assert "has been used" in Client().get(link_path(again, "/s/")).content.decode()

    edit_letter(
        work_letter,
        by=organiser,
        body="Dear CEO,\n\nA sharper text.",
        demands=["Divest from the agency"],
        change_note="Sharpened the demands",
    )
    delivery, _links = deliver(work_letter, organiser)
    demands = {d.id: str(Answer.DECLINED) for d in delivery.version.demands.all()}
    services.letter_respond(
        letter=work_letter, statement="We decline.", answers=demands, source="All-hands"
    )
    services.letter_post_update(letter=work_letter, by=organiser, text="We keep going.")

    received = to(WORK)
    notices = received[3:]
    assert len(notices) == 4  # a new version, delivered, the response, the update
    assert {m.subject for m in notices} == {"News"}
    assert [m.subject for m in to(QUIET)] == ["Please confirm your email address"]
    named = [
        work_letter.title, work_letter.slug, "Beenden Sie den Vertrag", "Condemn the agency",
        "End the contract", "A sharper text", "Divest", LEADERSHIP.name, LEADERSHIP.role,
        ORGANISER.name, ORGANISER.email, "We decline", "We keep going", "All-hands", "Sharpened",
    ]  # fmt: skip
    for message in received:
        text = everything_in(message)
        for secret in named:  # anywhere but inside a link's random token
            assert secret.lower() not in without_tokens(text).lower(), (secret, message.subject)
        assert not re.search(r"\b[0-9]+ (signatures|people|signed)", text)
        assert "<img" not in text
        assert "/w/" not in text  # no withdraw link in a work mailbox
        assert "/v/" not in text  # nor a "support the new text" link


def test_a_used_confirmation_link_shows_nothing_and_offers_nothing(work_letter):
    sign(work_letter, WORK, name="Wendy Worker", team="Secret Squad")
    path = link_path(to(WORK)[0], "/s/")
    before = Client().get(path).content.decode()
    assert "Wendy Worker" in before  # the owner sees what will be published, before

    thanks = Client().post(path, {"name": "Wendy Worker", "display": Display.PUBLIC})
    withdraw = re.search(r'value="https?://[^/"]+(/w/[^"]+)"', thanks.content.decode())
    assert withdraw is not None

    for later in (Client().get(path), Client().post(path, {"display": Display.ANONYMOUS})):
        page = later.content.decode()
        assert "This link has been used" in page
        for secret in ("Wendy", "Secret Squad", work_letter.title, "<form", "/w/"):
            assert secret not in page
    row = signature_of(work_letter, WORK).get()
    assert row.display == Display.PUBLIC  # the second POST changed nothing

    assert Client().post(withdraw.group(1)).status_code == 200  # the saved link still works
    assert Signature.objects.get(pk=row.pk).status == SignatureStatus.WITHDRAWN


def test_the_neutral_notice_unsubscribes_on_a_page_that_names_nothing(work_letter, organiser):
    sign(work_letter, WORK)
    Client().post(link_path(to(WORK)[0], "/s/"), {"display": Display.PUBLIC})
    services.letter_post_update(letter=work_letter, by=organiser, text="News!")
    (notice,) = [m for m in to(WORK) if m.subject == "News"]
    unsubscribe = re.sub(r"^https?://[^/]+", "", notice.extra_headers["List-Unsubscribe"][1:-1])

    page = Client().get(unsubscribe).content.decode()
    assert work_letter.title not in page
    Client().post(unsubscribe)
    assert not signature_of(work_letter, WORK).get().wants_updates


def test_message_ids_name_the_sender_s_domain_not_the_machine_or_the_letter(work_letter, settings):
    settings.DEFAULT_FROM_EMAIL = "Letters <noreply@letters.example.net>"
    sign(work_letter, WORK)
    (message,) = to(WORK)
    message_id = message.message()["Message-ID"]
    assert message_id.endswith("@letters.example.net>")
    assert "northwind" not in message_id


def test_open_letters_still_send_the_named_emails(organiser):
    """Without a required domain the address is the signer's choice (likely
    personal): the "confirmed" email names the letter and carries the
    withdraw link, as before."""
    letter = open_letter(owner=organiser)
    sign(letter, "pat@example.org")
    Client().post(link_path(to("pat@example.org")[0], "/s/"), {"display": Display.PUBLIC})
    confirmed = to("pat@example.org")[-1]
    assert letter.title in confirmed.body
    assert "/w/" in confirmed.body


HOME = "wendy@home.example"


def test_with_a_personal_address_everything_named_goes_there_and_never_to_work(
    work_letter, organiser
):
    sign(work_letter, WORK)
    path = link_path(to(WORK)[0], "/s/")
    page = Client().get(path).content.decode()
    assert 'name="personal_email"' in page  # offered to a work address

    refused = Client().post(
        path, {"name": "Wendy", "display": Display.PUBLIC, "personal_email": "w@northwind.example"}
    )
    assert 'id="id_personal_email_error"' in refused.content.decode() or (
        "employer does not run" in refused.content.decode()
    )
    assert signature_of(work_letter, WORK).get().status == SignatureStatus.PENDING

    thanks = Client().post(
        path,
        {"name": "Wendy", "display": Display.PUBLIC, "personal_email": HOME, "wants_updates": "on"},
    )
    assert "personal address you gave" in thanks.content.decode()
    (request,) = to(HOME)
    assert request.subject == "Please confirm your email address"
    assert work_letter.title not in everything_in(request)  # neutral, like the first
    personal_path = link_path(request, "/a/")
    assert work_letter.title not in Client().get(personal_path).content.decode()

    Client().post(personal_path)
    confirmed = to(HOME)[-1]
    assert work_letter.title in confirmed.body  # named: it is the signer's own mailbox
    withdraw = link_path(confirmed, "/w/")
    assert "has been used" in Client().get(personal_path).content.decode()
    services.letter_post_update(letter=work_letter, by=organiser, text="We keep going.")
    assert "We keep going" in to(HOME)[-1].body
    assert len(to(WORK)) == 1  # the work mailbox: the one confirmation request, nothing else

    Client().post(withdraw)
    row = Signature.objects.get(letter=work_letter)
    assert row.status == SignatureStatus.WITHDRAWN
    assert row.personal_sealed is None  # erased with the signature


def test_an_unconfirmed_personal_address_gets_nothing_but_its_request(work_letter, organiser):
    sign(work_letter, WORK)
    Client().post(
        link_path(to(WORK)[0], "/s/"),
        {"name": "Wendy", "display": Display.PUBLIC, "personal_email": HOME, "wants_updates": "on"},
    )
    services.letter_post_update(letter=work_letter, by=organiser, text="We keep going.")

    assert [m.subject for m in to(HOME)] == ["Please confirm your email address"]
    assert [m.subject for m in to(WORK)][1:] == ["News"]  # neutral until confirmed


def test_the_kept_withdraw_link_also_hides_the_name_and_keeps_the_signature(work_letter):
    """From the link on the thank-you page (or the personal address's): a
    public signer can go anonymous without withdrawing."""
    sign(work_letter, WORK, name="Wendy Worker", team="Platform")
    thanks = Client().post(
        link_path(to(WORK)[0], "/s/"),
        {"name": "Wendy Worker", "team": "Platform", "display": "public"},
    )
    withdraw = re.search(r'value="https?://[^/"]+(/w/[^"]+)"', thanks.content.decode())
    assert withdraw is not None
    assert letter_counts(letter_id=work_letter.pk).public == 1

    page = Client().get(withdraw.group(1)).content.decode()
    assert "Hide my name, keep my signature" in page
    hidden = Client().post(withdraw.group(1), {"action": "hide"})

    assert "Your name is hidden" in hidden.content.decode()
    row = signature_of(work_letter, WORK).get()
    assert (row.status, row.display, row.name, row.team) == ("confirmed", "anonymous", "", "")
    counts = letter_counts(letter_id=work_letter.pk)
    assert (counts.confirmed, counts.public) == (1, 0)
    services.counts_recount(letter_id=work_letter.pk)
    counts = letter_counts(letter_id=work_letter.pk)
    assert (counts.confirmed, counts.public) == (1, 0)
    assert "Wendy Worker" not in Client().get(work_letter.get_absolute_url()).content.decode()
    assert "Hide my name" not in Client().get(withdraw.group(1)).content.decode()
