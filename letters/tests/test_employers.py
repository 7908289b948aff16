"""Employers on a letter: who counts under which employer, and what may
change once people have signed (services.employers)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from letters import services
from letters.models import Employer, EmployerStats, Letter, LetterStatus, Signature
from letters.selectors import letter_counts
from letters.selectors.employers import EmployerCounts, employer_counts
from letters.services.employers import EmployerInput
from letters.services.errors import ServiceError
from letters.tests.factories import (
    client_for,
    confirmed_signature,
    edit_letter,
    letter_form,
    open_letter,
    signature_of,
)

pytestmark = pytest.mark.django_db(transaction=True)

NORTHWIND = EmployerInput(name="Northwind", domains=["northwind.example"])
CONTOSO = EmployerInput(name="Contoso", domains=["contoso.example", "contoso-labs.example"])


def coalition(owner: Any, *, supporters: bool = False, **fields: Any) -> Letter:
    letter = open_letter(owner=owner, slug="coalition", **fields)
    return edit_letter(
        letter, by=owner, employers=[NORTHWIND, CONTOSO], accept_supporters=supporters
    )


def counts_of(letter: Letter) -> EmployerCounts:
    total = letter_counts(letter_id=letter.pk).confirmed
    return employer_counts(letter=letter, confirmed_total=total)


def stats_by_name() -> dict[str, int]:
    rows = EmployerStats.objects.select_related("employer")
    return {s.employer.name: s.confirmed for s in rows}


def employer_of(letter: Letter, address: str) -> str | None:
    signature = signature_of(letter, address).get()
    return signature.employer.name if signature.employer else None


def test_each_signer_counts_under_the_employer_their_address_domain_names(organiser):
    letter = coalition(organiser)
    for address in (
        "nia@northwind.example",
        "ned@eu.northwind.example",  # a subdomain
        "cal@contoso-labs.example",
    ):
        services.signature_create(letter=letter, email=address, name="A Signer")

    assert employer_of(letter, "nia@northwind.example") == "Northwind"
    assert employer_of(letter, "ned@eu.northwind.example") == "Northwind"
    assert employer_of(letter, "cal@contoso-labs.example") == "Contoso"
    assert all(s.work_address for s in Signature.objects.filter(letter=letter))


def test_an_address_at_no_employer_is_refused_with_the_domains_named(organiser):
    letter = coalition(organiser)

    with pytest.raises(ServiceError) as refused:
        services.signature_create(letter=letter, email="pat@gmail.example", name="Pat")

    assert refused.value.field == "email"
    assert "northwind.example" in refused.value.message
    assert "contoso.example" in refused.value.message
    assert not Signature.objects.filter(letter=letter).exists()


def test_a_lookalike_domain_is_not_a_subdomain(organiser):
    letter = coalition(organiser)

    with pytest.raises(ServiceError):
        services.signature_create(letter=letter, email="eve@evilnorthwind.example", name="Eve")


def test_other_supporters_sign_when_accepted_and_are_counted_apart(organiser):
    letter = coalition(organiser, supporters=True)
    services.signature_create(letter=letter, email="pat@gmail.example", name="Pat")
    supporter = signature_of(letter, "pat@gmail.example").get()
    services.signature_confirm(signature=supporter)
    confirmed_signature(letter, email="nia@northwind.example")
    services.counts_fold(letter_id=letter.pk)

    supporter.refresh_from_db()
    counts = employer_counts(
        letter=letter, confirmed_total=letter_counts(letter_id=letter.pk).confirmed
    )
    assert supporter.employer is None
    assert not supporter.work_address  # a personal address: not treated as the employer's mailbox
    assert [(e.name, e.confirmed) for e in counts.employers] == [("Northwind", 1), ("Contoso", 0)]
    assert counts.supporters == 1
    assert counts.confirmed == 2


def test_folded_and_recounted_employer_counts_agree_with_the_rows(organiser):
    letter = coalition(organiser)
    for i in range(3):
        confirmed_signature(letter, email=f"n{i}@northwind.example")
    confirmed_signature(letter, email="c0@contoso.example", display="anonymous")
    services.counts_fold(letter_id=letter.pk)
    folded = {
        s.employer.name: s.confirmed for s in EmployerStats.objects.select_related("employer")
    }
    EmployerStats.objects.update(confirmed=999)  # drift

    services.counts_recount(letter_id=letter.pk)

    recounted = {
        s.employer.name: s.confirmed for s in EmployerStats.objects.select_related("employer")
    }
    assert folded == recounted == {"Northwind": 3, "Contoso": 1}


def test_an_employer_added_while_open_counts_only_those_who_sign_after(organiser):
    """Earlier signers keep the employer decided when they signed: moving
    them by domain would let an organiser name a one-person domain as an
    employer and read off whether that person signed (rules 8 and 9)."""
    letter = coalition(organiser, supporters=True)
    pat = confirmed_signature(letter, email="pat@fabrikam.example", display="anonymous")
    services.counts_fold(letter_id=letter.pk)

    edit_letter(
        letter,
        by=organiser,
        employers=[NORTHWIND, CONTOSO, EmployerInput("Fabrikam", ["fabrikam.example"])],
        accept_supporters=True,
    )
    confirmed_signature(letter, email="fay@fabrikam.example")
    services.counts_fold(letter_id=letter.pk)

    pat.refresh_from_db()
    assert pat.employer is None
    counts = counts_of(letter)
    assert [(e.name, e.confirmed) for e in counts.employers][-1] == ("Fabrikam", 1)
    assert counts.supporters == 1


def test_a_pending_signature_does_not_stop_its_employer_being_removed(organiser):
    """Anyone can start a signature with anyone's address: pending rows
    decide nothing an organiser sees (rule 8), this refusal included."""
    letter = coalition(organiser)
    services.signature_create(letter=letter, email="cal@contoso.example", name="Cal")

    edit_letter(letter, by=organiser, employers=[NORTHWIND])

    assert list(letter.employers.values_list("name", flat=True)) == ["Northwind"]
    assert signature_of(letter, "cal@contoso.example").get().employer is None


def test_an_employer_anyone_signed_for_cannot_be_removed_or_lose_a_domain(organiser):
    letter = coalition(organiser)
    confirmed_signature(letter, email="cal@contoso.example")

    with pytest.raises(ServiceError, match="cannot be removed"):
        edit_letter(letter, by=organiser, employers=[NORTHWIND])
    with pytest.raises(ServiceError, match="cannot be taken"):
        edit_letter(
            letter,
            by=organiser,
            employers=[NORTHWIND, EmployerInput("Contoso", ["contoso.example"])],
        )

    assert list(Employer.objects.filter(letter=letter).values_list("name", flat=True)) == [
        "Northwind",
        "Contoso",
    ]


def test_an_employer_nobody_signed_for_can_be_removed_while_open(organiser):
    letter = coalition(organiser)
    confirmed_signature(letter, email="nia@northwind.example")

    edit_letter(letter, by=organiser, employers=[NORTHWIND])

    letter.refresh_from_db()
    assert list(letter.employers.values_list("name", flat=True)) == ["Northwind"]
    assert letter.allowed_domains == ["northwind.example"]


def test_renaming_and_adding_domains_keep_the_signers_and_their_count(organiser):
    letter = coalition(organiser)
    nia = confirmed_signature(letter, email="nia@northwind.example")

    edit_letter(
        letter,
        by=organiser,
        employers=[
            EmployerInput("Northwind Software", ["northwind.example", "northwind.test"]),
            CONTOSO,
        ],
    )

    nia.refresh_from_db()
    assert nia.employer is not None
    assert nia.employer.name == "Northwind Software"
    services.signature_create(letter=letter, email="ola@northwind.test", name="Ola")
    assert employer_of(letter, "ola@northwind.test") == "Northwind Software"


def test_overlapping_domains_of_two_employers_are_refused(organiser):
    letter = coalition(organiser)

    with pytest.raises(ServiceError, match="overlap"):
        edit_letter(
            letter,
            by=organiser,
            employers=[NORTHWIND, CONTOSO, EmployerInput("Northwind EU", ["eu.northwind.example"])],
        )


def test_a_closed_letters_employers_are_frozen_but_may_be_renamed(organiser):
    letter = coalition(organiser)
    services.letter_close(letter=letter, by=organiser)

    with pytest.raises(ServiceError, match="closed"):
        edit_letter(
            letter,
            by=organiser,
            employers=[NORTHWIND, CONTOSO, EmployerInput("Fabrikam", ["fabrikam.example"])],
        )
    edit_letter(letter, by=organiser, employers=[EmployerInput("NW", NORTHWIND.domains), CONTOSO])

    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.CLOSED
    assert list(letter.employers.values_list("name", flat=True)) == ["NW", "Contoso"]


def test_the_letter_form_takes_employers_one_per_line(organiser):
    client = client_for(organiser)

    client.post(
        reverse("organise:new"),
        letter_form(
            save="1",
            employers="Northwind: northwind.example, eu.northwind.example\n"
            "Contoso: Contoso.Example",
            accept_supporters="on",
        ),
    )

    letter = Letter.objects.get(slug="new-letter")
    assert [(e.name, e.domains) for e in letter.employers.all()] == [
        ("Northwind", ["northwind.example", "eu.northwind.example"]),
        ("Contoso", ["contoso.example"]),
    ]
    assert letter.accept_supporters


@pytest.mark.parametrize(
    ("employers", "message"),
    [
        ("Northwind: northwind.example\nContoso: eu.northwind.example", "overlap"),
        ("Northwind: northwind.example\nNorthwind: contoso.example", "named twice"),
        ("Northwind:", "at least one email domain"),
        ("Northwind: not a domain!", "is not a domain"),
        ("Other supporters: contoso.example", "choose another name"),
    ],
)
def test_bad_employers_are_shown_next_to_the_field_and_nothing_is_saved(
    organiser, employers, message
):
    response = client_for(organiser).post(
        reverse("organise:new"), letter_form(save="1", employers=employers)
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_employers_error"' in html
    assert message in html
    assert not Letter.objects.filter(slug="new-letter").exists()


def test_a_coalition_letters_duplicate_keeps_its_employers(organiser):
    letter = coalition(organiser, supporters=True)

    copy = services.letter_duplicate(letter=letter, by=organiser)

    assert [(e.name, e.domains) for e in copy.employers.all()] == [
        ("Northwind", NORTHWIND.domains),
        ("Contoso", CONTOSO.domains),
    ]
    assert copy.accept_supporters
