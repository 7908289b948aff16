"""Delivery per employer on a coalition letter: each employer's leadership
gets its own delivery and links, sees its own staff's count beside the
coalition's, acknowledges and responds for its own company only; the
public page, the feed and the news name each employer and say where it
stands ("Northwind: responded 3 Dec; Contoso: no answer, 12 days overdue")."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from letters import selectors, services
from letters.models import (
    Answer,
    Delivery,
    Display,
    Employer,
    EventKind,
    Letter,
    LetterEvent,
    LetterStatus,
    Organiser,
    OrganiserRole,
    Response,
)
from letters.notifications import news_items
from letters.services.employers import EmployerInput
from letters.tests.factories import (
    confirmed_signature,
    current,
    deliver,
    make_user,
)
from letters.tests.factories import open_letter as new_letter

pytestmark = pytest.mark.django_db(transaction=True)

NORTHWIND = EmployerInput(name="Northwind", domains=["northwind.example"])
CONTOSO = EmployerInput(name="Contoso", domains=["contoso.example"])
NADIA = services.Recipient("Nadia North", "CEO of Northwind")
CARL = services.Recipient("Carl Contoso", "CEO of Contoso")


@pytest.fixture
def coalition(organiser: Any) -> Letter:
    """Northwind's and Contoso's staff sign one letter: three at Northwind
    (one at a subdomain), two at Contoso (one anonymous)."""
    letter = new_letter(owner=organiser, slug="coalition", employers=[NORTHWIND, CONTOSO])
    confirmed_signature(letter, name="Nora North", email="nora@northwind.example")
    confirmed_signature(letter, name="Ned North", email="ned@eu.northwind.example")
    confirmed_signature(letter, name="Nia North", email="nia@northwind.example")
    confirmed_signature(
        letter, name="Cleo Contoso", email="cleo@contoso.example", wants_updates=True
    )
    confirmed_signature(
        letter, name="Cy Hidden", email="cy@contoso.example", display=Display.ANONYMOUS
    )
    mail.outbox.clear()
    return current(letter)


def employer(letter: Letter, name: str) -> Employer:
    return Employer.objects.get(letter=letter, name=name)


def deliver_to(
    letter: Letter, by: Any, name: str, to: services.Recipient, **details: Any
) -> services.IssuedLink:
    _delivery, (issued,) = deliver(letter, by, to=(to,), employer=employer(letter, name), **details)
    return issued


@pytest.fixture
def both(coalition: Letter, organiser: Any) -> tuple[str, str]:
    """The coalition letter delivered to each employer's leadership: the
    tokens of Nadia's (Northwind) and Carl's (Contoso) links."""
    nadia = deliver_to(coalition, organiser, "Northwind", NADIA)
    carl = deliver_to(coalition, organiser, "Contoso", CARL)
    mail.outbox.clear()
    return nadia.token, carl.token


def respond_form(letter: Letter, statement: str, answer: str = Answer.ACCEPTED) -> dict[str, str]:
    assert letter.current_version is not None
    demands = letter.current_version.demands.values_list("id", flat=True)
    return {
        "action": "respond",
        "statement": statement,
        **{f"demand_{pk}": answer for pk in demands},
    }


def respond_through_link(client: Client, token: str, form: dict[str, Any]) -> Any:
    """The two steps: what publishing will do, then publish."""
    assert client.post(f"/l/{token}/", form).status_code == 200
    return client.post(f"/l/{token}/", {**form, "confirm": "yes"})


def html(response: Any) -> str:
    return " ".join(response.content.decode().split())


# --- The service ---------------------------------------------------------------------


def test_a_coalition_letter_is_delivered_to_one_named_employer(coalition, organiser):
    with pytest.raises(services.ServiceError) as no_employer:
        deliver(coalition, organiser)
    assert no_employer.value.field == "employer"
    other = new_letter(owner=organiser, slug="other", employers=[NORTHWIND])
    with pytest.raises(services.ServiceError):
        deliver(coalition, organiser, employer=employer(other, "Northwind"))
    assert not coalition.deliveries.exists()

    delivery, (issued,) = deliver(
        coalition, organiser, to=(NADIA,), employer=employer(coalition, "Northwind")
    )

    assert delivery.employer == employer(coalition, "Northwind")
    assert issued.link.delivery == delivery
    event = coalition.events.get(kind=EventKind.DELIVERED)
    assert event.employer == employer(coalition, "Northwind")
    assert current(coalition).status == LetterStatus.DELIVERED


def test_a_letter_with_one_employer_is_delivered_to_it_without_asking(organiser):
    letter = new_letter(owner=organiser, slug="solo", allowed_domains=["solo.example"])

    delivery, _links = deliver(letter, organiser)

    assert delivery.employer == Employer.objects.get(letter=letter)


def test_a_letter_without_employers_is_delivered_as_before_and_refuses_an_employer(
    open_letter, organiser
):
    other = open_letter_with_employers(organiser)
    with pytest.raises(services.ServiceError):
        deliver(open_letter, organiser, employer=employer(other, "Northwind"))

    delivery, _links = deliver(open_letter, organiser)

    assert delivery.employer is None
    assert open_letter.events.get(kind=EventKind.DELIVERED).employer is None


def open_letter_with_employers(organiser: Any) -> Letter:
    return new_letter(owner=organiser, slug="elsewhere", employers=[NORTHWIND, CONTOSO])


def test_the_letter_status_moves_on_the_first_employer_and_each_employer_keeps_its_own(
    coalition, both, organiser
):
    nadia, carl = (selectors.leadership_link_get(token=t) for t in both)
    assert nadia is not None
    assert carl is not None

    services.letter_acknowledge(link=nadia)
    assert current(coalition).status == LetterStatus.ACKNOWLEDGED
    with pytest.raises(services.ServiceError):
        services.letter_acknowledge(link=nadia)  # Northwind did already
    services.letter_acknowledge(link=carl)  # Contoso had not: its own acknowledgement
    acknowledged = LetterEvent.objects.filter(letter=coalition, kind=EventKind.ACKNOWLEDGED)
    assert sorted(e.employer.name for e in acknowledged if e.employer) == ["Contoso", "Northwind"]

    ids = list(coalition.current_version.demands.values_list("id", flat=True))
    response = services.letter_respond(
        letter=coalition,
        statement="Northwind will end the contract.",
        answers=dict.fromkeys(ids, Answer.ACCEPTED),
        link=nadia,
    )
    assert response.employer == employer(coalition, "Northwind")
    assert current(coalition).status == LetterStatus.RESPONDED
    event = coalition.events.get(kind=EventKind.RESPONSE)
    assert event.employer == employer(coalition, "Northwind")

    statuses = {s.name: s for s in selectors.employer_statuses(letter=coalition)}
    assert statuses["Northwind"].state == selectors.EmployerState.RESPONDED
    assert statuses["Northwind"].response_id == response.pk
    assert statuses["Contoso"].state == selectors.EmployerState.ACKNOWLEDGED


def test_organisers_record_a_response_for_a_delivered_employer_only(coalition, organiser):
    deliver_to(coalition, organiser, "Northwind", NADIA)
    ids = list(coalition.current_version.demands.values_list("id", flat=True))
    answers = dict.fromkeys(ids, Answer.CONSIDERING)
    said: dict[str, Any] = {
        "statement": "Said at the all-hands",
        "answers": answers,
        "source": "All-hands",
    }

    with pytest.raises(services.ServiceError) as no_employer:
        services.letter_respond(letter=coalition, recorded_by=organiser, **said)
    assert no_employer.value.field == "employer"
    with pytest.raises(services.ServiceError) as not_delivered:
        services.letter_respond(
            letter=coalition, recorded_by=organiser, employer=employer(coalition, "Contoso"), **said
        )
    assert not_delivered.value.field == "employer"

    response = services.letter_respond(
        letter=coalition, recorded_by=organiser, employer=employer(coalition, "Northwind"), **said
    )
    assert response.employer == employer(coalition, "Northwind")


def test_employer_statuses_say_not_delivered_delivered_and_overdue(coalition, organiser):
    assert [s.state for s in selectors.employer_statuses(letter=coalition)] == [
        selectors.EmployerState.NOT_DELIVERED,
        selectors.EmployerState.NOT_DELIVERED,
    ]
    respond_by = timezone.now() + timedelta(days=7)
    deliver_to(coalition, organiser, "Northwind", NADIA, respond_by=respond_by)
    coalition.refresh_from_db()

    northwind, contoso = selectors.employer_statuses(letter=coalition)
    assert northwind.state == selectors.EmployerState.DELIVERED
    assert northwind.delivered_at is not None
    assert northwind.overdue_days is None
    assert contoso.state == selectors.EmployerState.NOT_DELIVERED

    later = respond_by + timedelta(days=12, hours=1)
    northwind, contoso = selectors.employer_statuses(letter=coalition, now=later)
    assert northwind.overdue_days == 12
    assert contoso.overdue_days is None  # never delivered: not overdue


def test_a_letter_without_employers_has_no_employer_statuses(open_letter, organiser):
    deliver(open_letter, organiser)

    assert selectors.employer_statuses(letter=open_letter) == []


# --- The organiser's pages -------------------------------------------------------------


def deliver_url(letter: Letter) -> str:
    return reverse("organise:deliver", kwargs={"slug": letter.slug})


def delivery_form(**more: Any) -> dict[str, Any]:
    return {"method": "email", "delivered_at": "2026-01-10T09:30", **more}


def test_the_deliver_form_asks_which_employer_and_takes_typed_recipients(coalition, organiser):
    client = Client()
    client.force_login(organiser)
    page = html(client.get(deliver_url(coalition)))
    assert 'name="employer"' in page
    assert "Northwind" in page
    assert "Contoso" in page
    assert 'name="other_recipients"' in page

    refused = client.post(deliver_url(coalition), delivery_form(other_recipients="Nadia North"))
    assert refused.status_code == 200
    assert 'name="employer"' in html(refused)
    assert not coalition.deliveries.exists()

    done = client.post(
        deliver_url(coalition),
        delivery_form(
            employer=employer(coalition, "Contoso").pk,
            other_recipients="Carl Contoso, CEO\n\nDee Director",
        ),
    )

    assert done.status_code == 302
    delivery = Delivery.objects.get(letter=coalition)
    assert delivery.employer == employer(coalition, "Contoso")
    assert sorted((link.name, link.role) for link in delivery.links.all()) == [
        ("Carl Contoso", "CEO"),
        ("Dee Director", ""),
    ]
    overview = html(client.get(done["Location"]))
    assert overview.count('data-testid="leadership-link"') == 2


def test_the_deliver_form_needs_a_recipient_ticked_or_typed(coalition, organiser):
    client = Client()
    client.force_login(organiser)

    refused = client.post(
        deliver_url(coalition), delivery_form(employer=employer(coalition, "Northwind").pk)
    )

    assert refused.status_code == 200
    assert "Choose at least one recipient." in html(refused)
    assert not coalition.deliveries.exists()


def test_the_deliver_form_of_a_letter_without_employers_is_as_before(open_letter, organiser):
    client = Client()
    client.force_login(organiser)

    page = html(client.get(deliver_url(open_letter)))

    assert 'name="employer"' not in page
    assert 'name="other_recipients"' not in page
    refused = client.post(deliver_url(open_letter), delivery_form())
    assert refused.status_code == 200
    assert not open_letter.deliveries.exists()


def test_the_deliver_form_is_for_organisers_who_deliver(coalition, organiser):
    viewer = make_user(email="viewer@example.org")
    Organiser.objects.create(letter=coalition, user=viewer, role=OrganiserRole.VIEWER)
    client = Client()
    client.force_login(viewer)
    form = delivery_form(employer=employer(coalition, "Northwind").pk, other_recipients="Nadia")

    assert client.post(deliver_url(coalition), form).status_code == 403
    assert not coalition.deliveries.exists()
    client.force_login(organiser)
    assert client.put(deliver_url(coalition)).status_code == 405


def test_the_delivery_page_lists_deliveries_under_each_employer(coalition, both, organiser):
    client = Client()
    client.force_login(organiser)

    page = html(client.get(reverse("organise:delivery", kwargs={"slug": coalition.slug})))

    northwind, contoso = page.index("<h3>Northwind</h3>"), page.index("<h3>Contoso</h3>")
    assert northwind < page.index("Nadia North") < contoso < page.index("Carl Contoso")
    assert page.count('data-testid="employer-delivery-status"') == 2


def test_organisers_record_a_response_naming_the_employer(coalition, both, organiser):
    client = Client()
    client.force_login(organiser)
    url = reverse("organise:response", kwargs={"slug": coalition.slug})
    assert 'name="employer"' in html(client.get(url))
    form = {
        **respond_form(coalition, "Said at the all-hands."),
        "source": "All-hands",
        "employer": employer(coalition, "Contoso").pk,
    }
    form.pop("action")

    check = client.post(url, form)
    assert "Contoso" in html(check)
    client.post(url, {**form, "confirm": "yes"})

    assert Response.objects.get(letter=coalition).employer == employer(coalition, "Contoso")


# --- Leadership's pages ---------------------------------------------------------------


def test_each_employers_leadership_sees_its_own_staff_count_and_the_coalition_total(
    coalition, both
):
    nadia, carl = both

    northwind = Client().get(f"/l/{nadia}/")
    contoso = Client().get(f"/l/{carl}/")

    assert northwind["Cache-Control"] == "private, no-store"
    own = html(northwind)
    assert "3 verified signatures from the staff of Northwind" in own
    assert "The whole coalition: 5 verified signatures." in own
    assert "from the staff of Contoso" not in own
    theirs = html(contoso)
    assert "2 verified signatures from the staff of Contoso" in theirs
    assert "The whole coalition: 5 verified signatures." in theirs
    assert "from the staff of Northwind" not in theirs
    assert "Cy Hidden" not in theirs


def test_leadership_acknowledges_and_responds_for_its_own_company_only(coalition, both):
    nadia, carl = both
    northwind, contoso = Client(), Client()

    northwind.post(f"/l/{nadia}/", {"action": "acknowledge"})
    assert 'value="acknowledge"' not in html(northwind.get(f"/l/{nadia}/"))
    assert 'value="acknowledge"' in html(contoso.get(f"/l/{carl}/"))  # its own, still to do

    done = respond_through_link(
        northwind, nadia, respond_form(coalition, "Northwind ends the contract.")
    )
    assert done.status_code == 302

    response = Response.objects.get(letter=coalition)
    assert response.employer == employer(coalition, "Northwind")
    own, theirs = html(northwind.get(f"/l/{nadia}/")), html(contoso.get(f"/l/{carl}/"))
    assert "Northwind ends the contract." in own
    assert "Northwind ends the contract." not in theirs  # not their company's answer
    assert 'value="acknowledge"' in theirs
    contoso.post(f"/l/{carl}/", {"action": "acknowledge"})
    assert 'value="acknowledge"' not in html(contoso.get(f"/l/{carl}/"))
    statuses = {s.name: s.state for s in selectors.employer_statuses(letter=coalition)}
    assert statuses == {
        "Northwind": selectors.EmployerState.RESPONDED,
        "Contoso": selectors.EmployerState.ACKNOWLEDGED,
    }


def test_a_leadership_link_cannot_answer_for_another_employer(coalition, both):
    nadia, _carl = both
    form = {
        **respond_form(coalition, "Posing as Contoso."),
        "employer": employer(coalition, "Contoso").pk,  # not a field of leadership's form
    }

    respond_through_link(Client(), nadia, form)
    Client().post(f"/l/{nadia}/", {"action": "acknowledge", "employer": form["employer"]})

    assert Response.objects.get(letter=coalition).employer == employer(coalition, "Northwind")
    contoso = employer(coalition, "Contoso")
    assert not LetterEvent.objects.filter(letter=coalition, employer=contoso).exclude(
        kind=EventKind.DELIVERED
    )
    status = selectors.employer_status(letter=coalition, employer_id=contoso.pk)
    assert status is not None
    assert status.state == selectors.EmployerState.DELIVERED


def test_the_leadership_page_answers_get_and_post_only_and_bad_links_alike(coalition, both):
    nadia, _carl = both

    assert Client().put(f"/l/{nadia}/").status_code == 405
    assert Client().get(f"/l/{nadia}x/").status_code == 404
    assert Client().post("/l/not-a-token/", {"action": "acknowledge"}).status_code == 404
    assert not LetterEvent.objects.filter(letter=coalition, kind=EventKind.ACKNOWLEDGED)


# --- What the public sees ----------------------------------------------------------------


def test_the_public_page_shows_each_employers_status_and_response_side_by_side(
    coalition, both, organiser
):
    nadia, _carl = both
    northwind = Client()
    northwind.post(f"/l/{nadia}/", {"action": "acknowledge"})
    respond_through_link(northwind, nadia, respond_form(coalition, "Northwind ends the contract."))
    # Leadership was asked to respond by a date twelve days ago.
    Letter.objects.filter(pk=coalition.pk).update(
        respond_by=timezone.now() - timedelta(days=12, hours=1)
    )
    response = Response.objects.get(letter=coalition)

    page = html(Client().get(coalition.get_absolute_url()))

    statuses = re.findall(
        r'<li class="employer-status-[a-z_]+" data-testid="employer-status">(.*?)</li>', page
    )
    assert len(statuses) == 2
    assert statuses[0].startswith(
        f'<strong>Northwind</strong>: <a href="#response-{response.pk}">responded'
    )
    assert (
        statuses[1]
        == '<strong>Contoso</strong>: <strong class="overdue">no answer, 12 days overdue</strong>'
    )
    assert f'id="response-{response.pk}"' in page
    assert '<h3 class="response-employer">Northwind</h3>' in page
    assert "Northwind ends the contract." in page
    assert "Acknowledged (Northwind): Nadia North" in page  # the timeline


def test_an_acknowledged_employer_past_the_date_is_one_day_overdue(coalition, both):
    _nadia, carl = both
    Client().post(f"/l/{carl}/", {"action": "acknowledge"})
    Letter.objects.filter(pk=coalition.pk).update(respond_by=timezone.now() - timedelta(hours=2))

    page = html(Client().get(coalition.get_absolute_url()))

    assert "no answer, 1 day overdue" in page
    assert "<strong>Contoso</strong>: acknowledged" in page
    assert "<strong>Northwind</strong>: delivered" not in page  # overdue says it instead


def test_an_open_coalition_letter_shows_no_employer_status(coalition):
    page = html(Client().get(coalition.get_absolute_url()))

    assert 'data-testid="employer-statuses"' not in page


def test_the_feed_names_each_employer_whose_leadership_acted(coalition, both):
    nadia, _carl = both
    northwind = Client()
    northwind.post(f"/l/{nadia}/", {"action": "acknowledge"})
    respond_through_link(northwind, nadia, respond_form(coalition, "Northwind ends the contract."))

    feed = Client().get(reverse("letters:feed", kwargs={"slug": coalition.slug})).content.decode()

    assert "The letter was delivered to the leadership of Contoso: Carl Contoso" in feed
    assert "Nadia North acknowledged receiving the letter for Northwind." in feed
    assert "The leadership of Northwind responded (Nadia North)." in feed


def test_news_emails_name_the_employer_whose_leadership_acted(coalition, both):
    nadia, _carl = both

    Client().post(f"/l/{nadia}/", {"action": "acknowledge"})

    event = LetterEvent.objects.get(letter=coalition, kind=EventKind.ACKNOWLEDGED)
    (item,) = news_items([event], "en")
    assert item.employer == "Northwind"
    to_cleo = [m for m in mail.outbox if m.to == ["cleo@contoso.example"]]
    assert to_cleo, [m.to for m in mail.outbox]
    assert "Acknowledged (Northwind): Nadia North" in str(to_cleo[-1].body)
    to_organiser = [m for m in mail.outbox if "olivia" in m.to[0]]
    assert any("(Northwind)" in str(m.body) for m in to_organiser)
