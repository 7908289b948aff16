"""Delivery to leadership, the leadership page, responses, the deadline,
notifications to signers and organisers, the packet and the feed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters import services, tasks
from letters.access import Capability, role_can
from letters.models import (
    Answer,
    Display,
    EventKind,
    LeadershipLink,
    Letter,
    LetterStatus,
    Organiser,
    OrganiserRole,
    Signature,
)
from letters.suppression import suppress
from letters.tests.factories import confirmed_signature, deliver, make_user, signature_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def signed(open_letter) -> Letter:
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org", team="Data")
    confirmed_signature(
        open_letter,
        name="Zed Hidden",
        email="zed.hidden@example.org",
        display=Display.ANONYMOUS,
        team="Secret Squad",
        location="Basement",
        wants_updates=True,
    )
    mail.outbox.clear()
    return open_letter


def demand_ids(letter: Letter) -> list[int]:
    assert letter.current_version is not None
    return list(letter.current_version.demands.values_list("id", flat=True))


# --- Transitions ------------------------------------------------------------------


def test_the_status_goes_delivered_acknowledged_responded_with_events(signed, organiser):
    _delivery, (issued,) = deliver(signed, organiser)
    assert Letter.objects.get(pk=signed.pk).status == LetterStatus.DELIVERED

    services.letter_acknowledge(link=issued.link)
    with pytest.raises(services.ServiceError):
        services.letter_acknowledge(link=issued.link)  # only once
    ids = demand_ids(signed)
    services.letter_respond(
        letter=signed,
        statement="We hear you.",
        answers={ids[0]: Answer.ACCEPTED, ids[1]: Answer.DECLINED},
        link=issued.link,
    )

    signed.refresh_from_db()
    assert signed.status == LetterStatus.RESPONDED
    kinds = list(signed.events.order_by("id").values_list("kind", flat=True))
    assert kinds[-3:] == [EventKind.DELIVERED, EventKind.ACKNOWLEDGED, EventKind.RESPONSE]
    answers = dict(signed.responses.get().answers.values_list("demand_id", "answer"))
    assert answers == {ids[0]: "accepted", ids[1]: "declined", ids[2]: "no_answer"}


def test_a_closed_letter_can_be_delivered_and_a_draft_cannot(organiser, open_letter):
    services.letter_close(letter=open_letter)
    deliver(open_letter, organiser)
    assert Letter.objects.get(pk=open_letter.pk).status == LetterStatus.DELIVERED

    draft = services.letter_create(
        slug="draft",
        data=services.LetterInput(title="Draft", body="b", demands=["d"], addressees=[]),
        owner=organiser,
    )
    with pytest.raises(services.ServiceError):
        deliver(draft, organiser)
    assert Letter.objects.get(pk=draft.pk).status == LetterStatus.DRAFT


def test_an_open_letter_cannot_be_answered_before_delivery(open_letter):
    with pytest.raises(services.ServiceError):
        services.letter_respond(letter=open_letter, statement="x", answers={}, source="All-hands")
    assert Letter.objects.get(pk=open_letter.pk).status == LetterStatus.OPEN


# --- Leadership links -------------------------------------------------------------------


def test_leadership_link_matrix_valid_revoked_expired_tampered(signed, organiser):
    _d, (valid, revoked, expired) = services.letter_deliver(
        letter=signed,
        by=organiser,
        method="email",
        delivered_at=timezone.now(),
        recipients=[services.Recipient(n) for n in ("Val", "Rev", "Exp")],
    )
    services.leadership_link_revoke(letter=signed, by=organiser, link_id=revoked.link.pk)
    LeadershipLink.objects.filter(pk=expired.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    client = Client()

    ok = client.get(f"/l/{valid.token}/")
    assert ok.status_code == 200
    assert ok["Cache-Control"] == "private, no-store"
    bad = [
        client.get(f"/l/{token}/")
        for token in (revoked.token, expired.token, valid.token[:-2] + "xx", "nothing")
    ]
    assert {r.status_code for r in bad} == {404}
    assert len({r.content for r in bad}) == 1
    assert "This link is no longer valid" in bad[0].content.decode()
    post = client.post(f"/l/{revoked.token}/", {"action": "acknowledge"})
    assert post.status_code == 404
    assert Letter.objects.get(pk=signed.pk).status == LetterStatus.DELIVERED


def test_leadership_never_sees_an_anonymous_signer(signed, organiser):
    _d, (issued,) = deliver(signed, organiser)

    page = Client().get(f"/l/{issued.token}/").content.decode()

    assert "Pia Public" in page
    assert "and 1 more who withheld their name" in page
    for secret in ("Zed Hidden", "zed.hidden@example.org", "Secret Squad", "Basement"):
        assert secret not in page
    assert "pia@example.org" not in page


def test_leadership_acknowledges_and_responds_through_the_page(signed, organiser):
    _d, (issued,) = deliver(signed, organiser)
    client = Client()
    ids = demand_ids(signed)

    client.post(f"/l/{issued.token}/", {"action": "acknowledge"})
    respond = {
        "action": "respond",
        "statement": "We will review the contract.",
        f"demand_{ids[0]}": "considering",
        f"demand_{ids[1]}": "declined",
        f"demand_{ids[2]}": "accepted",
    }
    check = client.post(f"/l/{issued.token}/", respond)  # first, what publishing will do
    assert check.status_code == 200
    assert not signed.responses.exists()
    response = client.post(f"/l/{issued.token}/", {**respond, "confirm": "yes"})

    assert response.status_code == 302
    public = Client().get(signed.get_absolute_url()).content.decode()
    assert "Leadership&#x27;s response" in public or "Leadership's response" in public
    assert "We will review the contract." in public
    assert "Under consideration" in public
    assert "Declined" in public


def test_the_emailed_link_goes_through_celery(signed, organiser):
    _d, (issued,) = deliver(signed, organiser)
    client = Client()
    client.force_login(organiser)

    client.post(
        reverse("organise:link_email", kwargs={"slug": signed.slug}),
        {"link_id": issued.link.pk, "token": issued.token, "email": "casey@example.org"},
    )

    to_casey = [m for m in mail.outbox if m.to == ["casey@example.org"]]
    assert len(to_casey) == 1
    assert f"/l/{issued.token}/" in str(to_casey[0].body)


def test_organisers_record_a_response_received_elsewhere_with_its_source(signed, organiser):
    deliver(signed, organiser)
    client = Client()
    client.force_login(organiser)
    url = reverse("organise:response", kwargs={"slug": signed.slug})

    missing = client.post(url, {"statement": "Said at all-hands", "source": ""})
    assert 'id="id_source_error"' in missing.content.decode()
    form = {"statement": "Said at all-hands", "source": "All-hands, 3 June"}
    client.post(url, form)  # shows what publishing will do
    assert not signed.responses.exists()
    client.post(url, {**form, "confirm": "yes"})

    response = signed.responses.get()
    assert response.source == "All-hands, 3 June"
    assert response.recorded_by == organiser


# --- Notifications --------------------------------------------------------------------


def test_opted_in_signers_are_emailed_once_per_event_with_one_click_unsubscribe(signed, organiser):
    deliver(signed, organiser)

    (message,) = [m for m in mail.outbox if m.to == ["zed.hidden@example.org"]]
    assert "Pia Public" not in str(message.body)
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    event = signed.events.get(kind=EventKind.DELIVERED)
    signature = signature_of(signed, "zed.hidden@example.org").get()

    again = tasks.send_event_email.apply(args=(event.pk, signature.pk)).result  # a retry
    assert again == "duplicate"
    assert len([m for m in mail.outbox if m.to == ["zed.hidden@example.org"]]) == 1

    path = re.sub(r"^https?://[^/]+", "", unsubscribe)
    Client().get(path)
    assert Signature.objects.get(pk=signature.pk).wants_updates  # GET changes nothing
    one_click = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert not Signature.objects.get(pk=signature.pk).wants_updates


def test_organiser_updates_reach_opted_in_signers(signed, organiser):
    client = Client()
    client.force_login(organiser)
    client.post(
        reverse("organise:update", kwargs={"slug": signed.slug}), {"text": "Meeting on Friday"}
    )

    (message,) = [m for m in mail.outbox if m.to == ["zed.hidden@example.org"]]
    assert "Meeting on Friday" in str(message.body)
    assert signed.events.filter(kind=EventKind.UPDATE, text="Meeting on Friday").exists()


def test_organisers_are_told_when_leadership_responds_and_at_milestones(signed, organiser):
    _d, (issued,) = deliver(signed, organiser)
    mail.outbox.clear()
    services.letter_acknowledge(link=issued.link)
    assert [m.to for m in mail.outbox if m.to == [organiser.email]] == [[organiser.email]]

    mail.outbox.clear()
    for n in range(10):
        confirmed_signature(signed, name=f"S{n}", email=f"s{n}@example.org")
    services.counts_fold(letter_id=signed.pk)
    services.counts_fold(letter_id=signed.pk)

    to_organiser = [m for m in mail.outbox if m.to == [organiser.email]]
    assert len(to_organiser) == 1  # 12 signatures: the 10 milestone, once
    assert "10 people have signed" in str(to_organiser[0].body)


def test_a_passed_deadline_is_marked_once_on_the_timeline(signed, organiser):
    deliver(signed, organiser, respond_by=timezone.now() + timedelta(days=1))
    page = Client().get(signed.get_absolute_url()).content.decode()
    assert "Leadership was asked to respond by" in page
    Letter.objects.filter(pk=signed.pk).update(respond_by=timezone.now() - timedelta(minutes=1))

    assert services.letters_mark_overdue() == 1
    assert services.letters_mark_overdue() == 0
    assert signed.events.filter(kind=EventKind.DEADLINE_PASSED).count() == 1


# --- Packet, feed, suppression ----------------------------------------------------------


def test_the_packet_suppresses_small_groups_and_never_names_anonymous_signers(signed, organiser):
    for n in range(6):
        confirmed_signature(signed, name=f"D{n}", email=f"d{n}@example.org", team="Data")
    for n in range(5):
        confirmed_signature(signed, name=f"E{n}", email=f"e{n}@example.org", team="Design")
    for n in range(2):
        confirmed_signature(signed, name=f"O{n}", email=f"o{n}@example.org", team="Ops")
    deliver(signed, organiser)
    client = Client()
    client.force_login(organiser)

    page = client.get(reverse("organise:packet", kwargs={"slug": signed.slug})).content.decode()

    assert '<th scope="row">Data</th><td>7</td>' in page
    for secret in ("Zed Hidden", "Secret Squad", "Basement"):  # a group of one: not shown
        assert secret not in page
    # Ops (2) is hidden.  Complementary suppression: with the total known,
    # showing Design (5) would reveal that the hidden team has 2; the
    # smallest shown group goes too.
    assert '<th scope="row">Ops</th>' not in page
    assert '<th scope="row">Design</th>' not in page
    fingerprint = re.search(r'data-testid="fingerprint">([0-9a-f]{64})<', page)
    assert fingerprint
    public = Client().get(signed.get_absolute_url()).content.decode()
    assert fingerprint.group(1) in public  # anyone can check what was delivered


def test_an_anonymous_signer_s_team_cannot_be_worked_out_from_the_names_listed(
    open_letter, organiser
):
    """A team's count minus the public names listed in it would be its
    number of anonymous signers: teams and locations count named signers
    only, so no number of anonymous signers (one, or five) shows in a team,
    and the page says so."""
    for n in range(5):
        confirmed_signature(open_letter, name=f"Sam S{n}", email=f"s{n}@ex.org", team="Support")
    confirmed_signature(
        open_letter, name="Ann Onymous", email="ann@example.org", team="Support",
        location="Leeds", display=Display.ANONYMOUS,
    )  # fmt: skip
    for n in range(5):
        confirmed_signature(open_letter, name=f"Rae R{n}", email=f"r{n}@ex.org", team="Research")
    for n in range(5):
        confirmed_signature(
            open_letter, name=f"Quiet {n}", email=f"q{n}@example.org", team="Research",
            display=Display.ANONYMOUS,
        )  # fmt: skip
    _delivery, (link,) = deliver(open_letter, organiser)

    page = Client().get(reverse("leadership", kwargs={"token": link.token})).content.decode()

    assert page.count("Sam S") == 5
    assert '<th scope="row">Support</th><td>5</td>' in page  # not 6: Ann is not placed
    assert '<th scope="row">Research</th><td>5</td>' in page  # not 10: five fakes could be
    assert "Leeds" not in page
    assert "Ann Onymous" not in page
    assert "and 6 more who withheld their names" in page
    assert (
        "Counts by team and location include only signers who chose to show their name. "
        "6 anonymous signers are in the total only."
    ) in page


def test_the_packet_says_in_german_that_teams_count_named_signers_only(signed, organiser):
    client = Client()
    client.force_login(organiser)
    url = reverse("organise:packet", kwargs={"slug": signed.slug})

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    german = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "1 anonymous signer is in the total only." in english
    assert "umfassen nur Unterzeichnende, die ihren Namen zeigen lassen" in german
    assert "1 Person ohne Namensnennung zählt nur in der Gesamtzahl." in german


def test_the_packet_says_so_when_no_group_is_large_enough_to_show(signed, organiser):
    _delivery, (link,) = deliver(signed, organiser)

    page = Client().get(reverse("leadership", kwargs={"token": link.token})).content.decode()

    assert page.count("No group is large enough to show.") == 2  # by team, by location
    assert '<th scope="row">' not in page
    assert "Pia Public" in page


def test_leadership_is_told_how_many_named_signers_a_long_list_leaves_out(
    signed, organiser, monkeypatch
):
    monkeypatch.setattr("letters.views.delivery.PACKET_MAX_NAMES", 3)
    for n in range(4):
        confirmed_signature(signed, name=f"Named {n}", email=f"named{n}@example.org")
    _delivery, (link,) = deliver(signed, organiser)

    page = Client().get(reverse("leadership", kwargs={"token": link.token})).content.decode()

    assert page.count('class="signatory"') == 3  # the newest three of five named
    assert "and 2 more named signers, not listed here" in page
    assert "and 1 more who withheld their name" in page


def test_complementary_suppression_hides_a_second_cell():
    cells = {c.label: c.count for c in suppress({"A": 20, "B": 9, "C": 2}, 5)}
    assert cells == {"A": 20, "B": None, "C": None}
    assert {c.label: c.count for c in suppress({"A": 20, "B": 9}, 5)} == {"A": 20, "B": 9}
    both_small = {c.label: c.count for c in suppress({"A": 3, "B": 2, "C": 30}, 5)}
    assert both_small == {"A": None, "B": None, "C": 30}


def test_the_atom_feed_carries_the_timeline(signed, organiser):
    deliver(signed, organiser)

    feed = Client().get(reverse("letters:feed", kwargs={"slug": signed.slug}))

    assert feed["Content-Type"].startswith("application/atom+xml")
    body = feed.content.decode()
    assert "<feed" in body
    assert "Delivered" in body
    assert "Zed Hidden" not in body


# --- Who may do what ------------------------------------------------------------------------

# (url name, method, the capability needed, the status its holders get);
# which roles hold it comes from letters.access.CAPABILITIES.
DELIVERY_URLS = [
    ("organise:delivery", "get", Capability.VIEW, 200),
    ("organise:packet", "get", Capability.VIEW, 200),
    ("organise:deliver", "get", Capability.DELIVER, 200),
    ("organise:response", "get", Capability.DELIVER, 302),  # not delivered yet: redirect
    ("organise:update", "post", Capability.DELIVER, 302),
    ("organise:link_email", "post", Capability.DELIVER, 302),
]


@pytest.mark.parametrize(("name", "method", "needed", "ok"), DELIVERY_URLS)
@pytest.mark.parametrize("persona", ["visitor", "outsider", "viewer", "editor", "owner"])
def test_delivery_urls_check_the_role(
    open_letter, organiser, outsider, persona, name, method, needed, ok
):
    users: dict[str, Any] = {"visitor": None, "outsider": outsider, "owner": organiser}
    for role in ("viewer", "editor"):
        users[role] = make_user(email=f"{role}@example.org")
        Organiser.objects.create(letter=open_letter, user=users[role], role=role)
    client = Client()
    if users[persona] is not None:
        client.force_login(users[persona])
    url = reverse(name, kwargs={"slug": open_letter.slug})

    status = getattr(client, method)(url).status_code

    if persona == "visitor":
        assert status == 302
    elif persona == "outsider":
        assert status == 404
    elif not role_can(persona, needed):
        assert status == 403
    else:
        assert status == ok
    if persona == "owner":
        wrong = "get" if method == "post" else "put"
        assert getattr(client, wrong)(url).status_code == 405


def test_link_revoke_needs_an_editor_and_post(signed, organiser):
    _d, (issued,) = deliver(signed, organiser)
    viewer = make_user(email="viewer@example.org")
    Organiser.objects.create(letter=signed, user=viewer, role=OrganiserRole.VIEWER)
    url = reverse("organise:link_revoke", kwargs={"slug": signed.slug, "link_id": issued.link.pk})
    client = Client()
    client.force_login(viewer)
    assert client.post(url).status_code == 403
    client.force_login(organiser)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert LeadershipLink.objects.get(pk=issued.link.pk).revoked_at is not None
